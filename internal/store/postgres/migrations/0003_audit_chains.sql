-- +goose Up
-- The audit log becomes several independent hash chains, so that
-- concurrent transactions do not all wait for one head row; and report
-- numbers come from a sequence where the engine has one.

CREATE TABLE audit_events_v2 (
    chain       INTEGER NOT NULL,
    seq         BIGINT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    at          TIMESTAMPTZ NOT NULL,
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
    hash        TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
INSERT INTO audit_events_v2 (chain, seq, id, at, type, actor_id, actor_role, agency_id, source_addr, object_type,
    object_id, outcome, purpose, request_id, details, prev_hash, hash)
    SELECT 1, seq, id, at, type, actor_id, actor_role, agency_id, source_addr, object_type,
    object_id, outcome, purpose, request_id, details, prev_hash, hash FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_v2 RENAME TO audit_events;
CREATE INDEX audit_events_object ON audit_events(object_type, object_id);
CREATE INDEX audit_events_actor ON audit_events(actor_id, at);
CREATE INDEX audit_events_type ON audit_events(type, at);

CREATE TABLE audit_head_v2 (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head_v2 (id, seq, hash) SELECT id, seq, hash FROM audit_head;
DROP TABLE audit_head;
ALTER TABLE audit_head_v2 RENAME TO audit_head;
INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, ''), (3, 0, ''), (4, 0, ''), (5, 0, ''), (6, 0, ''), (7, 0, ''), (8, 0, '');
CREATE SEQUENCE report_number;
SELECT setval('report_number', (SELECT value FROM counters WHERE name = 'report') + 1, false);

-- +goose Down
SELECT 1;
