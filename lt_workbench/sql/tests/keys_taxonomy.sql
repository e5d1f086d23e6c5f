-- keys_taxonomy: the documented key of taxonomy, (version, frame, code), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT version, frame, code, count(*) AS rows_with_key
FROM taxonomy
GROUP BY ALL
HAVING count(*) > 1 OR version IS NULL OR frame IS NULL OR code IS NULL
ORDER BY ALL
