-- Oracle for the planted effect 'family_factor_profile': Family factors at seed 003 prevalences.
-- Grain: one row per group (grp), with n units (reviews recording family factors), k with the property and share = k / n.
SELECT ff.code                                                        AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN rf.code IS NOT NULL THEN 1 ELSE 0 END)            AS k,
       round(avg(CASE WHEN rf.code IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
JOIN taxonomy AS ff ON ff.frame = 'family_factor' AND ff.version = r.taxonomy_version
LEFT JOIN review_family_factors AS rf ON rf.review_id = r.review_id AND rf.code = ff.code
WHERE r.family_factors_recorded
GROUP BY grp ORDER BY grp
