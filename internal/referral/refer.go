package referral

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// OutcomeCode is what an agency reports came of a referral.
type OutcomeCode string

// The outcome codes, from the least to the most consequential.
const (
	OutcomeNotActionable OutcomeCode = "not_actionable"
	OutcomeInvestigation OutcomeCode = "investigation_opened"
	OutcomeSafeguarded   OutcomeCode = "child_safeguarded"
	OutcomeArrest        OutcomeCode = "arrest"
	OutcomeReferredOn    OutcomeCode = "referred_on"
)

// OutcomeCodes lists the outcome codes in display order.
var OutcomeCodes = []OutcomeCode{OutcomeNotActionable, OutcomeInvestigation, OutcomeSafeguarded, OutcomeArrest, OutcomeReferredOn}

var outcomeLabels = map[OutcomeCode]string{
	OutcomeNotActionable: "Not actionable",
	OutcomeInvestigation: "Investigation opened",
	OutcomeSafeguarded:   "Child safeguarded",
	OutcomeArrest:        "Arrest",
	OutcomeReferredOn:    "Referred on to another agency",
}

// Valid reports whether c is one of the outcome codes.
func (c OutcomeCode) Valid() bool { _, ok := outcomeLabels[c]; return ok }

// Label returns the human-readable name of the code.
func (c OutcomeCode) Label() string {
	if l, ok := outcomeLabels[c]; ok {
		return l
	}
	return string(c)
}

// OutcomeLabel returns the label of an outcome code given as a string.
func OutcomeLabel(code string) string { return OutcomeCode(code).Label() }

// Preservation is where a report stands against the ESP's duty to preserve
// what it reported: one year from Haven's receipt of the report (18 U.S.C.
// § 2258A(h) as amended by the REPORT Act of 2024).
type Preservation struct {
	// Applies is false for reports that did not come from an ESP.
	Applies  bool
	Deadline time.Time
	// DaysLeft counts whole or partial days until the deadline; 0 or less
	// once it has passed.
	DaysLeft int
	Overdue  bool
	// Soon is true within 30 days of the deadline.
	Soon bool
}

// PreservationSoon is how close a deadline must be to be flagged.
const PreservationSoon = 30

// PreservationOf computes the preservation deadline of a report received
// at the given time from source.
func PreservationOf(source haven.ReportSource, received, now time.Time) Preservation {
	if source != haven.SourceESP && source != haven.SourceAPI {
		return Preservation{}
	}
	p := Preservation{Applies: true, Deadline: received.UTC().AddDate(1, 0, 0)}
	left := p.Deadline.Sub(now)
	p.DaysLeft = int(math.Ceil(left.Hours() / 24))
	p.Overdue = left <= 0
	p.Soon = !p.Overdue && p.DaysLeft <= PreservationSoon
	return p
}

// ReferralView is a referral with its agency, outcome history and
// messages.
type ReferralView struct {
	*store.Referral
	Agency   *haven.Agency
	Outcomes []*store.ReferralOutcome
	Messages []*store.ReferralMessage
}

// Outcome returns the current outcome, or nil.
func (v *ReferralView) Outcome() *store.ReferralOutcome {
	if len(v.Outcomes) == 0 {
		return nil
	}
	return v.Outcomes[len(v.Outcomes)-1]
}

// view loads the agency, outcomes and messages of a referral.
func view(ctx context.Context, tx *store.Tx, r *store.Referral) (*ReferralView, error) {
	v := &ReferralView{Referral: r}
	var err error
	if v.Agency, err = tx.Agency(ctx, r.AgencyID); err != nil {
		return nil, err
	}
	if v.Outcomes, err = tx.ReferralOutcomes(ctx, r.ID); err != nil {
		return nil, err
	}
	if v.Messages, err = tx.ReferralMessages(ctx, r.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// names resolves user IDs to display names. For an agency's eyes, hotline
// staff are shown as "Hotline staff", not by name.
func names(ctx context.Context, tx *store.Tx, forAgency string, ids ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if id == "" || out[id] != "" {
			continue
		}
		u, err := tx.User(ctx, id)
		if haven.IsKind(err, haven.KindNotFound) {
			out[id] = "(unknown account)"
			continue
		}
		if err != nil {
			return nil, err
		}
		name := u.DisplayName
		if name == "" {
			name = u.Login
		}
		if forAgency != "" && u.AgencyID != forAgency {
			name = "Hotline staff"
		}
		out[id] = name
	}
	return out, nil
}

// authors lists the user IDs named by referrals, for names.
func authors(vs ...*ReferralView) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ReferredBy, v.AcknowledgedBy, v.RevokedBy)
		for _, o := range v.Outcomes {
			ids = append(ids, o.RecordedBy)
		}
		for _, m := range v.Messages {
			ids = append(ids, m.AuthorID)
		}
	}
	return ids
}

