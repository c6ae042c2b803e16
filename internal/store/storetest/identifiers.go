package storetest

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testIdentifiers covers entities, their links to reports and report
// locations.
func testIdentifiers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ip := func(s string) []byte { b := netip.MustParseAddr(s).As16(); return b[:] }
	link := func(report int64, at time.Time, kind, value, role string) *store.EntityLink {
		return &store.EntityLink{ReportID: report, ReportAt: at, Kind: kind, Value: value, Role: role}
	}
	t1, t2, t3 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	email := "person.one@example.org"
	// Report 1: an e-mail (twice, in two roles) and an IP address with
	// capture times.
	l1 := []*store.EntityLink{
		link(1, t1, "email", email, "reported"),
		link(1, t1, "email", email, "victim"),
		{ReportID: 1, ReportAt: t1, Kind: "ip", Value: "192.0.2.7", IP: ip("192.0.2.7"), Role: "reported",
			SeenFirst: t0.Add(-48 * time.Hour), SeenLast: t0.Add(-24 * time.Hour), Sightings: 3},
	}
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, []int64{1}, l1) })
	for _, l := range l1 {
		if l.EntityID == 0 {
			t.Fatalf("link %s/%s got no entity ID", l.Kind, l.Role)
		}
	}
	if l1[0].EntityID != l1[1].EntityID {
		t.Errorf("one value in two roles got two entities: %d and %d", l1[0].EntityID, l1[1].EntityID)
	}
	// Reports 2 and 3 in one call share the e-mail; report 3 has a
	// second IP address of the same network.
	l23 := []*store.EntityLink{
		link(2, t2, "email", email, "reported"),
		link(2, t2, "phone", "+12025550143", "reported"),
		link(3, t3, "email", email, "reporter"),
		{ReportID: 3, ReportAt: t3, Kind: "ip", Value: "192.0.2.200", IP: ip("192.0.2.200"), Role: "file"},
		{ReportID: 3, ReportAt: t3, Kind: "ip", Value: "2001:db8::1", IP: ip("2001:db8::1"), Role: "file"},
	}
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, []int64{2, 3}, l23) })
	emailID := l1[0].EntityID
	read(t, s, func(tx *store.Tx) error {
		e, err := tx.EntityByKey(ctx, "email", email)
		if err != nil {
			return err
		}
		want := &store.Entity{ID: emailID, Kind: "email", Value: email, FirstSeen: t1, LastSeen: t3, Reports: 3}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("EntityByKey (-want +got):\n%s", diff)
		}
		e, err = tx.Entity(ctx, l1[2].EntityID)
		if err != nil {
			return err
		}
		if e.Kind != "ip" || !bytes.Equal(e.IP, ip("192.0.2.7")) || !e.FirstSeen.Equal(t0.Add(-48*time.Hour)) || !e.LastSeen.Equal(t0.Add(-24*time.Hour)) || e.Reports != 1 {
			t.Errorf("IP entity: %+v", e)
		}
		_, err = tx.EntityByKey(ctx, "email", "nobody@example.org")
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.Entity(ctx, 1<<40)
		wantKind(t, err, haven.KindNotFound)

		// Newest first, one row per report and role.
		links, err := tx.EntityReports(ctx, emailID, 0, nil, 10)
		if err != nil {
			return err
		}
		var got []string
		for _, l := range links {
			got = append(got, fmt.Sprintf("%d/%s", l.ReportID, l.Role))
		}
		if diff := cmp.Diff([]string{"3/reporter", "2/reported", "1/reported", "1/victim"}, got); diff != "" {
			// Report 1's two roles share a time and report: either order.
			if diff2 := cmp.Diff([]string{"3/reporter", "2/reported", "1/victim", "1/reported"}, got); diff2 != "" {
				t.Errorf("EntityReports (-want +got):\n%s", diff)
			}
		}
		// Leaving out a report, and paging with a cursor.
		links, err = tx.EntityReports(ctx, emailID, 3, nil, 1)
		if err != nil || len(links) != 1 || links[0].ReportID != 2 || links[0].Reports != 3 || links[0].Value != email {
			t.Errorf("EntityReports except 3, limit 1: %+v %v", links, err)
		}
		links, err = tx.EntityReports(ctx, emailID, 0, &store.LinkCursor{ReportAt: t2, ReportID: 2}, 10)
		if err != nil || len(links) != 2 || links[0].ReportID != 1 || links[1].ReportID != 1 {
			t.Errorf("EntityReports after report 2: %+v %v", links, err)
		}
		// A report's links carry their entity and its count.
		links, err = tx.ReportEntities(ctx, 1)
		if err != nil {
			return err
		}
		if len(links) != 3 {
			t.Fatalf("ReportEntities: got %d links, want 3", len(links))
		}
		for _, l := range links {
			if l.Kind == "ip" && (l.Sightings != 3 || !l.SeenFirst.Equal(t0.Add(-48*time.Hour)) || !l.SeenLast.Equal(t0.Add(-24*time.Hour)) || !l.ReportAt.Equal(t1)) {
				t.Errorf("IP link: %+v", l)
			}
			if l.Kind == "email" && (l.Reports != 3 || !l.SeenFirst.IsZero() || l.Sightings != 1) {
				t.Errorf("e-mail link: %+v", l)
			}
		}
		// A network is a range of the 16-byte keys.
		lo, hi := ip("192.0.2.0"), ip("192.0.2.255")
		es, err := tx.EntitiesInIPRange(ctx, lo, hi, 10)
		if err != nil || len(es) != 2 || es[0].Value != "192.0.2.7" || es[1].Value != "192.0.2.200" {
			t.Errorf("EntitiesInIPRange v4: %+v %v", es, err)
		}
		es, err = tx.EntitiesInIPRange(ctx, ip("2001:db8::"), ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 10)
		if err != nil || len(es) != 1 || es[0].Value != "2001:db8::1" {
			t.Errorf("EntitiesInIPRange v6: %+v %v", es, err)
		}
		return nil
	})

	// Re-indexing report 1 replaces its links: the IP address it no
	// longer mentions is deleted, the e-mail's count stays exact.
	again := []*store.EntityLink{link(1, t1, "email", email, "reported"), link(1, t1, "url", "https://example.org/a", "incident")}
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, []int64{1}, again) })
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, []int64{1}, again) })
	read(t, s, func(tx *store.Tx) error {
		e, err := tx.EntityByKey(ctx, "email", email)
		if err != nil || e.Reports != 3 || e.ID != emailID {
			t.Errorf("e-mail after re-indexing: %+v %v", e, err)
		}
		_, err = tx.EntityByKey(ctx, "ip", "192.0.2.7")
		wantKind(t, err, haven.KindNotFound)
		links, err := tx.ReportEntities(ctx, 1)
		if err != nil || len(links) != 2 {
			t.Errorf("report 1 after re-indexing: %d links, %v", len(links), err)
		}
		return nil
	})
	// Emptying a report's links takes back its counts.
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, []int64{2}, nil) })
	read(t, s, func(tx *store.Tx) error {
		e, err := tx.EntityByKey(ctx, "email", email)
		if err != nil || e.Reports != 2 {
			t.Errorf("e-mail after emptying report 2: %+v %v", e, err)
		}
		_, err = tx.EntityByKey(ctx, "phone", "+12025550143")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	// A link of a report that is not being replaced is refused.
	err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.ReplaceReportEntities(ctx, []int64{4}, []*store.EntityLink{link(5, t1, "email", email, "reported")})
	})
	if err == nil {
		t.Error("ReplaceReportEntities accepted a link of another report")
	}

	// Bulk: more links than one statement holds, many reports per call.
	var bulk []*store.EntityLink
	var ids []int64
	for r := int64(100); r < 400; r++ {
		ids = append(ids, r)
		at := t0.Add(time.Duration(r) * time.Minute)
		bulk = append(bulk, link(r, at, "email", fmt.Sprintf("user%d@example.org", r%50), "reported"),
			link(r, at, "md5", fmt.Sprintf("%032x", r), "file"), link(r, at, "email", email, "victim"))
	}
	write(t, s, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, ids, bulk) })
	read(t, s, func(tx *store.Tx) error {
		e, err := tx.EntityByKey(ctx, "email", "user7@example.org")
		if err != nil || e.Reports != 6 {
			t.Errorf("bulk: user7 in %+v %v, want 6 reports", e, err)
		}
		e, err = tx.EntityByKey(ctx, "email", email)
		if err != nil || e.Reports != 302 || !e.LastSeen.Equal(t0.Add(399*time.Minute)) {
			t.Errorf("bulk: shared e-mail %+v %v, want 302 reports", e, err)
		}
		return nil
	})

	// Locations: computed, corrected, recomputed (the correction stays).
	rep := &haven.Report{Source: haven.SourcePublic, Status: haven.ReportFinished, OpenedAt: t0, ModifiedAt: t0,
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement}}
	write(t, s, func(tx *store.Tx) (err error) {
		if rep.ID, err = tx.NextReportNumber(ctx); err != nil {
			return err
		}
		return tx.CreateReport(ctx, rep, nil, time.Time{})
	})
	read(t, s, func(tx *store.Tx) error {
		_, err := tx.ReportLocation(ctx, rep.ID)
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	loc := &store.ReportLocation{ReportID: rep.ID, Country: "US", Region: "US-CA", Confidence: "medium",
		Evidence: []string{"IP address of the reported user in the test database: US-CA"}, ComputedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.PutReportLocation(ctx, loc) })
	write(t, s, func(tx *store.Tx) error {
		return tx.CorrectReportLocation(ctx, &store.ReportLocation{ReportID: rep.ID, CorrectedCountry: "US", CorrectedRegion: "US-NV",
			CorrectedBy: "u1", CorrectedAt: t1, CorrectionReason: "the caller confirmed the town"})
	})
	loc.Confidence, loc.ComputedAt = "high", t2
	write(t, s, func(tx *store.Tx) error { return tx.PutReportLocation(ctx, loc) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.ReportLocation(ctx, rep.ID)
		if err != nil {
			return err
		}
		want := &store.ReportLocation{ReportID: rep.ID, Country: "US", Region: "US-CA", Confidence: "high", Evidence: loc.Evidence,
			ComputedAt: t2, CorrectedCountry: "US", CorrectedRegion: "US-NV", CorrectedBy: "u1", CorrectedAt: t1,
			CorrectionReason: "the caller confirmed the town"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ReportLocation (-want +got):\n%s", diff)
		}
		return nil
	})
	// A correction before any computation.
	rep2 := *rep
	write(t, s, func(tx *store.Tx) (err error) {
		if rep2.ID, err = tx.NextReportNumber(ctx); err != nil {
			return err
		}
		if err := tx.CreateReport(ctx, &rep2, nil, time.Time{}); err != nil {
			return err
		}
		return tx.CorrectReportLocation(ctx, &store.ReportLocation{ReportID: rep2.ID, CorrectedCountry: "GB", CorrectedBy: "u1",
			CorrectedAt: t1, CorrectionReason: "stated in the call"})
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.ReportLocation(ctx, rep2.ID)
		if err != nil || got.CorrectedCountry != "GB" || got.Country != "" || !got.ComputedAt.IsZero() || len(got.Evidence) != 0 {
			t.Errorf("correction only: %+v %v", got, err)
		}
		return nil
	})
}
