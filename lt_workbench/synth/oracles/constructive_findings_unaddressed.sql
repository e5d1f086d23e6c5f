-- Oracle for the planted effect 'constructive_findings_unaddressed': Constructive findings are usually left without a recommendation.
-- Grain: one row per group (grp), with n units (pattern findings), k with the property and share = k / n.
SELECT f.direction                                                    AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN a.code IS NULL THEN 1 ELSE 0 END)                 AS k,
       round(avg(CASE WHEN a.code IS NULL THEN 1.0 ELSE 0 END), 3)     AS share
FROM pattern_findings AS f
LEFT JOIN (SELECT DISTINCT review_id, code FROM recommendation_patterns) AS a
       ON a.review_id = f.review_id AND a.code = f.code
GROUP BY grp ORDER BY grp
