-- plan: {"frame": "practice_points", "unit": "review", "by": [], "where": {"practice": "Problematic"}, "level": 1, "year_basis": "commissioned"}
-- counts; params: ["practice_points", "problematic", 1]
WITH r AS (SELECT s.*, s.year_commissioned AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.review_id AS _unit0
FROM r
JOIN episodes AS e ON e.review_id = r.review_id
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE e.practice IN (?) AND m.depth = ?
) GROUP BY ALL;

-- denominators; params: ["problematic"]
WITH r AS (SELECT s.*, s.year_commissioned AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT count(*) AS denominator FROM (
SELECT DISTINCT r.review_id AS _unit0
FROM r
JOIN episodes AS e ON e.review_id = r.review_id
WHERE e.practice IN (?)
);

-- scope (recurrence, compare, records); params: ["problematic"]
WITH r AS (SELECT s.*, s.year_commissioned AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN episodes AS e ON e.review_id = r.review_id WHERE e.practice IN (?))
SELECT count(*) FROM scope;
