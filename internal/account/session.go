package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/store"
)

var zeroTime time.Time

// Client describes where a request comes from, for sessions and audit.
type Client struct {
	Addr      string
	RequestID string
}

func (c Client) actor() haven.Actor { return haven.Actor{Addr: c.Addr, RequestID: c.RequestID} }

// ErrBadCredentials is the one answer to a failed sign-in: unknown
// account, wrong password, disabled or locked account all look the same
// from outside (SECURITY.md 8).
var ErrBadCredentials = &haven.Error{Kind: haven.KindUnauthenticated,
	Message: "The e-mail address or password is not right. After 5 failed attempts in 15 minutes an account is locked until an administrator unlocks it."}

// ErrBadCode is the answer to a wrong or reused second-factor code.
var ErrBadCode = &haven.Error{Kind: haven.KindUnauthenticated,
	Message: "That code is not right or was already used. Wait for the next code in your authenticator app and try again."}

// ErrSessionEnded is returned for a missing, expired or revoked session.
var ErrSessionEnded = &haven.Error{Kind: haven.KindUnauthenticated, Message: "Your session has ended. Please sign in again."}

// Principal is an authenticated browser session and its user.
type Principal struct {
	User    *haven.User
	Session *haven.Session
	// MFAPending is true between the password and the second factor; such
	// a session may only reach the second-factor pages.
	MFAPending bool
}

// Actor returns the acting identity of the principal for one request.
func (p *Principal) Actor(c Client) haven.Actor {
	return haven.Actor{UserID: p.User.ID, Role: p.User.Role, AgencyID: p.User.AgencyID, SessionID: p.Session.ID,
		Addr: c.Addr, RequestID: c.RequestID, AuthAt: p.Session.AuthAt}
}

// Login checks a password and, on success, opens a session that still
// needs the second factor; it returns the session token for the cookie.
// noticeAck records that the user acknowledged the system-use notice.
func (s *Service) Login(ctx context.Context, c Client, login, password string, noticeAck bool) (string, error) {
	login = haven.NormalizeLogin(login)
	if !noticeAck {
		return "", haven.Invalidf("notice", "Please confirm that you have read the system-use notice.")
	}
	if len(login) > 254 || len(password) > auth.MaxPasswordBytes {
		auth.DummyVerify(password)
		return "", ErrBadCredentials
	}
	var u *haven.User
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		u, err = tx.UserByLogin(ctx, login)
		return err
	})
	if haven.IsKind(err, haven.KindNotFound) || (err == nil && (u.PasswordHash == "" || !u.Role.Interactive())) {
		auth.DummyVerify(password)
		return "", s.failLogin(ctx, c, nil, login, "unknown_account")
	}
	if err != nil {
		return "", err
	}
	ok, rehash, err := auth.VerifyPassword(password, u.PasswordHash)
	if err != nil {
		return "", err
	}
	switch {
	case u.Disabled:
		return "", s.failLogin(ctx, c, u, login, "disabled")
	case u.Locked():
		return "", s.failLogin(ctx, c, u, login, "locked")
	case !ok:
		return "", s.failLogin(ctx, c, u, login, "wrong_password")
	}
	var newHash string
	if rehash {
		if newHash, err = auth.HashPassword(password, s.cfg.Argon2); err != nil {
			return "", err
		}
	}
	now := s.clock.Now()
	token, hash := auth.NewToken()
	csrf, _ := auth.NewToken()
	sess := &haven.Session{ID: haven.NewID(), TokenHash: hash, UserID: u.ID, CSRFToken: csrf, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionAbsolute), RemoteAddr: c.Addr}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		u.NoticeAckAt = now
		if newHash != "" {
			u.PasswordHash = newHash
		}
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		a := c.actor()
		a.UserID, a.Role, a.AgencyID, a.SessionID = u.ID, u.Role, u.AgencyID, sess.ID
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "auth.password_ok", ObjectType: "user", ObjectID: u.ID,
			Details: map[string]string{"notice_acknowledged": "true"}})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// failLogin records a failed sign-in, locks the account at the fifth
// failure within the window, and returns ErrBadCredentials.
func (s *Service) failLogin(ctx context.Context, c Client, u *haven.User, login, reason string) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		a := c.actor()
		details := map[string]string{"reason": reason, "login": s.audit.Pseudonym(login)}
		objID := ""
		if u != nil {
			objID = u.ID
			a.UserID, a.Role, a.AgencyID = u.ID, u.Role, u.AgencyID
			if reason == "wrong_password" || reason == "wrong_code" {
				if err := s.countFailure(ctx, tx, a, u.ID, now); err != nil {
					return err
				}
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "auth.login_failed", ObjectType: "user", ObjectID: objID,
			Outcome: haven.OutcomeFailure, Details: details})
	})
	if err != nil {
		return err
	}
	if reason == "wrong_code" {
		return ErrBadCode
	}
	return ErrBadCredentials
}

