-- coding_codes: each individual coding (a pattern finding, a factor coding, a practice point, a
-- recommendation) with its rolled-up codes, for counting codings rather than reviews.
-- grain: one row per coding x code (with every ancestor) x episode it touches.
-- key: (review_id, frame, coding_key, code, episode_id). coding_key is unique within review and frame:
-- 'F<finding_no>' for patterns, '<episode_id>#<coding_no>' for factors, the code for practice points,
-- the rec_id for recommendation frames. episode_id is NULL where a coding has no episode.
CREATE OR REPLACE TABLE coding_codes AS
WITH raw AS (
    SELECT pf.review_id, 'patterns' AS frame, 'F' || pf.finding_no AS coding_key, pe.episode_id, pf.code,
           pf.direction AS qualifier
    FROM pattern_findings AS pf
    LEFT JOIN pattern_episodes AS pe USING (review_id, finding_no)
    UNION ALL
    SELECT review_id, 'factors', episode_id || '#' || coding_no, episode_id, code, influence FROM factor_codings
    UNION ALL SELECT review_id, 'practice_points', code, NULL, code, NULL FROM practice_points
    UNION ALL SELECT review_id, 'recommendation_kind', rec_id, NULL, kind, NULL FROM recommendations
    UNION ALL SELECT review_id, 'recommendation_level', rec_id, NULL, level, NULL FROM recommendations
    UNION ALL SELECT review_id, 'recommendation_status', rec_id, NULL, status, NULL FROM recommendations
)
SELECT
    raw.review_id,
    raw.frame,
    raw.coding_key,
    raw.episode_id,
    a.ancestor       AS code,
    a.ancestor_depth AS depth,
    a.root,
    raw.qualifier
FROM raw
JOIN reviews AS r USING (review_id)
JOIN code_ancestors AS a
  ON a.version = r.taxonomy_version AND a.frame = raw.frame AND a.code = raw.code;
