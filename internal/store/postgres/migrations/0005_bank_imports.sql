-- +goose Up
-- Imports of hash lists into banks: each is a job whose progress and
-- rejected rows are kept here.

CREATE TABLE bank_imports (
    id           TEXT PRIMARY KEY,
    bank_id      TEXT NOT NULL REFERENCES hash_banks(id),
    format       TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    records      BIGINT NOT NULL DEFAULT 0,
    added        BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    removed      BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    problems     TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX bank_imports_bank ON bank_imports(bank_id, created_at);

-- +goose Down
DROP TABLE bank_imports;
