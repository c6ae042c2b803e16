-- +goose Up
-- Rate limits shared by every instance on the database (issue 10): one
-- token bucket per limiter and client. The key is a keyed hash of the
-- limiter's name and the client's address (its /64 for IPv6), never the
-- address itself. Rows idle for a day are deleted by the session cleanup.
CREATE TABLE rate_limits (
    key        TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_limits_updated ON rate_limits(updated_at);
