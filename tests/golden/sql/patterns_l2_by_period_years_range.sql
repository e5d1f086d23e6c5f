-- plan: {"frame": "patterns", "unit": "review", "by": ["period"], "where": {"year": "2010..2020"}, "level": 2, "year_basis": "completed"}
-- counts; params: [2023, "2023-2027", 2018, "2018-2022", 2013, "2013-2017", 2008, "2008-2012", "patterns", 2010, 2020, 2]
WITH r AS (SELECT s.*, s.year_completed AS year, CASE WHEN s.year_completed IS NULL THEN NULL WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? ELSE NULL END AS period FROM stg_reviews AS s)
SELECT code, period, count(*) AS count FROM (
SELECT DISTINCT m.code AS code, r.period AS period, r.review_id AS _unit0
FROM r
JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?
WHERE r.year BETWEEN ? AND ? AND m.depth = ? AND r.period IS NOT NULL
) GROUP BY ALL;

-- denominators; params: [2023, "2023-2027", 2018, "2018-2022", 2013, "2013-2017", 2008, "2008-2012", 2010, 2020]
WITH r AS (SELECT s.*, s.year_completed AS year, CASE WHEN s.year_completed IS NULL THEN NULL WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? ELSE NULL END AS period FROM stg_reviews AS s)
SELECT period, count(*) AS denominator FROM (
SELECT DISTINCT r.period AS period, r.review_id AS _unit0
FROM r
WHERE r.year BETWEEN ? AND ? AND r.period IS NOT NULL
) GROUP BY ALL;

-- scope (recurrence, compare, records); params: [2023, "2023-2027", 2018, "2018-2022", 2013, "2013-2017", 2008, "2008-2012", 2010, 2020]
WITH r AS (SELECT s.*, s.year_completed AS year, CASE WHEN s.year_completed IS NULL THEN NULL WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? WHEN s.year_completed >= ? THEN ? ELSE NULL END AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r WHERE r.year BETWEEN ? AND ?)
SELECT count(*) FROM scope;
