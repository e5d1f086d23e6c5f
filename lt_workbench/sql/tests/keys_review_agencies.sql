-- keys_review_agencies: the documented key of review_agencies, (review_id, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, code, count(*) AS rows_with_key
FROM review_agencies
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR code IS NULL
ORDER BY ALL
