-- Oracle for the planted effect 'apir_revision_after_2014': P1.3.1 Revision becomes an interruption: a step up from 2014.
-- Grain: one row per group (grp), with n units (reviews), k with the property and share = k / n.
SELECT CASE WHEN r.year <= 2013 THEN 'to_2013' ELSE 'from_2014' END   AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN h.review_id IS NOT NULL THEN 1 ELSE 0 END)        AS k,
       round(avg(CASE WHEN h.review_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
LEFT JOIN (SELECT DISTINCT review_id FROM pattern_findings WHERE code = 'P1.3.1') AS h
       ON h.review_id = r.review_id
GROUP BY grp ORDER BY grp
