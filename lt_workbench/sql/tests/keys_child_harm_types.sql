-- keys_child_harm_types: the documented key of child_harm_types, (review_id, child_no, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, child_no, code, count(*) AS rows_with_key
FROM child_harm_types
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR child_no IS NULL OR code IS NULL
ORDER BY ALL
