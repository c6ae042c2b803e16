// Package account manages who may use Haven and how they prove it:
// agencies, user accounts and their roles, ESP API identities and bearer
// tokens, enrolment links, sign-in with a password and a TOTP second
// factor, lockout, and server-side sessions.
//
// Every method that changes something takes an explicit haven.Actor,
// checks its permission, and writes an audit event in the same
// transaction as the change.
package account

import (
	"context"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
)

// Config holds the policy settings of the service.
type Config struct {
	// BaseURL is the public base URL, for enrolment links.
	BaseURL string
	// SessionIdle ends a session after this long without a request.
	SessionIdle time.Duration
	// SessionAbsolute ends a session this long after sign-in.
	SessionAbsolute time.Duration
	// EnrolmentTTL is how long an enrolment link stays valid.
	EnrolmentTTL time.Duration
	// Argon2 are the password-hashing parameters.
	Argon2 auth.Argon2Params
	// Issuer names Haven in authenticator apps.
	Issuer string
}

// Policy constants of SECURITY.md 8.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
)

// Service is the account service.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	secrets *secret.Set
	clock   haven.Clock
	cfg     Config
	basic   *basicCache
}

// New returns the service.
func New(s *store.Store, log *audit.Log, secrets *secret.Set, clock haven.Clock, cfg Config) *Service {
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = 15 * time.Minute
	}
	if cfg.SessionAbsolute == 0 {
		cfg.SessionAbsolute = 12 * time.Hour
	}
	if cfg.EnrolmentTTL == 0 {
		cfg.EnrolmentTTL = 72 * time.Hour
	}
	if cfg.Argon2 == (auth.Argon2Params{}) {
		cfg.Argon2 = auth.DefaultArgon2
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Haven"
	}
	return &Service{store: s, audit: log, secrets: secrets, clock: clock, cfg: cfg, basic: newBasicCache()}
}

// Config returns the service's policy settings.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

// deny records a refused action and returns err. The audit event is
// written in its own transaction, since the action's was never begun.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ, objType, objID string, err error) error {
	return s.audit.Denied(ctx, s.store, a, typ, objType, objID, err)
}

// CreateAgency creates an agency.
func (s *Service) CreateAgency(ctx context.Context, a haven.Actor, in haven.Agency) (*haven.Agency, error) {
	if err := s.require(a, haven.PermManageAgencies); err != nil {
		return nil, s.deny(ctx, a, "agency.create", "agency", "", err)
	}
	ag := in
	if err := ag.Validate(); err != nil {
		return nil, err
	}
	ag.ID, ag.CreatedAt = haven.NewID(), s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, &ag); err != nil {
			if haven.IsKind(err, haven.KindConflict) {
				return haven.Invalidf("name", "an agency with this name exists already")
			}
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "agency.create", ObjectType: "agency", ObjectID: ag.ID,
			Details: map[string]string{"kind": string(ag.Kind)}})
	})
	if err != nil {
		return nil, err
	}
	return &ag, nil
}

// Agencies lists the agencies.
func (s *Service) Agencies(ctx context.Context, a haven.Actor) ([]*haven.Agency, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var out []*haven.Agency
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.Agencies(ctx)
		return err
	})
	return out, err
}

// Agency returns one agency. An LE user sees only their own; any other ID
// answers ErrNotFound, exactly like an ID that does not exist.
func (s *Service) Agency(ctx context.Context, a haven.Actor, id string) (*haven.Agency, error) {
	if a.Role == haven.RoleLE && !a.System {
		if id != a.AgencyID {
			return nil, s.deny(ctx, a, "agency.read", "agency", id, haven.ErrNotFound)
		}
	} else if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var ag *haven.Agency
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		ag, err = tx.Agency(ctx, id)
		return err
	})
	return ag, err
}

// AgencyByName finds an agency by name, for the command line.
func (s *Service) AgencyByName(ctx context.Context, a haven.Actor, name string) (*haven.Agency, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var ag *haven.Agency
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		ag, err = tx.AgencyByName(ctx, name)
		return err
	})
	return ag, err
}
