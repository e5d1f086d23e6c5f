-- keys_review_changes: the documented key of review_changes, (load_id, review_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT load_id, review_id, count(*) AS rows_with_key
FROM review_changes
GROUP BY ALL
HAVING count(*) > 1 OR load_id IS NULL OR review_id IS NULL
ORDER BY ALL
