package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// newReferralReport stores a finished report of the given submitter,
// received at opened.
func newReferralReport(t *testing.T, s *store.Store, submitter string, opened time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	r := &haven.Report{Source: haven.SourceESP, Status: haven.ReportFinished, SubmitterID: submitter, OpenedAt: opened,
		ModifiedAt: opened, FinishedAt: opened,
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, DateTime: opened.Add(-time.Hour)}}
	write(t, s, func(tx *store.Tx) error {
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		r.ID = id
		return tx.CreateReport(ctx, r, nil, time.Time{})
	})
	return r.ID
}

func testReferrals(t *testing.T, s *store.Store) {
	ctx := context.Background()
	icac := newAgency("Example State ICAC Task Force")
	fed := newAgency("Example Federal Bureau")
	fed.Kind = haven.AgencyFederal
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, icac); err != nil {
			return err
		}
		return tx.CreateAgency(ctx, fed)
	})

	// Areas: replaced as a whole, and found by the places they cover.
	write(t, s, func(tx *store.Tx) error {
		if err := tx.SetAgencyAreas(ctx, icac.ID, []store.AgencyArea{{Country: "US", Region: "US-NV"}}); err != nil {
			return err
		}
		if err := tx.SetAgencyAreas(ctx, icac.ID, []store.AgencyArea{{Country: "US", Region: "US-CA"}, {Country: "US", Region: "US-OR"}}); err != nil {
			return err
		}
		return tx.SetAgencyAreas(ctx, fed.ID, []store.AgencyArea{{Country: "US"}})
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.AgencyAreas(ctx, icac.ID)
		if err != nil {
			return err
		}
		want := []store.AgencyArea{{AgencyID: icac.ID, Country: "US", Region: "US-CA"}, {AgencyID: icac.ID, Country: "US", Region: "US-OR"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AgencyAreas (-want +got):\n%s", diff)
		}
		cover, err := tx.AreasCovering(ctx, "US", "US-CA")
		if err != nil {
			return err
		}
		want = []store.AgencyArea{{AgencyID: icac.ID, Country: "US", Region: "US-CA"}, {AgencyID: fed.ID, Country: "US"}}
		if diff := cmp.Diff(want, cover); diff != "" {
			t.Errorf("AreasCovering US-CA (-want +got):\n%s", diff)
		}
		cover, err = tx.AreasCovering(ctx, "US", "US-NV")
		if err != nil || len(cover) != 1 || cover[0].AgencyID != fed.ID {
			t.Errorf("AreasCovering US-NV: got %v %v, want the federal agency only", cover, err)
		}
		cover, err = tx.AreasCovering(ctx, "FR", "")
		if err != nil || len(cover) != 0 {
			t.Errorf("AreasCovering FR: got %v %v, want none", cover, err)
		}
		all, err := tx.AllAgencyAreas(ctx)
		if err != nil || len(all) != 3 {
			t.Errorf("AllAgencyAreas: got %v %v, want 3", all, err)
		}
		return nil
	})

	// Jurisdiction rules: ordered by position, movable, deletable.
	r1 := &store.JurisdictionRule{ID: haven.NewID(), Position: 20, Label: "Federal", AgencyKind: haven.AgencyFederal, CreatedBy: "u1", CreatedAt: t0}
	r2 := &store.JurisdictionRule{ID: haven.NewID(), Position: 10, Label: "ICAC of the state", Country: "US", AgencyKind: haven.AgencyICAC, CreatedAt: t0}
	r3 := &store.JurisdictionRule{ID: haven.NewID(), Position: 30, Label: "Everything else", AgencyID: fed.ID, Fallback: true, CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		for _, r := range []*store.JurisdictionRule{r1, r2, r3} {
			if err := tx.CreateJurisdictionRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.JurisdictionRules(ctx)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.JurisdictionRule{r2, r1, r3}, got); diff != "" {
			t.Errorf("JurisdictionRules (-want +got):\n%s", diff)
		}
		one, err := tx.JurisdictionRule(ctx, r3.ID)
		if err != nil || one.AgencyID != fed.ID || !one.Fallback {
			t.Errorf("JurisdictionRule: got %+v %v", one, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		if err := tx.SetJurisdictionRulePosition(ctx, r1.ID, 5); err != nil {
			return err
		}
		return tx.DeleteJurisdictionRule(ctx, r3.ID)
	})
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteJurisdictionRule(ctx, r3.ID) })
	wantKind(t, err, haven.KindNotFound)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetJurisdictionRulePosition(ctx, "missing", 1) })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.JurisdictionRules(ctx)
		if err != nil || len(got) != 2 || got[0].ID != r1.ID || got[1].ID != r2.ID {
			t.Errorf("JurisdictionRules after move and delete: got %v %v", got, err)
		}
		return nil
	})

	// Referrals: one live referral per report and agency; never
	// overwritten; revocation then a new referral.
	report := newReferralReport(t, s, "esp-ref", t0)
	ref := &store.Referral{ID: haven.NewID(), ReportID: report, AgencyID: icac.ID, ReferredBy: "u1", ReferredAt: t0, Note: "please look"}
	write(t, s, func(tx *store.Tx) error { return tx.CreateReferral(ctx, ref) })
	dup := *ref
	dup.ID = haven.NewID()
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateReferral(ctx, &dup) })
	wantKind(t, err, haven.KindConflict)
	fedRef := &store.Referral{ID: haven.NewID(), ReportID: report, AgencyID: fed.ID, ReferredBy: "u2", ReferredAt: t0.Add(time.Minute)}
	write(t, s, func(tx *store.Tx) error { return tx.CreateReferral(ctx, fedRef) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.LiveReferral(ctx, report, icac.ID, false)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(ref, got); diff != "" {
			t.Errorf("LiveReferral (-want +got):\n%s", diff)
		}
		byID, err := tx.Referral(ctx, fedRef.ID)
		if err != nil || byID.AgencyID != fed.ID {
			t.Errorf("Referral: got %+v %v", byID, err)
		}
		_, err = tx.LiveReferral(ctx, report+1000, icac.ID, false)
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	write(t, s, func(tx *store.Tx) error { return tx.AcknowledgeReferral(ctx, ref.ID, "le-1", t0.Add(time.Hour)) })
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.AcknowledgeReferral(ctx, ref.ID, "le-2", t0.Add(2*time.Hour)) })
	wantKind(t, err, haven.KindNotFound)

	// Outcomes and messages keep their history in order.
	write(t, s, func(tx *store.Tx) error {
		for i, code := range []string{"investigation_opened", "arrest"} {
			if err := tx.AddReferralOutcome(ctx, &store.ReferralOutcome{ID: haven.NewID(), ReferralID: ref.ID, Code: code,
				Note: "step", RecordedBy: "le-1", RecordedAt: t0.Add(time.Duration(i+2) * time.Hour)}); err != nil {
				return err
			}
		}
		if err := tx.AddReferralMessage(ctx, &store.ReferralMessage{ID: haven.NewID(), ReferralID: ref.ID, Sender: store.SenderAgency,
			AuthorID: "le-1", At: t0.Add(3 * time.Hour), Text: "Is there more?"}); err != nil {
			return err
		}
		return tx.AddReferralMessage(ctx, &store.ReferralMessage{ID: haven.NewID(), ReferralID: ref.ID, Sender: store.SenderHotline,
			AuthorID: "u1", At: t0.Add(4 * time.Hour), Text: "Yes, see the second file."})
	})
	read(t, s, func(tx *store.Tx) error {
		outs, err := tx.ReferralOutcomes(ctx, ref.ID)
		if err != nil || len(outs) != 2 || outs[0].Code != "investigation_opened" || outs[1].Code != "arrest" || !outs[1].RecordedAt.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("ReferralOutcomes: got %v %v", outs, err)
		}
		msgs, err := tx.ReferralMessages(ctx, ref.ID)
		if err != nil || len(msgs) != 2 || msgs[0].Sender != store.SenderAgency || msgs[1].Text != "Yes, see the second file." {
			t.Errorf("ReferralMessages: got %v %v", msgs, err)
		}
		rows, err := tx.AgencyReferrals(ctx, icac.ID, "", 10)
		if err != nil {
			return err
		}
		if len(rows) != 1 || rows[0].ID != ref.ID || rows[0].LatestOutcome != "arrest" || rows[0].Messages != 2 ||
			rows[0].IncidentType != haven.IncidentEnticement || !rows[0].ReportOpenedAt.Equal(t0) || !rows[0].Acknowledged() {
			t.Errorf("AgencyReferrals: got %+v", rows)
		}
		return nil
	})

	// Revocation: the referral disappears from the agency's list at once,
	// stays in the report's history, and the report can be referred anew.
	write(t, s, func(tx *store.Tx) error {
		return tx.RevokeReferral(ctx, ref.ID, "u1", "wrong agency", t0.Add(5*time.Hour))
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeReferral(ctx, ref.ID, "u1", "again", t0.Add(6*time.Hour)) })
	wantKind(t, err, haven.KindNotFound)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.AcknowledgeReferral(ctx, fedRef.ID, "x", t0) })
	if err != nil {
		t.Errorf("acknowledge another live referral: %v", err)
	}
	read(t, s, func(tx *store.Tx) error {
		_, err := tx.LiveReferral(ctx, report, icac.ID, false)
		wantKind(t, err, haven.KindNotFound)
		rows, err := tx.AgencyReferrals(ctx, icac.ID, "", 10)
		if err != nil || len(rows) != 0 {
			t.Errorf("AgencyReferrals after revocation: got %v %v, want none", rows, err)
		}
		return nil
	})
	again := &store.Referral{ID: haven.NewID(), ReportID: report, AgencyID: icac.ID, ReferredBy: "u1", ReferredAt: t0.Add(7 * time.Hour)}
	write(t, s, func(tx *store.Tx) error { return tx.CreateReferral(ctx, again) })
	read(t, s, func(tx *store.Tx) error {
		all, err := tx.ReportReferrals(ctx, report)
		if err != nil {
			return err
		}
		if len(all) != 3 || all[0].ID != ref.ID || all[0].Live() || all[0].RevokeReason != "wrong agency" ||
			!all[0].RevokedAt.Equal(t0.Add(5*time.Hour)) || all[1].ID != fedRef.ID || all[2].ID != again.ID || !all[2].Live() {
			t.Errorf("ReportReferrals: got %+v", all)
		}
		return nil
	})

	// Paging of an agency's list, newest first.
	second := newReferralReport(t, s, "esp-ref", t0.Add(24*time.Hour))
	third := &store.Referral{ID: haven.NewID(), ReportID: second, AgencyID: icac.ID, ReferredAt: t0.Add(25 * time.Hour)}
	write(t, s, func(tx *store.Tx) error { return tx.CreateReferral(ctx, third) })
	read(t, s, func(tx *store.Tx) error {
		page, err := tx.AgencyReferrals(ctx, icac.ID, "", 1)
		if err != nil || len(page) != 1 || page[0].ID != third.ID {
			t.Fatalf("first page: got %v %v", page, err)
		}
		page, err = tx.AgencyReferrals(ctx, icac.ID, page[0].ID, 1)
		if err != nil || len(page) != 1 || page[0].ID != again.ID || page[0].LatestOutcome != "" {
			t.Errorf("second page: got %v %v", page, err)
		}
		return nil
	})

	// Feedback material: the submitter's finished reports, and the current
	// outcome of each live referral.
	newReferralReport(t, s, "esp-other", t0)
	write(t, s, func(tx *store.Tx) error {
		return tx.AddReferralOutcome(ctx, &store.ReferralOutcome{ID: haven.NewID(), ReferralID: fedRef.ID, Code: "not_actionable",
			RecordedAt: t0.Add(8 * time.Hour)})
	})
	read(t, s, func(tx *store.Tx) error {
		reports, outcomes, err := tx.SubmitterFeedback(ctx, "esp-ref", t0.Add(-time.Hour))
		if err != nil {
			return err
		}
		if len(reports) != 2 || !reports[0].Referred || !reports[1].Referred {
			t.Errorf("SubmitterFeedback reports: got %+v", reports)
		}
		// The revoked referral's "arrest" is gone; the federal referral's
		// outcome remains.
		if len(outcomes) != 1 || outcomes[0].Code != "not_actionable" || !outcomes[0].OpenedAt.Equal(t0) {
			t.Errorf("SubmitterFeedback outcomes: got %+v", outcomes)
		}
		reports, _, err = tx.SubmitterFeedback(ctx, "esp-ref", t0.Add(time.Hour))
		if err != nil || len(reports) != 1 {
			t.Errorf("SubmitterFeedback since: got %v %v", reports, err)
		}
		return nil
	})
}
