-- cooccurrence_code_depth: the depth of one code in one frame of a taxonomy version (to check a co-occurrence's with_code).
-- grain: one row per code found (zero or one row). key: code
-- parameters: frame, version, code
-- ordering: depth (at most one row)
SELECT depth FROM taxonomy WHERE frame = ? AND version = ? AND code = ? ORDER BY depth
