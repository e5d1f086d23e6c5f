-- agreement_codes: which codes each of two coders applied, per coding unit of a double-coded review.
-- grain: one row per (review, second coder) x unit x code x rater that applied it. key: all columns.
-- A double-coded review is one with a row in second_codings whose primary coding (the review) is
-- loaded; its raters are 'primary' (the main tables) and 'second' (second_coding_codes).
-- params: 1 frame (patterns, factors, practice_points); 2 level (NULL: codes as coded; N: rolled up
-- to their depth-N ancestor, codes coded above depth N left out); 3 unit ('review': episode_id is
-- NULL; 'episode': the episode the code is on, patterns on each episode their finding rests on).
WITH params AS (
    SELECT ?::VARCHAR AS frame, ?::INTEGER AS level, ?::VARCHAR AS unit
),
pairs AS (
    SELECT s.review_id, s.coder, r.taxonomy_version AS version
    FROM second_codings AS s
    JOIN reviews AS r ON r.review_id = s.review_id
),
primary_codes AS (
    SELECT 'factors' AS frame, review_id, episode_id, code FROM factor_codings
    UNION ALL
    SELECT 'patterns', f.review_id, e.episode_id, f.code
    FROM pattern_findings AS f
    JOIN pattern_episodes AS e ON e.review_id = f.review_id AND e.finding_no = f.finding_no
    UNION ALL
    SELECT 'practice_points', review_id, NULL, code FROM practice_points
),
applied AS (
    SELECT p.review_id, p.coder, p.version, 'primary' AS rater, c.episode_id, c.code
    FROM pairs AS p
    JOIN primary_codes AS c ON c.review_id = p.review_id
    WHERE c.frame = (SELECT frame FROM params)
    UNION ALL
    SELECT p.review_id, p.coder, p.version, 'second' AS rater, s.episode_id, s.code
    FROM pairs AS p
    JOIN second_coding_codes AS s ON s.review_id = p.review_id AND s.coder = p.coder
    WHERE s.frame = (SELECT frame FROM params)
)
SELECT DISTINCT
    a.review_id,
    a.coder,
    CASE WHEN params.unit = 'episode' THEN a.episode_id END AS episode_id,
    coalesce(anc.ancestor, a.code) AS code,
    a.rater
FROM applied AS a
CROSS JOIN params
LEFT JOIN code_ancestors AS anc
  ON params.level IS NOT NULL AND anc.version = a.version AND anc.frame = params.frame
 AND anc.code = a.code AND anc.ancestor_depth = params.level
WHERE params.level IS NULL OR anc.ancestor IS NOT NULL
ORDER BY a.review_id, a.coder, episode_id NULLS FIRST, code, a.rater;
