-- scoped_recurrence_denominators: reviews in scope in the recent window and before it (after the scope CTE).
-- grain: one row. key: none
-- parameters (after the scope's): recent-from year, window-end year, recent-from year
-- ordering: one row
SELECT count(DISTINCT CASE WHEN year BETWEEN ? AND ? THEN review_id END) AS recent,
       count(DISTINCT CASE WHEN year < ? THEN review_id END) AS before
FROM scope
