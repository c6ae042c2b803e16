package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Status is where a report is in the analysts' work.
type Status string

// The statuses: new → in_review → referred | informational | closed.
// Leaving the queue (the last three) always takes a reason.
const (
	StatusNew           Status = "new"
	StatusInReview      Status = "in_review"
	StatusReferred      Status = "referred"
	StatusInformational Status = "informational"
	StatusClosed        Status = "closed"
)

// Statuses lists the statuses in order.
var Statuses = []Status{StatusNew, StatusInReview, StatusReferred, StatusInformational, StatusClosed}

// Open reports whether a report in this status is still in a queue.
func (s Status) Open() bool { return s == StatusNew || s == StatusInReview }

// Valid reports whether s is a status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Options configure the service. Zero values take the defaults.
type Options struct {
	// SLA is how soon a report of each level must be reviewed (claimed
	// or given a status by an analyst); a level without one has no clock.
	// Default: P1 one hour, P2 24 hours, P3 seven days.
	SLA map[Level]time.Duration
}

// DefaultSLA is the review deadline per level.
var DefaultSLA = map[Level]time.Duration{P1: time.Hour, P2: 24 * time.Hour, P3: 7 * 24 * time.Hour}

// Linker indexes a report's identifiers and counts the other reports that
// share one (internal/identifiers).
type Linker interface {
	IndexReport(ctx context.Context, reportID int64) error
	LinkedReports(ctx context.Context, reportID int64) (int, error)
}

// Locator finds where a report's subject is (internal/geo): an ISO 3166
// country code, "" when unknown.
type Locator interface {
	LocateCountry(ctx context.Context, reportID int64) (string, error)
}

// SeriesStatus tells whether every victim of a series (by its code) is
// identified (internal/victimid). Without one, every series counts as
// unidentified: a match then raises the priority, the safe side.
type SeriesStatus interface {
	SeriesIdentified(ctx context.Context, tx *store.Tx, code string) (bool, error)
}

// Service is the triage service.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	clock   haven.Clock
	log     *slog.Logger
	opt     Options
	linker  Linker
	locator Locator
	series  SeriesStatus
}

// SetSeriesStatus plugs victim identification into evaluation.
func (s *Service) SetSeriesStatus(st SeriesStatus) { s.series = st }

// New returns the service.
func New(s *store.Store, a *audit.Log, clock haven.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.SLA == nil {
		opt.SLA = DefaultSLA
	}
	return &Service{store: s, audit: a, clock: clock, log: log, opt: opt}
}

// SetLinker plugs identifier linking into evaluation.
func (s *Service) SetLinker(l Linker) { s.linker = l }

// SetLocator plugs geolocation into evaluation (the queue's jurisdiction).
func (s *Service) SetLocator(l Locator) { s.locator = l }

// Ruleset is a version of the rule table.
type Ruleset struct {
	Version   int
	Rules     []Rule
	ChangedBy string
	ChangedAt time.Time
	Reason    string
}

func decodeRules(v *store.RuleVersion) (*Ruleset, error) {
	rs := &Ruleset{Version: v.Version, ChangedBy: v.ChangedBy, ChangedAt: v.ChangedAt, Reason: v.Reason}
	if err := json.Unmarshal([]byte(v.Rules), &rs.Rules); err != nil {
		return nil, fmt.Errorf("rule table version %d: %w", v.Version, err)
	}
	return rs, nil
}

// currentRules returns the rule table in force, storing the default table
// as version 1 the first time.
func (s *Service) currentRules(ctx context.Context, tx *store.Tx) (*Ruleset, error) {
	v, err := tx.LatestRules(ctx)
	if errors.Is(err, store.ErrNotFound) {
		b, _ := json.Marshal(DefaultRules())
		v = &store.RuleVersion{Version: 1, Rules: string(b), ChangedBy: "", ChangedAt: s.clock.Now(), Reason: "the default rule table"}
		err = tx.AddRules(ctx, v)
		if errors.Is(err, store.ErrConflict) {
			v, err = tx.LatestRules(ctx) // another transaction stored it first
		}
	}
	if err != nil {
		return nil, err
	}
	return decodeRules(v)
}

// Rules returns the rule table in force and its earlier versions, newest
// first.
func (s *Service) Rules(ctx context.Context, a haven.Actor) (*Ruleset, []*Ruleset, error) {
	if !a.Can(haven.PermTriage) && !a.Can(haven.PermManageRules) && !a.Can(haven.PermReportRead) {
		return nil, nil, haven.ErrForbidden
	}
	var cur *Ruleset
	var hist []*Ruleset
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if cur, err = s.currentRules(ctx, tx); err != nil {
			return err
		}
		vs, err := tx.RuleVersions(ctx, 50)
		if err != nil {
			return err
		}
		for _, v := range vs {
			rs, err := decodeRules(v)
			if err != nil {
				return err
			}
			hist = append(hist, rs)
		}
		return nil
	})
	return cur, hist, err
}

