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
ORDER BY p.code_a, p.code_b