func (s *Service) countFailure(ctx context.Context, tx *store.Tx, a haven.Actor, userID string, now time.Time) error {
	n, err := tx.RecordLoginFailure(ctx, userID, now, now.Add(-FailureWindow))
	if err != nil {
		return err
	}
	if n < MaxFailures {
		return nil
	}
	u, err := tx.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.Locked() {
		return nil
	}
	u.LockedAt, u.UpdatedAt = now, now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	if _, err := tx.DeleteUserSessions(ctx, userID); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, a, audit.Entry{Type: "auth.lockout", ObjectType: "user", ObjectID: userID,
		Outcome: haven.OutcomeFailure, Details: map[string]string{"failures": "5", "window": FailureWindow.String()}})
}

// Authenticate returns the principal of a session token, enforcing the
// idle and absolute limits and the account's current state, so that a
// disabled or locked account loses its sessions on the very next request.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrSessionEnded
	}
	hash := auth.HashToken(token)
	now := s.clock.Now()
	var p *Principal
	var expired *haven.Session
	err := s.store.View(ctx, func(tx *store.Tx) error {
		sess, err := tx.SessionByToken(ctx, hash)
		if err != nil {
			return err
		}
		if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
			expired = sess
			return ErrSessionEnded
		}
		u, err := tx.User(ctx, sess.UserID)
		if err != nil {
			return err
		}
		if u.Disabled || u.Locked() {
			expired = sess
			return ErrSessionEnded
		}
		p = &Principal{User: u, Session: sess, MFAPending: sess.MFAAt.IsZero()}
		return nil
	})
	if expired != nil {
		_ = s.store.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, expired.ID) })
	}
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) {
			return nil, ErrSessionEnded
		}
		return nil, err
	}
	// Record activity, at most every few seconds to spare the database.
	if now.Sub(p.Session.LastSeenAt) >= 5*time.Second {
		if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, p.Session.ID, now) }); err != nil {
			return nil, err
		}
		p.Session.LastSeenAt = now
	}
	return p, nil
}

// Logout ends a session server-side.
func (s *Service) Logout(ctx context.Context, c Client, p *Principal) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, p.Session.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, p.Actor(c), audit.Entry{Type: "auth.logout", ObjectType: "session", ObjectID: p.Session.ID})
	})
}

// TOTPEnrolment is what the second-factor set-up page shows.
type TOTPEnrolment struct {
	Secret string // base32, for manual entry
	URI    string // otpauth:// for the QR code
	QRPNG  []byte
}

// BeginTOTP gives a session whose user has no second factor yet a new
// secret to enrol. The secret is stored sealed, not yet enabled; calling
// again replaces it.
func (s *Service) BeginTOTP(ctx context.Context, c Client, p *Principal) (*TOTPEnrolment, error) {
	if p.User.TOTPEnabled {
		return nil, haven.Errorf(haven.KindConflict, "a second factor is already set up for this account")
	}
	key, err := auth.NewTOTP(s.cfg.Issuer, p.User.Login)
	if err != nil {
		return nil, err
	}
	png, err := key.QRPNG(240)
	if err != nil {
		return nil, err
	}
	sealed, err := s.secrets.Seal([]byte(key.Secret), "totp:"+p.User.ID)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, p.User.ID)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return haven.Errorf(haven.KindConflict, "a second factor is already set up for this account")
		}
		u.TOTPSecret, u.TOTPLastStep, u.UpdatedAt = sealed, 0, s.clock.Now()
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: key.Secret, URI: key.URI, QRPNG: png}, nil
}

// VerifyTOTP checks a second-factor code for a session that has passed the
// password step (or, with a fresh enrolment, confirms the new factor), and
// completes the sign-in. Codes are single-use. Wrong codes count towards
// the lockout like wrong passwords.
func (s *Service) VerifyTOTP(ctx context.Context, c Client, p *Principal, code string) error {
	if len(code) > 20 {
		code = code[:20]
	}
	sealed := p.User.TOTPSecret
	if len(sealed) == 0 {
		return haven.Errorf(haven.KindConflict, "set up your authenticator app first")
	}
	secretB, err := s.secrets.Open(sealed, "totp:"+p.User.ID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	step, ok := auth.VerifyTOTP(string(secretB), code, now, p.User.TOTPLastStep)
	if !ok {
		return s.failLogin(ctx, c, p.User, p.User.Login, "wrong_code")
	}
	enrolling := !p.User.TOTPEnabled
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		advanced, err := tx.AdvanceTOTPStep(ctx, p.User.ID, step)
		if err != nil {
			return err
		}
		if !advanced {
			return ErrBadCode // the same code won a race in another request
		}
		u, err := tx.User(ctx, p.User.ID)
		if err != nil {
			return err
		}
		if u.Disabled || u.Locked() {
			return ErrSessionEnded
		}
		u.TOTPEnabled, u.LastLoginAt, u.UpdatedAt = true, now, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.MarkSessionAuthenticated(ctx, p.Session.ID, now); err != nil {
			return err
		}
		typ := "auth.login"
		if enrolling {
			typ = "auth.totp_enrolled"
		} else if !p.MFAPending {
			typ = "auth.reauth"
		}
		return s.audit.Record(ctx, tx, p.Actor(c), audit.Entry{Type: typ, ObjectType: "user", ObjectID: u.ID})
	})
	if errors.Is(err, ErrBadCode) {
		return s.failLogin(ctx, c, p.User, p.User.Login, "wrong_code")
	}
	return err
}

