package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

// CreateAgency inserts an agency. A name already in use (ignoring case)
// gives ErrConflict.
func (tx *Tx) CreateAgency(ctx context.Context, a *haven.Agency) error {
	_, err := tx.exec(ctx, `INSERT INTO agencies (id, name, name_key, kind, jurisdiction, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		a.ID, a.Name, strings.ToLower(a.Name), string(a.Kind), a.Jurisdiction, ts(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create agency: %w", err)
	}
	return nil
}

const agencyColumns = `id, name, kind, jurisdiction, created_at`

func scanAgency(row interface{ Scan(...any) error }) (*haven.Agency, error) {
	var a haven.Agency
	var kind string
	if err := row.Scan(&a.ID, &a.Name, &kind, &a.Jurisdiction, utcTime{&a.CreatedAt}); err != nil {
		return nil, notFound(err)
	}
	a.Kind = haven.AgencyKind(kind)
	return &a, nil
}

// Agency returns one agency by ID.
func (tx *Tx) Agency(ctx context.Context, id string) (*haven.Agency, error) {
	a, err := scanAgency(tx.queryRow(ctx, `SELECT `+agencyColumns+` FROM agencies WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get agency: %w", err)
	}
	return a, nil
}

// AgencyByName returns one agency by name, ignoring case.
func (tx *Tx) AgencyByName(ctx context.Context, name string) (*haven.Agency, error) {
	a, err := scanAgency(tx.queryRow(ctx, `SELECT `+agencyColumns+` FROM agencies WHERE name_key = $1`, strings.ToLower(strings.TrimSpace(name))))
	if err != nil {
		return nil, fmt.Errorf("get agency by name: %w", err)
	}
	return a, nil
}

