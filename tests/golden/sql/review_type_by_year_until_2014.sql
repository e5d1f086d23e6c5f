-- plan: {"frame": "review_type", "unit": "review", "by": ["year"], "where": {"year": "..2014"}, "level": null, "year_basis": "published"}
-- counts; params: ["review_type", 2014]
WITH r AS (SELECT s.*, s.year_published AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, year, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.year AS year, r.review_id AS _unit0
FROM r
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE r.year <= ? AND r.year IS NOT NULL
) GROUP BY ALL;

-- denominators; params: [2014]
WITH r AS (SELECT s.*, s.year_published AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT year, count(*) AS denominator FROM (
SELECT DISTINCT r.year AS year, r.review_id AS _unit0
FROM r
WHERE r.year <= ? AND r.year IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: [2014]
WITH r AS (SELECT s.*, s.year_published AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r WHERE r.year <= ?)
SELECT count(*) FROM scope;
