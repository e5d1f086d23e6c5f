-- scoped_unaddressed_findings: pattern findings of the reviews in scope that no recommendation of the review
-- addresses (mart_unaddressed_findings), with the code's label (after the scope CTE).
-- grain: one row per finding. key: (review_id, finding_no)
-- parameters (after the scope's): taxonomy version, directions kept (list, or NULL = all), same list again
-- ordering: review_id, finding_no
SELECT u.review_id, u.finding_no, u.code, t.label, u.direction, u.priority, u.finding, s.year, s.area_code, s.region
FROM scope AS s
JOIN mart_unaddressed_findings AS u ON u.review_id = s.review_id
LEFT JOIN taxonomy AS t ON t.frame = 'patterns' AND t.version = ? AND t.code = u.code
WHERE CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), u.direction)
ORDER BY u.review_id, u.finding_no
