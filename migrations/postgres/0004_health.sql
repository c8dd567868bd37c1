-- Health probes: one row per probe of a catalog entry, at most 100 per entry (the store prunes
-- the oldest after each insert). Deleting an entry deletes its probes.
CREATE TABLE catalog_probes (
    id         BIGSERIAL PRIMARY KEY,
    entry_id   TEXT NOT NULL REFERENCES catalog_entries (id) ON DELETE CASCADE,
    at         TIMESTAMPTZ NOT NULL,
    ok         BOOLEAN NOT NULL,
    reason     TEXT,
    latency_ms INTEGER,
    status     INTEGER
);
CREATE INDEX catalog_probes_entry_at ON catalog_probes (entry_id, at);
