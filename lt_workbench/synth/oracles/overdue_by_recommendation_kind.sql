-- Oracle for the planted effect 'overdue_by_recommendation_kind': Research-and-development recommendations are most often overdue.
-- Grain: one row per group (grp), with n units (recommendations due before the as-of date), k with the property and share = k / n.
-- {as_of} is filled in from lt_workbench.synth.planted.AS_OF (a constant, not user input).
SELECT kind                                                                          AS grp,
       count(*)                                                                      AS n,
       sum(CASE WHEN status IN ('proposed', 'accepted', 'in_progress') THEN 1 ELSE 0 END) AS k,
       round(avg(CASE WHEN status IN ('proposed', 'accepted', 'in_progress') THEN 1.0 ELSE 0 END), 3) AS share
FROM recommendations
WHERE due < DATE '{as_of}'
GROUP BY grp ORDER BY grp
