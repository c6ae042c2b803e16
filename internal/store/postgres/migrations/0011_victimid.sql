-- +goose Up
-- Victim identification (issue 6, program P5): series of known imagery,
-- victims (pseudonymous IDs only) and the series they appear in,
-- identification requests from law enforcement with their result summary
-- (never the submitted hashes' files), and notifications through counsel.

CREATE TABLE victim_series (
    code       TEXT PRIMARY KEY, -- the SeriesID that hash entries carry
    name       TEXT NOT NULL,    -- pseudonymous
    status     TEXT NOT NULL DEFAULT '', -- '' = derived from its victims
    notes      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE victims (
    id                 TEXT PRIMARY KEY, -- pseudonymous victim ID
    identified         BOOLEAN NOT NULL DEFAULT FALSE,
    agency_id          TEXT REFERENCES agencies(id),
    officer_name       TEXT NOT NULL DEFAULT '',
    officer_email      TEXT NOT NULL DEFAULT '',
    officer_phone      TEXT NOT NULL DEFAULT '',
    identified_on      TIMESTAMPTZ,
    approx_age         INTEGER NOT NULL DEFAULT 0,
    notify_choice      TEXT NOT NULL DEFAULT 'do_not_notify',
    counsel_name       TEXT NOT NULL DEFAULT '',
    counsel_contact    TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE victim_series_links (
    victim_id   TEXT NOT NULL REFERENCES victims(id) ON DELETE CASCADE,
    series_code TEXT NOT NULL REFERENCES victim_series(code) ON DELETE CASCADE,
    PRIMARY KEY (victim_id, series_code)
);
CREATE INDEX victim_series_links_series ON victim_series_links(series_code);
CREATE INDEX hash_entries_series ON hash_entries(series_id);

CREATE TABLE id_requests (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies(id),
    requested_by TEXT NOT NULL,
    case_number  TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    status       TEXT NOT NULL,
    submitted    INTEGER NOT NULL DEFAULT 0,
    processed    INTEGER NOT NULL DEFAULT 0,
    matched      INTEGER NOT NULL DEFAULT 0,
    result       TEXT NOT NULL DEFAULT '', -- JSON summary of the result
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX id_requests_agency ON id_requests(agency_id, created_at);
CREATE INDEX id_requests_created ON id_requests(created_at);

CREATE TABLE victim_notifications (
    id          TEXT PRIMARY KEY,
    victim_id   TEXT NOT NULL REFERENCES victims(id),
    request_id  TEXT NOT NULL REFERENCES id_requests(id),
    case_number TEXT NOT NULL,
    agency_id   TEXT NOT NULL REFERENCES agencies(id),
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    sent_by     TEXT NOT NULL DEFAULT '',
    sent_note   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX victim_notifications_once ON victim_notifications(victim_id, request_id);
CREATE INDEX victim_notifications_open ON victim_notifications(sent_at, created_at);

-- +goose Down
DROP TABLE victim_notifications;
DROP TABLE id_requests;
DROP INDEX hash_entries_series;
DROP TABLE victim_series_links;
DROP TABLE victims;
DROP TABLE victim_series;
