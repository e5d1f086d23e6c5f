-- episode_factor_notes: the factors coded on each episode, as one line of text (evidence beside pattern findings).
-- grain: one row per episode with at least one factor coding. key: (review_id, episode_id)
-- parameters: none
-- ordering: review_id, episode_id (codings within an episode by coding_no)
SELECT review_id, episode_id,
       string_agg(code || ' (' || influence || ')' || coalesce(': ' || note, ''), '; ' ORDER BY coding_no) AS episode_factors
FROM factor_codings
GROUP BY review_id, episode_id
ORDER BY review_id, episode_id
