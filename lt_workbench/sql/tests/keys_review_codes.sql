-- keys_review_codes: the documented key of review_codes, (review_id, frame, code, qualifier), is unique and its parts are not NULL.
-- qualifier may be NULL (no qualifier / not tied to an episode); NULL counts as one value for uniqueness.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, frame, code, qualifier, count(*) AS rows_with_key
FROM review_codes
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR frame IS NULL OR code IS NULL
ORDER BY ALL
