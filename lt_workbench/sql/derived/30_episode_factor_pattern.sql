-- episode_factor_pattern: which contributory factors sit behind which patterns, pre-joined within episodes.
-- grain: one row per episode x factor code (rolled up) x factor influence x pattern code (rolled up) x direction.
-- key: (review_id, episode_id, factor_code, influence, pattern_code, direction)
-- Materialised at load time because factor x pattern within episodes is the costly co-occurrence
-- (a self-join of episode_codes); tabulations then only filter and group.
CREATE OR REPLACE TABLE episode_factor_pattern AS
SELECT
    f.review_id,
    f.episode_id,
    f.code      AS factor_code,
    f.depth     AS factor_depth,
    f.root      AS factor_root,
    f.qualifier AS influence,
    p.code      AS pattern_code,
    p.depth     AS pattern_depth,
    p.qualifier AS direction
FROM episode_codes AS f
JOIN episode_codes AS p
  ON p.review_id = f.review_id AND p.episode_id = f.episode_id
WHERE f.frame = 'factors' AND p.frame = 'patterns';
