-- Listing the catalog: indexes that serve the default and name sorts without sorting every
-- entry, and a version row that every catalog write bumps (response caches across replicas).
CREATE INDEX catalog_entries_sort_last_success
    ON catalog_entries (health_last_success_at DESC, lower(display_name), id); -- DESC puts NULLs last in SQLite
CREATE INDEX catalog_entries_sort_name ON catalog_entries (lower(display_name), display_name, id);
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
