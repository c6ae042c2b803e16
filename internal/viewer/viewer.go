package viewer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
)

// Defaults of Options.
const (
	DefaultDailyBudget = 5 * time.Hour
	DefaultBreakAfter  = 60 * time.Minute
	DefaultBreakLength = 10 * time.Minute
	DefaultGrantTTL    = 10 * time.Minute
	// MaxReason is the longest reveal reason, in characters.
	MaxReason = 500
)

// Options configure the viewer.
type Options struct {
	// LegalGate withholds files the ESP did not view (and that were not
	// publicly available) until a legal authority is recorded. US
	// deployments should enable it (see the package documentation).
	LegalGate bool
	// DailyBudget is how much revealed-media time a person may have in a
	// UTC day; default DefaultDailyBudget.
	DailyBudget time.Duration
	// BreakAfter is how much revealed-media time without a break makes a
	// break due; default DefaultBreakAfter.
	BreakAfter time.Duration
	// BreakLength is how long a break lasts; default DefaultBreakLength.
	BreakLength time.Duration
	// GrantTTL is how long a reveal lets the original be fetched; default
	// DefaultGrantTTL.
	GrantTTL time.Duration
	// Decode limits the images decoded for renditions.
	Decode pdq.DecodeOptions
	// Video configures the making of video strips.
	Video VideoOptions
	// Workers bounds how many renditions are made at once (default 2).
	Workers int
}

func (o Options) withDefaults() Options {
	if o.DailyBudget <= 0 {
		o.DailyBudget = DefaultDailyBudget
	}
	if o.BreakAfter <= 0 {
		o.BreakAfter = DefaultBreakAfter
	}
	if o.BreakLength <= 0 {
		o.BreakLength = DefaultBreakLength
	}
	if o.GrantTTL <= 0 {
		o.GrantTTL = DefaultGrantTTL
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	return o
}

// AgencyAccess reports whether a report was referred to an agency, so
// that the agency's users may see its files.
type AgencyAccess func(ctx context.Context, agencyID string, reportID int64) (bool, error)

// Matcher looks hashes up in the hash banks (hashmatch.Service).
type Matcher interface {
	Match(ctx context.Context, q hashmatch.Query) (*hashmatch.Outcome, error)
}

// Service is the safe viewer.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	custody *custody.Service
	jobs    jobs.Enqueuer
	clock   haven.Clock
	log     *slog.Logger
	opt     Options
	sem     chan struct{}

	mu       sync.Mutex
	canSee   AgencyAccess
	matcher  Matcher
	inflight map[string]*flight
}

// flight is a rendition being made, which other requests for the same
// file wait for.
type flight struct {
	done chan struct{}
	r    *store.Rendition
	err  error
}

// New returns the viewer. j queues rendition jobs (nil where none are
// started). Until SetAgencyAccess is called, law-enforcement users see no
// file.
func New(s *store.Store, l *audit.Log, c *custody.Service, j jobs.Enqueuer, clock haven.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opt = opt.withDefaults()
	return &Service{store: s, audit: l, custody: c, jobs: j, clock: clock, log: log, opt: opt,
		sem: make(chan struct{}, opt.Workers), inflight: map[string]*flight{}}
}

// SetAgencyAccess sets how the viewer learns whether a report was
// referred to an agency (the referral service). nil answers "no".
func (s *Service) SetAgencyAccess(f AgencyAccess) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.canSee = f
}

// SetMatcher sets the hash matcher consulted, besides the matches already
// recorded on a file, before anything of a file is shown.
func (s *Service) SetMatcher(m Matcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.matcher = m
}

// Options returns the viewer's settings.
func (s *Service) Options() Options { return s.opt }

// State says what the viewer may show of a file.
type State string

// The states of a file in the viewer.
const (
	// StateViewable: a rendition is shown and the original can be revealed.
	StateViewable State = "viewable"
	// StateKnown: the file matched known material and was classified
	// automatically; nothing of it is shown (SECURITY.md 33).
	StateKnown State = "known"
	// StateGated: the legal gate holds the file until a legal authority
	// is recorded.
	StateGated State = "gated"
	// StateUnreadable: not an image or video the viewer can read.
	StateUnreadable State = "unreadable"
	// StateDestroyed: the original was destroyed; nothing derived from it
	// is shown either.
	StateDestroyed State = "destroyed"
)

