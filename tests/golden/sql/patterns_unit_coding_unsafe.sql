-- plan: {"frame": "patterns", "unit": "coding", "by": [], "where": {"direction": "unsafe"}, "level": 1, "year_basis": "completed"}
-- counts; params: ["patterns", "unsafe", 1]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.review_id AS _unit0, m.coding_key AS _unit1
FROM r
JOIN coding_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE m.qualifier IN (?) AND m.depth = ?
) GROUP BY ALL;

-- denominators; params: ["patterns", "unsafe"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT count(*) AS denominator FROM (
SELECT DISTINCT r.review_id AS _unit0, m.coding_key AS _unit1
FROM r
JOIN (SELECT DISTINCT review_id, coding_key, episode_id, root, qualifier FROM coding_codes WHERE frame = ?) AS m ON m.review_id = r.review_id
WHERE m.qualifier IN (?)
);

-- scope (recurrence, compare, records); params: ["patterns", "unsafe"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN (SELECT DISTINCT review_id, coding_key, episode_id, root, qualifier FROM coding_codes WHERE frame = ?) AS m ON m.review_id = r.review_id WHERE m.qualifier IN (?))
SELECT count(*) FROM scope;
