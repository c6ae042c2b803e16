// Package selfreport is the survivors' self-report by hash (PRODUCT.md
// P1, P5 and P9): a young person, a parent, or an adult about pictures
// taken when they were a minor, selects pictures or videos on their own
// device; the page hashes them there (Haven's own Go PDQ code compiled to
// WebAssembly, cmd/hashwasm) and sends only the hashes. Haven adds them
// to the self-reported hash bank, which participating online services
// poll (Feed), and gives the person a case number and a secret with
// which they may later add hashes, withdraw them, or change whether and
// how they are told of news.
//
// No picture ever reaches Haven through this package: it accepts digests
// and perceptual hashes only. The person's words (context) and contact
// are sealed with the installation's secret key; only the secret's
// SHA-256 is kept.
package selfreport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/vpdq"
)

// BankID is the ID of the self-reported hash bank; it is made on first use.
const BankID = "self-reported"

// Relations: who is reporting.
const (
	RelationMinor  = "minor"  // a young person, about pictures of themselves
	RelationParent = "parent" // a parent or guardian, about their child
	RelationAdult  = "adult"  // an adult, about pictures taken when they were a minor
)

// Relations lists the relations in the order the page offers them.
var Relations = []string{RelationMinor, RelationParent, RelationAdult}

// Notification choices.
const (
	NotifyNone    = "none"    // never contact me
	NotifyEmail   = "email"   // write to this address when something changes
	NotifyCounsel = "counsel" // contact my lawyer or representative
)

// NotifyChoices lists the choices in the order the page offers them.
var NotifyChoices = []string{NotifyNone, NotifyEmail, NotifyCounsel}

// Limits of a submission.
const (
	MaxFiles      = 100  // files per submission
	MaxCaseFiles  = 1000 // files per case
	MaxContext    = 2000 // characters of context
	MaxContact    = 300  // characters of a contact
	MaxVideoFrame = 3600 // sampled frames of one video (an hour at one a second)
)

// File is what the page computed for one file: its digests and, for a
// picture, its PDQ hash; for a video, the PDQ hashes of frames a second
// apart (vPDQ).
type File struct {
	MD5, SHA1 []byte
	PDQ       *pdq.Hash
	Quality   int
	Video     *vpdq.Video
}

// Submission is a new self-report.
type Submission struct {
	Relation string
	Context  string // optional words of the person, sealed
	Lang     string
	Files    []File
	Notify   string
	Contact  string // an email address or the counsel's details, sealed
}

// Receipt is what the person keeps: the case number and the secret,
// shown once.
type Receipt struct {
	Number string
	Secret string
	Added  int // hashes added to the bank
}

// Case is what the person sees of their case with its number and secret.
type Case struct {
	Number    string
	Relation  string
	CreatedAt time.Time
	Withdrawn bool
	Notify    string
	Contact   string
	Hashes    []CaseHash
	// News is what happened since, newest first: never which report.
	News []CaseNews
}

// CaseNews is a piece of news as the person sees it.
type CaseNews struct {
	Kind string
	At   time.Time
	Sent bool // the hotline has passed it on by the contact chosen
}

// CaseHash is one hash of a case.
type CaseHash struct {
	Algo  haven.HashAlgo
	Value string // hexadecimal; for vPDQ, the number of frames
	Live  bool
}

// ErrDenied is the one answer to a wrong case number or secret.
var ErrDenied = &haven.Error{Kind: haven.KindInvalid, Field: "secret",
	Message: "The case number and secret do not match. Check both and try again."}

// ErrWithdrawn is returned for a change to a withdrawn case.
var ErrWithdrawn = &haven.Error{Kind: haven.KindConflict, Message: "This case was withdrawn; start a new one to add pictures."}

// Service keeps self-reports.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	hashes  *hashmatch.Service
	secrets *secret.Set
	clock   haven.Clock
	log     *slog.Logger
}

// New returns the service.
func New(s *store.Store, l *audit.Log, h *hashmatch.Service, sec *secret.Set, clock haven.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: l, hashes: h, secrets: sec, clock: clock, log: log}
}

// ensureBank makes the self-reported bank on first use.
func (s *Service) ensureBank(ctx context.Context, tx *store.Tx) error {
	_, err := tx.HashBank(ctx, BankID)
	if !haven.IsKind(err, haven.KindNotFound) {
		return err
	}
	now := s.clock.Now()
	return tx.CreateHashBank(ctx, &haven.HashBank{ID: BankID, Name: "Self-reported by survivors", Source: "self-report",
		Description: "Hashes that survivors (or their parents) computed on their own device and sent through /self-report. " +
			"Participating online services poll them through GET /api/v1/self-report/hashes.",
		PDQThreshold: haven.DefaultPDQThreshold, Enabled: true, CreatedAt: now, UpdatedAt: now})
}

