-- lt-workbench database schema (documented interface: see README "The database").
-- Keys are stated in comments and enforced by the loader (validate.py / load.py), not by
-- DuckDB constraints, so a changed review can be deleted and re-inserted in one transaction.
-- Every child table carries review_id; a review is replaced by deleting all its rows.
-- Narrative free text (descriptions, judgements, findings, notes, recommendation texts) is stored
-- with zstd: it is read a few rows at a time, never scanned for counting, and DuckDB's default
-- analysis of long unique strings costs more at commit than the rest of a load's writing together.

-- grain: one row per taxonomy version x frame x code. key: (version, frame, code)
CREATE TABLE IF NOT EXISTS taxonomy (
    frame        VARCHAR NOT NULL,   -- patterns, factors, practice_points, region, agency, ...
    version      VARCHAR NOT NULL,   -- e.g. scie-2008
    code         VARCHAR NOT NULL,   -- e.g. P1.3.1, FL.WORK.03, D04, north_west
    parent       VARCHAR,            -- code of the parent in the same frame (region: the nation)
    depth        INTEGER NOT NULL,   -- 1 = top level
    label        VARCHAR NOT NULL,
    description  VARCHAR,
    sort_key     INTEGER NOT NULL    -- order as listed in the source frame
);

-- grain: one row per load run. key: load_id
CREATE TABLE IF NOT EXISTS loads (
    load_id          INTEGER NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    package_version  VARCHAR NOT NULL,
    inputs           VARCHAR NOT NULL,   -- the paths as given, JSON array
    n_files          INTEGER NOT NULL,
    n_inserted       INTEGER NOT NULL,
    n_replaced       INTEGER NOT NULL,
    n_unchanged      INTEGER NOT NULL,
    n_rejected       INTEGER NOT NULL
);

-- grain: one row per problem found in a rejected document. key: (load_id, source_path, error_no)
CREATE TABLE IF NOT EXISTS load_errors (
    load_id      INTEGER NOT NULL,
    source_path  VARCHAR NOT NULL,
    error_no     INTEGER NOT NULL,
    pointer      VARCHAR NOT NULL,    -- JSON pointer into the document ('' = whole document)
    message      VARCHAR NOT NULL,
    review_id    VARCHAR              -- when it could be read
);

-- grain: one row per replacement of a review by a changed document. key: (load_id, review_id)
CREATE TABLE IF NOT EXISTS review_changes (
    load_id       INTEGER NOT NULL,
    review_id     VARCHAR NOT NULL,
    old_sha256    VARCHAR NOT NULL,
    new_sha256    VARCHAR NOT NULL,
    old_source    VARCHAR NOT NULL,
    new_source    VARCHAR NOT NULL,
    changed_at    TIMESTAMP NOT NULL
);

-- grain: one row per review. key: review_id
CREATE TABLE IF NOT EXISTS reviews (
    review_id            VARCHAR NOT NULL,
    title                VARCHAR NOT NULL,
    review_type          VARCHAR NOT NULL,
    method               VARCHAR NOT NULL,
    area_code            VARCHAR NOT NULL,
    area_name            VARCHAR NOT NULL,
    region               VARCHAR NOT NULL,
    nation               VARCHAR NOT NULL,
    commissioned         DATE,
    completed            DATE NOT NULL,
    published            DATE,
    year                 INTEGER NOT NULL,   -- year completed
    trigger_reason       VARCHAR NOT NULL,
    trigger_question     VARCHAR USING COMPRESSION zstd,
    intervention_level   VARCHAR,
    quality_grade        VARCHAR,
    family_factors_recorded BOOLEAN NOT NULL, -- false when family_factors is null/absent
    n_children           INTEGER NOT NULL,
    n_episodes           INTEGER NOT NULL,
    format               VARCHAR NOT NULL,
    taxonomy_version     VARCHAR NOT NULL,
    source_path          VARCHAR NOT NULL,
    sha256               VARCHAR NOT NULL,   -- of the file's bytes
    load_id              INTEGER NOT NULL,
    loaded_at            TIMESTAMP NOT NULL
);

-- grain: one row per review x family factor recorded. key: (review_id, code)
CREATE TABLE IF NOT EXISTS review_family_factors (
    review_id  VARCHAR NOT NULL,
    code       VARCHAR NOT NULL
);

-- grain: one row per review x agency involved. key: (review_id, code)
CREATE TABLE IF NOT EXISTS review_agencies (
    review_id  VARCHAR NOT NULL,
    code       VARCHAR NOT NULL
);

-- grain: one row per child in a review. key: (review_id, child_no), child_no from 1
CREATE TABLE IF NOT EXISTS children (
    review_id  VARCHAR NOT NULL,
    child_no   INTEGER NOT NULL,
    age_band   VARCHAR NOT NULL,
    sex        VARCHAR NOT NULL,
    outcome    VARCHAR NOT NULL
);

-- grain: one row per child x harm type. key: (review_id, child_no, code)
CREATE TABLE IF NOT EXISTS child_harm_types (
    review_id  VARCHAR NOT NULL,
    child_no   INTEGER NOT NULL,
    code       VARCHAR NOT NULL
);

