-- keys_reviews: the documented key of reviews, (review_id), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, count(*) AS rows_with_key
FROM reviews
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL
ORDER BY ALL
