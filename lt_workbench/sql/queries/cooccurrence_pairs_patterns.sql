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
ORDER BY p.code_a, p.code_b
