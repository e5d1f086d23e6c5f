-- Oracle for the planted effect 'young_children': Children skew young.
-- Grain: one row per group (grp), with n units (children), k with the property and share = k / n.
SELECT age_band                                                       AS grp,
       (SELECT count(*) FROM children)                                 AS n,
       count(*)                                                        AS k,
       round(count(*) * 1.0 / (SELECT count(*) FROM children), 3)      AS share
FROM children
GROUP BY grp ORDER BY grp
