-- scoped_recurrence: per code of a frame, how widespread and how current within the scope (after the scope CTE).
-- grain: one row per code that at least one review in scope has. key: code
-- parameters (after the scope's): recent-from year, window-end year, recent-from year, frame, depth (NULL = all),
--   depth, window-end year, qualifiers kept (list, or NULL = all), same list again, roots kept (list or NULL), same again
-- Rolled up: review_codes holds every ancestor of each code, so a review counts once per code.
-- ordering: code (the caller orders by reach)
SELECT m.code,
       count(DISTINCT s.review_id) AS reviews,
       count(DISTINCT s.area_code) AS areas,
       count(DISTINCT s.region) AS regions,
       min(s.year) AS first_year,
       max(s.year) AS last_year,
       count(DISTINCT CASE WHEN s.year BETWEEN ? AND ? THEN s.review_id END) AS reviews_recent,
       count(DISTINCT CASE WHEN s.year < ? THEN s.review_id END) AS reviews_before
FROM scope AS s
JOIN review_codes AS m ON m.review_id = s.review_id AND m.frame = ?
WHERE (? IS NULL OR m.depth = ?) AND s.year <= ?
  AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.qualifier))
  AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.root))
GROUP BY m.code
ORDER BY m.code