-- grain: one row per key practice episode. key: (review_id, episode_id)
CREATE TABLE IF NOT EXISTS episodes (
    review_id     VARCHAR NOT NULL,
    episode_id    VARCHAR NOT NULL,
    episode_no    INTEGER NOT NULL,   -- order in the document, from 1
    title         VARCHAR,
    start_date    DATE NOT NULL,
    end_date      DATE,
    description   VARCHAR USING COMPRESSION zstd,
    significance  VARCHAR USING COMPRESSION zstd,
    practice      VARCHAR NOT NULL,   -- good, problematic, mixed
    judgement     VARCHAR USING COMPRESSION zstd
);

-- grain: one row per episode x agency. key: (review_id, episode_id, code)
CREATE TABLE IF NOT EXISTS episode_agencies (
    review_id   VARCHAR NOT NULL,
    episode_id  VARCHAR NOT NULL,
    code        VARCHAR NOT NULL
);

-- grain: one row per contributory factor coded on an episode. key: (review_id, episode_id, coding_no)
CREATE TABLE IF NOT EXISTS factor_codings (
    review_id   VARCHAR NOT NULL,
    episode_id  VARCHAR NOT NULL,
    coding_no   INTEGER NOT NULL,     -- order within the episode, from 1
    code        VARCHAR NOT NULL,     -- a level, type or factor: FL, FL.WORK, FL.WORK.03
    influence   VARCHAR NOT NULL,     -- supporting, hindering
    note        VARCHAR USING COMPRESSION zstd
);

-- grain: one row per pattern finding (the same code may appear twice). key: (review_id, finding_no)
CREATE TABLE IF NOT EXISTS pattern_findings (
    review_id       VARCHAR NOT NULL,
    finding_no      INTEGER NOT NULL, -- order in the document, from 1
    code            VARCHAR NOT NULL,
    direction       VARCHAR NOT NULL, -- constructive, unsafe
    priority        INTEGER,          -- 1 = highest
    finding         VARCHAR USING COMPRESSION zstd,
    proposed_label  VARCHAR           -- a new sub-pattern proposed under code
);

-- grain: one row per finding x episode it rests on. key: (review_id, finding_no, episode_id)
CREATE TABLE IF NOT EXISTS pattern_episodes (
    review_id   VARCHAR NOT NULL,
    finding_no  INTEGER NOT NULL,
    episode_id  VARCHAR NOT NULL
);

-- grain: one row per recommendation. key: (review_id, rec_id)
CREATE TABLE IF NOT EXISTS recommendations (
    review_id  VARCHAR NOT NULL,
    rec_id     VARCHAR NOT NULL,
    rec_no     INTEGER NOT NULL,
    text       VARCHAR USING COMPRESSION zstd,
    kind       VARCHAR NOT NULL,
    level      VARCHAR NOT NULL,
    agency     VARCHAR,
    lead_role  VARCHAR,
    due        DATE,
    status     VARCHAR NOT NULL
);

-- grain: one row per recommendation x pattern code it addresses. key: (review_id, rec_id, code)
CREATE TABLE IF NOT EXISTS recommendation_patterns (
    review_id  VARCHAR NOT NULL,
    rec_id     VARCHAR NOT NULL,
    code       VARCHAR NOT NULL
);

-- grain: one row per review x practice point. key: (review_id, code)
CREATE TABLE IF NOT EXISTS practice_points (
    review_id  VARCHAR NOT NULL,
    code       VARCHAR NOT NULL
);

-- Second codings (coder agreement): a second coder's independent coding of a review whose primary
-- coding is the review above. A document with "coding": {"role": "second"} loads here and only
-- here (model/second.py). No tabulation, derived table or view reads these tables; only
-- analysis/agreement.py does. Loading a coder's coding of a review again replaces it.
-- grain: one row per review x second coder. key: (review_id, coder)
CREATE TABLE IF NOT EXISTS second_codings (
    review_id    VARCHAR NOT NULL,
    coder        VARCHAR NOT NULL,
    source_path  VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL
);

-- grain: one row per second coding x key practice episode. key: (review_id, coder, episode_id)
CREATE TABLE IF NOT EXISTS second_coding_episodes (
    review_id   VARCHAR NOT NULL,
    coder       VARCHAR NOT NULL,
    episode_id  VARCHAR NOT NULL,
    episode_no  INTEGER NOT NULL,
    practice    VARCHAR NOT NULL
);

-- grain: one row per code a second coder applied x the episode it is on (factors: the episode coded;
-- patterns: each episode the finding rests on; practice points: NULL, the review). No key: a code
-- may be applied twice on one episode.
CREATE TABLE IF NOT EXISTS second_coding_codes (
    review_id   VARCHAR NOT NULL,
    coder       VARCHAR NOT NULL,
    frame       VARCHAR NOT NULL,   -- patterns, factors, practice_points
    code        VARCHAR NOT NULL,
    episode_id  VARCHAR
);
