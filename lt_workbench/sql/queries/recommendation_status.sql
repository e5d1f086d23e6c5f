-- recommendation_status: every recommendation of the reviews in scope, with its status group at a date.
-- grain: one row per recommendation. key: review_id, rec_no.
-- Runs after the scope CTE of analysis.plan._scope (which defines `scope`: the reviews in scope).
-- params: as_of (DATE) twice. status_group: completed, not_accepted, overdue (due before as_of and
-- neither completed nor not accepted), open (the rest, including recommendations with no due date).
-- days_overdue: days from the due date to as_of, for overdue recommendations only. Ordered by review, rec_no.
SELECT *, CASE WHEN status_group = 'overdue' THEN date_diff('day', due, CAST(? AS DATE)) END AS days_overdue
FROM (
    SELECT rec.review_id, rec.rec_no, rec.rec_id, rec.kind, rec.level, coalesce(rec.agency, 'not_recorded') AS agency, rec.due,
           CASE WHEN rec.status = 'completed' THEN 'completed'
                WHEN rec.status = 'not_accepted' THEN 'not_accepted'
                WHEN rec.due IS NOT NULL AND rec.due < CAST(? AS DATE) THEN 'overdue'
                ELSE 'open' END AS status_group
    FROM scope AS s JOIN recommendations AS rec ON rec.review_id = s.review_id
)
ORDER BY review_id, rec_no
