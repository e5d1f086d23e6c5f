-- plan: {"kind": "patterns", "unit": "review", "level": 2, "factor_level": 2, "where": {}, "min_together": 1, "year_basis": "completed"}
-- params: ["patterns", 2, null, null, null, null, 2, null, null, 1]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, r.year, r.area_code, r.region FROM r )
-- cooccurrence_units_review: the codes of each review in scope, one side of a co-occurrence pair per CTE (after the scope CTE).
-- grain: ua, ub: one row per (k = review_id, k2 = 0, code); ua holds the first side's codes (frame given), ub the patterns.
-- parameters (after the scope's): first side's frame ('patterns' or 'factors'), its depth, its qualifiers kept
--   (VARCHAR[] or NULL = all), same list again, its roots kept (VARCHAR[] or NULL = all), same list again;
--   pattern depth, pattern directions kept (VARCHAR[] or NULL = all), same list again
-- review_codes holds every ancestor of each code, so a review has a code at a depth once (DISTINCT over qualifiers).
-- Followed by cooccurrence_pairs_patterns.sql (uses ub only) or cooccurrence_pairs_factor_pattern.sql (ua x ub).
-- ordering: none (CTEs; the pair query orders)
, ua AS (
    SELECT DISTINCT s.review_id AS k, 0 AS k2, m.code
    FROM scope AS s
    JOIN review_codes AS m ON m.review_id = s.review_id
    WHERE m.frame = ? AND m.depth = ?
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.qualifier))
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.root))
),
ub AS (
    SELECT DISTINCT s.review_id AS k, 0 AS k2, m.code
    FROM scope AS s
    JOIN review_codes AS m ON m.review_id = s.review_id
    WHERE m.frame = 'patterns' AND m.depth = ?
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.qualifier))
)

-- cooccurrence_pairs_patterns: pattern x pattern pairs found together in the same unit (after a cooccurrence_units_* file).
-- grain: one row per pair of pattern codes (code_a < code_b) together in at least min_together units. key: (code_a, code_b)
-- parameters (after the units file's): min_together
-- n_a, n_b: units with each code (the margins of the 2 x 2 table); n: units in scope (a scope row is one unit).
-- ordering: code_a, code_b (the caller puts pairs in frame order)
, marg AS (SELECT code, count(*) AS n FROM ub GROUP BY code),
pairs AS (
    SELECT a.code AS code_a, b.code AS code_b, count(*) AS n_ab
    FROM ub AS a
    JOIN ub AS b ON a.k = b.k AND a.k2 = b.k2 AND a.code < b.code
    GROUP BY ALL
)
SELECT p.code_a, p.code_b, ma.n AS n_a, mb.n AS n_b, p.n_ab, (SELECT count(*) FROM scope) AS n
FROM pairs AS p
JOIN marg AS ma ON ma.code = p.code_a
JOIN marg AS mb ON mb.code = p.code_b
WHERE p.n_ab >= ?
ORDER BY p.code_a, p.code_b;
