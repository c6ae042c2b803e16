package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TakeRateToken takes one token from the token bucket named key, which
// holds at most burst tokens and gains one every every; the bucket is
// shared by every instance on the database. It reports whether a token
// was there and, when not, how long until the next one.
func (tx *Tx) TakeRateToken(ctx context.Context, key string, now time.Time, every time.Duration, burst int) (bool, time.Duration, error) {
	full := float64(burst)
	tokens, at := full, now
	err := tx.queryRow(ctx, `SELECT tokens, updated_at FROM rate_limits WHERE key = $1`+tx.d.ForUpdate(), key).Scan(&tokens, utcTime{&at})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("read rate limit: %w", err)
	}
	if now.After(at) {
		tokens += float64(now.Sub(at)) / float64(every)
	}
	tokens = min(tokens, full)
	ok, wait := tokens >= 1, time.Duration(0)
	if ok {
		tokens--
	} else {
		wait = time.Duration((1 - tokens) * float64(every))
	}
	_, err = tx.exec(ctx, `INSERT INTO rate_limits (key, tokens, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`, key, tokens, ts(now))
	if err != nil {
		return false, 0, fmt.Errorf("write rate limit: %w", err)
	}
	return ok, wait, nil
}

// DeleteIdleRateLimits deletes the buckets not used since before: a
// bucket left alone that long is full again, the same as none.
func (tx *Tx) DeleteIdleRateLimits(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM rate_limits WHERE updated_at < $1`, ts(before))
	if err != nil {
		return 0, fmt.Errorf("delete idle rate limits: %w", err)
	}
	return res.RowsAffected()
}
