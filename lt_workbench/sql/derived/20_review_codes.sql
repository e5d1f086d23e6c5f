-- review_codes: the rolled-up code set of each review, for counting reviews fast.
-- grain: one row per review x frame x code (with every ancestor of each coded code) x qualifier.
-- key: (review_id, frame, code, qualifier). A review coded P2.1.2 has rows P2.1.2, P2.1 and P2, once each
-- per direction; count(DISTINCT review_id) per code therefore never counts a review twice.
-- qualifier: pattern direction (constructive/unsafe) or factor influence (supporting/hindering), else NULL.
-- Frames are taxonomy frame names; review-level vocabularies are included so every frame counts the same way.
-- Child-level frames live in child_codes, episode-level detail in episode_codes.
CREATE OR REPLACE TABLE review_codes AS
WITH raw AS (
    SELECT review_id, 'patterns' AS frame, code, direction AS qualifier FROM pattern_findings
    UNION ALL SELECT review_id, 'factors', code, influence FROM factor_codings
    UNION ALL SELECT review_id, 'practice_points', code, NULL FROM practice_points
    UNION ALL SELECT review_id, 'family_factor', code, NULL FROM review_family_factors
    UNION ALL SELECT review_id, 'agency', code, NULL FROM review_agencies
    UNION ALL SELECT review_id, 'review_type', review_type, NULL FROM reviews
    UNION ALL SELECT review_id, 'method', method, NULL FROM reviews
    UNION ALL SELECT review_id, 'trigger_reason', trigger_reason, NULL FROM reviews
    UNION ALL SELECT review_id, 'region', region, NULL FROM reviews
    UNION ALL SELECT review_id, 'nation', nation, NULL FROM reviews
    UNION ALL SELECT review_id, 'intervention_level', intervention_level, NULL FROM reviews WHERE intervention_level IS NOT NULL
    UNION ALL SELECT review_id, 'quality_grade', quality_grade, NULL FROM reviews WHERE quality_grade IS NOT NULL
    UNION ALL SELECT review_id, 'recommendation_kind', kind, NULL FROM recommendations
    UNION ALL SELECT review_id, 'recommendation_level', level, NULL FROM recommendations
    UNION ALL SELECT review_id, 'recommendation_status', status, NULL FROM recommendations
)
SELECT DISTINCT
    raw.review_id,
    raw.frame,
    a.ancestor       AS code,
    a.ancestor_depth AS depth,
    a.root,
    raw.qualifier
FROM raw
JOIN reviews AS r USING (review_id)
JOIN code_ancestors AS a
  ON a.version = r.taxonomy_version AND a.frame = raw.frame AND a.code = raw.code;