// check validates the person's part of a submission.
func check(sub *Submission) error {
	switch sub.Relation {
	case RelationMinor, RelationParent, RelationAdult:
	default:
		return haven.Invalidf("relation", "choose who you are")
	}
	if err := checkFiles(sub.Files, MaxFiles); err != nil {
		return err
	}
	sub.Context = strings.TrimSpace(sub.Context)
	if !utf8.ValidString(sub.Context) || utf8.RuneCountInString(sub.Context) > MaxContext {
		return haven.Invalidf("context", "keep it under %d characters", MaxContext)
	}
	return checkNotify(&sub.Notify, &sub.Contact)
}

func checkFiles(files []File, max int) error {
	if len(files) == 0 {
		return haven.Invalidf("hashes", "choose at least one picture or video")
	}
	if len(files) > max {
		return haven.Invalidf("hashes", "send at most %d files at a time", max)
	}
	for _, f := range files {
		if len(f.MD5) != 16 || (f.SHA1 != nil && len(f.SHA1) != 20) {
			return haven.Invalidf("hashes", "a file's digests are not valid")
		}
		if f.Video != nil && (len(f.Video.Frames) == 0 || len(f.Video.Frames) > MaxVideoFrame) {
			return haven.Invalidf("hashes", "a video's hash has no frames or too many")
		}
	}
	return nil
}

func checkNotify(notify, contact *string) error {
	*contact = strings.TrimSpace(*contact)
	switch *notify {
	case "", NotifyNone:
		*notify, *contact = NotifyNone, ""
	case NotifyEmail:
		if at := strings.LastIndexByte(*contact, '@'); at < 1 || at == len(*contact)-1 || strings.ContainsAny(*contact, " \t\r\n<>") ||
			len(*contact) > MaxContact {
			return haven.Invalidf("contact", "give an email address we may write to")
		}
	case NotifyCounsel:
		if *contact == "" || !utf8.ValidString(*contact) || utf8.RuneCountInString(*contact) > MaxContact {
			return haven.Invalidf("contact", "give your lawyer's or representative's name and how to reach them (at most %d characters)", MaxContact)
		}
	default:
		return haven.Invalidf("notify", "choose how we may tell you of news")
	}
	return nil
}

// Submit files a new self-report: the hashes go into the self-reported
// bank, and the receipt carries the case number and the secret.
func (s *Service) Submit(ctx context.Context, a haven.Actor, sub Submission) (*Receipt, error) {
	if err := check(&sub); err != nil {
		return nil, err
	}
	number, secretText, err := newCredentials()
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	sum := sha256.Sum256([]byte(normalize(secretText)))
	r := &store.SelfReport{ID: haven.NewID(), Number: number, SecretHash: sum[:], Relation: sub.Relation, Lang: sub.Lang,
		Notify: sub.Notify, CreatedAt: now, UpdatedAt: now}
	if sub.Context != "" {
		if r.ContextSealed, err = s.secrets.Seal([]byte(sub.Context), "selfreport-context:"+r.ID); err != nil {
			return nil, err
		}
	}
	if sub.Contact != "" {
		if r.ContactSealed, err = s.secrets.Seal([]byte(sub.Contact), "selfreport-contact:"+r.ID); err != nil {
			return nil, err
		}
	}
	added := 0
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.ensureBank(ctx, tx); err != nil {
			return err
		}
		if err := tx.CreateSelfReport(ctx, r); err != nil {
			return err
		}
		if added, err = s.put(ctx, tx, r.ID, sub.Files); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.submit", ObjectType: "self_report", ObjectID: r.ID,
			Details: map[string]string{"files": strconv.Itoa(len(sub.Files)), "hashes": strconv.Itoa(added), "relation": sub.Relation,
				"notify": sub.Notify}})
	})
	if err != nil {
		return nil, fmt.Errorf("self-report: %w", err)
	}
	s.follow(ctx)
	return &Receipt{Number: number, Secret: secretText, Added: added}, nil
}

