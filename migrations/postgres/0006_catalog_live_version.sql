-- A second catalog version for response caches: live_version changes with every write of only
-- the state and health columns of entries (health probes, lifecycle changes), version with
-- every other catalog write. Answers that depend on neither state nor health (the order of a
-- search, a total without a state filter) stay cached through health sweeps.
ALTER TABLE catalog_version ADD COLUMN live_version BIGINT NOT NULL DEFAULT 0;
