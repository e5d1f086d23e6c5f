-- keys_children: the documented key of children, (review_id, child_no), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, child_no, count(*) AS rows_with_key
FROM children
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR child_no IS NULL
ORDER BY ALL
