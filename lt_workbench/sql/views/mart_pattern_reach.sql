-- mart_pattern_reach: how widespread each pattern is, rolled up through the typology (the `make demo` table).
-- grain: one row per pattern code in the taxonomy (any depth). key: (version, code)
-- reviews and areas are distinct counts; a review coded P2.1.2 counts once for P2.1.2, P2.1 and P2.
-- Restricted: full numbers, no disclosure control; use lt_workbench.tabulate for published tables.
CREATE OR REPLACE VIEW mart_pattern_reach AS
SELECT
    t.version,
    t.code,
    t.label,
    t.depth,
    count(DISTINCT rc.review_id)  AS reviews,
    count(DISTINCT r.area_code)   AS areas,
    count(DISTINCT r.region)      AS regions,
    min(r.year)                   AS first_year,
    max(r.year)                   AS last_year,
    t.sort_key
FROM taxonomy AS t
LEFT JOIN review_codes AS rc ON rc.frame = 'patterns' AND rc.code = t.code
LEFT JOIN reviews AS r ON r.review_id = rc.review_id AND r.taxonomy_version = t.version
WHERE t.frame = 'patterns'
GROUP BY t.version, t.code, t.label, t.depth, t.sort_key;
