-- keys_child_codes: the documented key of child_codes, (review_id, child_no, frame, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, child_no, frame, code, count(*) AS rows_with_key
FROM child_codes
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR child_no IS NULL OR frame IS NULL OR code IS NULL
ORDER BY ALL
