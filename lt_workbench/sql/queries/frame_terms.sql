-- frame_terms: code, label, depth and sort key of every code of one frame (labels, ordering, depth look-ups).
-- grain: one row per code. key: code
-- parameters: frame, version
-- ordering: sort_key, then code
SELECT code, label, depth, sort_key
FROM taxonomy
WHERE frame = ? AND version = ?
ORDER BY sort_key, code
