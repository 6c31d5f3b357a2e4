-- The tag index holds tagged runs only. Runs are listed by tag only with at least one tag asked
-- for (`tags @> $1`, never an empty array), so an untagged run can never match, and most runs
-- carry no tags: under the full index every one of them still wrote a GIN entry (the empty-item
-- placeholder), about a tenth of the Postgres CPU a trigger costs (bench/trigger). The listing
-- states `cardinality(tags) > 0` beside its tag filter, which is how the planner picks this index.
--
-- A plain (not concurrent) build: migrations run in a transaction. On a large runs table this
-- holds writes to runs for as long as the build of the tagged runs' entries takes.
drop index runs_tags_idx;
create index runs_tagged_idx on runs using gin (tags) where cardinality(tags) > 0;
