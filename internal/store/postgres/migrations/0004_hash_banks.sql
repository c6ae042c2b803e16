-- +goose Up
-- Hash matching: banks of known hashes, their entries with a change
-- sequence that every server instance follows to keep its in-memory
-- index current, and the matches found on report files.

CREATE TABLE hash_banks (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    source        TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    negative      BOOLEAN NOT NULL DEFAULT FALSE,
    pdq_threshold INTEGER NOT NULL DEFAULT 31,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE hash_entries (
    id             BIGINT PRIMARY KEY,
    bank_id        TEXT NOT NULL REFERENCES hash_banks(id),
    algo           TEXT NOT NULL,
    value          BYTEA NOT NULL,
    class_scheme   TEXT NOT NULL DEFAULT '',
    class_code     TEXT NOT NULL DEFAULT '',
    series_id      TEXT NOT NULL DEFAULT '',
    viral          BOOLEAN NOT NULL DEFAULT FALSE,
    potential_meme BOOLEAN NOT NULL DEFAULT FALSE,
    provenance     TEXT NOT NULL DEFAULT '',
    external_id    TEXT NOT NULL DEFAULT '',
    added_by       TEXT NOT NULL DEFAULT '',
    added_at       TIMESTAMPTZ NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    removed_at     TIMESTAMPTZ,
    change_seq     BIGINT NOT NULL
);
CREATE UNIQUE INDEX hash_entries_unique ON hash_entries(bank_id, algo, value);
CREATE INDEX hash_entries_value ON hash_entries(algo, value);
CREATE INDEX hash_entries_change ON hash_entries(change_seq);
CREATE INDEX hash_entries_external ON hash_entries(bank_id, external_id);
INSERT INTO counters (name, value) VALUES ('hash_entry', 0), ('hash_change', 0);

CREATE TABLE file_matches (
    report_id          BIGINT NOT NULL,
    file_id            TEXT NOT NULL,
    entry_id           BIGINT NOT NULL REFERENCES hash_entries(id),
    algo               TEXT NOT NULL,
    distance           INTEGER NOT NULL,
    matched_at         TIMESTAMPTZ NOT NULL,
    needs_confirmation BOOLEAN NOT NULL,
    confirmed_by       TEXT NOT NULL DEFAULT '',
    confirmed_at       TIMESTAMPTZ,
    PRIMARY KEY (file_id, entry_id)
);
CREATE INDEX file_matches_report ON file_matches(report_id);
CREATE INDEX file_matches_entry ON file_matches(entry_id);

-- +goose Down
DROP TABLE file_matches;
DROP TABLE hash_entries;
DROP TABLE hash_banks;
DELETE FROM counters WHERE name IN ('hash_entry', 'hash_change');