// UpdateRules replaces the rule table with a new version. The reason is
// required; the change is audited with the rules added, removed and
// changed. Open reports are evaluated again (ReevaluateOpen) by the caller
// or the job it enqueues.
func (s *Service) UpdateRules(ctx context.Context, a haven.Actor, rules []Rule, reason string) (*Ruleset, error) {
	if err := a.Require(haven.PermManageRules, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, haven.Invalidf("reason", "say why the rules change (at most 500 characters)")
	}
	if len(rules) > 200 {
		return nil, haven.Invalidf("rules", "at most 200 rules")
	}
	if err := ValidateRules(rules); err != nil {
		return nil, haven.Invalidf("rules", "%s", err.Error())
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	var out *Ruleset
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.currentRules(ctx, tx)
		if err != nil {
			return err
		}
		v := &store.RuleVersion{Version: cur.Version + 1, Rules: string(b), ChangedBy: a.UserID, ChangedAt: s.clock.Now(), Reason: reason}
		if err := tx.AddRules(ctx, v); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &haven.Error{Kind: haven.KindConflict, Message: "someone else changed the rules at the same time: reload and try again"}
			}
			return err
		}
		added, removed, changed := diffRules(cur.Rules, rules)
		if err := s.audit.Record(ctx, tx, a, audit.Entry{Type: "triage.rules_changed", ObjectType: "triage_rules",
			ObjectID: strconv.Itoa(v.Version), Details: map[string]string{"reason": reason, "added": strings.Join(added, ","),
				"removed": strings.Join(removed, ","), "changed": strings.Join(changed, ",")}}); err != nil {
			return err
		}
		out, err = decodeRules(v)
		return err
	})
	return out, err
}

func diffRules(old, cur []Rule) (added, removed, changed []string) {
	byID := map[string]Rule{}
	for _, r := range old {
		byID[r.ID] = r
	}
	seen := map[string]bool{}
	for _, r := range cur {
		seen[r.ID] = true
		o, ok := byID[r.ID]
		if !ok {
			added = append(added, r.ID)
			continue
		}
		a, _ := json.Marshal(o)
		b, _ := json.Marshal(r)
		if string(a) != string(b) {
			changed = append(changed, r.ID)
		}
	}
	for _, r := range old {
		if !seen[r.ID] {
			removed = append(removed, r.ID)
		}
	}
	return
}

// matchFacts reads the positive matches of a report's files.
func (s *Service) matchFacts(ctx context.Context, tx *store.Tx, reportID int64) ([]MatchFact, error) {
	ms, err := tx.FileMatches(ctx, reportID)
	if err != nil {
		return nil, err
	}
	var out []MatchFact
	for _, m := range ms {
		e, err := tx.HashEntry(ctx, m.EntryID)
		if err != nil {
			return nil, err
		}
		b, err := tx.HashBank(ctx, e.BankID)
		if err != nil {
			return nil, err
		}
		if b.Negative || !e.Live() || !b.Enabled {
			continue
		}
		mf := MatchFact{FileID: m.FileID, Classification: e.Classification, SeriesID: e.SeriesID, Viral: e.Viral, Meme: e.PotentialMeme}
		if e.SeriesID != "" && s.series != nil {
			if mf.SeriesIdentified, err = s.series.SeriesIdentified(ctx, tx, e.SeriesID); err != nil {
				return nil, err
			}
		}
		out = append(out, mf)
	}
	return out, nil
}

