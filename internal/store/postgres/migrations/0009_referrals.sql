-- +goose Up
-- Referral (issue 5): the areas each agency covers, the jurisdiction rules
-- that turn a report's location into suggested agencies, referrals of
-- reports to agencies, and what agencies send back (outcomes, messages).

CREATE TABLE agency_areas (
    agency_id TEXT NOT NULL REFERENCES agencies(id) ON DELETE CASCADE,
    country   TEXT NOT NULL,
    region    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (agency_id, country, region)
);
CREATE INDEX agency_areas_place ON agency_areas(country, region);

CREATE TABLE jurisdiction_rules (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    region      TEXT NOT NULL DEFAULT '',
    agency_kind TEXT NOT NULL DEFAULT '',
    agency_id   TEXT REFERENCES agencies(id) ON DELETE CASCADE,
    fallback    BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX jurisdiction_rules_order ON jurisdiction_rules(position, id);

-- A referral is never overwritten: referring again adds rows, revoking
-- fills the revoked_* columns. At most one live referral per report and
-- agency.
CREATE TABLE referrals (
    id              TEXT PRIMARY KEY,
    report_id       BIGINT NOT NULL REFERENCES reports(id),
    agency_id       TEXT NOT NULL REFERENCES agencies(id),
    referred_by     TEXT NOT NULL DEFAULT '',
    referred_at     TIMESTAMPTZ NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    revoked_at      TIMESTAMPTZ,
    revoked_by      TEXT NOT NULL DEFAULT '',
    revoke_reason   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX referrals_live ON referrals(report_id, agency_id) WHERE revoked_at IS NULL;
CREATE INDEX referrals_report ON referrals(report_id, referred_at);
CREATE INDEX referrals_agency ON referrals(agency_id, referred_at);

CREATE TABLE referral_outcomes (
    id          TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals(id),
    code        TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL DEFAULT '',
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX referral_outcomes_referral ON referral_outcomes(referral_id, recorded_at);

CREATE TABLE referral_messages (
    id          TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals(id),
    sender      TEXT NOT NULL,
    author_id   TEXT NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX referral_messages_referral ON referral_messages(referral_id, at);

-- +goose Down
DROP TABLE referral_messages;
DROP TABLE referral_outcomes;
DROP TABLE referrals;
DROP TABLE jurisdiction_rules;
DROP TABLE agency_areas;
