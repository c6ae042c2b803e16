package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/store"
)

// NewUser describes an account to create.
type NewUser struct {
	Login       string
	DisplayName string
	Role        haven.Role
	AgencyID    string
}

// PlaceholderDomain marks the login of the first administrator, who
// chooses a real e-mail address when enrolling.
const PlaceholderDomain = "@first-admin.invalid"

// CreateUser creates an interactive account and returns it with a
// one-time enrolment link.
func (s *Service) CreateUser(ctx context.Context, a haven.Actor, in NewUser) (*haven.User, string, error) {
	if err := s.require(a, haven.PermManageUsers); err != nil {
		return nil, "", s.deny(ctx, a, "user.create", "user", "", err)
	}
	if in.Role == haven.RoleESP {
		return nil, "", haven.Invalidf("role", "ESP accounts are created with the ESP command, not as users")
	}
	now := s.clock.Now()
	u := &haven.User{ID: haven.NewID(), Login: in.Login, DisplayName: in.DisplayName, Role: in.Role,
		AgencyID: in.AgencyID, CreatedAt: now, UpdatedAt: now}
	if err := u.Validate(); err != nil {
		return nil, "", err
	}
	var link string
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if u.AgencyID != "" {
			if _, err := tx.Agency(ctx, u.AgencyID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "no such agency")
				}
				return err
			}
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if haven.IsKind(err, haven.KindConflict) {
				return haven.Invalidf("login", "an account with this e-mail address exists already")
			}
			return err
		}
		var err error
		if link, err = s.newEnrolment(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "user.create", ObjectType: "user", ObjectID: u.ID,
			Details: map[string]string{"role": string(u.Role), "agency": u.AgencyID, "login": s.audit.Pseudonym(u.Login)}})
	})
	if err != nil {
		return nil, "", err
	}
	return u, link, nil
}

func (s *Service) newEnrolment(ctx context.Context, tx *store.Tx, userID string) (string, error) {
	now := s.clock.Now()
	if err := tx.RevokeEnrolments(ctx, userID, now); err != nil {
		return "", err
	}
	token, hash := auth.NewToken()
	e := &haven.Enrolment{TokenHash: hash, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.EnrolmentTTL)}
	if err := tx.CreateEnrolment(ctx, e); err != nil {
		return "", err
	}
	return s.cfg.BaseURL + "/enrol/" + token, nil
}

// EnsureFirstAdmin makes sure someone can administer a new installation.
// If no administrator has enrolled yet, it creates (or reuses) the
// placeholder first-administrator account and returns a fresh one-time
// enrolment link, revoking earlier ones; otherwise it returns "".
func (s *Service) EnsureFirstAdmin(ctx context.Context) (string, error) {
	sys := haven.SystemActor("first-start")
	var link string
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		admins, err := tx.Users(ctx, store.UserFilter{Role: haven.RoleAdmin})
		if err != nil {
			return err
		}
		var placeholder *haven.User
		for _, u := range admins {
			if u.PasswordHash != "" && !u.Disabled {
				return nil // an administrator exists
			}
			if strings.HasSuffix(u.Login, PlaceholderDomain) {
				placeholder = u
			}
		}
		if placeholder == nil {
			now := s.clock.Now()
			placeholder = &haven.User{ID: haven.NewID(), Login: "admin" + PlaceholderDomain, DisplayName: "First administrator",
				Role: haven.RoleAdmin, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateUser(ctx, placeholder); err != nil {
				return err
			}
		}
		if link, err = s.newEnrolment(ctx, tx, placeholder.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "user.first_admin_link", ObjectType: "user", ObjectID: placeholder.ID})
	})
	return link, err
}

// Users lists accounts.
func (s *Service) Users(ctx context.Context, a haven.Actor, f store.UserFilter) ([]*haven.User, error) {
	if !a.Can(haven.PermManageUsers) {
		return nil, haven.ErrForbidden
	}
	var out []*haven.User
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.Users(ctx, f)
		return err
	})
	return out, err
}

