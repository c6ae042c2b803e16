-- +goose Up
-- Statistics and transparency (issue 9, program P9): daily rollups that
-- the dashboards, public releases and research exports read instead of
-- scanning the records, the public data releases (drafts and published
-- versions) and researchers' aggregate exports (sealed CSV, expiring).

-- stat_rollups: one count per (day, metric, dimension). A metric is a
-- name such as reports.source; the dimension is the value it is broken
-- down by ('' when none). New programs add metrics, not columns.
CREATE TABLE stat_rollups (
    metric    TEXT NOT NULL,
    day       TEXT NOT NULL,            -- YYYY-MM-DD, UTC
    dimension TEXT NOT NULL DEFAULT '',
    value     BIGINT NOT NULL,
    PRIMARY KEY (metric, day, dimension)
);

-- stat_rollup_state: when each metric was last rebuilt, and how.
CREATE TABLE stat_rollup_state (
    metric     TEXT PRIMARY KEY,
    built_at   TIMESTAMPTZ NOT NULL,
    full_at    TIMESTAMPTZ,
    from_day   TEXT NOT NULL DEFAULT '',
    error      TEXT NOT NULL DEFAULT ''
);

-- stat_releases: public data releases. tables holds the figures as
-- computed from the rollups (JSON, raw counts and which are suppressed);
-- only the suppressed form is ever shown publicly.
CREATE TABLE stat_releases (
    id           TEXT PRIMARY KEY,
    period       TEXT NOT NULL,         -- 2025, 2025-H1, 2025-H2
    period_start TEXT NOT NULL,         -- first day, YYYY-MM-DD
    period_end   TEXT NOT NULL,         -- last day, YYYY-MM-DD
    version      INTEGER NOT NULL DEFAULT 0, -- 0 while a draft
    threshold    INTEGER NOT NULL,
    definitions  TEXT NOT NULL,
    tables       TEXT NOT NULL,
    status       TEXT NOT NULL,         -- draft, published
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMPTZ
);
CREATE INDEX stat_releases_period ON stat_releases(status, period_start);

-- stat_exports: researchers' aggregate exports; body is the CSV sealed
-- with the installation's record key.
CREATE TABLE stat_exports (
    id           TEXT PRIMARY KEY,
    requested_by TEXT NOT NULL,
    table_name   TEXT NOT NULL,
    from_day     TEXT NOT NULL,
    to_day       TEXT NOT NULL,
    threshold    INTEGER NOT NULL,
    status       TEXT NOT NULL,         -- queued, done, failed
    rows_written INTEGER NOT NULL DEFAULT 0,
    body         BYTEA,
    error        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ
);
CREATE INDEX stat_exports_requester ON stat_exports(requested_by, created_at);

-- +goose Down
DROP TABLE stat_exports;
DROP TABLE stat_releases;
DROP TABLE stat_rollup_state;
DROP TABLE stat_rollups;
