-- scoped_unaddressed_counts: per pattern code (rolled up), reviews in scope with a finding of the code that no
-- recommendation addresses, against reviews in scope with the code (after the scope CTE).
-- grain: one row per code found in scope. key: code
-- parameters (after the scope's): directions kept (list, or NULL = all), same list again, same list again, same again
-- The code's ancestors come from the review's own taxonomy version.
-- ordering: code (the caller puts codes in frame order)
, found AS (
    SELECT DISTINCT a.ancestor AS code, pf.review_id
    FROM scope AS s
    JOIN pattern_findings AS pf ON pf.review_id = s.review_id
    JOIN reviews AS r ON r.review_id = pf.review_id
    JOIN code_ancestors AS a ON a.version = r.taxonomy_version AND a.frame = 'patterns' AND a.code = pf.code
    WHERE CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), pf.direction)
), open AS (
    SELECT DISTINCT a.ancestor AS code, u.review_id
    FROM scope AS s
    JOIN mart_unaddressed_findings AS u ON u.review_id = s.review_id
    JOIN reviews AS r ON r.review_id = u.review_id
    JOIN code_ancestors AS a ON a.version = r.taxonomy_version AND a.frame = 'patterns' AND a.code = u.code
    WHERE CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), u.direction)
)
SELECT f.code, count(DISTINCT o.review_id) AS count, count(DISTINCT f.review_id) AS denominator
FROM found AS f
LEFT JOIN open AS o ON o.code = f.code AND o.review_id = f.review_id
GROUP BY f.code
ORDER BY f.code
