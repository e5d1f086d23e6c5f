-- keys_load_errors: the documented key of load_errors, (load_id, source_path, error_no), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT load_id, source_path, error_no, count(*) AS rows_with_key
FROM load_errors
GROUP BY ALL
HAVING count(*) > 1 OR load_id IS NULL OR source_path IS NULL OR error_no IS NULL
ORDER BY ALL