// Reauthenticate proves both factors again inside a live session, for
// sensitive actions (SECURITY.md 11).
func (s *Service) Reauthenticate(ctx context.Context, c Client, p *Principal, password, code string) error {
	ok, _, err := auth.VerifyPassword(password, p.User.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return s.failLogin(ctx, c, p.User, p.User.Login, "wrong_password")
	}
	return s.VerifyTOTP(ctx, c, p, code)
}

// EnrolmentUser returns the account an enrolment link is for, or
// ErrNotFound if the link is unknown, used or expired.
func (s *Service) EnrolmentUser(ctx context.Context, token string) (*haven.User, error) {
	var u *haven.User
	err := s.store.View(ctx, func(tx *store.Tx) error {
		e, err := tx.Enrolment(ctx, auth.HashToken(token))
		if err != nil {
			return err
		}
		if !e.UsedAt.IsZero() || !s.clock.Now().Before(e.ExpiresAt) {
			return haven.ErrNotFound
		}
		u, err = tx.User(ctx, e.UserID)
		return err
	})
	if err != nil {
		return nil, haven.Errorf(haven.KindNotFound, "This link is not valid: it was already used, has expired, or was replaced by a newer one. Ask an administrator for a new link.")
	}
	return u, nil
}

// CompleteEnrolment sets the password of the account an enrolment link is
// for, spends the link, and signs the user in up to the second factor,
// returning the session token. The first administrator also chooses the
// e-mail address (login) of their account here.
func (s *Service) CompleteEnrolment(ctx context.Context, c Client, token, password, login, displayName string) (string, error) {
	u, err := s.EnrolmentUser(ctx, token)
	if err != nil {
		return "", err
	}
	if strings.HasSuffix(u.Login, PlaceholderDomain) {
		u.Login = haven.NormalizeLogin(login)
		if strings.TrimSpace(displayName) != "" {
			u.DisplayName = displayName
		}
		if err := u.Validate(); err != nil {
			return "", err
		}
	}
	if err := auth.CheckPassword(password, u.Login, u.DisplayName); err != nil {
		return "", err
	}
	hash, err := auth.HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	session, sessHash := auth.NewToken()
	csrf, _ := auth.NewToken()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		th := auth.HashToken(token)
		if err := tx.UseEnrolment(ctx, th, now); err != nil {
			return haven.Errorf(haven.KindNotFound, "This link was just used. Ask an administrator for a new link.")
		}
		cur, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Login != u.Login {
			if _, err := tx.UserByLogin(ctx, u.Login); err == nil {
				return haven.Invalidf("login", "an account with this e-mail address exists already")
			}
			if err := tx.SetUserLogin(ctx, cur.ID, u.Login); err != nil {
				return err
			}
		}
		cur.DisplayName, cur.PasswordHash, cur.UpdatedAt = u.DisplayName, hash, now
		cur.LockedAt = zeroTime
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, cur.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, cur.ID); err != nil {
			return err
		}
		sess := &haven.Session{ID: haven.NewID(), TokenHash: sessHash, UserID: cur.ID, CSRFToken: csrf, CreatedAt: now,
			LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionAbsolute), RemoteAddr: c.Addr}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		a := c.actor()
		a.UserID, a.Role, a.AgencyID, a.SessionID = cur.ID, cur.Role, cur.AgencyID, sess.ID
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "auth.enrolled", ObjectType: "user", ObjectID: cur.ID})
	})
	if err != nil {
		return "", err
	}
	return session, nil
}

// ChangePassword changes the signed-in user's own password.
func (s *Service) ChangePassword(ctx context.Context, c Client, p *Principal, current, next string) error {
	ok, _, err := auth.VerifyPassword(current, p.User.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.failLogin(ctx, c, p.User, p.User.Login, "wrong_password"); !errors.Is(err, ErrBadCredentials) {
			return err
		}
		return haven.Invalidf("current", "your current password is not right")
	}
	if err := auth.CheckPassword(next, p.User.Login, p.User.DisplayName); err != nil {
		return err
	}
	hash, err := auth.HashPassword(next, s.cfg.Argon2)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, p.User.ID)
		if err != nil {
			return err
		}
		u.PasswordHash, u.UpdatedAt = hash, s.clock.Now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, p.Actor(c), audit.Entry{Type: "auth.password_change", ObjectType: "user", ObjectID: u.ID})
	})
}

