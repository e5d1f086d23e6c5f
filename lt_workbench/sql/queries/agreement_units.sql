-- agreement_units: the coding units of every double-coded review, on which two coders' codes are compared.
-- grain: one row per (review, second coder) x unit. key: (review_id, coder, episode_id).
-- params: 1 unit ('review': one row per pair, episode_id NULL; 'episode': every episode id either
-- coder marked in the review, since episodes are numbered E1, E2, ... in source order by each coder).
WITH pairs AS (
    SELECT s.review_id, s.coder
    FROM second_codings AS s
    JOIN reviews AS r ON r.review_id = s.review_id
),
episode_units AS (
    SELECT p.review_id, p.coder, e.episode_id
    FROM pairs AS p JOIN episodes AS e ON e.review_id = p.review_id
    UNION
    SELECT p.review_id, p.coder, e.episode_id
    FROM pairs AS p JOIN second_coding_episodes AS e ON e.review_id = p.review_id AND e.coder = p.coder
)
SELECT review_id, coder, NULL::VARCHAR AS episode_id FROM pairs WHERE ?::VARCHAR = 'review'
UNION ALL
SELECT review_id, coder, episode_id FROM episode_units WHERE ?::VARCHAR = 'episode'
ORDER BY review_id, coder, episode_id;
