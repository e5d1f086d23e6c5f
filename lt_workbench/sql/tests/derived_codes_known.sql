-- derived_codes_known: every code in the derived code tables is a code of its frame in some taxonomy version held.
-- grain: one row per offending (table, frame, code) (expected: none). parameters: none. ordering: table, frame, code
SELECT DISTINCT 'review_codes' AS tbl, frame, code FROM review_codes AS d
WHERE NOT EXISTS (SELECT 1 FROM taxonomy AS t WHERE t.frame = d.frame AND t.code = d.code)
UNION ALL
SELECT DISTINCT 'child_codes', frame, code FROM child_codes AS d
WHERE NOT EXISTS (SELECT 1 FROM taxonomy AS t WHERE t.frame = d.frame AND t.code = d.code)
UNION ALL
SELECT DISTINCT 'episode_codes', frame, code FROM episode_codes AS d
WHERE NOT EXISTS (SELECT 1 FROM taxonomy AS t WHERE t.frame = d.frame AND t.code = d.code)
UNION ALL
SELECT DISTINCT 'coding_codes', frame, code FROM coding_codes AS d
WHERE NOT EXISTS (SELECT 1 FROM taxonomy AS t WHERE t.frame = d.frame AND t.code = d.code)
ORDER BY ALL
