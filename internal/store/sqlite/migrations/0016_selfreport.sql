-- +goose Up
-- Survivors' self-reports by hash (PRODUCT.md P1, P5 and P9): a person
-- hashes pictures of themselves on their own device and sends only the
-- hashes; Haven adds them to the self-reported bank that participating
-- online services poll. A case has a number and a secret (only its
-- SHA-256 is kept); the context and the contact for notifications are
-- sealed with the installation's secret key.

CREATE TABLE self_reports (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    secret_hash     BLOB NOT NULL,
    relation        TEXT NOT NULL,
    context_sealed  BLOB,
    lang            TEXT NOT NULL,
    -- notify: none, email, counsel
    notify          TEXT NOT NULL DEFAULT 'none',
    contact_sealed  BLOB,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    withdrawn_at    TIMESTAMP
);

-- self_report_hashes: the bank entries a case added, so that the person
-- can see and withdraw them.
CREATE TABLE self_report_hashes (
    report_id  TEXT NOT NULL REFERENCES self_reports(id),
    entry_id   INTEGER NOT NULL,
    added_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (report_id, entry_id)
);
