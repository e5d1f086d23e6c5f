-- mart_unaddressed_findings: pattern findings that no recommendation of the same review addresses.
-- grain: one row per pattern finding with no addressing recommendation. key: (review_id, finding_no)
-- A recommendation addresses a finding when it lists the finding's code or one of its ancestors
-- (a recommendation on P2.1 covers a finding coded P2.1.2).
CREATE OR REPLACE VIEW mart_unaddressed_findings AS
SELECT
    pf.review_id,
    pf.finding_no,
    pf.code,
    pf.direction,
    pf.priority,
    pf.finding
FROM pattern_findings AS pf
JOIN reviews AS r USING (review_id)
WHERE NOT EXISTS (
    SELECT 1
    FROM recommendation_patterns AS rp
    JOIN code_ancestors AS a
      ON a.version = r.taxonomy_version AND a.frame = 'patterns' AND a.code = pf.code AND a.ancestor = rp.code
    WHERE rp.review_id = pf.review_id
);