// put adds the files' hashes to the bank and links them to the case.
func (s *Service) put(ctx context.Context, tx *store.Tx, reportID string, files []File) (int, error) {
	now := s.clock.Now()
	n := 0
	add := func(algo haven.HashAlgo, v []byte) error {
		e := &haven.HashEntry{BankID: BankID, Algo: algo, Value: v, Provenance: "self-report", AddedBy: "self-report",
			AddedAt: now, Enabled: true}
		if _, err := tx.PutHashEntry(ctx, e); err != nil {
			return err
		}
		n++
		return tx.AddSelfReportHash(ctx, reportID, e.ID, now)
	}
	for _, f := range files {
		if err := add(haven.AlgoMD5, f.MD5); err != nil {
			return 0, err
		}
		if f.SHA1 != nil {
			if err := add(haven.AlgoSHA1, f.SHA1); err != nil {
				return 0, err
			}
		}
		if f.PDQ != nil {
			if err := add(haven.AlgoPDQ, f.PDQ[:]); err != nil {
				return 0, err
			}
		}
		if f.Video != nil {
			b, err := f.Video.MarshalBinary()
			if err != nil {
				return 0, err
			}
			if err := add(haven.AlgoVPDQ, b); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// follow brings this instance's match index up to date; the others
// follow the change sequence on their own.
func (s *Service) follow(ctx context.Context) {
	if s.hashes == nil {
		return
	}
	if _, err := s.hashes.Follow(ctx); err != nil {
		s.log.Warn("match index follow after a self-report failed", "err", err)
	}
}

// open checks a case number and secret in tx and returns the case.
func (s *Service) open(ctx context.Context, tx *store.Tx, number, secretText string) (*store.SelfReport, error) {
	number = strings.ToUpper(strings.TrimSpace(number))
	if number == "" || len(number) > 40 || len(secretText) > 100 {
		return nil, ErrDenied
	}
	r, err := tx.SelfReportByNumber(ctx, number)
	if haven.IsKind(err, haven.KindNotFound) {
		return nil, ErrDenied
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(normalize(secretText)))
	if subtle.ConstantTimeCompare(sum[:], r.SecretHash) != 1 {
		return nil, ErrDenied
	}
	return r, nil
}

// Open returns a case for its holder. The view is audited.
func (s *Service) Open(ctx context.Context, a haven.Actor, number, secretText string) (*Case, error) {
	var c *Case
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.open(ctx, tx, number, secretText)
		if err != nil {
			return err
		}
		c = &Case{Number: r.Number, Relation: r.Relation, CreatedAt: r.CreatedAt, Withdrawn: !r.WithdrawnAt.IsZero(), Notify: r.Notify}
		if r.ContactSealed != nil {
			plain, err := s.secrets.Open(r.ContactSealed, "selfreport-contact:"+r.ID)
			if err != nil {
				return err
			}
			c.Contact = string(plain)
		}
		ids, err := tx.SelfReportEntries(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			e, err := tx.HashEntry(ctx, id)
			if err != nil {
				return err
			}
			h := CaseHash{Algo: e.Algo, Value: hex.EncodeToString(e.Value), Live: e.Live() && !c.Withdrawn}
			if e.Algo == haven.AlgoVPDQ {
				var v vpdq.Video
				if err := v.UnmarshalBinary(e.Value); err == nil {
					h.Value = fmt.Sprintf("%d frames", len(v.Frames))
				}
			}
			c.Hashes = append(c.Hashes, h)
		}
		news, err := tx.SelfReportNewsOf(ctx, r.ID)
		if err != nil {
			return err
		}
		for _, n := range news {
			c.News = append(c.News, CaseNews{Kind: n.Kind, At: n.CreatedAt, Sent: !n.SentAt.IsZero()})
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.view", ObjectType: "self_report", ObjectID: r.ID})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Add adds more files' hashes to a case.
func (s *Service) Add(ctx context.Context, a haven.Actor, number, secretText string, files []File) (int, error) {
	if err := checkFiles(files, MaxFiles); err != nil {
		return 0, err
	}
	added := 0
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.open(ctx, tx, number, secretText)
		if err != nil {
			return err
		}
		if !r.WithdrawnAt.IsZero() {
			return ErrWithdrawn
		}
		ids, err := tx.SelfReportEntries(ctx, r.ID)
		if err != nil {
			return err
		}
		if len(ids)+len(files)*2 > MaxCaseFiles*2 {
			return haven.Invalidf("hashes", "a case holds at most %d files; start a new case for more", MaxCaseFiles)
		}
		if added, err = s.put(ctx, tx, r.ID, files); err != nil {
			return err
		}
		r.UpdatedAt = s.clock.Now()
		if err := tx.UpdateSelfReport(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.add", ObjectType: "self_report", ObjectID: r.ID,
			Details: map[string]string{"files": strconv.Itoa(len(files)), "hashes": strconv.Itoa(added)}})
	})
	if err != nil {
		return 0, err
	}
	s.follow(ctx)
	return added, nil
}

// Withdraw withdraws a case: its hashes leave the bank, except those
// another open case also holds.
func (s *Service) Withdraw(ctx context.Context, a haven.Actor, number, secretText string) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.open(ctx, tx, number, secretText)
		if err != nil {
			return err
		}
		if !r.WithdrawnAt.IsZero() {
			return nil
		}
		ids, err := tx.SelfReportEntries(ctx, r.ID)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		removed := 0
		for _, id := range ids {
			shared, err := tx.SelfReportEntryShared(ctx, id, r.ID)
			if err != nil {
				return err
			}
			if shared {
				continue
			}
			if _, err := tx.SetHashEntryState(ctx, id, false, now); err != nil {
				return err
			}
			removed++
		}
		r.WithdrawnAt, r.UpdatedAt = now, now
		if err := tx.UpdateSelfReport(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.withdraw", ObjectType: "self_report", ObjectID: r.ID,
			Details: map[string]string{"removed": strconv.Itoa(removed)}})
	})
	if err != nil {
		return err
	}
	s.follow(ctx)
	return nil
}

