-- keys_code_ancestors: the documented key of code_ancestors, (version, frame, code, ancestor), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT version, frame, code, ancestor, count(*) AS rows_with_key
FROM code_ancestors
GROUP BY ALL
HAVING count(*) > 1 OR version IS NULL OR frame IS NULL OR code IS NULL OR ancestor IS NULL
ORDER BY ALL
