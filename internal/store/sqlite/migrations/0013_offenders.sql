-- +goose Up
-- Sex-offender tracking (issue 7, program P6): registry records whose
-- residences, identifiers, offences and compliance events are dated facts
-- (valid_from / valid_to), so a record is a history and not a snapshot;
-- saved import mappings per source and the imports themselves; incidents
-- (attempted abductions, missing children) and candidate links; locate
-- requests from law enforcement with the analyst's queries and
-- candidates; and the twice-yearly registry surveys behind the public
-- counts.

CREATE TABLE offenders (
    id            TEXT PRIMARY KEY,
    source        TEXT NOT NULL,            -- the registry source (a saved mapping), or 'manual'
    source_key    TEXT NOT NULL,            -- the source's own identifier of the person
    name          TEXT NOT NULL,
    sex           TEXT NOT NULL DEFAULT '',
    height_cm     INTEGER NOT NULL DEFAULT 0,
    weight_kg     INTEGER NOT NULL DEFAULT 0,
    eyes          TEXT NOT NULL DEFAULT '',
    hair          TEXT NOT NULL DEFAULT '',
    marks         TEXT NOT NULL DEFAULT '', -- scars, marks, tattoos
    tier          INTEGER NOT NULL DEFAULT 0, -- 1, 2, 3; 0 unknown
    status        TEXT NOT NULL DEFAULT 'compliant',
    jurisdiction  TEXT NOT NULL,            -- the registering jurisdiction, e.g. US-AA
    registered_on TIMESTAMP,
    last_verified TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX offenders_source_key ON offenders(source, source_key);
CREATE INDEX offenders_jurisdiction ON offenders(jurisdiction, status);
CREATE INDEX offenders_name ON offenders(name);

CREATE TABLE offender_facts (
    id          TEXT PRIMARY KEY,
    offender_id TEXT NOT NULL REFERENCES offenders(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,            -- name, dob, residence, employment, school, vehicle, phone, email, internet, offence, photo, travel, status, verification
    value       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '', -- residence type, offence jurisdiction, alias…
    norm        TEXT NOT NULL DEFAULT '', -- normalised identifier for linkage
    lat         REAL,
    lon         REAL,
    valid_from  TIMESTAMP,
    valid_to    TIMESTAMP,
    source      TEXT NOT NULL DEFAULT '', -- import ID, 'manual' or a locate request
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX offender_facts_offender ON offender_facts(offender_id, kind);
CREATE INDEX offender_facts_norm ON offender_facts(kind, norm);

CREATE TABLE offender_mappings (
    source       TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    format       TEXT NOT NULL,            -- csv or json
    jurisdiction TEXT NOT NULL,
    mapping      TEXT NOT NULL,            -- JSON: field -> column
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE offender_imports (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL REFERENCES offender_mappings(source),
    filename    TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        BLOB NOT NULL,
    preview     TEXT NOT NULL DEFAULT '', -- JSON summary of the changes
    records     INTEGER NOT NULL DEFAULT 0,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    problems    TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    started_at  TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX offender_imports_created ON offender_imports(created_at);

CREATE TABLE offender_incidents (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,            -- attempted_abduction, missing_child
    occurred_at  TIMESTAMP NOT NULL,
    place        TEXT NOT NULL DEFAULT '',
    lat          REAL,
    lon          REAL,
    jurisdiction TEXT NOT NULL DEFAULT '',
    person       TEXT NOT NULL DEFAULT '', -- description of the person
    vehicle      TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '',
    identifiers  TEXT NOT NULL DEFAULT '', -- kind:normalised, one a line
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX offender_incidents_time ON offender_incidents(occurred_at);

CREATE TABLE offender_links (
    id          TEXT PRIMARY KEY,
    offender_id TEXT NOT NULL REFERENCES offenders(id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,            -- incident or report
    target_id   TEXT NOT NULL,
    score       INTEGER NOT NULL,
    reasons     TEXT NOT NULL,            -- one a line
    status      TEXT NOT NULL,            -- candidate, confirmed, dismissed
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMP,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX offender_links_pair ON offender_links(offender_id, target_type, target_id);
CREATE INDEX offender_links_target ON offender_links(target_type, target_id);
CREATE INDEX offender_links_status ON offender_links(status, score);

CREATE TABLE locate_requests (
    id           TEXT PRIMARY KEY,
    agency_id    TEXT NOT NULL REFERENCES agencies(id),
    requested_by TEXT NOT NULL,
    case_number  TEXT NOT NULL,
    subject      TEXT NOT NULL,            -- who the agency is looking for, as it describes them
    details      TEXT NOT NULL DEFAULT '',
    offender_id  TEXT REFERENCES offenders(id),
    status       TEXT NOT NULL,            -- submitted, working, delivered
    outcome      TEXT NOT NULL DEFAULT '', -- located, not_located
    assigned_to  TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX locate_requests_agency ON locate_requests(agency_id, created_at);

CREATE TABLE locate_queries (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES locate_requests(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    queried_on  TIMESTAMP NOT NULL,
    asked       TEXT NOT NULL,
    found       TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX locate_queries_request ON locate_queries(request_id, queried_on);

CREATE TABLE locate_candidates (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES locate_requests(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,            -- address, employer, travel, vehicle
    value       TEXT NOT NULL,
    lat         REAL,
    lon         REAL,
    confidence  TEXT NOT NULL,            -- high, medium, low
    valid_from  TIMESTAMP,
    valid_to    TIMESTAMP,
    note        TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX locate_candidates_request ON locate_candidates(request_id);

CREATE TABLE offender_surveys (
    survey_date  TIMESTAMP NOT NULL,
    jurisdiction TEXT NOT NULL,
    count        INTEGER NOT NULL,
    method       TEXT NOT NULL,            -- entered or computed
    recorded_by  TEXT NOT NULL DEFAULT '',
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (survey_date, jurisdiction)
);

-- +goose Down
DROP TABLE offender_surveys;
DROP TABLE locate_candidates;
DROP TABLE locate_queries;
DROP TABLE locate_requests;
DROP TABLE offender_links;
DROP TABLE offender_incidents;
DROP TABLE offender_imports;
DROP TABLE offender_mappings;
DROP TABLE offender_facts;
DROP TABLE offenders;
