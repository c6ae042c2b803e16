package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testOffenders is the conformance test of the store's offenders records.
func testOffenders(t *testing.T, s *store.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	o := &store.Offender{ID: haven.NewID(), Source: "state-a", SourceKey: "A-0001", Name: "Example Person One", Sex: "M", HeightCM: 180,
		WeightKG: 80, Eyes: "brown", Hair: "black", Marks: "tattoo left arm", Tier: 2, Status: "compliant", Jurisdiction: "US-AA",
		RegisteredOn: t0.Add(-400 * day), LastVerified: t0.Add(-30 * day), CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateOffender(ctx, o) })
	dup := *o
	dup.ID = haven.NewID()
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateOffender(ctx, &dup) })
	wantKind(t, err, haven.KindConflict)

	res := &store.OffenderFact{ID: haven.NewID(), OffenderID: o.ID, Kind: "residence", Value: "1 Example Street, Exampleville",
		Detail: "permanent", HasGeo: true, Lat: 40.5, Lon: -75.25, ValidFrom: t0.Add(-300 * day), Source: "imp1", RecordedAt: t0}
	phone := &store.OffenderFact{ID: haven.NewID(), OffenderID: o.ID, Kind: "phone", Value: "555-0100", Norm: "+15555550100",
		ValidFrom: t0.Add(-10 * day), Source: "imp1", RecordedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.AddOffenderFact(ctx, res); err != nil {
			return err
		}
		if err := tx.AddOffenderFact(ctx, phone); err != nil {
			return err
		}
		return tx.CloseOffenderFact(ctx, res.ID, t0.Add(-5*day))
	})
	res.ValidTo = t0.Add(-5 * day)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Offender(ctx, o.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("offender round trip (-want +got):\n%s", diff)
		}
		if got, err := tx.OffenderBySourceKey(ctx, "state-a", "A-0001"); err != nil || got.ID != o.ID {
			t.Errorf("by source key: got %v, %v", got, err)
		}
		if _, err := tx.OffenderBySourceKey(ctx, "state-b", "A-0001"); !haven.IsKind(err, haven.KindNotFound) {
			t.Errorf("other source: got %v, want not found", err)
		}
		facts, err := tx.OffenderFacts(ctx, o.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.OffenderFact{phone, res}, facts); diff != "" {
			t.Errorf("facts (-want +got):\n%s", diff)
		}
		byNorm, err := tx.FactsByNorm(ctx, "phone", "+15555550100")
		if err != nil || len(byNorm) != 1 || byNorm[0].ID != phone.ID {
			t.Errorf("facts by norm: got %d, %v", len(byNorm), err)
		}
		byKind, err := tx.FactsByKind(ctx, "residence", "", 0)
		if err != nil || len(byKind) != 1 || !byKind[0].HasGeo || byKind[0].Lat != 40.5 {
			t.Errorf("facts by kind: got %v, %v", byKind, err)
		}
		list, err := tx.Offenders(ctx, store.OffenderFilter{Query: "person one", Jurisdiction: "US-AA"})
		if err != nil || len(list) != 1 {
			t.Errorf("search: got %d, %v", len(list), err)
		}
		list, err = tx.Offenders(ctx, store.OffenderFilter{Status: "absconded"})
		if err != nil || len(list) != 0 {
			t.Errorf("status filter: got %d, %v", len(list), err)
		}
		counts, err := tx.CountOffendersByJurisdiction(ctx)
		if err != nil || counts["US-AA"] != 1 {
			t.Errorf("counts: got %v, %v", counts, err)
		}
		return nil
	})
	o.Status, o.UpdatedAt = "deceased", t0.Add(day)
	write(t, s, func(tx *store.Tx) error { return tx.UpdateOffender(ctx, o) })
	read(t, s, func(tx *store.Tx) error {
		counts, err := tx.CountOffendersByJurisdiction(ctx)
		if err != nil || counts["US-AA"] != 0 {
			t.Errorf("a deceased offender is counted: %v, %v", counts, err)
		}
		return nil
	})

	// Mappings and imports.
	m := &store.ImportMapping{Source: "state-a", Name: "State A", Format: "csv", Jurisdiction: "US-AA", Mapping: `{"key":"ID"}`, UpdatedBy: "u", UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.PutImportMapping(ctx, m) })
	m.Mapping = `{"key":"RegID"}`
	write(t, s, func(tx *store.Tx) error { return tx.PutImportMapping(ctx, m) })
	im := &store.OffenderImport{ID: haven.NewID(), Source: "state-a", Filename: "a.csv", Status: "previewed", Body: []byte("ID\n1\n"),
		Preview: "{}", CreatedBy: "u", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateOffenderImport(ctx, im) })
	im.Status, im.Records, im.Added, im.Rejected, im.Problems, im.StartedAt, im.FinishedAt = "done", 3, 2, 1, "row 3: bad", t0, t0.Add(time.Minute)
	write(t, s, func(tx *store.Tx) error { return tx.UpdateOffenderImport(ctx, im) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.ImportMapping(ctx, "state-a")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("mapping (-want +got):\n%s", diff)
		}
		if ms, err := tx.ImportMappings(ctx); err != nil || len(ms) != 1 {
			t.Errorf("mappings: got %d, %v", len(ms), err)
		}
		gi, err := tx.OffenderImport(ctx, im.ID, true)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(im, gi); diff != "" {
			t.Errorf("import (-want +got):\n%s", diff)
		}
		list, err := tx.OffenderImports(ctx, 10)
		if err != nil || len(list) != 1 || list[0].Body != nil {
			t.Errorf("imports list: got %v, %v", list, err)
		}
		return nil
	})

	// Incidents and links.
	in := &store.Incident{ID: haven.NewID(), Kind: "attempted_abduction", OccurredAt: t0.Add(-20 * day), Place: "Example Park",
		HasGeo: true, Lat: 40.501, Lon: -75.251, Jurisdiction: "US-AA", Person: "adult male", Vehicle: "blue van", Outcome: "child escaped",
		Identifiers: "phone:+15555550100", CreatedBy: "u", CreatedAt: t0}
	noGeo := &store.Incident{ID: haven.NewID(), Kind: "missing_child", OccurredAt: t0, CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateIncident(ctx, in); err != nil {
			return err
		}
		return tx.CreateIncident(ctx, noGeo)
	})
	l := &store.OffenderLink{ID: haven.NewID(), OffenderID: o.ID, TargetType: "incident", TargetID: in.ID, Score: 70, Reasons: "near",
		Status: "candidate", CreatedAt: t0, UpdatedAt: t0}
	var fresh bool
	write(t, s, func(tx *store.Tx) (err error) { fresh, err = tx.PutLinkCandidate(ctx, l); return err })
	if !fresh {
		t.Error("a new pair is not reported new")
	}
	again := &store.OffenderLink{ID: haven.NewID(), OffenderID: o.ID, TargetType: "incident", TargetID: in.ID, Score: 80, Reasons: "nearer",
		Status: "candidate", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	write(t, s, func(tx *store.Tx) (err error) { fresh, err = tx.PutLinkCandidate(ctx, again); return err })
	if fresh || again.ID != l.ID {
		t.Errorf("the same pair again: new %v, id %s, want the first link %s", fresh, again.ID, l.ID)
	}
	write(t, s, func(tx *store.Tx) error {
		return tx.DecideLink(ctx, l.ID, "confirmed", "u2", "checked", t0.Add(2*time.Hour))
	})
	later := &store.OffenderLink{ID: haven.NewID(), OffenderID: o.ID, TargetType: "incident", TargetID: in.ID, Score: 10, Reasons: "far",
		Status: "candidate", CreatedAt: t0, UpdatedAt: t0.Add(3 * time.Hour)}
	write(t, s, func(tx *store.Tx) (err error) { _, err = tx.PutLinkCandidate(ctx, later); return err })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Incident(ctx, in.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(in, got); diff != "" {
			t.Errorf("incident (-want +got):\n%s", diff)
		}
		if g, err := tx.Incident(ctx, noGeo.ID); err != nil || g.HasGeo {
			t.Errorf("incident without a place: %v, %v", g, err)
		}
		if all, err := tx.Incidents(ctx, 0); err != nil || len(all) != 2 || all[0].ID != noGeo.ID {
			t.Errorf("incidents newest first: %v, %v", all, err)
		}
		lk, err := tx.OffenderLinkByID(ctx, l.ID)
		if err != nil {
			return err
		}
		if lk.Status != "confirmed" || lk.Score != 80 || lk.Reasons != "nearer" || lk.DecidedBy != "u2" || !lk.DecidedAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("a decided link changed by a later run, or lost its decision: %+v", lk)
		}
		for _, ls := range [][]*store.OffenderLink{offLinks(tx.LinksOfOffender(ctx, o.ID)), offLinks(tx.LinksOfTarget(ctx, "incident", in.ID)),
			offLinks(tx.LinksByStatus(ctx, "confirmed", 0))} {
			if len(ls) != 1 || ls[0].ID != l.ID {
				t.Errorf("links: got %v, want the one link", ls)
			}
		}
		return nil
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.DecideLink(ctx, haven.NewID(), "confirmed", "u", "", t0) })
	wantKind(t, err, haven.KindNotFound)

	// Locate requests.
	ag := newAgency("Example County Sheriff")
	other := newAgency("Example City Police")
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, ag); err != nil {
			return err
		}
		return tx.CreateAgency(ctx, other)
	})
	lr := &store.LocateRequest{ID: haven.NewID(), AgencyID: ag.ID, RequestedBy: "le1", CaseNumber: "CASE-1", Subject: "Example Person One",
		Details: "missed verification", Status: "submitted", CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateLocateRequest(ctx, lr) })
	lr.OffenderID, lr.Status, lr.Outcome, lr.Summary, lr.UpdatedAt, lr.DeliveredAt = o.ID, "delivered", "located", "found", t0.Add(day), t0.Add(day)
	q := &store.LocateQuery{ID: haven.NewID(), RequestID: lr.ID, Source: "county property records", QueriedOn: t0, Asked: "owner search",
		Found: "one parcel", RecordedBy: "u", RecordedAt: t0}
	c := &store.LocateCandidate{ID: haven.NewID(), RequestID: lr.ID, Kind: "address", Value: "2 Example Road", HasGeo: true, Lat: 41, Lon: -75,
		Confidence: "high", ValidFrom: t0.Add(-day), Note: "utility record", RecordedBy: "u", RecordedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.UpdateLocateRequest(ctx, lr); err != nil {
			return err
		}
		if err := tx.AddLocateQuery(ctx, q); err != nil {
			return err
		}
		return tx.AddLocateCandidate(ctx, c)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.LocateRequest(ctx, lr.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(lr, got); diff != "" {
			t.Errorf("locate request (-want +got):\n%s", diff)
		}
		if l, err := tx.LocateRequests(ctx, other.ID); err != nil || len(l) != 0 {
			t.Errorf("another agency's requests: got %d, %v", len(l), err)
		}
		if l, err := tx.LocateRequests(ctx, ""); err != nil || len(l) != 1 {
			t.Errorf("every request: got %d, %v", len(l), err)
		}
		qs, err := tx.LocateQueries(ctx, lr.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.LocateQuery{q}, qs); diff != "" {
			t.Errorf("queries (-want +got):\n%s", diff)
		}
		cs, err := tx.LocateCandidates(ctx, lr.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.LocateCandidate{c}, cs); diff != "" {
			t.Errorf("candidates (-want +got):\n%s", diff)
		}
		return nil
	})

	// Surveys: a count entered twice for a date is replaced.
	d1, d2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	write(t, s, func(tx *store.Tx) error {
		for _, c := range []*store.SurveyCount{{SurveyDate: d1, Jurisdiction: "US-AA", Count: 10, Method: "entered", RecordedAt: t0},
			{SurveyDate: d2, Jurisdiction: "US-BB", Count: 7, Method: "computed", RecordedAt: t0},
			{SurveyDate: d2, Jurisdiction: "US-AA", Count: 11, Method: "entered", RecordedAt: t0},
			{SurveyDate: d2, Jurisdiction: "US-AA", Count: 12, Method: "entered", RecordedAt: t0}} {
			if err := tx.PutSurveyCount(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		cs, err := tx.SurveyCounts(ctx)
		if err != nil {
			return err
		}
		var got []string
		for _, c := range cs {
			got = append(got, fmt.Sprintf("%s %s %s %d", c.SurveyDate.Format("2006-01-02"), c.Jurisdiction, c.Method, c.Count))
		}
		want := []string{"2026-07-01 US-AA entered 12", "2026-07-01 US-BB computed 7", "2026-01-01 US-AA entered 10"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("surveys (-want +got):\n%s", diff)
		}
		return nil
	})
}

func offLinks(v []*store.OffenderLink, err error) []*store.OffenderLink {
	if err != nil {
		panic(err)
	}
	return v
}