// Triage evaluates a finished report — when it arrives, and again when new
// facts arrive (a match, a linked report, a rule change) — and puts it in
// the queues. why is recorded in the audit event ("arrival", "match",
// "followup", "rules"…).
func (s *Service) Triage(ctx context.Context, reportID int64, why string) error {
	if s.linker != nil {
		if err := s.linker.IndexReport(ctx, reportID); err != nil {
			return fmt.Errorf("index identifiers of report %d: %w", reportID, err)
		}
	}
	linked := 0
	if s.linker != nil {
		n, err := s.linker.LinkedReports(ctx, reportID)
		if err != nil {
			return fmt.Errorf("linked reports of %d: %w", reportID, err)
		}
		linked = n
	}
	country := ""
	if s.locator != nil {
		c, err := s.locator.LocateCountry(ctx, reportID)
		if err != nil {
			s.log.Warn("geolocation failed; the report is queued without a jurisdiction", "report", reportID, "err", err)
		}
		country = c
	}
	sys := haven.SystemActor("triage")
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.Report(ctx, reportID, false)
		if err != nil {
			return err
		}
		if r.Status != haven.ReportFinished {
			return nil // retracted, expired or still open: nothing to queue
		}
		files, err := tx.ReportFiles(ctx, reportID)
		if err != nil {
			return err
		}
		matches, err := s.matchFacts(ctx, tx, reportID)
		if err != nil {
			return err
		}
		rules, err := s.currentRules(ctx, tx)
		if err != nil {
			return err
		}
		res := Evaluate(rules.Rules, FactsOf(r, files, matches, linked))
		now := s.clock.Now()
		w, err := tx.Work(ctx, reportID, true)
		isNew := errors.Is(err, store.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if isNew {
			received := r.FinishedAt
			if received.IsZero() {
				received = now
			}
			w = &store.Work{ReportID: reportID, ReceivedAt: received, Source: string(r.Source), Program: "cybertipline",
				Status: string(StatusNew), Open: true, Incidents: 1}
			if r.Source == haven.SourceESP || r.Source == haven.SourceAPI {
				w.ESPID = r.SubmitterID
			}
		}
		before := w.Priority
		reasons, _ := json.Marshal(res.Reasons)
		w.ComputedPriority, w.Reasons, w.RuleVersion, w.EvaluatedAt, w.UpdatedAt = string(res.Level), string(reasons), rules.Version, now, now
		if country != "" {
			w.Country = country
		}
		w.Priority = w.ComputedPriority
		if w.OverridePriority != "" {
			w.Priority = w.OverridePriority
		}
		if err := s.group(ctx, tx, w, r, files, matches); err != nil {
			return err
		}
		s.setSLA(w)
		if err := tx.PutWork(ctx, w); err != nil {
			return err
		}
		fired := make([]string, 0, len(res.Reasons))
		for _, rs := range res.Reasons {
			if rs.Applied {
				fired = append(fired, rs.RuleID)
			}
		}
		if !isNew && before == w.Priority && why != "arrival" {
			return nil // nothing changed that an auditor needs to see again
		}
		return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "triage.evaluated", ObjectType: "report", ObjectID: strconv.FormatInt(reportID, 10),
			Details: map[string]string{"priority": w.Priority, "computed": w.ComputedPriority, "rules": strings.Join(fired, ","),
				"rule_version": strconv.Itoa(rules.Version), "why": why, "previous": before}})
	})
}

// group puts a report in its incident group: a batched report is one
// group of its own (counting an incident per file); a report whose files
// are all known viral or meme material joins the group of the same set of
// entries, so duplicates of one viral file count as one incident.
func (s *Service) group(ctx context.Context, tx *store.Tx, w *store.Work, r *haven.Report, files []*haven.ReportFile, matches []MatchFact) error {
	w.IncidentGroup, w.Incidents = "", 1
	if r.BatchedReason != "" {
		w.IncidentGroup, w.Incidents = "b-"+strconv.FormatInt(r.ID, 10), max(1, len(files))
		return nil
	}
	if len(files) == 0 {
		return nil
	}
	viral := map[string]bool{}
	for _, m := range matches {
		if m.Viral || m.Meme {
			viral[m.FileID] = true
		}
	}
	for _, f := range files {
		if !viral[f.ID] {
			return nil
		}
	}
	// The key is the set of viral entries the files matched: read them
	// again with their IDs.
	ms, err := tx.FileMatches(ctx, r.ID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, m := range ms {
		e, err := tx.HashEntry(ctx, m.EntryID)
		if err != nil {
			return err
		}
		if e.Viral || e.PotentialMeme {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	key := make([]string, len(ids))
	for i, id := range ids {
		key[i] = strconv.FormatInt(id, 10)
	}
	id, err := tx.IncidentGroup(ctx, "viral", "viral:"+strings.Join(key, ","), "v-"+haven.NewID(), s.clock.Now())
	if err != nil {
		return err
	}
	w.IncidentGroup = id
	return nil
}

// setSLA sets the review deadline from the priority, unless the report
// was reviewed already.
func (s *Service) setSLA(w *store.Work) {
	if !w.FirstReviewedAt.IsZero() {
		return
	}
	d, ok := s.opt.SLA[Level(w.Priority)]
	if !ok || d <= 0 {
		w.SLADueAt = time.Time{}
		return
	}
	due := w.ReceivedAt.Add(d)
	if !w.SLADueAt.Equal(due) {
		w.SLAAlertedAt = time.Time{} // a new clock may breach again
	}
	w.SLADueAt = due
}

// ReevaluateOpen evaluates every open report again (after a rule change).
func (s *Service) ReevaluateOpen(ctx context.Context) (int, error) {
	n := 0
	var after int64
	for {
		var ids []int64
		err := s.store.View(ctx, func(tx *store.Tx) (err error) {
			ids, err = tx.OpenWorkIDs(ctx, after, 500)
			return err
		})
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := s.Triage(ctx, id, "rules"); err != nil {
				return n, err
			}
			n++
		}
		if len(ids) < 500 {
			return n, nil
		}
		after = ids[len(ids)-1]
	}
}
