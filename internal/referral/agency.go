package referral

import (
	"context"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// The agency side: law-enforcement users see and act on the reports
// referred to their own agency only.

// agencyTx runs fn in a transaction with the live referral of the report
// to the actor's agency. When there is none — the report does not exist,
// was never referred to the agency, or the referral was revoked — it
// answers haven.ErrNotFound, the same in every case, and audits the
// refusal. fn runs after that check, so even invalid input about another
// agency's report answers not found.
func (s *Service) agencyTx(ctx context.Context, a haven.Actor, typ string, reportID int64, fn func(*store.Tx, *store.Referral) error) error {
	if !a.Can(haven.PermLEReferrals) || a.AgencyID == "" {
		return s.deny(ctx, a, typ, reportID, haven.ErrNotFound)
	}
	missing := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LiveReferral(ctx, reportID, a.AgencyID, true)
		if haven.IsKind(err, haven.KindNotFound) {
			missing = true
			return haven.ErrNotFound
		}
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
	if missing {
		return s.deny(ctx, a, typ, reportID, haven.ErrNotFound)
	}
	return err
}

// AgencyRow is a row of an agency's referral list.
type AgencyRow struct {
	*store.AgencyReferralRow
	Preservation Preservation
}

// Status describes where the referral stands for the agency: new,
// acknowledged, or its current outcome.
func (r *AgencyRow) Status() string {
	switch {
	case r.LatestOutcome != "":
		return OutcomeLabel(r.LatestOutcome)
	case r.Acknowledged():
		return "Acknowledged"
	}
	return "New"
}

// AgencyReferrals lists the live referrals of the actor's agency, newest
// first; beforeID pages ("" for the newest).
func (s *Service) AgencyReferrals(ctx context.Context, a haven.Actor, beforeID string, limit int) ([]*AgencyRow, error) {
	if err := s.require(a, haven.PermLEReferrals); err != nil {
		return nil, err
	}
	if a.AgencyID == "" {
		return nil, nil
	}
	var rows []*store.AgencyReferralRow
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		rows, err = tx.AgencyReferrals(ctx, a.AgencyID, beforeID, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := make([]*AgencyRow, len(rows))
	for i, r := range rows {
		out[i] = &AgencyRow{AgencyReferralRow: r, Preservation: PreservationOf(r.ReportSource, r.ReportOpenedAt, now)}
	}
	return out, nil
}

// Acknowledge records that the actor's agency has received the referral.
// Acknowledging twice changes nothing.
func (s *Service) Acknowledge(ctx context.Context, a haven.Actor, reportID int64) error {
	return s.agencyTx(ctx, a, "referral.acknowledge", reportID, func(tx *store.Tx, r *store.Referral) error {
		if r.Acknowledged() {
			return nil
		}
		if err := tx.AcknowledgeReferral(ctx, r.ID, a.UserID, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.acknowledge", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"referral": r.ID}})
	})
}

// Ask adds a message from the actor's agency to the referral's thread:
// a request to the hotline for more information.
func (s *Service) Ask(ctx context.Context, a haven.Actor, reportID int64, text string) error {
	return s.agencyTx(ctx, a, "referral.message", reportID, func(tx *store.Tx, r *store.Referral) error {
		text, err := cleanText("text", text, maxMessage, true, "what you need from the hotline")
		if err != nil {
			return err
		}
		m := &store.ReferralMessage{ID: haven.NewID(), ReferralID: r.ID, Sender: store.SenderAgency, AuthorID: a.UserID,
			At: s.clock.Now(), Text: text}
		if err := tx.AddReferralMessage(ctx, m); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.message", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"referral": r.ID, "sender": store.SenderAgency}})
	})
}

// RecordOutcome records what came of the referral for the actor's agency.
// Outcomes can be updated; every one is kept in the history.
func (s *Service) RecordOutcome(ctx context.Context, a haven.Actor, reportID int64, code OutcomeCode, note string) error {
	return s.agencyTx(ctx, a, "referral.outcome", reportID, func(tx *store.Tx, r *store.Referral) error {
		if !code.Valid() {
			return haven.Invalidf("code", "choose the outcome")
		}
		note, err := cleanText("note", note, maxNote, false, "")
		if err != nil {
			return err
		}
		o := &store.ReferralOutcome{ID: haven.NewID(), ReferralID: r.ID, Code: string(code), Note: note, RecordedBy: a.UserID,
			RecordedAt: s.clock.Now()}
		if err := tx.AddReferralOutcome(ctx, o); err != nil {
			return err
		}
		if !r.Acknowledged() {
			// An outcome implies receipt.
			if err := tx.AcknowledgeReferral(ctx, r.ID, a.UserID, o.RecordedAt); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.outcome", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"referral": r.ID, "code": string(code)}})
	})
}