// SetNotify changes whether and how the person is told of news. The
// change is audited (the choice, never the contact).
func (s *Service) SetNotify(ctx context.Context, a haven.Actor, number, secretText, notify, contact string) error {
	if err := checkNotify(&notify, &contact); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.open(ctx, tx, number, secretText)
		if err != nil {
			return err
		}
		before := r.Notify
		r.Notify, r.ContactSealed, r.UpdatedAt = notify, nil, s.clock.Now()
		if contact != "" {
			if r.ContactSealed, err = s.secrets.Seal([]byte(contact), "selfreport-contact:"+r.ID); err != nil {
				return err
			}
		}
		if err := tx.UpdateSelfReport(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.notify_change", ObjectType: "self_report", ObjectID: r.ID,
			Details: map[string]string{"from": before, "to": notify}})
	})
}

// FeedEntry is one change of the self-reported bank as an online service
// sees it: the hash, never anything about the person.
type FeedEntry struct {
	Change int64          `json:"change"`
	ID     int64          `json:"id"`
	Algo   haven.HashAlgo `json:"algo"`
	Value  string         `json:"value"` // hexadecimal; vPDQ in the reference text form
	Live   bool           `json:"live"`  // false: withdrawn, remove it
}

// Feed is a page of changes after a change number.
type Feed struct {
	Entries []FeedEntry `json:"entries"`
	// Next is the change number to ask after next time.
	Next int64 `json:"next"`
	More bool  `json:"more"`
}

// MaxFeed is the largest page of the feed.
const MaxFeed = 5000

// Feed returns the self-reported bank's changes after a change number,
// for online services that take the hashes down on their platforms. It
// needs the match permission; each poll is audited.
func (s *Service) Feed(ctx context.Context, a haven.Actor, after int64, limit int) (*Feed, error) {
	if !a.Can(haven.PermMatchAPI) {
		return nil, haven.ErrForbidden
	}
	if limit <= 0 || limit > MaxFeed {
		limit = MaxFeed
	}
	f := &Feed{Next: after, Entries: []FeedEntry{}}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		es, err := tx.HashEntriesOfBankChangedSince(ctx, BankID, after, limit+1)
		if err != nil {
			return err
		}
		if len(es) > limit {
			es, f.More = es[:limit], true
		}
		for _, e := range es {
			fe := FeedEntry{Change: e.ChangeSeq, ID: e.ID, Algo: e.Algo, Value: hex.EncodeToString(e.Value), Live: e.Live()}
			if e.Algo == haven.AlgoVPDQ {
				var v vpdq.Video
				if err := v.UnmarshalBinary(e.Value); err == nil {
					t, _ := v.MarshalText()
					fe.Value = string(t)
				}
			}
			f.Entries = append(f.Entries, fe)
			f.Next = e.ChangeSeq
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.feed", ObjectType: "hash_bank", ObjectID: BankID,
			Details: map[string]string{"after": strconv.FormatInt(after, 10), "entries": strconv.Itoa(len(f.Entries))}})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Counts returns how many self-reports there are and how many were
// withdrawn, for statistics.
func (s *Service) Counts(ctx context.Context) (total, withdrawn int64, err error) {
	err = s.store.View(ctx, func(tx *store.Tx) error {
		total, withdrawn, err = tx.CountSelfReports(ctx)
		return err
	})
	return total, withdrawn, err
}

// newCredentials makes a case number (8 characters) and a secret (26
// characters, 130 bits) from crypto/rand.Text: letters A–Z and digits 2–7,
// so 0/O and 1/I cannot be confused.
func newCredentials() (number, secretText string, err error) {
	return "SR-" + dash(rand.Text()[:8], 4), dash(rand.Text(), 5), nil
}

// dash writes s in groups of n separated by dashes.
func dash(s string, n int) string {
	var sb strings.Builder
	for i, c := range s {
		if i > 0 && i%n == 0 {
			sb.WriteByte('-')
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

// normalize forgives case, spaces and dashes in a typed secret.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
