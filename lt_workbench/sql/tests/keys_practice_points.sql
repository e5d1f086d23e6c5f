-- keys_practice_points: the documented key of practice_points, (review_id, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, code, count(*) AS rows_with_key
FROM practice_points
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR code IS NULL
ORDER BY ALL
