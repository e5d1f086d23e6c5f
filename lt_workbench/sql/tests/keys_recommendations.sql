-- keys_recommendations: the documented key of recommendations, (review_id, rec_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, rec_id, count(*) AS rows_with_key
FROM recommendations
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR rec_id IS NULL
ORDER BY ALL
