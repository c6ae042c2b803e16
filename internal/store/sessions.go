package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

const sessionColumns = `id, token_hash, user_id, mfa_at, auth_at, csrf_token, created_at, last_seen_at, expires_at, remote_addr`

func scanSession(row interface{ Scan(...any) error }) (*haven.Session, error) {
	var s haven.Session
	err := row.Scan(&s.ID, &s.TokenHash, &s.UserID, nullTime{&s.MFAAt}, nullTime{&s.AuthAt}, &s.CSRFToken,
		utcTime{&s.CreatedAt}, utcTime{&s.LastSeenAt}, utcTime{&s.ExpiresAt}, &s.RemoteAddr)
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// CreateSession inserts a session.
func (tx *Tx) CreateSession(ctx context.Context, s *haven.Session) error {
	_, err := tx.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.TokenHash, s.UserID, ts(s.MFAAt), ts(s.AuthAt), s.CSRFToken, ts(s.CreatedAt),
		ts(s.LastSeenAt), ts(s.ExpiresAt), s.RemoteAddr)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByToken returns a session by the hash of its token.
func (tx *Tx) SessionByToken(ctx context.Context, tokenHash []byte) (*haven.Session, error) {
	s, err := scanSession(tx.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return s, nil
}

// TouchSession records activity on a session.
func (tx *Tx) TouchSession(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// MarkSessionAuthenticated records that both factors were proven at at.
func (tx *Tx) MarkSessionAuthenticated(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE sessions SET mfa_at = $2, auth_at = $2, last_seen_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("mark session authenticated: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (tx *Tx) DeleteSession(ctx context.Context, id string) error {
	if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user and returns how many.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete user sessions: %w", err)
	}
	return res.RowsAffected()
}

// DeleteExpiredSessions removes sessions past their absolute end or idle
// since before idleSince, and returns how many.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, ts(now), ts(idleSince))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// CreateAPIToken inserts a bearer token.
func (tx *Tx) CreateAPIToken(ctx context.Context, t *haven.APIToken) error {
	_, err := tx.exec(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.UserID, t.Name, t.TokenHash, ts(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create api token: %w", err)
	}
	return nil
}

// APITokenByHash returns a token by the hash of its value.
func (tx *Tx) APITokenByHash(ctx context.Context, hash []byte) (*haven.APIToken, error) {
	var t haven.APIToken
	err := tx.queryRow(ctx, `SELECT id, user_id, name, token_hash, created_at, last_used_at, revoked_at FROM api_tokens WHERE token_hash = $1`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, utcTime{&t.CreatedAt}, nullTime{&t.LastUsedAt}, nullTime{&t.RevokedAt})
	if err != nil {
		return nil, fmt.Errorf("get api token: %w", notFound(err))
	}
	return &t, nil
}

// TouchAPIToken records the last use of a token.
func (tx *Tx) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("touch api token: %w", err)
	}
	return nil
}

// RevokeAPITokens revokes every live token of a user.
func (tx *Tx) RevokeAPITokens(ctx context.Context, userID string, at time.Time) error {
	if _, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, ts(at)); err != nil {
		return fmt.Errorf("revoke api tokens: %w", err)
	}
	return nil
}
