-- plan: {"frame": "factors", "unit": "episode", "by": [], "where": {"influence": "hindering"}, "level": 2, "year_basis": "completed"}
-- counts; params: ["factors", "hindering", 2]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.review_id AS _unit0, e.episode_id AS _unit1
FROM r
JOIN episodes AS e ON e.review_id = r.review_id
JOIN episode_codes AS m ON m.review_id = e.review_id AND m.episode_id = e.episode_id AND m.frame = ?
WHERE m.qualifier IN (?) AND m.depth = ?
) GROUP BY ALL;

-- denominators; params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT count(*) AS denominator FROM (
SELECT DISTINCT r.review_id AS _unit0, e.episode_id AS _unit1
FROM r
JOIN episodes AS e ON e.review_id = r.review_id

);

-- scope (recurrence, compare, records); params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN episodes AS e ON e.review_id = r.review_id )
SELECT count(*) FROM scope;
