-- scope_areas: every area that has a review, with its name, region and nation, for place choices.
-- grain: one row per area_code. params: none. Ordered by area name, then code (deterministic).
SELECT area_code, any_value(area_name) AS area_name, any_value(region) AS region, any_value(nation) AS nation
FROM stg_reviews
GROUP BY area_code
ORDER BY area_name, area_code
