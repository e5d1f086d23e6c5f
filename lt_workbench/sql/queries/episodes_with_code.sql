-- episodes_with_code: the key practice episodes whose rolled-up code set holds a code, for narrowing
-- evidence to the episodes behind a "found together within episodes" cell.
-- grain: one row per (review_id, episode_id). params: frame, code, qualifiers (VARCHAR[] or NULL for any;
-- e.g. the pattern directions the cell was filtered on). Ordered by review, episode.
SELECT DISTINCT review_id, episode_id
FROM episode_codes
WHERE frame = $frame AND code = $code
  AND ($qualifiers::VARCHAR[] IS NULL OR list_contains($qualifiers::VARCHAR[], qualifier))
ORDER BY review_id, episode_id