// Refer refers a report to one or more agencies with a note. Agencies
// that already hold a live referral of the report keep it untouched; the
// others get a new one. It returns the new referrals, and a conflict
// error when every agency already had one.
func (s *Service) Refer(ctx context.Context, a haven.Actor, reportID int64, agencyIDs []string, note string) ([]*store.Referral, error) {
	if err := s.require(a, haven.PermRefer); err != nil {
		return nil, s.deny(ctx, a, "referral.create", reportID, err)
	}
	note, err := cleanText("note", note, maxNote, false, "")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, id := range agencyIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, haven.Invalidf("agency", "choose at least one agency")
	}
	now := s.clock.Now()
	var created []*store.Referral
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		rep, err := tx.Report(ctx, reportID, true)
		if err != nil {
			return err
		}
		if rep.Status != haven.ReportFinished {
			return haven.Errorf(haven.KindConflict, "only a filed report can be referred (this one is %s)", rep.Status)
		}
		for _, id := range ids {
			if _, err := tx.Agency(ctx, id); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "no such agency")
				}
				return err
			}
			if _, err := tx.LiveReferral(ctx, reportID, id, true); err == nil {
				continue // referred already: the first referral stands
			} else if !haven.IsKind(err, haven.KindNotFound) {
				return err
			}
			r := &store.Referral{ID: haven.NewID(), ReportID: reportID, AgencyID: id, ReferredBy: a.UserID, ReferredAt: now, Note: note}
			if err := tx.CreateReferral(ctx, r); err != nil {
				if haven.IsKind(err, haven.KindConflict) {
					return haven.Errorf(haven.KindConflict, "someone referred this report to the same agency a moment ago: reload the page")
				}
				return err
			}
			if err := s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.create", ObjectType: "report", ObjectID: reportRef(reportID),
				Details: map[string]string{"agency": id, "referral": r.ID}}); err != nil {
				return err
			}
			created = append(created, r)
		}
		if len(created) == 0 {
			return haven.Errorf(haven.KindConflict, "the report is already referred to every agency chosen")
		}
		if s.opts.AfterRefer != nil {
			return s.opts.AfterRefer(ctx, tx, a, reportID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// Revoke revokes the live referral of a report to an agency, with a
// reason. The agency loses access on its very next request.
func (s *Service) Revoke(ctx context.Context, a haven.Actor, reportID int64, agencyID, reason string) error {
	if err := s.require(a, haven.PermRefer); err != nil {
		return s.deny(ctx, a, "referral.revoke", reportID, err)
	}
	reason, err := cleanText("reason", reason, maxNote, true, "why the referral is revoked")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LiveReferral(ctx, reportID, agencyID, true)
		if err != nil {
			return err
		}
		if err := tx.RevokeReferral(ctx, r.ID, a.UserID, reason, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.revoke", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"agency": agencyID, "referral": r.ID}})
	})
}

// Reply adds a message from the hotline to the thread of a live referral.
func (s *Service) Reply(ctx context.Context, a haven.Actor, reportID int64, agencyID, text string) error {
	if err := s.require(a, haven.PermRefer); err != nil {
		return s.deny(ctx, a, "referral.message", reportID, err)
	}
	text, err := cleanText("text", text, maxMessage, true, "a message")
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LiveReferral(ctx, reportID, agencyID, false)
		if err != nil {
			return err
		}
		m := &store.ReferralMessage{ID: haven.NewID(), ReferralID: r.ID, Sender: store.SenderHotline, AuthorID: a.UserID,
			At: s.clock.Now(), Text: text}
		if err := tx.AddReferralMessage(ctx, m); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.message", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"agency": agencyID, "referral": r.ID, "sender": store.SenderHotline}})
	})
}