// Agencies lists every agency by name.
func (tx *Tx) Agencies(ctx context.Context) ([]*haven.Agency, error) {
	rows, err := tx.query(ctx, `SELECT `+agencyColumns+` FROM agencies ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	defer rows.Close()
	var out []*haven.Agency
	for rows.Next() {
		a, err := scanAgency(rows)
		if err != nil {
			return nil, fmt.Errorf("list agencies: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const userColumns = `id, login, display_name, role, agency_id, password_hash, totp_secret, totp_enabled,
	totp_last_step, disabled, locked_at, notice_ack_at, last_login_at, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*haven.User, error) {
	var u haven.User
	var role string
	err := row.Scan(&u.ID, &u.Login, &u.DisplayName, &role, scanNullString{&u.AgencyID}, &u.PasswordHash,
		&u.TOTPSecret, &u.TOTPEnabled, &u.TOTPLastStep, &u.Disabled, nullTime{&u.LockedAt},
		nullTime{&u.NoticeAckAt}, nullTime{&u.LastLoginAt}, utcTime{&u.CreatedAt}, utcTime{&u.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	u.Role = haven.Role(role)
	return &u, nil
}

// CreateUser inserts a user. A login already in use gives ErrConflict.
func (tx *Tx) CreateUser(ctx context.Context, u *haven.User) error {
	_, err := tx.exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.ID, u.Login, u.DisplayName, string(u.Role), nullString(u.AgencyID), u.PasswordHash,
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep, u.Disabled, ts(u.LockedAt), ts(u.NoticeAckAt),
		ts(u.LastLoginAt), ts(u.CreatedAt), ts(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// User returns one user by ID.
func (tx *Tx) User(ctx context.Context, id string) (*haven.User, error) {
	u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// UserByLogin returns one user by login (normalised by the caller).
func (tx *Tx) UserByLogin(ctx context.Context, login string) (*haven.User, error) {
	u, err := scanUser(tx.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE login = $1`, login))
	if err != nil {
		return nil, fmt.Errorf("get user by login: %w", err)
	}
	return u, nil
}

// UserFilter narrows Users.
type UserFilter struct {
	Role     haven.Role
	AgencyID string
}

// Users lists users by login.
func (tx *Tx) Users(ctx context.Context, f UserFilter) ([]*haven.User, error) {
	rows, err := tx.query(ctx, `SELECT `+userColumns+` FROM users
		WHERE ($1 = '' OR role = $1) AND ($2 = '' OR agency_id = $2) ORDER BY login`, string(f.Role), f.AgencyID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*haven.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns the number of accounts of the given role ("" for all).
func (tx *Tx) CountUsers(ctx context.Context, role haven.Role) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE ($1 = '' OR role = $1)`, string(role)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// UpdateUser writes the mutable fields of a user.
func (tx *Tx) UpdateUser(ctx context.Context, u *haven.User) error {
	err := mustAffect(tx.exec(ctx, `UPDATE users SET display_name = $2, role = $3, agency_id = $4,
		password_hash = $5, totp_secret = $6, totp_enabled = $7, totp_last_step = $8, disabled = $9,
		locked_at = $10, notice_ack_at = $11, last_login_at = $12, updated_at = $13 WHERE id = $1`,
		u.ID, u.DisplayName, string(u.Role), nullString(u.AgencyID), u.PasswordHash, u.TOTPSecret,
		u.TOTPEnabled, u.TOTPLastStep, u.Disabled, ts(u.LockedAt), ts(u.NoticeAckAt), ts(u.LastLoginAt),
		ts(u.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// AdvanceTOTPStep records step as the last accepted TOTP step, but only if
// it is later than the one stored: the compare-and-set makes a code
// single-use even when two requests race with the same code.
func (tx *Tx) AdvanceTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, userID, step)
	if err != nil {
		return false, fmt.Errorf("advance totp step: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecordLoginFailure notes a failed sign-in and returns how many failures
// the user has had since the given time.
func (tx *Tx) RecordLoginFailure(ctx context.Context, userID string, at, since time.Time) (int, error) {
	if _, err := tx.exec(ctx, `INSERT INTO login_failures (user_id, at) VALUES ($1, $2)`, userID, ts(at)); err != nil {
		return 0, fmt.Errorf("record login failure: %w", err)
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND at > $2`, userID, ts(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count login failures: %w", err)
	}
	return n, nil
}

// ClearLoginFailures forgets a user's failures (after a success or unlock).
func (tx *Tx) ClearLoginFailures(ctx context.Context, userID string) error {
	if _, err := tx.exec(ctx, `DELETE FROM login_failures WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

// CreateEnrolment stores a one-time enrolment link.
func (tx *Tx) CreateEnrolment(ctx context.Context, e *haven.Enrolment) error {
	_, err := tx.exec(ctx, `INSERT INTO enrolments (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		e.TokenHash, e.UserID, ts(e.CreatedAt), ts(e.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create enrolment: %w", err)
	}
	return nil
}

// Enrolment returns an enrolment by its token hash.
func (tx *Tx) Enrolment(ctx context.Context, tokenHash []byte) (*haven.Enrolment, error) {
	var e haven.Enrolment
	err := tx.queryRow(ctx, `SELECT token_hash, user_id, created_at, expires_at, used_at FROM enrolments WHERE token_hash = $1`, tokenHash).
		Scan(&e.TokenHash, &e.UserID, utcTime{&e.CreatedAt}, utcTime{&e.ExpiresAt}, nullTime{&e.UsedAt})
	if err != nil {
		return nil, fmt.Errorf("get enrolment: %w", notFound(err))
	}
	return &e, nil
}

// UseEnrolment marks an enrolment used; it fails with ErrNotFound if it was
// already used, so a link works once even under a race.
func (tx *Tx) UseEnrolment(ctx context.Context, tokenHash []byte, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE enrolments SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, tokenHash, ts(at)))
	if err != nil {
		return fmt.Errorf("use enrolment: %w", err)
	}
	return nil
}

// RevokeEnrolments invalidates every unused enrolment link of a user.
func (tx *Tx) RevokeEnrolments(ctx context.Context, userID string, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE enrolments SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, ts(at))
	if err != nil {
		return fmt.Errorf("revoke enrolments: %w", err)
	}
	return nil
}

// PutSecret stores an application secret, wrapped by the master key. An
// existing secret of that name is replaced only if replace is true;
// otherwise ErrConflict.
func (tx *Tx) PutSecret(ctx context.Context, name string, wrapped []byte, at time.Time, replace bool) error {
	if replace {
		err := mustAffect(tx.exec(ctx, `UPDATE app_secrets SET wrapped = $2 WHERE name = $1`, name, wrapped))
		if err != nil {
			return fmt.Errorf("replace secret: %w", err)
		}
		return nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO app_secrets (name, wrapped, created_at) VALUES ($1, $2, $3)`, name, wrapped, ts(at)); err != nil {
		return fmt.Errorf("put secret: %w", err)
	}
	return nil
}

// Secret returns a wrapped application secret.
func (tx *Tx) Secret(ctx context.Context, name string) ([]byte, error) {
	var b []byte
	if err := tx.queryRow(ctx, `SELECT wrapped FROM app_secrets WHERE name = $1`, name).Scan(&b); err != nil {
		return nil, fmt.Errorf("get secret: %w", notFound(err))
	}
	return b, nil
}

// SecretNames lists the names of the stored application secrets.
func (tx *Tx) SecretNames(ctx context.Context) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT name FROM app_secrets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// SetUserLogin changes a user's login (used once, when the first
// administrator chooses their e-mail address).
func (tx *Tx) SetUserLogin(ctx context.Context, id, login string) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE users SET login = $2 WHERE id = $1`, id, login)); err != nil {
		return fmt.Errorf("set user login: %w", err)
	}
	return nil
}
