-- +goose Up
-- Casework (issue 8, program P7): missing-child and child sex trafficking
-- cases with the child's pseudonymous record, the people, agencies,
-- CyberTipline reports and offender references linked to them, status
-- history, tasks, notes, risk indicators and photos (evidence items held
-- by custody); versioned recovery plans; the Hope Bag inventory and its
-- movements; assistance requests.

CREATE TABLE cases (
    id                TEXT PRIMARY KEY,
    case_type         TEXT NOT NULL,
    status            TEXT NOT NULL,
    title             TEXT NOT NULL,
    child_pseudonym   TEXT NOT NULL,
    child_age         INTEGER NOT NULL DEFAULT -1, -- -1 = unknown
    child_description TEXT NOT NULL DEFAULT '',
    opened_by         TEXT NOT NULL,
    opened_at         TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX cases_updated ON cases(updated_at);

CREATE TABLE case_status_history (
    id        TEXT PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    status    TEXT NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_status_history_case ON case_status_history(case_id, at);

CREATE TABLE case_people (
    id        TEXT PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    contact   TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_people_case ON case_people(case_id);

CREATE TABLE case_agencies (
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    agency_id TEXT NOT NULL REFERENCES agencies(id),
    role      TEXT NOT NULL DEFAULT '',
    shared    BOOLEAN NOT NULL DEFAULT FALSE, -- its LE users may read the case
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, agency_id)
);
CREATE INDEX case_agencies_agency ON case_agencies(agency_id, shared);

CREATE TABLE case_reports (
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    report_id BIGINT NOT NULL REFERENCES reports(id),
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, report_id)
);
CREATE INDEX case_reports_report ON case_reports(report_id);

CREATE TABLE case_offenders (
    case_id     TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    offender_id TEXT NOT NULL, -- a reference to the offender records (issue 7)
    note        TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, offender_id)
);

CREATE TABLE case_tasks (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    owner      TEXT NOT NULL,
    due_on     TIMESTAMPTZ,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    done_by    TEXT NOT NULL DEFAULT '',
    done_at    TIMESTAMPTZ
);
CREATE INDEX case_tasks_case ON case_tasks(case_id);

CREATE TABLE case_notes (
    id        TEXT PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    body      TEXT NOT NULL,
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id, at);

CREATE TABLE case_indicators (
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    code      TEXT NOT NULL, -- from the indicator list of internal/casework
    note      TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, code)
);

CREATE TABLE case_photos (
    id             TEXT PRIMARY KEY,
    case_id        TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    item_id        TEXT NOT NULL REFERENCES evidence_items(id),
    acquisition_id TEXT NOT NULL,
    caption        TEXT NOT NULL DEFAULT '',
    content_type   TEXT NOT NULL DEFAULT '',
    actor_id       TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_photos_case ON case_photos(case_id);

CREATE TABLE recovery_plan_versions (
    case_id   TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    body      TEXT NOT NULL, -- the plan as JSON (internal/casework.Plan)
    comment   TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, version)
);

CREATE TABLE hopebag_items (
    id            TEXT PRIMARY KEY,
    size          TEXT NOT NULL,
    variant       TEXT NOT NULL,
    stock_point   TEXT NOT NULL,
    quantity      INTEGER NOT NULL DEFAULT 0,
    low_threshold INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX hopebag_items_key ON hopebag_items(size, variant, stock_point);

CREATE TABLE hopebag_movements (
    id        TEXT PRIMARY KEY,
    item_id   TEXT NOT NULL REFERENCES hopebag_items(id),
    kind      TEXT NOT NULL, -- restock, distribution
    quantity  INTEGER NOT NULL,
    case_id   TEXT REFERENCES cases(id),
    agency_id TEXT REFERENCES agencies(id),
    recipient TEXT NOT NULL DEFAULT '', -- who received the bags; never the child
    on_date   TIMESTAMPTZ NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    actor_id  TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX hopebag_movements_item ON hopebag_movements(item_id, at);
CREATE INDEX hopebag_movements_case ON hopebag_movements(case_id);

CREATE TABLE assistance_requests (
    id                TEXT PRIMARY KEY,
    source            TEXT NOT NULL, -- civil_attorney, child_welfare, law_enforcement
    agency_id         TEXT REFERENCES agencies(id),
    requester_name    TEXT NOT NULL,
    requester_org     TEXT NOT NULL DEFAULT '',
    requester_contact TEXT NOT NULL DEFAULT '',
    their_reference   TEXT NOT NULL DEFAULT '',
    case_id           TEXT REFERENCES cases(id),
    question          TEXT NOT NULL,
    priority          TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    assigned_to       TEXT NOT NULL DEFAULT '',
    analysis          TEXT NOT NULL DEFAULT '',
    delivered_by      TEXT NOT NULL DEFAULT '',
    delivered_at      TIMESTAMPTZ,
    outcome           TEXT NOT NULL DEFAULT '',
    closed_at         TIMESTAMPTZ,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX assistance_requests_agency ON assistance_requests(agency_id, created_at);
CREATE INDEX assistance_requests_status ON assistance_requests(status, created_at);

-- +goose Down
DROP TABLE assistance_requests;
DROP TABLE hopebag_movements;
DROP TABLE hopebag_items;
DROP TABLE recovery_plan_versions;
DROP TABLE case_photos;
DROP TABLE case_indicators;
DROP TABLE case_notes;
DROP TABLE case_tasks;
DROP TABLE case_offenders;
DROP TABLE case_reports;
DROP TABLE case_agencies;
DROP TABLE case_people;
DROP TABLE case_status_history;
DROP TABLE cases;
