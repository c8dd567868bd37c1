-- Catalog: entries (one per registered agent or server), their capabilities, categories and
-- raw cards. Deleting an entry deletes everything that belongs to it (ON DELETE CASCADE).
-- endpoint is stored as given; endpoint_norm (lower-case scheme and host, no default port, no
-- trailing slash) carries the uniqueness rule per protocol. search is a weighted tsvector
-- ('simple' configuration) written by the store with the entry; no extension is required.
CREATE TABLE catalog_entries (
    id                          TEXT PRIMARY KEY,
    protocol                    TEXT NOT NULL CHECK (protocol IN ('a2a', 'mcp', 'a2ui')),
    endpoint                    TEXT NOT NULL,
    endpoint_norm               TEXT NOT NULL,
    display_name                TEXT NOT NULL,
    description                 TEXT NOT NULL DEFAULT '',
    version                     TEXT NOT NULL DEFAULT '',
    spec_version                TEXT NOT NULL DEFAULT '',
    provider_organization       TEXT,
    provider_team               TEXT,
    provider_url                TEXT,
    categories                  TEXT NOT NULL DEFAULT '[]',
    metadata                    TEXT NOT NULL DEFAULT '{}',
    source                      TEXT NOT NULL CHECK (source IN ('k8s', 'config', 'push', 'upstream')),
    state                       TEXT NOT NULL DEFAULT 'registered'
                                CHECK (state IN ('registered', 'active', 'degraded', 'offline', 'deprecated')),
    health_last_probed_at       TIMESTAMPTZ,
    health_last_success_at      TIMESTAMPTZ,
    health_latency_ms           BIGINT,
    health_consecutive_failures INTEGER NOT NULL DEFAULT 0,
    health_last_error           TEXT NOT NULL DEFAULT '',
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL,
    search                      TSVECTOR NOT NULL DEFAULT ''::tsvector,
    UNIQUE (protocol, endpoint_norm)
);
CREATE INDEX catalog_entries_state ON catalog_entries (state);
CREATE INDEX catalog_entries_source ON catalog_entries (source);
CREATE INDEX catalog_entries_last_success ON catalog_entries (health_last_success_at);
CREATE INDEX catalog_entries_created_at ON catalog_entries (created_at);
CREATE INDEX catalog_entries_search ON catalog_entries USING GIN (search);

-- Capabilities: name and description lifted out, the rest of the capability JSON in properties.
CREATE TABLE catalog_capabilities (
    entry_id    TEXT NOT NULL REFERENCES catalog_entries (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('a2a.skill', 'a2a.interface', 'a2a.security_scheme',
                    'a2a.security_requirement', 'a2a.extension', 'a2a.signature', 'mcp.tool',
                    'mcp.resource', 'mcp.prompt')),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    properties  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (entry_id, kind, name)
);
CREATE INDEX catalog_capabilities_kind_name ON catalog_capabilities (kind, name);

-- One row per (entry, category) for the AND filter; catalog_entries.categories keeps the order.
CREATE TABLE catalog_categories (
    entry_id TEXT NOT NULL REFERENCES catalog_entries (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    PRIMARY KEY (entry_id, category)
);
CREATE INDEX catalog_categories_category ON catalog_categories (category, entry_id);

-- The card as fetched or pushed, at most 256 KiB (the store refuses larger ones). etag is
-- random hex written with the card.
CREATE TABLE catalog_raw_cards (
    entry_id     TEXT PRIMARY KEY REFERENCES catalog_entries (id) ON DELETE CASCADE,
    data         BYTEA NOT NULL,
    content_type TEXT NOT NULL DEFAULT 'application/json',
    fetched_at   TIMESTAMPTZ NOT NULL,
    etag         TEXT NOT NULL
);
