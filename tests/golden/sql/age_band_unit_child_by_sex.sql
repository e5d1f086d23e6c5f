-- plan: {"frame": "age_band", "unit": "child", "by": ["sex"], "where": {"nation": "england"}, "level": null, "year_basis": "completed"}
-- counts; params: ["age_band", "england"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, sex, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, c.sex AS sex, r.review_id AS _unit0, c.child_no AS _unit1
FROM r
JOIN children AS c ON c.review_id = r.review_id
JOIN child_codes AS m ON m.review_id = c.review_id AND m.child_no = c.child_no AND m.frame = ?
WHERE r.nation IN (?) AND c.sex IS NOT NULL
) GROUP BY ALL;

-- denominators; params: ["england"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT sex, count(*) AS denominator FROM (
SELECT DISTINCT c.sex AS sex, r.review_id AS _unit0, c.child_no AS _unit1
FROM r
JOIN children AS c ON c.review_id = r.review_id
WHERE r.nation IN (?) AND c.sex IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: ["england"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r
JOIN children AS c ON c.review_id = r.review_id WHERE r.nation IN (?))
SELECT count(*) FROM scope;
