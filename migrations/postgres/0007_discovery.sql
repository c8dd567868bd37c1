-- Discovery: the external key of an entry found by a discovery source (Kubernetes
-- "k8s/<namespace>/<name>", static config "config/<name>"), and when the item disappeared from
-- its source (the entry is offline from then on and deleted after discovery.removal_grace).
ALTER TABLE catalog_entries ADD COLUMN discovery_key TEXT;
ALTER TABLE catalog_entries ADD COLUMN discovery_gone_at TIMESTAMPTZ;
CREATE INDEX catalog_entries_discovery_key ON catalog_entries (discovery_key);
CREATE INDEX catalog_entries_discovery_gone_at ON catalog_entries (discovery_gone_at);
