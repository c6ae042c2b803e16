-- +goose Up
-- Foundation: agencies, accounts, sessions, tokens, wrapped secrets,
-- the audit chain and the evidence catalogue.

CREATE TABLE agencies (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    jurisdiction TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    login          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL,
    agency_id      TEXT REFERENCES agencies(id),
    password_hash  TEXT NOT NULL DEFAULT '',
    totp_secret    BLOB,
    totp_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    locked_at      TIMESTAMP,
    notice_ack_at  TIMESTAMP,
    last_login_at  TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX users_agency ON users(agency_id);

CREATE TABLE login_failures (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at      TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_user_at ON login_failures(user_id, at);

CREATE TABLE enrolments (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX enrolments_user ON enrolments(user_id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mfa_at       TIMESTAMP,
    auth_at      TIMESTAMP,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    remote_addr  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Secrets of the application (audit chain key, pseudonym key, TOTP key),
-- each wrapped by the master key with its name as associated data.
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    wrapped    BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    at          TIMESTAMP NOT NULL,
    type        TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_role  TEXT NOT NULL DEFAULT '',
    agency_id   TEXT NOT NULL DEFAULT '',
    source_addr TEXT NOT NULL DEFAULT '',
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    purpose     TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_object ON audit_events(object_type, object_id);
CREATE INDEX audit_events_actor ON audit_events(actor_id, at);
CREATE INDEX audit_events_type ON audit_events(type, at);

-- The head of the chain: appending locks this row, so events are chained
-- one at a time, and verification detects a truncated tail.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE evidence_items (
    id                  TEXT PRIMARY KEY,
    sha256              BLOB NOT NULL,
    sha1                BLOB NOT NULL,
    md5                 BLOB NOT NULL,
    size                BIGINT NOT NULL,
    wrapped_key         BLOB,
    created_at          TIMESTAMP NOT NULL,
    verified_at         TIMESTAMP,
    shredded_at         TIMESTAMP,
    shred_reason        TEXT NOT NULL DEFAULT '',
    integrity_failed_at TIMESTAMP
);
-- Identical bytes are stored once, unless the earlier copy was destroyed.
CREATE UNIQUE INDEX evidence_items_sha256_live ON evidence_items(sha256) WHERE shredded_at IS NULL;
CREATE INDEX evidence_items_verified ON evidence_items(verified_at);

CREATE TABLE evidence_acquisitions (
    id           TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL REFERENCES evidence_items(id),
    acquired_at  TIMESTAMP NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size         BIGINT NOT NULL,
    md5          BLOB NOT NULL,
    sha1         BLOB NOT NULL,
    sha256       BLOB NOT NULL,
    context_type TEXT NOT NULL DEFAULT '',
    context_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evidence_acquisitions_item ON evidence_acquisitions(item_id);
CREATE INDEX evidence_acquisitions_context ON evidence_acquisitions(context_type, context_id);

-- +goose Down
DROP TABLE evidence_acquisitions;
DROP TABLE evidence_items;
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP TABLE app_secrets;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE enrolments;
DROP TABLE login_failures;
DROP TABLE users;
DROP TABLE agencies;
