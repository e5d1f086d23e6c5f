-- taxonomy_codes: every distinct code of one taxonomy version (for "did you mean" hints).
-- grain: one row per code. key: code
-- parameters: version
-- ordering: code
SELECT DISTINCT code FROM taxonomy WHERE version = ? ORDER BY code