// User returns one account. Users may read their own.
func (s *Service) User(ctx context.Context, a haven.Actor, id string) (*haven.User, error) {
	if id != a.UserID && !a.Can(haven.PermManageUsers) {
		return nil, haven.ErrNotFound
	}
	var u *haven.User
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		u, err = tx.User(ctx, id)
		return err
	})
	return u, err
}

// UserByLogin finds an account by login, for the command line.
func (s *Service) UserByLogin(ctx context.Context, a haven.Actor, login string) (*haven.User, error) {
	if !a.Can(haven.PermManageUsers) {
		return nil, haven.ErrForbidden
	}
	var u *haven.User
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		u, err = tx.UserByLogin(ctx, haven.NormalizeLogin(login))
		return err
	})
	return u, err
}

// modifyUser applies change to a user under the user-management
// permission, audits it, and ends the user's sessions when endSessions is
// set. Administrators cannot apply it to themselves.
func (s *Service) modifyUser(ctx context.Context, a haven.Actor, id, typ string, endSessions bool, change func(*haven.User) (map[string]string, error)) error {
	if err := s.require(a, haven.PermManageUsers); err != nil {
		return s.deny(ctx, a, typ, "user", id, err)
	}
	if id == a.UserID && !a.System {
		return s.deny(ctx, a, typ, "user", id, haven.Errorf(haven.KindForbidden, "you cannot change your own account this way; ask another administrator"))
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		details, err := change(u)
		if err != nil {
			return err
		}
		u.UpdatedAt = s.clock.Now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if endSessions {
			n, err := tx.DeleteUserSessions(ctx, id)
			if err != nil {
				return err
			}
			if err := tx.RevokeAPITokens(ctx, id, u.UpdatedAt); err != nil {
				return err
			}
			if details == nil {
				details = map[string]string{}
			}
			details["sessions_ended"] = fmt.Sprint(n)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "user", ObjectID: id, Details: details})
	})
}

// SetDisabled disables or re-enables an account. Disabling ends its
// sessions and revokes its tokens at once.
func (s *Service) SetDisabled(ctx context.Context, a haven.Actor, id string, disabled bool) error {
	typ := "user.enable"
	if disabled {
		typ = "user.disable"
	}
	return s.modifyUser(ctx, a, id, typ, disabled, func(u *haven.User) (map[string]string, error) {
		u.Disabled = disabled
		return nil, nil
	})
}

// Unlock releases an account locked after repeated failures.
func (s *Service) Unlock(ctx context.Context, a haven.Actor, id string) error {
	return s.modifyUser(ctx, a, id, "user.unlock", false, func(u *haven.User) (map[string]string, error) {
		if !u.Locked() {
			return nil, haven.Errorf(haven.KindConflict, "the account is not locked")
		}
		u.LockedAt = zeroTime
		return nil, nil
	})
}

// ResetMFA removes an account's second factor: at the next sign-in the
// user must enrol a new one. Its sessions end.
func (s *Service) ResetMFA(ctx context.Context, a haven.Actor, id string) error {
	return s.modifyUser(ctx, a, id, "user.mfa_reset", true, func(u *haven.User) (map[string]string, error) {
		if u.Role == haven.RoleESP {
			return nil, haven.Errorf(haven.KindConflict, "ESP accounts have no second factor")
		}
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = nil, false, 0
		return nil, nil
	})
}

// SetRole changes an account's role (and agency, for LE users). Nobody
// can change their own role.
func (s *Service) SetRole(ctx context.Context, a haven.Actor, id string, role haven.Role, agencyID string) error {
	return s.modifyUser(ctx, a, id, "user.role_change", true, func(u *haven.User) (map[string]string, error) {
		if u.Role == haven.RoleESP || role == haven.RoleESP {
			return nil, haven.Invalidf("role", "ESP accounts cannot change role")
		}
		old := u.Role
		u.Role, u.AgencyID = role, agencyID
		if err := u.Validate(); err != nil {
			return nil, err
		}
		return map[string]string{"from": string(old), "to": string(role), "agency": agencyID}, nil
	})
}