// Classification is a bank match of a file, as the viewer shows it.
type Classification struct {
	Bank      string
	Scheme    string
	Code      string
	SeriesID  string
	Viral     bool
	Algo      haven.HashAlgo
	Distance  int
	Confirmed bool // a person confirmed the perceptual match
}

// FileView is what the viewer page of a file shows.
type FileView struct {
	File *haven.ReportFile
	// Base is the path of the file's viewer routes, under /app or /le.
	Base  string
	State State
	// Known lists the matches that classified the file; Pending the
	// perceptual matches still awaiting a person's confirmation.
	Known, Pending []Classification
	// Gated is set when the legal gate applies to the file (whether or
	// not an authority opened it since); Authorities are those recorded.
	Gated       bool
	Authorities []*store.LegalAuthority
	Rendition   *store.Rendition
	// Grant is the viewer's live reveal grant of this file, if any.
	Grant *store.RevealGrant
	Meter *Meter
	// Problem says why no rendition could be made just now.
	Problem string
}

// Video reports whether the file is shown as a video.
func (v *FileView) Video() bool {
	return v.Rendition != nil && v.Rendition.Kind == store.RenditionVideo
}

// Path returns the URL path of one of the file's viewer routes.
func (v *FileView) Path(action string) string { return v.Base + "/" + action }

// base returns where a file's viewer routes are for the actor.
func base(a haven.Actor, reportID int64, fileID string) string {
	prefix := "/app"
	if a.Role == haven.RoleLE {
		prefix = "/le"
	}
	return fmt.Sprintf("%s/reports/%d/files/%s", prefix, reportID, fileID)
}

func ref(id int64) string { return strconv.FormatInt(id, 10) }

// mayReach checks, before any record is read, that the actor may reach a
// report's files: staff with the permission, or users of an agency the
// report was referred to. Anyone else gets the same ErrNotFound as for a
// file that does not exist, and the refusal is audited.
func (s *Service) mayReach(ctx context.Context, a haven.Actor, perm haven.Permission, reportID int64, fileID string) error {
	if !a.Can(perm) {
		return haven.ErrNotFound
	}
	if a.System || a.Role != haven.RoleLE {
		return nil
	}
	s.mu.Lock()
	canSee := s.canSee
	s.mu.Unlock()
	ok := false
	if canSee != nil && a.AgencyID != "" {
		var err error
		if ok, err = canSee(ctx, a.AgencyID, reportID); err != nil {
			return fmt.Errorf("check referral: %w", err)
		}
	}
	if ok {
		return nil
	}
	return s.denied(ctx, a, reportID, fileID)
}

// denied audits a refused access and returns ErrNotFound.
func (s *Service) denied(ctx context.Context, a haven.Actor, reportID int64, fileID string) error {
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.access", ObjectType: "report_file", ObjectID: fileID,
			Outcome: haven.OutcomeDenied, Details: map[string]string{"report": ref(reportID)}})
	})
	if err != nil {
		return err
	}
	return haven.ErrNotFound
}

// facts is what decides a file's state.
type facts struct {
	file        *haven.ReportFile
	known       []Classification
	pending     []Classification
	gated       bool
	authorities []*store.LegalAuthority
	destroyed   bool
}

func (f *facts) state() State {
	switch {
	case f.destroyed:
		return StateDestroyed
	case len(f.known) > 0:
		return StateKnown
	case f.gated && len(f.authorities) == 0:
		return StateGated
	}
	return StateViewable
}

