-- scoped_recommendations: kind, level and status of every recommendation of the reviews in scope (after the scope CTE).
-- grain: one row per recommendation. key: (review_id, rec_no)
-- parameters (after the scope's): none
-- ordering: review_id, rec_no
SELECT rec.kind, rec.level, rec.status
FROM scope AS s
JOIN recommendations AS rec ON rec.review_id = s.review_id
ORDER BY rec.review_id, rec.rec_no
