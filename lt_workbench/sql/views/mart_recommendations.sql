-- mart_recommendations: recommendations with their review's dimensions, for kind x level x status tables.
-- grain: one row per recommendation. key: (review_id, rec_id)
CREATE OR REPLACE VIEW mart_recommendations AS
SELECT
    rec.review_id,
    rec.rec_id,
    rec.rec_no,
    rec.kind,
    rec.level,
    rec.status,
    rec.due,
    rec.agency,
    rec.lead_role,
    rec.text,
    r.year           AS year_completed,
    r.area_code,
    r.region,
    r.nation,
    r.review_type
FROM recommendations AS rec
JOIN reviews AS r USING (review_id);
