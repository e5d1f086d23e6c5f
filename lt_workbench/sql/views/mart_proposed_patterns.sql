-- mart_proposed_patterns: new sub-patterns proposed by reviewers, grouped under their parent for curation.
-- grain: one row per parent code x proposed label (trimmed, case-folded). key: (parent_code, proposed_key)
-- label shows the first spelling seen (by review id); findings and reviews are counts.
CREATE OR REPLACE VIEW mart_proposed_patterns AS
SELECT
    pf.code                                         AS parent_code,
    lower(trim(pf.proposed_label))                  AS proposed_key,
    arg_min(trim(pf.proposed_label), pf.review_id || '#' || lpad(CAST(pf.finding_no AS VARCHAR), 6, '0')) AS proposed_label,
    count(*)                                        AS findings,
    count(DISTINCT pf.review_id)                    AS reviews,
    min(r.year)                                     AS first_year,
    max(r.year)                                     AS last_year,
    list(DISTINCT pf.review_id ORDER BY pf.review_id) AS review_ids
FROM pattern_findings AS pf
JOIN reviews AS r USING (review_id)
WHERE pf.proposed_label IS NOT NULL AND trim(pf.proposed_label) <> ''
GROUP BY pf.code, lower(trim(pf.proposed_label));
