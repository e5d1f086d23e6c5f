-- Views that no longer exist: dropped when a writer brings an older database up to date.
-- mart_pattern_reach and mart_recommendations were never read (recurrence and recommendations count within the
-- filters' scope, which a view over every review cannot); mart_proposed_patterns became
-- sql/queries/scoped_proposed_patterns.sql for the same reason.
DROP VIEW IF EXISTS mart_pattern_reach;
DROP VIEW IF EXISTS mart_proposed_patterns;
DROP VIEW IF EXISTS mart_recommendations;
