-- +goose Up
-- Triage: the versioned priority rule table, each report's place in the
-- analysts' queues, notes, status history and incident groups.

CREATE TABLE triage_rule_versions (
    version    INTEGER PRIMARY KEY,
    rules      TEXT NOT NULL,      -- JSON array of rules
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    reason     TEXT NOT NULL
);

CREATE TABLE report_work (
    report_id         BIGINT PRIMARY KEY,
    received_at       TIMESTAMPTZ NOT NULL,
    source            TEXT NOT NULL,
    esp_id            TEXT NOT NULL DEFAULT '',
    program           TEXT NOT NULL DEFAULT 'cybertipline',
    country           TEXT NOT NULL DEFAULT '',
    computed_priority TEXT NOT NULL,
    priority          TEXT NOT NULL,
    priority_rank     INTEGER NOT NULL,
    reasons           TEXT NOT NULL,  -- JSON array of the rules that fired
    rule_version      INTEGER NOT NULL,
    evaluated_at      TIMESTAMPTZ NOT NULL,
    override_priority TEXT NOT NULL DEFAULT '',
    override_reason   TEXT NOT NULL DEFAULT '',
    override_by       TEXT NOT NULL DEFAULT '',
    override_at       TIMESTAMPTZ,
    status            TEXT NOT NULL,
    status_reason     TEXT NOT NULL DEFAULT '',
    open              BOOLEAN NOT NULL,  -- status is new or in_review
    claimed_by        TEXT NOT NULL DEFAULT '',
    claimed_at        TIMESTAMPTZ,
    assigned_by       TEXT NOT NULL DEFAULT '',
    sla_due_at        TIMESTAMPTZ,
    first_reviewed_at TIMESTAMPTZ,
    sla_alerted_at    TIMESTAMPTZ,
    incident_group    TEXT NOT NULL DEFAULT '', -- v-…: viral duplicates; b-…: a batched report
    incidents         INTEGER NOT NULL DEFAULT 1, -- incidents this report counts for (a batched report: its files)
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX report_work_queue ON report_work(open, priority_rank, received_at, report_id);
CREATE INDEX report_work_source ON report_work(open, source, priority_rank, received_at);
CREATE INDEX report_work_esp ON report_work(open, esp_id, priority_rank, received_at);
CREATE INDEX report_work_country ON report_work(open, country, priority_rank, received_at);
CREATE INDEX report_work_claimed ON report_work(claimed_by, open);
CREATE INDEX report_work_sla ON report_work(open, sla_due_at);
CREATE INDEX report_work_group ON report_work(incident_group);

CREATE TABLE report_notes (
    id         TEXT PRIMARY KEY,
    report_id  BIGINT NOT NULL,
    author     TEXT NOT NULL,
    written_at TIMESTAMPTZ NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX report_notes_report ON report_notes(report_id, written_at);

CREATE TABLE report_status_history (
    id         TEXT PRIMARY KEY,
    report_id  BIGINT NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX report_status_history_report ON report_status_history(report_id, changed_at);

CREATE TABLE incident_groups (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,   -- viral: same known material; batched: one batched report
    group_key  TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE incident_groups;
DROP TABLE report_status_history;
DROP TABLE report_notes;
DROP TABLE report_work;
DROP TABLE triage_rule_versions;