// AuthenticateBasic checks an ESP account's HTTP Basic credentials and
// returns its actor. Every failure is the same ErrBadCredentials.
//
// ESP clients send their credentials with every request, and argon2id
// costs ~20 ms of CPU by design: the service remembers, per account, a
// keyed hash of the last password that verified together with the stored
// password hash it verified against. A request whose password matches
// that keyed hash, for an account whose stored hash has not changed
// (rotation) and which is not disabled, skips argon2id. Nothing that
// could recover the password is kept.
func (s *Service) AuthenticateBasic(ctx context.Context, c Client, username, password string) (haven.Actor, error) {
	username = haven.NormalizeLogin(username)
	var u *haven.User
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		u, err = tx.UserByLogin(ctx, username)
		return err
	})
	if err != nil || u.Role != haven.RoleESP || u.Disabled || u.PasswordHash == "" || len(password) > auth.MaxPasswordBytes {
		auth.DummyVerify(password)
		if err != nil && !haven.IsKind(err, haven.KindNotFound) {
			return haven.Actor{}, err
		}
		return haven.Actor{}, ErrBadCredentials
	}
	actor := haven.Actor{UserID: u.ID, Role: u.Role, Addr: c.Addr, RequestID: c.RequestID}
	mac := s.basic.mac(password)
	if s.basic.match(u.ID, u.PasswordHash, mac) {
		return actor, nil
	}
	ok, _, err := auth.VerifyPassword(password, u.PasswordHash)
	if err != nil {
		return haven.Actor{}, err
	}
	if !ok {
		return haven.Actor{}, ErrBadCredentials
	}
	s.basic.remember(u.ID, u.PasswordHash, mac)
	return actor, nil
}

// basicCache remembers verified API passwords as keyed hashes.
type basicCache struct {
	key [32]byte
	mu  sync.Mutex
	m   map[string]basicEntry
}

type basicEntry struct {
	phc string
	mac [32]byte
}

func newBasicCache() *basicCache {
	c := &basicCache{m: make(map[string]basicEntry)}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic(err)
	}
	return c
}

func (c *basicCache) mac(password string) [32]byte {
	h := hmac.New(sha256.New, c.key[:])
	h.Write([]byte(password))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (c *basicCache) match(userID, phc string, mac [32]byte) bool {
	c.mu.Lock()
	e, ok := c.m[userID]
	c.mu.Unlock()
	return ok && e.phc == phc && hmac.Equal(e.mac[:], mac[:])
}

func (c *basicCache) remember(userID, phc string, mac [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[userID] = basicEntry{phc: phc, mac: mac}
}

// AuthenticateBearer checks a JSON-API bearer token and returns its actor.
func (s *Service) AuthenticateBearer(ctx context.Context, c Client, token string) (haven.Actor, error) {
	token, ok := strings.CutPrefix(token, "hvn_")
	if !ok || len(token) > 100 {
		return haven.Actor{}, ErrSessionEnded
	}
	hash := auth.HashToken(token)
	var a haven.Actor
	var tokID string
	var lastUsed time.Time
	err := s.store.View(ctx, func(tx *store.Tx) error {
		t, err := tx.APITokenByHash(ctx, hash)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(t.TokenHash, hash) != 1 || !t.RevokedAt.IsZero() {
			return haven.ErrNotFound
		}
		u, err := tx.User(ctx, t.UserID)
		if err != nil {
			return err
		}
		if u.Disabled || u.Locked() || !u.Role.Can(haven.PermAPIToken) {
			return haven.ErrNotFound
		}
		tokID, lastUsed = t.ID, t.LastUsedAt
		a = haven.Actor{UserID: u.ID, Role: u.Role, AgencyID: u.AgencyID, Addr: c.Addr, RequestID: c.RequestID}
		return nil
	})
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) {
			return haven.Actor{}, &haven.Error{Kind: haven.KindUnauthenticated, Message: "the bearer token is not valid"}
		}
		return haven.Actor{}, err
	}
	if now := s.clock.Now(); now.Sub(lastUsed) > time.Minute {
		_ = s.store.InTx(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(ctx, tokID, now) })
	}
	return a, nil
}

// CleanupSessions deletes expired and idle sessions; it is run by a
// periodic job.
func (s *Service) CleanupSessions(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	var n int64
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.SessionIdle))
		return err
	})
	return n, err
}
