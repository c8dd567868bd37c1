-- Accounts: roles (permission sets), users, and server-side sessions (revocable logins).
-- permissions is a JSON array of "resource:action" strings, kept as TEXT like on SQLite.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    is_system   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

INSERT INTO roles (id, name, description, permissions, is_system, created_at, updated_at) VALUES
    ('role-admin', 'admin', 'Full access to every resource',
     '["catalog:read","catalog:write","catalog:delete","users:read","users:write","users:delete","roles:read","roles:write","settings:read","settings:write","service_accounts:read","service_accounts:write","service_accounts:revoke"]',
     TRUE, date_trunc('milliseconds', now()), date_trunc('milliseconds', now())),
    ('role-editor', 'editor', 'Read and change the catalog; read users, roles and settings',
     '["catalog:read","catalog:write","users:read","roles:read","settings:read"]',
     TRUE, date_trunc('milliseconds', now()), date_trunc('milliseconds', now())),
    ('role-viewer', 'viewer', 'Read-only access to the catalog, users, roles and settings',
     '["catalog:read","users:read","roles:read","settings:read"]',
     TRUE, date_trunc('milliseconds', now()), date_trunc('milliseconds', now()));

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL DEFAULT '',
    display_name    TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,
    role_id         TEXT NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    last_login      TIMESTAMPTZ,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_role_id ON users (role_id);

-- One row per login; a token names its session (claim "sid"), which must be neither revoked
-- nor past expires_at (login + auth.session_max_lifetime) for the token to be accepted.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