// ReportReferrals lists every referral of a report (revoked ones
// included), with their outcomes and messages, for staff.
func (s *Service) ReportReferrals(ctx context.Context, a haven.Actor, reportID int64) ([]*ReferralView, error) {
	if err := s.require(a, haven.PermReportRead); err != nil {
		return nil, err
	}
	var out []*ReferralView
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = reportReferrals(ctx, tx, reportID)
		return err
	})
	return out, err
}

func reportReferrals(ctx context.Context, tx *store.Tx, reportID int64) ([]*ReferralView, error) {
	refs, err := tx.ReportReferrals(ctx, reportID)
	if err != nil {
		return nil, err
	}
	out := make([]*ReferralView, 0, len(refs))
	for _, r := range refs {
		v, err := view(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Panel is what the staff referral panel of a report shows.
type Panel struct {
	ReportID int64
	// Country and Region are the place the suggestions are for.
	Country, Region string
	Preservation    Preservation
	Suggestions     []Suggestion
	// PlaceError says why the place could not be used for suggestions.
	PlaceError string
	Referrals  []*ReferralView
	// Agencies are those the report may be referred to (not live-referred
	// already).
	Agencies []*haven.Agency
	// Names are display names of the accounts the referrals mention.
	Names map[string]string
	// Referable is false while the report is not filed.
	Referable bool
	CanRefer  bool
}

// Suggested reports whether the rules suggest the agency.
func (p *Panel) Suggested(agencyID string) bool {
	for _, s := range p.Suggestions {
		if s.Agency.ID == agencyID {
			return true
		}
	}
	return false
}

// Live returns the live referrals.
func (p *Panel) Live() []*ReferralView {
	var out []*ReferralView
	for _, v := range p.Referrals {
		if v.Live() {
			out = append(out, v)
		}
	}
	return out
}

// Panel gathers the referral panel of a report for staff: the agencies
// the rules suggest for the report's place, the referrals with their
// acknowledgement, outcomes and messages, and the preservation deadline.
func (s *Service) Panel(ctx context.Context, a haven.Actor, reportID int64, country, region string) (*Panel, error) {
	if err := s.require(a, haven.PermReportRead); err != nil {
		return nil, err
	}
	p := &Panel{ReportID: reportID, CanRefer: a.Can(haven.PermRefer)}
	var perr error
	p.Country, p.Region, perr = ParsePlace(country, region)
	if perr != nil {
		p.PlaceError = haven.ErrorMessage(perr)
	}
	err := s.store.View(ctx, func(tx *store.Tx) error {
		rep, err := tx.Report(ctx, reportID, false)
		if err != nil {
			return err
		}
		p.Referable = rep.Status == haven.ReportFinished
		p.Preservation = PreservationOf(rep.Source, rep.OpenedAt, s.clock.Now())
		if perr == nil && a.Can(haven.PermViewAgencies) {
			if p.Suggestions, err = suggestTx(ctx, tx, p.Country, p.Region); err != nil {
				return err
			}
		}
		if p.Referrals, err = reportReferrals(ctx, tx, reportID); err != nil {
			return err
		}
		if p.Names, err = names(ctx, tx, "", authors(p.Referrals...)...); err != nil {
			return err
		}
		ags, err := tx.Agencies(ctx)
		if err != nil {
			return err
		}
		live := map[string]bool{}
		for _, v := range p.Referrals {
			live[v.AgencyID] = live[v.AgencyID] || v.Live()
		}
		for _, ag := range ags {
			if !live[ag.ID] {
				p.Agencies = append(p.Agencies, ag)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// AgencyCanSee reports whether an agency holds a live (unrevoked)
// referral of a report. Callers that serve agency users (the safe viewer)
// ask it on every request, so a revocation takes effect at once.
func (s *Service) AgencyCanSee(ctx context.Context, agencyID string, reportID int64) (bool, error) {
	if agencyID == "" {
		return false, nil
	}
	err := s.store.View(ctx, func(tx *store.Tx) error {
		_, err := tx.LiveReferral(ctx, reportID, agencyID, false)
		return err
	})
	if haven.IsKind(err, haven.KindNotFound) {
		return false, nil
	}
	return err == nil, err
}
