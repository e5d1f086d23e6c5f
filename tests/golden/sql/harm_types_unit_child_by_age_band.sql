-- plan: {"frame": "harm_type", "unit": "child", "by": ["age_band"], "where": {}, "level": null, "year_basis": "completed"}
-- counts; params: ["harm_type"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, age_band, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, c.age_band AS age_band, r.review_id AS _unit0, c.child_no AS _unit1
FROM r
JOIN children AS c ON c.review_id = r.review_id
JOIN child_codes AS m ON m.review_id = c.review_id AND m.child_no = c.child_no AND m.frame = ?
WHERE c.age_band IS NOT NULL
) GROUP BY ALL;

-- denominators; params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT age_band, count(*) AS denominator FROM (
SELECT DISTINCT c.age_band AS age_band, r.review_id AS _unit0, c.child_no AS _unit1
FROM r
JOIN children AS c ON c.review_id = r.review_id
WHERE c.age_band IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: []
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN children AS c ON c.review_id = r.review_id )
SELECT count(*) FROM scope;
