-- Oracle for the planted effect 'interagency_with_role_clarity': FL.IA inter-agency factors co-occur with P4.2 Clarity of roles and responsibilities.
-- Grain: one row per group (grp), with n units (episodes), k with the property and share = k / n.
WITH linked AS (
    SELECT DISTINCT pe.review_id, pe.episode_id
    FROM pattern_episodes AS pe
    JOIN pattern_findings AS f ON f.review_id = pe.review_id AND f.finding_no = pe.finding_no
    WHERE f.code = 'P4.2' OR f.code LIKE 'P4.2.%'),
coded AS (
    SELECT DISTINCT review_id, episode_id FROM factor_codings
    WHERE code = 'FL.IA' OR code LIKE 'FL.IA.%')
SELECT CASE WHEN l.episode_id IS NOT NULL THEN 'rests_on_P4.2' ELSE 'other_episodes' END AS grp,
       count(*)                                                       AS n,
       sum(CASE WHEN c.episode_id IS NOT NULL THEN 1 ELSE 0 END)      AS k,
       round(avg(CASE WHEN c.episode_id IS NOT NULL THEN 1.0 ELSE 0 END), 3) AS share
FROM episodes AS e
LEFT JOIN linked AS l ON l.review_id = e.review_id AND l.episode_id = e.episode_id
LEFT JOIN coded  AS c ON c.review_id = e.review_id AND c.episode_id = e.episode_id
GROUP BY grp ORDER BY grp