// load reads a file and what decides its state inside tx; live holds the
// matches the banks give for the file's exact hashes now.
func (s *Service) load(ctx context.Context, tx *store.Tx, reportID int64, fileID string, live []Classification) (*facts, error) {
	f, err := tx.FileOfReport(ctx, reportID, fileID)
	if err != nil {
		return nil, err
	}
	fc := &facts{file: f, gated: s.Gated(f)}
	it, err := tx.EvidenceItem(ctx, f.ItemID)
	if err != nil {
		return nil, err
	}
	fc.destroyed = it.Shredded()
	ms, err := tx.FileMatches(ctx, reportID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.FileID != fileID {
			continue
		}
		e, err := tx.HashEntry(ctx, m.EntryID)
		if err != nil {
			return nil, err
		}
		b, err := tx.HashBank(ctx, e.BankID)
		if err != nil {
			return nil, err
		}
		if !e.Live() || b.Negative {
			continue // withdrawn, or a known false positive
		}
		c := Classification{Bank: b.Name, Scheme: e.Classification.Scheme, Code: e.Classification.Code, SeriesID: e.SeriesID,
			Viral: e.Viral, Algo: m.Algo, Distance: m.Distance, Confirmed: m.ConfirmedBy != ""}
		if m.Algo.Perceptual() && !c.Confirmed {
			fc.pending = append(fc.pending, c)
		} else {
			fc.known = append(fc.known, c)
		}
	}
	if len(fc.known) == 0 {
		fc.known = live
	}
	if fc.gated {
		if fc.authorities, err = tx.LegalAuthorities(ctx, reportID, fileID); err != nil {
			return nil, err
		}
	}
	return fc, nil
}

