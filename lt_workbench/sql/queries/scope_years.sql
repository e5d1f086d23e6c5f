-- scope_years: the first and last year (of completion) of the reviews in the database, for year choices.
-- grain: one row. params: none. An empty database gives one row of NULLs.
SELECT min(year_completed) AS year_min, max(year_completed) AS year_max
FROM stg_reviews
