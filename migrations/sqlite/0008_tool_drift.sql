-- Tool drift: what changed in the tools (MCP tools, A2A skills) of a catalog entry between two
-- listings, and when; written by agentlens.health.drift (health probes and discovery sync),
-- at most 100 records per entry (the oldest are pruned). added/removed are JSON arrays of
-- {kind, name, hash}; changed of {kind, name, before, after, fields}; hashes are over the
-- canonical JSON of a tool's description, title and schemas. Times are RFC 3339 text.
CREATE TABLE catalog_tool_drift (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id     TEXT NOT NULL REFERENCES catalog_entries (id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    added        TEXT NOT NULL DEFAULT '[]',
    removed      TEXT NOT NULL DEFAULT '[]',
    changed      TEXT NOT NULL DEFAULT '[]',
    tools_before INTEGER NOT NULL,
    tools_after  INTEGER NOT NULL
);
CREATE INDEX catalog_tool_drift_entry ON catalog_tool_drift (entry_id, id);

-- The tools of the last listing of each entry ({"<kind> <name>": {h: hash, p: {field: hash}}} JSON): the baseline of
-- the next comparison, so one change is recorded once whoever sees it first.
CREATE TABLE catalog_tool_snapshots (
    entry_id TEXT PRIMARY KEY REFERENCES catalog_entries (id) ON DELETE CASCADE,
    tools    TEXT NOT NULL,
    at       TEXT NOT NULL
);
