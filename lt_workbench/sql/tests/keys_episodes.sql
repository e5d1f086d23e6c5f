-- keys_episodes: the documented key of episodes, (review_id, episode_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, episode_id, count(*) AS rows_with_key
FROM episodes
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR episode_id IS NULL
ORDER BY ALL
