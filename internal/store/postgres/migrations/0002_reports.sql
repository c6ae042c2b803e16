-- +goose Up
-- Intake: reports, their files, public follow-ups, and number counters.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('report', 0);

CREATE TABLE reports (
    id              BIGINT PRIMARY KEY,
    source          TEXT NOT NULL,
    status          TEXT NOT NULL,
    submitter_id    TEXT NOT NULL DEFAULT '',
    opened_at       TIMESTAMPTZ NOT NULL,
    modified_at     TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ,
    incident_type   TEXT NOT NULL,
    incident_at     TIMESTAMPTZ,
    escalate        BOOLEAN NOT NULL DEFAULT FALSE,
    batched         BOOLEAN NOT NULL DEFAULT FALSE,
    language        TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT,
    followup_secret BYTEA,
    content         TEXT NOT NULL,
    callback        BYTEA
);
CREATE UNIQUE INDEX reports_idempotency ON reports(submitter_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX reports_open_expiry ON reports(status, expires_at);
CREATE INDEX reports_submitter ON reports(submitter_id, opened_at);
CREATE INDEX reports_finished ON reports(finished_at);

CREATE TABLE report_files (
    id             TEXT PRIMARY KEY,
    report_id      BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    acquisition_id TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    filename       TEXT NOT NULL DEFAULT '',
    content_type   TEXT NOT NULL DEFAULT '',
    size           BIGINT NOT NULL,
    md5            BYTEA NOT NULL,
    sha1           BYTEA NOT NULL,
    sha256         BYTEA NOT NULL,
    uploaded_at    TIMESTAMPTZ NOT NULL,
    details        TEXT,
    details_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX report_files_order ON report_files(report_id, seq);
CREATE INDEX report_files_sha256 ON report_files(sha256);
CREATE INDEX report_files_md5 ON report_files(md5);

CREATE TABLE report_followups (
    id        TEXT PRIMARY KEY,
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    at        TIMESTAMPTZ NOT NULL,
    text      TEXT NOT NULL,
    language  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX report_followups_report ON report_followups(report_id, at);

-- +goose Down
DROP TABLE report_followups;
DROP TABLE report_files;
DROP TABLE reports;
DROP TABLE counters;
