-- Oracle for the planted effect 'resource_demand_rise_north_west': P2.1 Resource–demand mismatch rises in the North West.
-- Grain: one row per group (grp), with n units (reviews), k with the property and share = k / n.
SELECT CASE WHEN r.region <> 'north_west' THEN 'other_regions'
            WHEN r.year <= 2013 THEN 'nw_to_2013'
            WHEN r.year >= 2020 THEN 'nw_from_2020'
            ELSE 'nw_2014_2019' END                                   AS grp,
       count(*)                                                        AS n,
       sum(CASE WHEN h.review_id IS NOT NULL THEN 1 ELSE 0 END)        AS k,
       round(avg(CASE WHEN h.review_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM reviews AS r
LEFT JOIN (SELECT DISTINCT review_id FROM pattern_findings
           WHERE code = 'P2.1' OR code LIKE 'P2.1.%') AS h
       ON h.review_id = r.review_id
GROUP BY grp ORDER BY grp
