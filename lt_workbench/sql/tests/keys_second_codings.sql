-- keys_second_codings: the documented key of second_codings, (review_id, coder), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, coder, count(*) AS rows_with_key
FROM second_codings
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR coder IS NULL
ORDER BY ALL
