-- +goose Up
-- The unidentified-series workboard and the redacted lab (PRODUCT.md P5):
-- analysts' findings and leads on a series, and sanitised renditions of
-- series files (reduced, with the child masked) that authorised partners
-- may browse once published. Everything is keyed by the series code (the
-- series_id of hash entries), so it works with or without series records.

-- lab_findings: what an analyst learnt about a series, in their words.
CREATE TABLE lab_findings (
    id          TEXT PRIMARY KEY,
    series_code TEXT NOT NULL,
    body        TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX lab_findings_series ON lab_findings(series_code, created_at);

-- lab_leads: a sighting (a report file) or one of its clues marked as a
-- lead. clue is '' for a whole sighting, else the clue's key
-- ("location", "esp", "language", "incident", "identifier:<kind>"…).
CREATE TABLE lab_leads (
    id          TEXT PRIMARY KEY,
    series_code TEXT NOT NULL,
    report_id   BIGINT NOT NULL,
    file_id     TEXT NOT NULL,
    clue        TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL,
    marked_by   TEXT NOT NULL,
    marked_at   TIMESTAMP NOT NULL
);
CREATE INDEX lab_leads_series ON lab_leads(series_code, marked_at);

-- lab_renditions: a sanitised rendition of a series file: the reduced
-- picture with masks applied, held encrypted as a custody item. It is
-- shown to partners only once published.
CREATE TABLE lab_renditions (
    id           TEXT PRIMARY KEY,
    series_code  TEXT NOT NULL,
    report_id    BIGINT NOT NULL,
    file_id      TEXT NOT NULL REFERENCES report_files(id) ON DELETE CASCADE,
    item_id      TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    made_by      TEXT NOT NULL,
    made_at      TIMESTAMP NOT NULL,
    published_by TEXT NOT NULL DEFAULT '',
    published_at TIMESTAMP
);
CREATE INDEX lab_renditions_series ON lab_renditions(series_code, made_at);
CREATE INDEX lab_renditions_published ON lab_renditions(published_at);

-- lab_masks: the rectangles filled on a sanitised rendition, in its
-- pixels.
CREATE TABLE lab_masks (
    rendition_id TEXT NOT NULL REFERENCES lab_renditions(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    x            INTEGER NOT NULL,
    y            INTEGER NOT NULL,
    w            INTEGER NOT NULL,
    h            INTEGER NOT NULL,
    PRIMARY KEY (rendition_id, seq)
);

-- +goose Down
DROP TABLE lab_masks;
DROP TABLE lab_renditions;
DROP TABLE lab_leads;
DROP TABLE lab_findings;
