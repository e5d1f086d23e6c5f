-- child_codes: the child-level vocabularies, for counting children (or reviews through their children).
-- grain: one row per child x frame x code. key: (review_id, child_no, frame, code)
-- age_band, sex and outcome are single-valued per child; harm_type may hold several codes per child.
CREATE OR REPLACE TABLE child_codes AS
SELECT review_id, child_no, 'age_band' AS frame, age_band AS code, 1 AS depth, age_band AS root FROM children
UNION ALL SELECT review_id, child_no, 'sex', sex, 1, sex FROM children
UNION ALL SELECT review_id, child_no, 'outcome', outcome, 1, outcome FROM children
UNION ALL SELECT DISTINCT review_id, child_no, 'harm_type', code, 1, code FROM child_harm_types;
