-- keys_recommendation_patterns: the documented key of recommendation_patterns, (review_id, rec_id, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, rec_id, code, count(*) AS rows_with_key
FROM recommendation_patterns
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR rec_id IS NULL OR code IS NULL
ORDER BY ALL