// NewEnrolmentLink issues a fresh one-time link with which the user sets a
// new password (a reset); earlier links stop working.
func (s *Service) NewEnrolmentLink(ctx context.Context, a haven.Actor, id string) (string, error) {
	var link string
	err := s.modifyUser(ctx, a, id, "user.enrolment_link", false, func(u *haven.User) (map[string]string, error) {
		if u.Role == haven.RoleESP {
			return nil, haven.Errorf(haven.KindConflict, "ESP accounts use generated secrets: rotate them instead")
		}
		return nil, nil
	})
	if err != nil {
		return "", err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		link, err = s.newEnrolment(ctx, tx, id)
		return err
	})
	return link, err
}

// ESPCredentials are an ESP account's HTTP Basic credentials, shown once.
type ESPCredentials struct {
	UserID   string `json:"id"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// CreateESP creates an ESP account with generated API credentials.
func (s *Service) CreateESP(ctx context.Context, a haven.Actor, name string) (*ESPCredentials, error) {
	if err := s.require(a, haven.PermManageESPs); err != nil {
		return nil, s.deny(ctx, a, "esp.create", "user", "", err)
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, haven.Invalidf("name", "give the online service a name of 1 to 200 characters")
	}
	password := auth.NewAPIPassword()
	hash, err := auth.HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	u := &haven.User{ID: haven.NewID(), Login: auth.NewAPIUsername(name), DisplayName: name, Role: haven.RoleESP,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "esp.create", ObjectType: "user", ObjectID: u.ID})
	})
	if err != nil {
		return nil, err
	}
	return &ESPCredentials{UserID: u.ID, Username: u.Login, Password: password}, nil
}

// RotateESP replaces an ESP account's password; the old one stops working
// at once.
func (s *Service) RotateESP(ctx context.Context, a haven.Actor, id string) (*ESPCredentials, error) {
	password := auth.NewAPIPassword()
	hash, err := auth.HashPassword(password, s.cfg.Argon2)
	if err != nil {
		return nil, err
	}
	var login string
	err = s.modifyUser(ctx, a, id, "esp.rotate", true, func(u *haven.User) (map[string]string, error) {
		if u.Role != haven.RoleESP {
			return nil, haven.Errorf(haven.KindConflict, "not an ESP account")
		}
		u.PasswordHash, login = hash, u.Login
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &ESPCredentials{UserID: id, Username: login, Password: password}, nil
}

// CreateAPIToken issues a bearer token for the JSON API to an account
// whose role may hold one, and returns it; only its hash is kept.
func (s *Service) CreateAPIToken(ctx context.Context, a haven.Actor, userID, name string) (string, error) {
	if userID != a.UserID || !a.Can(haven.PermAPIToken) {
		if err := s.require(a, haven.PermManageUsers); err != nil {
			return "", s.deny(ctx, a, "token.create", "user", userID, err)
		}
	}
	token, hash := auth.NewToken()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if !u.Role.Can(haven.PermAPIToken) {
			return haven.Errorf(haven.KindConflict, "the role %s cannot hold an API token", u.Role.Label())
		}
		if u.Disabled {
			return haven.Errorf(haven.KindConflict, "the account is disabled")
		}
		t := &haven.APIToken{ID: haven.NewID(), UserID: userID, Name: strings.TrimSpace(name), TokenHash: hash, CreatedAt: s.clock.Now()}
		if err := tx.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "token.create", ObjectType: "api_token", ObjectID: t.ID,
			Details: map[string]string{"user": userID}})
	})
	if err != nil {
		return "", err
	}
	return "hvn_" + token, nil
}
