-- Oracle for the planted effect 'family_factors_not_recorded': About one review in ten does not record family factors.
-- Grain: one row per group (grp), with n units (reviews), k with the property and share = k / n.
SELECT 'all_reviews'                                                  AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN NOT family_factors_recorded THEN 1 ELSE 0 END)    AS k,
       round(avg(CASE WHEN NOT family_factors_recorded THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews
