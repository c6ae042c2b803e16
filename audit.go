package haven

import "time"

// AuditEvent is one entry of the append-only, hash-chained audit log.
// Chain, Seq, PrevHash and Hash are set by the audit log when the event is
// appended.
type AuditEvent struct {
	Chain      int // which of the independent hash chains holds the event
	Seq        int64
	ID         string
	At         time.Time // UTC, milliseconds
	Type       string    // e.g. "user.login", "evidence.read"
	ActorID    string
	ActorRole  Role
	AgencyID   string
	SourceAddr string
	ObjectType string
	ObjectID   string
	Outcome    Outcome
	Purpose    string // why evidence was viewed
	RequestID  string
	// Details holds extra, non-identifying facts as a flat map. Identifying
	// values (a login typed at the sign-in page, an e-mail address…) are
	// stored only as keyed hashes: see audit.Pseudonym.
	Details  map[string]string
	PrevHash string
	Hash     string
}

// Outcome says how an audited action ended.
type Outcome string

// The outcomes of an audited action.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeDenied  Outcome = "denied"
	OutcomeFailure Outcome = "failure"
)

// EvidenceItem is one unique sequence of bytes held encrypted in the vault.
// Identical bytes are stored once; each time they arrive, an Acquisition
// records the custody facts of that arrival.
type EvidenceItem struct {
	ID          string
	SHA256      []byte
	SHA1        []byte
	MD5         []byte
	Size        int64
	WrappedKey  []byte // nil once the item has been crypto-shredded
	CreatedAt   time.Time
	VerifiedAt  time.Time // last successful scrub or read-verification
	ShreddedAt  time.Time
	ShredReason string
	// IntegrityFailedAt is set when a read or scrub found the stored bytes
	// did not match; it stays set until an administrator clears it.
	IntegrityFailedAt time.Time
}

// Shredded reports whether the item's key has been destroyed.
func (e *EvidenceItem) Shredded() bool { return !e.ShreddedAt.IsZero() }

// Acquisition is the custody record of one arrival of evidence: who, when,
// from where, and the hashes computed as the bytes came in.
type Acquisition struct {
	ID          string
	ItemID      string
	AcquiredAt  time.Time
	ActorID     string
	Source      string // "esp", "public-form", "staff-upload", "cli"…
	Filename    string // as the client named it; never used as a path
	ContentType string
	Size        int64
	MD5         []byte
	SHA1        []byte
	SHA256      []byte
	// ContextType and ContextID link the acquisition to what it belongs to
	// (a report, a case…).
	ContextType string
	ContextID   string
}

// Session is a signed-in browser session. The token itself is never stored:
// only its SHA-256.
type Session struct {
	ID         string
	TokenHash  []byte
	UserID     string
	MFAAt      time.Time // zero while the second factor is pending
	AuthAt     time.Time // last time both factors were proven
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	RemoteAddr string
}

// APIToken is a bearer token for the JSON API, stored as its SHA-256.
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	TokenHash  []byte
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Enrolment is a one-time link that lets a new account set its password.
type Enrolment struct {
	TokenHash []byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}
