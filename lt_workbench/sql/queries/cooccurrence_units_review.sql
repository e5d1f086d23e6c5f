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
