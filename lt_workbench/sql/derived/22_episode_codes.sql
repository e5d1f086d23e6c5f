-- episode_codes: the rolled-up code set of each key practice episode.
-- grain: one row per episode x frame x code (with every ancestor) x qualifier.
-- key: (review_id, episode_id, frame, code, qualifier)
-- factors: coded on the episode (qualifier = influence); patterns: the episodes a finding rests on
-- (pattern_episodes; qualifier = direction); practice: the episode's practice judgement; agency: agencies involved.
CREATE OR REPLACE TABLE episode_codes AS
WITH raw AS (
    SELECT review_id, episode_id, 'factors' AS frame, code, influence AS qualifier FROM factor_codings
    UNION ALL
    SELECT pe.review_id, pe.episode_id, 'patterns', pf.code, pf.direction
    FROM pattern_episodes AS pe
    JOIN pattern_findings AS pf USING (review_id, finding_no)
    UNION ALL SELECT review_id, episode_id, 'practice', practice, NULL FROM episodes
    UNION ALL SELECT review_id, episode_id, 'agency', code, NULL FROM episode_agencies
)
SELECT DISTINCT
    raw.review_id,
    raw.episode_id,
    raw.frame,
    a.ancestor       AS code,
    a.ancestor_depth AS depth,
    a.root,
    raw.qualifier
FROM raw
JOIN reviews AS r USING (review_id)
JOIN code_ancestors AS a
  ON a.version = r.taxonomy_version AND a.frame = raw.frame AND a.code = raw.code;
