-- plan: {"frame": "patterns", "unit": "review", "by": ["region"], "where": {"region": "North West", "year": "2015.."}, "level": 2, "year_basis": "completed"}
-- counts; params: ["patterns", "north_west", 2015, 2]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, region, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.region AS region, r.review_id AS _unit0
FROM r
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE r.region IN (?) AND r.year >= ? AND m.depth = ? AND r.region IS NOT NULL
) GROUP BY ALL;

-- denominators; params: ["north_west", 2015]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT region, count(*) AS denominator FROM (
SELECT DISTINCT r.region AS region, r.review_id AS _unit0
FROM r
WHERE r.region IN (?) AND r.year >= ? AND r.region IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: ["north_west", 2015]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r WHERE r.region IN (?) AND r.year >= ?)
SELECT count(*) FROM scope;