// liveMatches asks the banks about a file's exact hashes, so that a file
// matching known material is withheld even before its matching job has
// recorded the match.
func (s *Service) liveMatches(ctx context.Context, reportID int64, fileID string) ([]Classification, error) {
	s.mu.Lock()
	m := s.matcher
	s.mu.Unlock()
	if m == nil {
		return nil, nil
	}
	var f *haven.ReportFile
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		f, err = tx.FileOfReport(ctx, reportID, fileID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := m.Match(ctx, hashmatch.Query{MD5: f.MD5, SHA1: f.SHA1, SHA256: f.SHA256})
	if err != nil {
		return nil, fmt.Errorf("match file hashes: %w", err)
	}
	var cs []Classification
	for _, r := range out.Matches {
		if r.Algo.Perceptual() || r.Bank == nil || r.Bank.Negative {
			continue
		}
		cs = append(cs, Classification{Bank: r.Bank.Name, Scheme: r.Entry.Classification.Scheme, Code: r.Entry.Classification.Code,
			SeriesID: r.Entry.SeriesID, Viral: r.Entry.Viral, Algo: r.Algo})
	}
	return cs, nil
}

// Gated reports whether the legal gate applies to a file: the deployment
// enables it, and the ESP said explicitly that it did not view the file
// and did not say it was publicly available.
func (s *Service) Gated(f *haven.ReportFile) bool {
	if !s.opt.LegalGate || f.Details == nil || f.Details.ViewedByESP == nil || *f.Details.ViewedByESP {
		return false
	}
	return f.Details.PubliclyAvailable == nil || !*f.Details.PubliclyAvailable
}

// File returns what the viewer page of a file shows, making the file's
// rendition first if it has none yet. The view is audited.
func (s *Service) File(ctx context.Context, a haven.Actor, reportID int64, fileID string) (*FileView, error) {
	if err := s.mayReach(ctx, a, haven.PermViewRendition, reportID, fileID); err != nil {
		return nil, err
	}
	live, err := s.liveMatches(ctx, reportID, fileID)
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	now := s.clock.Now()
	v := &FileView{Base: base(a, reportID, fileID)}
	var fc *facts
	err = s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if fc, err = s.load(ctx, tx, reportID, fileID, live); err != nil {
			return err
		}
		if a.UserID != "" {
			v.Grant, err = tx.LiveRevealGrant(ctx, a.UserID, a.SessionID, fileID, now)
			if err != nil && !haven.IsKind(err, haven.KindNotFound) {
				return err
			}
		}
		if v.Rendition, err = tx.Rendition(ctx, fileID); err != nil && !haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.view", ObjectType: "report_file", ObjectID: fileID,
			Details: map[string]string{"report": ref(reportID), "state": string(fc.state())}})
	})
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	v.File, v.Known, v.Pending, v.Gated, v.Authorities, v.State = fc.file, fc.known, fc.pending, fc.gated, fc.authorities, fc.state()
	if v.State != StateViewable {
		v.Rendition, v.Grant = nil, nil
	} else {
		if v.Rendition == nil {
			if v.Rendition, err = s.ensureRendition(ctx, fc.file); err != nil {
				v.Problem = "The blurred rendition could not be made just now. Reload the page to try again."
				if errors.Is(err, ErrReportOpen) {
					v.Problem = ErrReportOpen.Message
				} else {
					s.log.Warn("no rendition made", "file", fileID, "err", err)
				}
			}
		}
		if v.Rendition != nil && v.Rendition.Kind == store.RenditionNone {
			v.State, v.Grant = StateUnreadable, nil
		}
	}
	if a.Can(haven.PermReveal) && a.UserID != "" {
		if v.Meter, err = s.Meter(ctx, a); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// notFoundFor audits a law-enforcement user's attempt on a missing file
// as a denial, like one on a file of a report not referred to them, so
// that the two cannot be told apart; other errors pass through.
func (s *Service) notFoundFor(ctx context.Context, a haven.Actor, reportID int64, fileID string, err error) error {
	if haven.IsKind(err, haven.KindNotFound) && a.Role == haven.RoleLE && !a.System {
		return s.denied(ctx, a, reportID, fileID)
	}
	return err
}

// Rendition returns the rendition of a file for display, making it if
// needed. Files that matched known material or wait behind the legal gate
// have none. The read is audited.
func (s *Service) Rendition(ctx context.Context, a haven.Actor, reportID int64, fileID string) (io.ReadCloser, *store.Rendition, error) {
	if err := s.mayReach(ctx, a, haven.PermViewRendition, reportID, fileID); err != nil {
		return nil, nil, err
	}
	live, err := s.liveMatches(ctx, reportID, fileID)
	if err != nil {
		return nil, nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	var fc *facts
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		fc, err = s.load(ctx, tx, reportID, fileID, live)
		return err
	})
	if err != nil {
		return nil, nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	if st := fc.state(); st != StateViewable {
		return nil, nil, withheld(st)
	}
	r, err := s.ensureRendition(ctx, fc.file)
	if err != nil {
		return nil, nil, err
	}
	if r.Kind == store.RenditionNone {
		return nil, nil, withheld(StateUnreadable)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.rendition", ObjectType: "report_file", ObjectID: fileID,
			Details: map[string]string{"report": ref(reportID), "item": r.ItemID}})
	})
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.open(ctx, a, r.ItemID, "showing the blurred rendition of a report file")
	if err != nil {
		return nil, nil, err
	}
	return rc, r, nil
}

// withheld is the error for content the viewer does not show.
func withheld(st State) error {
	msg := "This file has no rendition."
	switch st {
	case StateKnown:
		msg = "This file matched known material and was classified automatically: it is not shown again."
	case StateGated:
		msg = "This file is behind the legal gate: it is not shown until a legal authority is recorded."
	case StateUnreadable:
		msg = "This file is not an image or video the viewer can show."
	case StateDestroyed:
		msg = "This file was destroyed: nothing of it can be shown."
	}
	return &haven.Error{Kind: haven.KindConflict, Message: msg}
}

// open opens a custody item for the actor, or — for actors who do not
// read evidence themselves (agency users) — for the viewer on their
// behalf; either way custody audits the read with its purpose.
func (s *Service) open(ctx context.Context, a haven.Actor, itemID, purpose string) (io.ReadCloser, error) {
	if a.Can(haven.PermEvidenceRead) {
		return s.custody.Open(ctx, a, itemID, purpose)
	}
	return s.custody.Open(ctx, haven.SystemActor("viewer"), itemID, purpose+" to user "+a.UserID)
}

