-- keys_second_coding_episodes: the documented key of second_coding_episodes, (review_id, coder, episode_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, coder, episode_id, count(*) AS rows_with_key
FROM second_coding_episodes
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR coder IS NULL OR episode_id IS NULL
ORDER BY ALL
