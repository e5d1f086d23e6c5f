-- scoped_proposed_patterns: new sub-patterns proposed by reviewers in scope, under their parent code (after the scope CTE).
-- grain: one row per parent code x proposed label (trimmed, case-folded). key: (parent_code, lower(trim(proposed_label)))
-- parameters (after the scope's): taxonomy version
-- proposed_label shows the spelling of the first finding (by review id, then finding number).
-- Replaces the unused view mart_proposed_patterns, which could not be filtered by the scope.
-- ordering: the parent's place in the frame, reviews (most first), proposed label
SELECT pf.code AS parent_code,
       t.label AS parent_label,
       arg_min(trim(pf.proposed_label), s.review_id || '#' || lpad(CAST(pf.finding_no AS VARCHAR), 6, '0')) AS proposed_label,
       count(*) AS findings,
       count(DISTINCT s.review_id) AS reviews,
       min(s.year) AS first_year,
       max(s.year) AS last_year,
       list(DISTINCT s.review_id ORDER BY s.review_id) AS review_ids,
       min(t.sort_key) AS _k
FROM scope AS s
JOIN pattern_findings AS pf ON pf.review_id = s.review_id
LEFT JOIN taxonomy AS t ON t.frame = 'patterns' AND t.version = ? AND t.code = pf.code
WHERE pf.proposed_label IS NOT NULL AND trim(pf.proposed_label) <> ''
GROUP BY pf.code, t.label, lower(trim(pf.proposed_label))
ORDER BY _k, reviews DESC, proposed_label
