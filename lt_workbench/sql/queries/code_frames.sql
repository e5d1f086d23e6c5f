-- code_frames: the frames a code belongs to in one taxonomy version (to find a code's frame).
-- grain: one row per frame holding the code. key: frame
-- parameters: code, version
-- ordering: frame
SELECT frame FROM taxonomy WHERE code = ? AND version = ? ORDER BY frame
