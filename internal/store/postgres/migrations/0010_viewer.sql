-- +goose Up
-- The safe viewer (SECURITY.md 31–33): blurred renditions of report files,
-- short-lived grants to see an original, the exposure intervals that meter
-- each person's revealed-media time, and the legal authorities that open
-- files behind the legal gate.

-- renditions: one per report file. kind is 'image' (a reduced, blurred,
-- greyscale picture), 'video' (a strip of such frames) or 'none' (the file
-- is neither an image nor a video Haven can read: nothing was made, note
-- says why). item_id is the custody item holding the encrypted rendition.
CREATE TABLE renditions (
    file_id      TEXT PRIMARY KEY REFERENCES report_files(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    item_id      TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    frames       INTEGER NOT NULL DEFAULT 0,
    note         TEXT NOT NULL DEFAULT '',
    made_at      TIMESTAMPTZ NOT NULL
);

-- reveal_grants: a person may see one original, in one session, until
-- expires_at.
CREATE TABLE reveal_grants (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    report_id  BIGINT NOT NULL,
    file_id    TEXT NOT NULL REFERENCES report_files(id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reveal_grants_user_file ON reveal_grants(user_id, file_id, expires_at);
CREATE INDEX reveal_grants_granted ON reveal_grants(granted_at);

-- exposure_intervals: time an original was on someone's screen, from the
-- reveal (or a resumed view) to the last heartbeat or an explicit stop.
CREATE TABLE exposure_intervals (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    grant_id     TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ
);
CREATE INDEX exposure_intervals_user ON exposure_intervals(user_id, started_at);
CREATE INDEX exposure_intervals_started ON exposure_intervals(started_at);
CREATE INDEX exposure_intervals_grant ON exposure_intervals(grant_id);

-- legal_authorities: the warrant (or other authority) recorded for a file
-- the ESP did not view, which opens it past the legal gate.
CREATE TABLE legal_authorities (
    id          TEXT PRIMARY KEY,
    report_id   BIGINT NOT NULL,
    file_id     TEXT NOT NULL REFERENCES report_files(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    reference   TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    issued_on   TIMESTAMPTZ NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX legal_authorities_file ON legal_authorities(file_id, recorded_at);
CREATE INDEX legal_authorities_report ON legal_authorities(report_id);

-- +goose Down
DROP TABLE legal_authorities;
DROP TABLE exposure_intervals;
DROP TABLE reveal_grants;
DROP TABLE renditions;
