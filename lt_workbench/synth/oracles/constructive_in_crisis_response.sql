-- Oracle for the planted effect 'constructive_in_crisis_response': Constructive patterns concentrate in crisis response (P3).
-- Grain: one row per group (grp), with n units (pattern findings), k with the property and share = k / n.
SELECT CASE WHEN code = 'P3' OR code LIKE 'P3.%' THEN 'P3' ELSE 'other_categories' END AS grp,
       count(*)                                                         AS n,
       sum(CASE WHEN direction = 'constructive' THEN 1 ELSE 0 END)      AS k,
       round(avg(CASE WHEN direction = 'constructive' THEN 1.0 ELSE 0 END), 3) AS share
FROM pattern_findings
GROUP BY grp ORDER BY grp
