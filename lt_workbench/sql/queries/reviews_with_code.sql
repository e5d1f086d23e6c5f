-- reviews_with_code: the reviews whose rolled-up code set holds a code, for narrowing evidence to the
-- reviews behind a "found together within reviews" cell.
-- grain: one row per review_id. params: frame, code, qualifiers (VARCHAR[] or NULL for any; e.g. the
-- pattern directions the cell was filtered on). Ordered by review.
SELECT DISTINCT review_id
FROM review_codes
WHERE frame = $frame AND code = $code
  AND ($qualifiers::VARCHAR[] IS NULL OR list_contains($qualifiers::VARCHAR[], qualifier))
ORDER BY review_id
