-- cooccurrence_units_episode: the codes of each key practice episode in scope, when the scope keeps every episode of
-- the reviews in scope (no filter picks episodes), one side of a co-occurrence pair per CTE (after the scope CTE).
-- grain: ua, ub: one row per (k = review_id, k2 = episode_id, code); ua holds the first side's codes, ub the patterns.
-- parameters (after the scope's): first side's frame ('patterns' or 'factors'), its depth, its qualifiers kept
--   (VARCHAR[] or NULL = all), same list again, its roots kept (VARCHAR[] or NULL = all), same list again;
--   pattern depth, pattern directions kept (VARCHAR[] or NULL = all), same list again
-- Codes are picked by review alone (a semi-join), about a sixth faster than joining the scope on (review, episode);
-- use cooccurrence_units_episode_picked.sql when a filter (e.g. practice) picks episodes.
-- Followed by cooccurrence_pairs_patterns.sql (uses ub only) or cooccurrence_pairs_factor_pattern.sql (ua x ub).
-- ordering: none (CTEs; the pair query orders)
, ua AS (
    SELECT DISTINCT m.review_id AS k, m.episode_id AS k2, m.code
    FROM episode_codes AS m
    WHERE m.review_id IN (SELECT review_id FROM scope)
      AND m.frame = ? AND m.depth = ?
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.qualifier))
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.root))
),
ub AS (
    SELECT DISTINCT m.review_id AS k, m.episode_id AS k2, m.code
    FROM episode_codes AS m
    WHERE m.review_id IN (SELECT review_id FROM scope)
      AND m.frame = 'patterns' AND m.depth = ?
      AND (CAST(? AS VARCHAR[]) IS NULL OR list_contains(CAST(? AS VARCHAR[]), m.qualifier))
)
