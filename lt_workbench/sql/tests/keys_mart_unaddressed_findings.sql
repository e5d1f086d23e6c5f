-- keys_mart_unaddressed_findings: the documented key of mart_unaddressed_findings, (review_id, finding_no), is unique and its parts are not NULL.
-- grain: one row per offending key value (expected: none). parameters: none. ordering: the key
SELECT review_id, finding_no, count(*) AS rows_with_key
FROM mart_unaddressed_findings
GROUP BY ALL
HAVING count(*) > 1 OR review_id IS NULL OR finding_no IS NULL
ORDER BY ALL
