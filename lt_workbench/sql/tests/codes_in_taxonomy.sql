-- codes_in_taxonomy: every coded value of every review is a code of its frame in the review's taxonomy version.
-- grain: one row per offending value (expected: none): table, column, review, value, version. parameters: none.
-- ordering: table, column, review_id, value
SELECT 'reviews' AS tbl, 'region' AS col, x.review_id, CAST(x.region AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.region IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'region' AND t.code = x.region)
UNION ALL
SELECT 'reviews' AS tbl, 'nation' AS col, x.review_id, CAST(x.nation AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.nation IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'nation' AND t.code = x.nation)
UNION ALL
SELECT 'reviews' AS tbl, 'review_type' AS col, x.review_id, CAST(x.review_type AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.review_type IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'review_type' AND t.code = x.review_type)
UNION ALL
SELECT 'reviews' AS tbl, 'method' AS col, x.review_id, CAST(x.method AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.method IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'method' AND t.code = x.method)
UNION ALL
SELECT 'reviews' AS tbl, 'trigger_reason' AS col, x.review_id, CAST(x.trigger_reason AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.trigger_reason IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'trigger_reason' AND t.code = x.trigger_reason)
UNION ALL
SELECT 'reviews' AS tbl, 'intervention_level' AS col, x.review_id, CAST(x.intervention_level AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.intervention_level IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'intervention_level' AND t.code = x.intervention_level)
UNION ALL
SELECT 'reviews' AS tbl, 'quality_grade' AS col, x.review_id, CAST(x.quality_grade AS VARCHAR) AS value, r.taxonomy_version
FROM reviews AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.quality_grade IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'quality_grade' AND t.code = x.quality_grade)
UNION ALL
SELECT 'review_family_factors' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM review_family_factors AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'family_factor' AND t.code = x.code)
UNION ALL
SELECT 'review_agencies' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM review_agencies AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'agency' AND t.code = x.code)
UNION ALL
SELECT 'children' AS tbl, 'age_band' AS col, x.review_id, CAST(x.age_band AS VARCHAR) AS value, r.taxonomy_version
FROM children AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.age_band IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'age_band' AND t.code = x.age_band)
UNION ALL
SELECT 'children' AS tbl, 'sex' AS col, x.review_id, CAST(x.sex AS VARCHAR) AS value, r.taxonomy_version
FROM children AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.sex IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'sex' AND t.code = x.sex)
UNION ALL
SELECT 'children' AS tbl, 'outcome' AS col, x.review_id, CAST(x.outcome AS VARCHAR) AS value, r.taxonomy_version
FROM children AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.outcome IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'outcome' AND t.code = x.outcome)
UNION ALL
SELECT 'child_harm_types' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM child_harm_types AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'harm_type' AND t.code = x.code)
UNION ALL
SELECT 'episodes' AS tbl, 'practice' AS col, x.review_id, CAST(x.practice AS VARCHAR) AS value, r.taxonomy_version
FROM episodes AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.practice IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'practice' AND t.code = x.practice)
UNION ALL
SELECT 'episode_agencies' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM episode_agencies AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'agency' AND t.code = x.code)
UNION ALL
SELECT 'factor_codings' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM factor_codings AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'factors' AND t.code = x.code)
UNION ALL
SELECT 'factor_codings' AS tbl, 'influence' AS col, x.review_id, CAST(x.influence AS VARCHAR) AS value, r.taxonomy_version
FROM factor_codings AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.influence IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'influence' AND t.code = x.influence)
UNION ALL
SELECT 'pattern_findings' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM pattern_findings AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'patterns' AND t.code = x.code)
UNION ALL
SELECT 'pattern_findings' AS tbl, 'direction' AS col, x.review_id, CAST(x.direction AS VARCHAR) AS value, r.taxonomy_version
FROM pattern_findings AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.direction IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'direction' AND t.code = x.direction)
UNION ALL
SELECT 'recommendations' AS tbl, 'kind' AS col, x.review_id, CAST(x.kind AS VARCHAR) AS value, r.taxonomy_version
FROM recommendations AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.kind IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'recommendation_kind' AND t.code = x.kind)
UNION ALL
SELECT 'recommendations' AS tbl, 'level' AS col, x.review_id, CAST(x.level AS VARCHAR) AS value, r.taxonomy_version
FROM recommendations AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.level IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'recommendation_level' AND t.code = x.level)
UNION ALL
SELECT 'recommendations' AS tbl, 'status' AS col, x.review_id, CAST(x.status AS VARCHAR) AS value, r.taxonomy_version
FROM recommendations AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.status IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'recommendation_status' AND t.code = x.status)
UNION ALL
SELECT 'recommendation_patterns' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM recommendation_patterns AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'patterns' AND t.code = x.code)
UNION ALL
SELECT 'practice_points' AS tbl, 'code' AS col, x.review_id, CAST(x.code AS VARCHAR) AS value, r.taxonomy_version
FROM practice_points AS x JOIN reviews AS r ON r.review_id = x.review_id
WHERE x.code IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM taxonomy AS t WHERE t.version = r.taxonomy_version AND t.frame = 'practice_points' AND t.code = x.code)
ORDER BY tbl, col, review_id, value
