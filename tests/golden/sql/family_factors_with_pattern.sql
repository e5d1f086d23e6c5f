-- plan: {"frame": "family_factor", "unit": "review", "by": [], "where": {"pattern": "P2.1"}, "level": null, "year_basis": "completed"}
-- counts; params: ["family_factor", "patterns", "P2.1"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT code, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.review_id AS _unit0
FROM r
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE r.review_id IN (SELECT review_id FROM review_codes WHERE frame = ? AND code IN (?)) AND r.family_factors_recorded
) GROUP BY ALL;

-- denominators; params: ["patterns", "P2.1"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s)
SELECT count(*) AS denominator FROM (
SELECT DISTINCT r.review_id AS _unit0
FROM r
WHERE r.review_id IN (SELECT review_id FROM review_codes WHERE frame = ? AND code IN (?)) AND r.family_factors_recorded
);

-- scope (recurrence, compare, records); params: ["patterns", "P2.1"]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r WHERE r.review_id IN (SELECT review_id FROM review_codes WHERE frame = ? AND code IN (?)) AND r.family_factors_recorded)
SELECT count(*) FROM scope;
