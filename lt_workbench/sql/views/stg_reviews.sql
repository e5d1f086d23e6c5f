-- stg_reviews: reviews with the dimensions tabulations group and filter by, renamed and cast once.
-- grain: one row per review. key: review_id
-- year_completed is the default year; commissioned/published years are NULL when the date is not recorded.
-- series marks the statutory regime, because serious case reviews (SCR) gave way to local child
-- safeguarding practice reviews (CSPR) in England in 2018-19 and counts either side are not comparable.
CREATE OR REPLACE VIEW stg_reviews AS
SELECT
    review_id,
    title,
    review_type,
    method,
    area_code,
    area_name,
    region,
    nation,
    commissioned,
    completed,
    published,
    year                        AS year_completed,
    CAST(year(commissioned) AS INTEGER) AS year_commissioned,
    CAST(year(published) AS INTEGER)    AS year_published,
    trigger_reason,
    intervention_level,
    quality_grade,
    family_factors_recorded,
    n_children,
    n_episodes,
    taxonomy_version,
    CASE review_type
        WHEN 'serious_case_review' THEN 'SCR'
        WHEN 'child_safeguarding_practice_review' THEN 'CSPR'
        ELSE 'other'
    END                         AS series
FROM reviews;