// ensureRendition returns a file's rendition, making it if there is none.
// Requests for the same file wait for one making; at most Options.Workers
// renditions are made at once.
func (s *Service) ensureRendition(ctx context.Context, f *haven.ReportFile) (*store.Rendition, error) {
	var r *store.Rendition
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		r, err = tx.Rendition(ctx, f.ID)
		return err
	})
	if err == nil || !haven.IsKind(err, haven.KindNotFound) {
		return r, err
	}
	s.mu.Lock()
	if fl := s.inflight[f.ID]; fl != nil {
		s.mu.Unlock()
		select {
		case <-fl.done:
			return fl.r, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	s.inflight[f.ID] = fl
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, f.ID)
		s.mu.Unlock()
		close(fl.done)
	}()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		fl.err = ctx.Err()
		return nil, fl.err
	}
	defer func() { <-s.sem }()
	fl.r, fl.err = s.makeRendition(ctx, f)
	return fl.r, fl.err
}

// ErrReportOpen is returned for a rendition of a file whose report is
// still open.
var ErrReportOpen = &haven.Error{Kind: haven.KindConflict, Message: "The report is still open: its files are shown once it is filed."}

// makeRendition decrypts a file (never to a disk), makes its rendition
// and stores it, encrypted, as a custody item linked to the file.
func (s *Service) makeRendition(ctx context.Context, f *haven.ReportFile) (*store.Rendition, error) {
	// Nothing is derived from the files of a report still open: its
	// submitter may retract it, and intake then destroys its files, which
	// must leave no rendition behind.
	var status haven.ReportStatus
	err := s.store.View(ctx, func(tx *store.Tx) error {
		r, err := tx.Report(ctx, f.ReportID, false)
		if err == nil {
			status = r.Status
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if status == haven.ReportOpen {
		return nil, ErrReportOpen
	}
	sys := haven.SystemActor("viewer")
	open := func() (io.ReadCloser, error) {
		return s.custody.Open(ctx, sys, f.ItemID, "making the blurred rendition of a report file")
	}
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 4096)
	head, _ := br.Peek(512)
	now := s.clock.Now()
	r := &store.Rendition{FileID: f.ID, MadeAt: now}
	var out []byte
	if hashmatch.IsVideo(head, f.ContentType, f.Filename) {
		g, n, verr := VideoStrip(ctx, br, f.Size, open, s.opt.Video)
		switch {
		case verr == nil:
			r.Kind, r.Frames = store.RenditionVideo, n
			r.Width, r.Height = g.Rect.Dx(), g.Rect.Dy()
			if out, err = encodePNG(g); err != nil {
				return nil, err
			}
		case ctx.Err() != nil || errors.Is(verr, errNoFFmpeg):
			return nil, verr // worth another try later
		default:
			s.log.Warn("video strip not made", "file", f.ID, "err", verr)
			r.Kind, r.Note = store.RenditionNone, "The video could not be read."
		}
	} else {
		img, _, derr := pdq.Decode(br, s.opt.Decode)
		switch {
		case derr == nil:
			g := SafeImage(img)
			r.Kind, r.Width, r.Height = store.RenditionImage, g.Rect.Dx(), g.Rect.Dy()
			if out, err = encodePNG(g); err != nil {
				return nil, err
			}
		case errors.Is(derr, pdq.ErrTooLarge):
			r.Kind, r.Note = store.RenditionNone, "The image is larger than the viewer decodes."
		case errors.Is(derr, pdq.ErrUnsupportedFormat):
			r.Kind, r.Note = store.RenditionNone, "The file is not an image or video the viewer can read."
		default:
			r.Kind, r.Note = store.RenditionNone, "The image could not be decoded."
		}
	}
	if r.Kind == store.RenditionNone {
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.PutRendition(ctx, r); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "media.rendition_make", ObjectType: "report_file", ObjectID: f.ID,
				Outcome: haven.OutcomeFailure, Details: map[string]string{"report": ref(f.ReportID), "note": r.Note}})
		})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	r.ContentType = "image/png"
	_, err = s.custody.AcquireThen(ctx, sys, bytes.NewReader(out), custody.Source{Kind: "rendition", Filename: "rendition-" + f.ID + ".png",
		ContentType: r.ContentType, ContextType: "report_file", ContextID: f.ID},
		func(tx *store.Tx, acq *haven.Acquisition) error {
			r.ItemID = acq.ItemID
			if err := tx.PutRendition(ctx, r); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "media.rendition_make", ObjectType: "report_file", ObjectID: f.ID,
				Details: map[string]string{"report": ref(f.ReportID), "item": acq.ItemID, "kind": string(r.Kind),
					"frames": strconv.Itoa(r.Frames)}})
		})
	if err != nil {
		return nil, fmt.Errorf("store rendition: %w", err)
	}
	return r, nil
}

