package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

func testVictimID(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ag := newAgency("Example County ICAC Task Force")
	write(t, s, func(tx *store.Tx) error { return tx.CreateAgency(ctx, ag) })

	sr := &store.Series{Code: "SERIES-TEST-1", Name: "Test series one", Notes: "synthetic", CreatedBy: "u1", CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateSeries(ctx, sr); err != nil {
			return err
		}
		return tx.CreateSeries(ctx, &store.Series{Code: "SERIES-TEST-2", Name: "Test series two", CreatedAt: t0, UpdatedAt: t0})
	})
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateSeries(ctx, sr) })
	if !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("a second series with the same code: got %v, want a conflict", err)
	}
	v1 := &store.Victim{ID: "V-TEST-1", Identified: true, AgencyID: ag.ID, OfficerName: "Officer Example", OfficerEmail: "officer@example.org",
		OfficerPhone: "+1 555 0100", IdentifiedOn: t0.Add(24 * time.Hour), ApproxAge: 9, Notify: "notify", CounselName: "Counsel Example",
		CounselContact: "counsel@example.org", CreatedAt: t0, UpdatedAt: t0, Series: []string{"SERIES-TEST-1", "SERIES-TEST-2"}}
	v2 := &store.Victim{ID: "V-TEST-2", Notify: "do_not_notify", CreatedAt: t0, UpdatedAt: t0, Series: []string{"SERIES-TEST-1"}}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateVictim(ctx, v1); err != nil {
			return err
		}
		return tx.CreateVictim(ctx, v2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Victim(ctx, "V-TEST-1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(v1, got); diff != "" {
			t.Errorf("victim round trip (-want +got):\n%s", diff)
		}
		if _, err := tx.Victim(ctx, "V-NONE"); !haven.IsKind(err, haven.KindNotFound) {
			t.Errorf("missing victim: got %v, want not found", err)
		}
		vs, err := tx.SeriesVictims(ctx, "SERIES-TEST-1")
		if err != nil {
			return err
		}
		if len(vs) != 2 || vs[0].ID != "V-TEST-1" || vs[1].ID != "V-TEST-2" {
			t.Errorf("series victims: got %d", len(vs))
		}
		list, err := tx.ListSeries(ctx)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Victims != 2 || list[0].Identified != 1 || list[1].Victims != 1 || !list[0].FirstSeen.IsZero() {
			t.Errorf("list series: got %+v", list)
		}
		return nil
	})
	v2.Series = []string{"SERIES-TEST-2"}
	v2.UpdatedAt = t0.Add(time.Hour)
	sr.Status, sr.UpdatedAt = "identified", t0.Add(time.Hour)
	write(t, s, func(tx *store.Tx) error {
		if err := tx.UpdateSeries(ctx, sr); err != nil {
			return err
		}
		return tx.UpdateVictim(ctx, v2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Series(ctx, "SERIES-TEST-1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sr, got); diff != "" {
			t.Errorf("series round trip (-want +got):\n%s", diff)
		}
		vs, err := tx.SeriesVictims(ctx, "SERIES-TEST-2")
		if err != nil {
			return err
		}
		if len(vs) != 2 {
			t.Errorf("series two victims: got %d, want 2", len(vs))
		}
		return nil
	})

	// Requests and notifications.
	req := &store.IDRequest{ID: haven.NewID(), AgencyID: ag.ID, RequestedBy: "le1", CaseNumber: "CASE-TEST-1", Purpose: "prosecution",
		Status: "running", Submitted: 3, CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateIDRequest(ctx, req) })
	req.Status, req.Processed, req.Matched, req.Result, req.FinishedAt = "done", 3, 2, `{"series":[]}`, t0.Add(time.Minute)
	n := &store.VictimNotification{ID: haven.NewID(), VictimID: "V-TEST-1", RequestID: req.ID, CaseNumber: "CASE-TEST-1",
		AgencyID: ag.ID, CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.UpdateIDRequest(ctx, req); err != nil {
			return err
		}
		return tx.CreateVictimNotification(ctx, n)
	})
	err = s.InTx(ctx, func(tx *store.Tx) error {
		dup := *n
		dup.ID = haven.NewID()
		return tx.CreateVictimNotification(ctx, &dup)
	})
	if !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("a second notification for the same victim and request: got %v, want a conflict", err)
	}
	write(t, s, func(tx *store.Tx) error {
		return tx.MarkVictimNotificationSent(ctx, n.ID, "sup1", "letter sent", t0.Add(time.Hour))
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.MarkVictimNotificationSent(ctx, n.ID, "sup1", "again", t0) })
	if !haven.IsKind(err, haven.KindNotFound) {
		t.Errorf("marking twice: got %v, want not found", err)
	}
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.IDRequest(ctx, req.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(req, got); diff != "" {
			t.Errorf("request round trip (-want +got):\n%s", diff)
		}
		rs, err := tx.AgencyIDRequests(ctx, ag.ID, 10)
		if err != nil || len(rs) != 1 {
			t.Errorf("agency requests: got %d, %v", len(rs), err)
		}
		ns, err := tx.VictimNotifications(ctx)
		if err != nil {
			return err
		}
		if len(ns) != 1 || ns[0].SentBy != "sup1" || ns[0].SentNote != "letter sent" || !ns[0].SentAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("notifications: got %+v", ns)
		}
		return nil
	})
}
