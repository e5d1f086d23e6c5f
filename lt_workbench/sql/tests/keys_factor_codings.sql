-- keys_factor_codings: the documented key of factor_codings, (review_id, episode_id, coding_no), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, episode_id, coding_no, count(*) AS rows_with_key
FROM factor_codings
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR episode_id IS NULL OR coding_no IS NULL
ORDER BY ALL
