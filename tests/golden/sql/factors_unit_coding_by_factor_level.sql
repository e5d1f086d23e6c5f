-- plan: {"frame": "factors", "unit": "coding", "by": ["factor_level"], "where": {}, "level": 1, "year_basis": "completed"}
-- counts; params: ["factors", 1]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, factor_level, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, m.root AS factor_level, r.review_id AS _unit0, m.coding_key AS _unit1
FROM r
JOIN coding_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE m.depth = ? AND m.root IS NOT NULL
) GROUP BY ALL;

-- denominators; params: ["factors"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT factor_level, count(*) AS denominator FROM (
SELECT DISTINCT m.root AS factor_level, r.review_id AS _unit0, m.coding_key AS _unit1
FROM r
JOIN (SELECT DISTINCT review_id, coding_key, episode_id, root, qualifier FROM coding_codes WHERE frame = ?) AS m ON m.review_id = r.review_id
WHERE m.root IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: ["factors"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN (SELECT DISTINCT review_id, coding_key, episode_id, root, qualifier FROM coding_codes WHERE frame = ?) AS m ON m.review_id = r.review_id )
SELECT count(*) FROM scope;
