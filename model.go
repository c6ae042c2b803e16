package haven

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// NewID returns a new record identifier: a UUIDv7 in its text form, so IDs
// sort by creation time on both databases.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s has the shape of an ID made by NewID.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Clock tells the time. Services take one so tests can move time forward.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock, in UTC, truncated to milliseconds as the
// database stores it.
type SystemClock struct{}

// Now returns the current UTC time truncated to milliseconds.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Agency is a law-enforcement or partner organisation that receives
// referrals. LE users belong to exactly one agency.
type Agency struct {
	ID           string
	Name         string
	Kind         AgencyKind
	Jurisdiction string // free text for now: "US-CA", "FR", "federal"…
	CreatedAt    time.Time
}

// AgencyKind classifies agencies.
type AgencyKind string

// The kinds of agency.
const (
	AgencyLocal         AgencyKind = "local"
	AgencyICAC          AgencyKind = "icac"
	AgencyFederal       AgencyKind = "federal"
	AgencyInternational AgencyKind = "international"
	AgencyPartner       AgencyKind = "partner"
)

// AgencyKinds lists the agency kinds in display order.
var AgencyKinds = []AgencyKind{AgencyLocal, AgencyICAC, AgencyFederal, AgencyInternational, AgencyPartner}

// Validate checks an agency before it is stored.
func (a *Agency) Validate() error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" {
		return Invalidf("name", "the agency needs a name")
	}
	if utf8.RuneCountInString(a.Name) > 200 {
		return Invalidf("name", "the agency name is longer than 200 characters")
	}
	if a.Kind == "" {
		a.Kind = AgencyLocal
	}
	ok := false
	for _, k := range AgencyKinds {
		ok = ok || k == a.Kind
	}
	if !ok {
		return Invalidf("kind", "unknown agency kind %q", a.Kind)
	}
	if utf8.RuneCountInString(a.Jurisdiction) > 100 {
		return Invalidf("jurisdiction", "the jurisdiction is longer than 100 characters")
	}
	return nil
}

// User is an account: a person who signs in, or an ESP's API identity.
type User struct {
	ID          string
	Login       string // e-mail address for people; API username for ESP accounts
	DisplayName string
	Role        Role
	AgencyID    string
	// PasswordHash is the PHC-encoded argon2id hash; empty until the
	// account is enrolled.
	PasswordHash string
	// TOTPSecret is the second-factor secret, sealed with the master key;
	// empty until enrolled.
	TOTPSecret   []byte
	TOTPEnabled  bool
	TOTPLastStep int64 // last accepted time step; codes are single-use
	Disabled     bool
	LockedAt     time.Time // zero unless locked after repeated failures
	CreatedAt    time.Time
	UpdatedAt    time.Time
	NoticeAckAt  time.Time // last acknowledgement of the system-use notice
	LastLoginAt  time.Time
}

// Locked reports whether the account is locked.
func (u *User) Locked() bool { return !u.LockedAt.IsZero() }

// NormalizeLogin returns the canonical form of a login: trimmed and
// lower-cased, so "Ana@Example.org" and "ana@example.org" are one account.
func NormalizeLogin(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Validate checks a user record before it is created.
func (u *User) Validate() error {
	u.Login = NormalizeLogin(u.Login)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if !u.Role.Valid() {
		return Invalidf("role", "unknown role %q", u.Role)
	}
	if u.Login == "" {
		return Invalidf("login", "an e-mail address is required")
	}
	if len(u.Login) > 254 {
		return Invalidf("login", "the login is longer than 254 characters")
	}
	if u.Role != RoleESP {
		addr, err := mail.ParseAddress(u.Login)
		if err != nil || addr.Address != u.Login {
			return Invalidf("login", "the e-mail address is not valid")
		}
	}
	if utf8.RuneCountInString(u.DisplayName) > 200 {
		return Invalidf("display_name", "the name is longer than 200 characters")
	}
	if u.Role.NeedsAgency() && u.AgencyID == "" {
		return Invalidf("agency", "a law-enforcement user must belong to an agency")
	}
	if !u.Role.NeedsAgency() && u.AgencyID != "" {
		return Invalidf("agency", "only law-enforcement users belong to an agency")
	}
	return nil
}
