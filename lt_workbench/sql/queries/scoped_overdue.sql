-- scoped_overdue: recommendations of the reviews in scope due before a date and not finished (after the scope CTE).
-- grain: one row per recommendation. key: (review_id, rec_id)
-- parameters (after the scope's): as-of date, as-of date, statuses that are not overdue (list: completed, and
--   not_accepted unless asked for)
-- ordering: due date (oldest first), review_id, rec_no
SELECT rec.review_id, rec.rec_id, rec.kind, rec.level, rec.status, rec.due,
       date_diff('day', rec.due, CAST(? AS DATE)) AS days_overdue, rec.agency, rec.lead_role, rec.text,
       s.area_code, s.region, s.year
FROM scope AS s
JOIN recommendations AS rec ON rec.review_id = s.review_id
WHERE rec.due IS NOT NULL AND rec.due < CAST(? AS DATE) AND NOT list_contains(CAST(? AS VARCHAR[]), rec.status)
ORDER BY rec.due, rec.review_id, rec.rec_no