// Refusal is a reveal the viewer refused for the analyst's wellbeing or
// by rule: the daily budget is spent, a break is due, the legal gate
// holds the file, or it is known material. The page explains it kindly.
type Refusal struct {
	Why   string // "budget", "break", "legal_gate", "known", "unreadable"
	Until time.Time
	Meter *Meter
}

// Error implements error.
func (r *Refusal) Error() string { return "reveal refused: " + r.Why }

// Unwrap gives the safe message, of kind haven.KindConflict.
func (r *Refusal) Unwrap() error {
	return &haven.Error{Kind: haven.KindConflict, Message: r.Message()}
}

// Message says, kindly, why the reveal was refused.
func (r *Refusal) Message() string {
	switch r.Why {
	case "budget":
		return "You have reached today's limit of revealed media. That limit protects you: please leave originals for today. The blurred renditions stay available."
	case "break":
		return "You have looked at revealed media for a long stretch. Please take a break away from the screen before revealing another original."
	case "legal_gate":
		return "This file is behind the legal gate: the service that reported it did not view it, so it cannot be opened until a legal authority is recorded."
	case "known":
		return "This file matched known material and was classified automatically: there is no need for anyone to look at it again."
	}
	return "This file is not an image or video the viewer can show."
}

// CleanReason checks a reveal reason: required, at most MaxReason
// characters, without control characters.
func CleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(strings.ToValidUTF8(reason, "\uFFFD"))
	reason = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, reason)
	if reason == "" {
		return "", haven.Invalidf("reason", "Say why you need to see the original.")
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return "", haven.Invalidf("reason", "Keep the reason under %d characters.", MaxReason)
	}
	return reason, nil
}

// Reveal grants the actor a short-lived sight of a file's original, for
// a reason that is audited, and starts metering their exposure. It needs
// a sign-in within the last five minutes (SECURITY.md 11). A refusal
// (known material, legal gate, budget spent, break due) is a *Refusal,
// audited too.
func (s *Service) Reveal(ctx context.Context, a haven.Actor, reportID int64, fileID, reason string) (*store.RevealGrant, error) {
	if err := s.mayReach(ctx, a, haven.PermReveal, reportID, fileID); err != nil {
		return nil, err
	}
	reason, err := CleanReason(reason)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !a.System && (a.AuthAt.IsZero() || now.Sub(a.AuthAt) > haven.ReauthWindow) {
		return nil, haven.ErrReauth
	}
	if a.UserID == "" {
		return nil, haven.ErrForbidden // the meter belongs to a person
	}
	live, err := s.liveMatches(ctx, reportID, fileID)
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	var fc *facts
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		fc, err = s.load(ctx, tx, reportID, fileID, live)
		return err
	})
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	var refusal *Refusal
	switch fc.state() {
	case StateKnown:
		refusal = &Refusal{Why: "known"}
	case StateGated:
		refusal = &Refusal{Why: "legal_gate"}
	case StateDestroyed:
		return nil, withheld(StateDestroyed)
	default:
		r, err := s.ensureRendition(ctx, fc.file)
		if err != nil {
			return nil, err
		}
		if r.Kind == store.RenditionNone {
			refusal = &Refusal{Why: "unreadable"}
		}
	}
	var g *store.RevealGrant
	if refusal == nil {
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			m, err := s.meter(ctx, tx, a.UserID, now)
			if err != nil {
				return err
			}
			switch {
			case m.Left <= 0:
				refusal = &Refusal{Why: "budget", Until: m.DayEnd, Meter: m}
				return refusal
			case !m.BreakUntil.IsZero():
				refusal = &Refusal{Why: "break", Until: m.BreakUntil, Meter: m}
				return refusal
			}
			g = &store.RevealGrant{ID: haven.NewID(), UserID: a.UserID, SessionID: a.SessionID, ReportID: reportID, FileID: fileID,
				Reason: reason, GrantedAt: now, ExpiresAt: now.Add(s.opt.GrantTTL)}
			if err := tx.CreateRevealGrant(ctx, g); err != nil {
				return err
			}
			if err := tx.StartExposure(ctx, &store.ExposureInterval{ID: haven.NewID(), UserID: a.UserID, GrantID: g.ID, FileID: fileID,
				StartedAt: now, LastSeenAt: now}); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.reveal", ObjectType: "report_file", ObjectID: fileID,
				Purpose: reason, Details: map[string]string{"report": ref(reportID), "grant": g.ID,
					"expires": g.ExpiresAt.Format(time.RFC3339)}})
		})
		if err == nil {
			return g, nil
		}
		if refusal == nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.reveal", ObjectType: "report_file", ObjectID: fileID,
			Purpose: reason, Outcome: haven.OutcomeDenied, Details: map[string]string{"report": ref(reportID), "refused": refusal.Why}})
	})
	if err != nil {
		return nil, err
	}
	return nil, refusal
}

