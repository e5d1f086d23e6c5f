-- keys_loads: the documented key of loads, (load_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT load_id, count(*) AS rows_with_key
FROM loads
GROUP BY ALL
HAVING count(*) > 1 OR load_id IS NULL
ORDER BY ALL
