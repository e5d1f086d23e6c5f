-- keys_coding_codes: the documented key of coding_codes, (review_id, frame, coding_key, code, episode_id), is unique and its parts are not NULL.
-- episode_id may be NULL (no qualifier / not tied to an episode); NULL counts as one value for uniqueness.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, frame, coding_key, code, episode_id, count(*) AS rows_with_key
FROM coding_codes
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR frame IS NULL OR coding_key IS NULL OR code IS NULL
ORDER BY ALL
