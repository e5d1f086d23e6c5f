-- plan: {"kind": "factor-pattern", "unit": "episode", "level": 1, "factor_level": 2, "where": {"influence": "hindering", "year": "2015.."}, "min_together": 1, "year_basis": "completed"}
-- params: [2015, "factors", 2, ["hindering"], ["hindering"], null, null, 1, null, null, 1]
WITH r AS (SELECT s.*, s.year_completed AS year, CAST(NULL AS VARCHAR) AS period FROM stg_reviews AS s), scope AS (SELECT DISTINCT r.review_id, e.episode_id FROM r
JOIN episodes AS e ON e.review_id = r.review_id WHERE r.year >= ?)
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

-- cooccurrence_pairs_factor_pattern: factor x pattern pairs found together in the same unit (after a cooccurrence_units_*
-- file with 'factors' as the first side).
-- grain: one row per (factor code, pattern code) together in at least min_together units. key: (code_a, code_b)
-- parameters (after the units file's): min_together
-- ua and ub are each distinct per unit and carry their own coding-level filters (influence, factor level; direction),
-- so the pairs in a unit are their join. n_a, n_b: units with each code; n: units in scope (a scope row is one unit).
-- ordering: code_a, code_b (the caller puts pairs in frame order)
, pairs AS (
    SELECT ua.code AS code_a, ub.code AS code_b, count(*) AS n_ab
    FROM ua
    JOIN ub ON ua.k = ub.k AND ua.k2 = ub.k2
    GROUP BY ALL
),
ma AS (SELECT code, count(*) AS n FROM ua GROUP BY code),
mb AS (SELECT code, count(*) AS n FROM ub GROUP BY code)
SELECT p.code_a, p.code_b, ma.n AS n_a, mb.n AS n_b, p.n_ab, (SELECT count(*) FROM scope) AS n
FROM pairs AS p
JOIN ma ON ma.code = p.code_a
JOIN mb ON mb.code = p.code_b
WHERE p.n_ab >= ?
ORDER BY p.code_a, p.code_b;
