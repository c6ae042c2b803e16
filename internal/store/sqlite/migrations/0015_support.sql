-- +goose Up
-- Family support and the provider network (issue 8, PRODUCT.md P8):
-- peer-support volunteers (not users: coordinators act for them) and
-- their wellbeing pauses, family support requests, approved matches with
-- their introductions and follow-ups, and the provider network
-- (organisations, providers, locations) with closed-loop referrals.
-- Lists (languages, experiences, specialities…) are stored one item a
-- line.

CREATE TABLE support_volunteers (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    relation         TEXT NOT NULL,
    experiences      TEXT NOT NULL DEFAULT '',
    experience_since TIMESTAMP,
    languages        TEXT NOT NULL DEFAULT '',
    region           TEXT NOT NULL DEFAULT '',
    time_zone        TEXT NOT NULL DEFAULT '',
    availability     TEXT NOT NULL DEFAULT '',
    trained_on       TIMESTAMP,
    capacity         INTEGER NOT NULL DEFAULT 0,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    notes            TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE support_volunteer_pauses (
    id           TEXT PRIMARY KEY,
    volunteer_id TEXT NOT NULL REFERENCES support_volunteers(id) ON DELETE CASCADE,
    from_at      TIMESTAMP NOT NULL,
    to_at        TIMESTAMP,
    reason       TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX support_volunteer_pauses_volunteer ON support_volunteer_pauses(volunteer_id, from_at);

CREATE TABLE support_requests (
    id                  TEXT PRIMARY KEY,
    family              TEXT NOT NULL,
    case_type           TEXT NOT NULL,
    needs               TEXT NOT NULL DEFAULT '',
    language            TEXT NOT NULL,
    region              TEXT NOT NULL DEFAULT '',
    time_zone           TEXT NOT NULL DEFAULT '',
    prefer_relation     TEXT NOT NULL DEFAULT '',
    prefer_availability TEXT NOT NULL DEFAULT '',
    notes               TEXT NOT NULL DEFAULT '',
    case_ref            TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX support_requests_status ON support_requests(status, created_at);

CREATE TABLE support_matches (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES support_requests(id) ON DELETE CASCADE,
    volunteer_id TEXT NOT NULL REFERENCES support_volunteers(id),
    score        INTEGER NOT NULL,
    reasons      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_at  TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP,
    end_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX support_matches_request ON support_matches(request_id, approved_at);
CREATE INDEX support_matches_volunteer ON support_matches(volunteer_id, status);

CREATE TABLE support_contacts (
    id         TEXT PRIMARY KEY,
    match_id   TEXT NOT NULL REFERENCES support_matches(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    due_at     TIMESTAMP NOT NULL,
    done_at    TIMESTAMP,
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    done_by    TEXT NOT NULL DEFAULT '',
    -- cancelled_at: set when the match ended before the contact was held.
    cancelled_at TIMESTAMP
);
CREATE INDEX support_contacts_match ON support_contacts(match_id, due_at);

CREATE TABLE provider_orgs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    website     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX provider_orgs_name ON provider_orgs(name);

CREATE TABLE providers (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES provider_orgs(id),
    name                TEXT NOT NULL,
    clinician           TEXT NOT NULL DEFAULT '',
    description         TEXT NOT NULL DEFAULT '',
    licence_type        TEXT NOT NULL DEFAULT '',
    licence_number      TEXT NOT NULL DEFAULT '',
    licence_state       TEXT NOT NULL DEFAULT '',
    licence_verified_on TIMESTAMP,
    specialities        TEXT NOT NULL DEFAULT '',
    languages           TEXT NOT NULL DEFAULT '',
    modes               TEXT NOT NULL DEFAULT '',
    fee_terms           TEXT NOT NULL DEFAULT '',
    areas               TEXT NOT NULL DEFAULT '',
    capacity            INTEGER NOT NULL DEFAULT 0,
    email               TEXT NOT NULL DEFAULT '',
    phone               TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX providers_org ON providers(organization_id);

CREATE TABLE provider_locations (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    address_1   TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX provider_locations_provider ON provider_locations(provider_id, seq);

CREATE TABLE provider_referrals (
    id           TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES providers(id),
    request_id   TEXT NOT NULL DEFAULT '',
    case_ref     TEXT NOT NULL DEFAULT '',
    consent_by   TEXT NOT NULL,
    consent_at   TIMESTAMP NOT NULL,
    consent_note TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX provider_referrals_provider ON provider_referrals(provider_id, created_at);
CREATE INDEX provider_referrals_request ON provider_referrals(request_id);

CREATE TABLE provider_referral_events (
    seq         INTEGER PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES provider_referrals(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    by_user     TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX provider_referral_events_referral ON provider_referral_events(referral_id, seq);

-- +goose Down
DROP TABLE provider_referral_events;
DROP TABLE provider_referrals;
DROP TABLE provider_locations;
DROP TABLE providers;
DROP TABLE provider_orgs;
DROP TABLE support_contacts;
DROP TABLE support_matches;
DROP TABLE support_requests;
DROP TABLE support_volunteer_pauses;
DROP TABLE support_volunteers;
