-- frame_codes: the codes of one frame of one taxonomy version, optionally at one depth, with their root.
-- grain: one row per code. key: code
-- parameters: frame, version, depth (NULL = every depth), depth (again)
-- ordering: sort_key (the frame's own order)
SELECT t.code, t.label, t.depth, t.sort_key, a.root
FROM taxonomy AS t
JOIN code_ancestors AS a ON a.version = t.version AND a.frame = t.frame AND a.code = t.code AND a.ancestor = t.code
WHERE t.frame = ? AND t.version = ? AND (? IS NULL OR t.depth = ?)
ORDER BY t.sort_key