// ErrNoGrant is returned for an original asked for without a live reveal
// grant.
var ErrNoGrant = &haven.Error{Kind: haven.KindForbidden, Message: "Reveal the file (with a reason) before its original can be shown; a reveal lasts a few minutes."}

// Original is a file's original bytes as the viewer serves them.
type Original struct {
	io.ReadCloser
	// ContentType is sniffed from the bytes: an image or video type the
	// browser may show, or application/octet-stream.
	ContentType string
	Size        int64
	Grant       *store.RevealGrant
}

// Original returns a file's original bytes to an actor holding a live
// reveal grant for it in this session. The read is audited with the
// grant's reason.
func (s *Service) Original(ctx context.Context, a haven.Actor, reportID int64, fileID string) (*Original, error) {
	if err := s.mayReach(ctx, a, haven.PermReveal, reportID, fileID); err != nil {
		return nil, err
	}
	live, err := s.liveMatches(ctx, reportID, fileID)
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	now := s.clock.Now()
	var fc *facts
	var g *store.RevealGrant
	err = s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if fc, err = s.load(ctx, tx, reportID, fileID, live); err != nil {
			return err
		}
		if st := fc.state(); st != StateViewable {
			return withheld(st)
		}
		g, err = tx.LiveRevealGrant(ctx, a.UserID, a.SessionID, fileID, now)
		if haven.IsKind(err, haven.KindNotFound) {
			return ErrNoGrant
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.original", ObjectType: "report_file", ObjectID: fileID,
			Purpose: g.Reason, Details: map[string]string{"report": ref(reportID), "grant": g.ID}})
	})
	if err != nil {
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	rc, err := s.open(ctx, a, fc.file.ItemID, "original revealed under grant "+g.ID)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 4096)
	head, _ := br.Peek(512)
	return &Original{ReadCloser: readCloser{br, rc}, ContentType: showable(head), Size: fc.file.Size, Grant: g}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// showable returns the sniffed type of an original when a browser may
// show it in <img> or <video>, and application/octet-stream otherwise
// (SVG and anything scriptable never get a type that runs).
func showable(head []byte) string {
	ct := http.DetectContentType(head)
	switch ct {
	case "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "video/mp4", "video/webm", "video/avi", "video/mpeg":
		return ct
	}
	if bytes.HasPrefix(head, []byte{0x1a, 0x45, 0xdf, 0xa3}) { // Matroska
		return "video/webm"
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		return "video/mp4"
	}
	return "application/octet-stream"
}
