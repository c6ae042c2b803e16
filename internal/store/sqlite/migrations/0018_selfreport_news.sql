-- +goose Up
-- News for survivors who chose to be told (issue 9, item 4; P5's
-- notification queue): when a hash of a self-report matches a file of a
-- CyberTipline report, a notification is queued for the hotline's
-- coordinators to pass on (by the contact the person gave: e-mail or
-- counsel). The person's case page shows that something happened, never
-- which report.
CREATE TABLE self_report_news (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES self_reports(id),
    kind            TEXT NOT NULL,
    cybertip_report INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    sent_by         TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX self_report_news_once ON self_report_news(report_id, kind, cybertip_report);
CREATE INDEX self_report_news_queue ON self_report_news(sent_at, created_at);
