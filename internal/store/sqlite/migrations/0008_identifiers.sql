-- +goose Up
-- Identifiers and geolocation (issue 5): each identifier found in reports
-- is one entity (kind and canonical value), linked to every report that
-- mentions it; each report has a computed location that an analyst may
-- correct.

CREATE TABLE entities (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    -- ip is the 16-byte form of an IP address (IPv4 mapped), so that a
    -- network is a contiguous range of the index below.
    ip           BLOB,
    first_seen   TIMESTAMP NOT NULL,
    last_seen    TIMESTAMP NOT NULL,
    report_count BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX entities_key ON entities(kind, value);
CREATE INDEX entities_ip ON entities(ip) WHERE ip IS NOT NULL;

-- One row per report, entity and role. report_at (when the report was
-- received) is copied here so that an entity's reports, newest first, are
-- one range of report_entities_entity without touching reports.
CREATE TABLE report_entities (
    report_id  BIGINT NOT NULL,
    entity_id  BIGINT NOT NULL REFERENCES entities(id),
    role       TEXT NOT NULL,
    report_at  TIMESTAMP NOT NULL,
    seen_first TIMESTAMP,
    seen_last  TIMESTAMP,
    sightings  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (report_id, entity_id, role)
) WITHOUT ROWID;
CREATE INDEX report_entities_entity ON report_entities(entity_id, report_at, report_id);

CREATE TABLE report_locations (
    report_id         BIGINT PRIMARY KEY REFERENCES reports(id) ON DELETE CASCADE,
    country           TEXT NOT NULL DEFAULT '',
    region            TEXT NOT NULL DEFAULT '',
    confidence        TEXT NOT NULL DEFAULT '',
    evidence          TEXT NOT NULL DEFAULT '[]',
    computed_at       TIMESTAMP,
    corrected_country TEXT NOT NULL DEFAULT '',
    corrected_region  TEXT NOT NULL DEFAULT '',
    corrected_by      TEXT NOT NULL DEFAULT '',
    corrected_at      TIMESTAMP,
    correction_reason TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE report_locations;
DROP TABLE report_entities;
DROP TABLE entities;
