-- plan: {"frame": "patterns", "unit": "review", "by": [], "where": {}, "level": null, "year_basis": "completed"}
-- counts; params: ["patterns"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.review_id AS _unit0
FROM r
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?

) GROUP BY ALL;

-- denominators; params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT count(*) AS denominator FROM (
SELECT DISTINCT r.review_id AS _unit0
FROM r

);

-- scope (recurrence, compare, records); params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r )
SELECT count(*) FROM scope;
