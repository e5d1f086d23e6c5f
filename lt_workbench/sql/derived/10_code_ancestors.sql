-- code_ancestors: every code paired with itself and each of its ancestors, so roll-ups are a join.
-- grain: one row per taxonomy version x frame x code x ancestor-or-self. key: (version, frame, code, ancestor)
-- Hierarchical frames (patterns, factors, practice_points) walk the parent chain; every other frame
-- (flat vocabularies; region's parent is a nation in another frame) maps each code to itself.
-- root is the depth-1 ancestor: the pattern category (P1..P6) or factor level (FL, LS, NG).
CREATE OR REPLACE TABLE code_ancestors AS
WITH RECURSIVE walk (version, frame, code, ancestor, next_parent) AS (
    SELECT version, frame, code, code, parent
    FROM taxonomy
    WHERE frame IN ('patterns', 'factors', 'practice_points')
    UNION ALL
    SELECT w.version, w.frame, w.code, t.code, t.parent
    FROM walk AS w
    JOIN taxonomy AS t
      ON t.version = w.version AND t.frame = w.frame AND t.code = w.next_parent
),
hierarchical AS (
    SELECT w.version, w.frame, w.code, w.ancestor, t.depth AS ancestor_depth
    FROM walk AS w
    JOIN taxonomy AS t ON t.version = w.version AND t.frame = w.frame AND t.code = w.ancestor
),
with_root AS (
    SELECT h.*, r.ancestor AS root
    FROM hierarchical AS h
    JOIN hierarchical AS r
      ON r.version = h.version AND r.frame = h.frame AND r.code = h.code AND r.ancestor_depth = 1
)
SELECT version, frame, code, ancestor, ancestor_depth, root FROM with_root
UNION ALL
SELECT version, frame, code, code AS ancestor, 1 AS ancestor_depth, code AS root
FROM taxonomy
WHERE frame NOT IN ('patterns', 'factors', 'practice_points');
