package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testViewer covers the safe viewer's records: a report file by report
// and ID, renditions, reveal grants, exposure intervals and legal
// authorities.
func testViewer(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := newUser("viewer-analyst@example.org", haven.RoleIntake, "")
	other := newUser("viewer-other@example.org", haven.RoleIntake, "")
	r := &haven.Report{Source: haven.SourceESP, Status: haven.ReportFinished, SubmitterID: "esp-1", OpenedAt: t0, ModifiedAt: t0,
		Incident: haven.IncidentSummary{Type: haven.IncidentCSAM, DateTime: t0}}
	f := &haven.ReportFile{ID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", AcquisitionID: "acq-v", ItemID: "item-v", Filename: "pattern.png",
		ContentType: "image/png", Size: 9, MD5: make([]byte, 16), SHA1: make([]byte, 20), SHA256: make([]byte, 32), UploadedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		for _, x := range []*haven.User{u, other} {
			if err := tx.CreateUser(ctx, x); err != nil {
				return err
			}
		}
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		r.ID, f.ReportID = id, id
		if err := tx.CreateReport(ctx, r, nil, time.Time{}); err != nil {
			return err
		}
		return tx.AddReportFile(ctx, f)
	})

	// A file by report and ID; another report's number finds nothing.
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.FileOfReport(ctx, r.ID, f.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(f, got); diff != "" {
			t.Errorf("FileOfReport (-want +got):\n%s", diff)
		}
		_, err = tx.FileOfReport(ctx, r.ID+1, f.ID)
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.FileOfReport(ctx, r.ID, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})

	// Renditions: put, get, replace.
	rend := &store.Rendition{FileID: f.ID, Kind: store.RenditionNone, Note: "not an image", MadeAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.PutRendition(ctx, rend) })
	rend = &store.Rendition{FileID: f.ID, Kind: store.RenditionImage, ItemID: "item-r", ContentType: "image/png", Width: 320,
		Height: 240, MadeAt: t0.Add(time.Minute)}
	write(t, s, func(tx *store.Tx) error { return tx.PutRendition(ctx, rend) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Rendition(ctx, f.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(rend, got); diff != "" {
			t.Errorf("Rendition (-want +got):\n%s", diff)
		}
		_, err = tx.Rendition(ctx, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})

	// Grants: the live one of a user's session for a file.
	g1 := &store.RevealGrant{ID: haven.NewID(), UserID: u.ID, SessionID: "sess-1", ReportID: r.ID, FileID: f.ID, Reason: "classify",
		GrantedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	g2 := &store.RevealGrant{ID: haven.NewID(), UserID: u.ID, SessionID: "sess-1", ReportID: r.ID, FileID: f.ID, Reason: "again",
		GrantedAt: t0.Add(5 * time.Minute), ExpiresAt: t0.Add(15 * time.Minute)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateRevealGrant(ctx, g1); err != nil {
			return err
		}
		return tx.CreateRevealGrant(ctx, g2)
	})
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateRevealGrant(ctx, g1) })
	wantKind(t, err, haven.KindConflict)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.RevealGrant(ctx, g1.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(g1, got); diff != "" {
			t.Errorf("RevealGrant (-want +got):\n%s", diff)
		}
		if got, err := tx.LiveRevealGrant(ctx, u.ID, "sess-1", f.ID, t0.Add(time.Minute)); err != nil || got.ID != g2.ID {
			t.Errorf("LiveRevealGrant: got %v, %v; want the later grant", got, err)
		}
		if got, err := tx.LiveRevealGrant(ctx, u.ID, "sess-1", f.ID, t0.Add(12*time.Minute)); err != nil || got.ID != g2.ID {
			t.Errorf("LiveRevealGrant after the first expired: got %v, %v", got, err)
		}
		_, err = tx.LiveRevealGrant(ctx, u.ID, "sess-1", f.ID, t0.Add(15*time.Minute))
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.LiveRevealGrant(ctx, u.ID, "sess-2", f.ID, t0.Add(time.Minute))
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.LiveRevealGrant(ctx, other.ID, "sess-1", f.ID, t0.Add(time.Minute))
		wantKind(t, err, haven.KindNotFound)
		gs, err := tx.RevealGrantsBetween(ctx, t0, t0.Add(5*time.Minute))
		if err != nil || len(gs) != 1 || gs[0].ID != g1.ID {
			t.Errorf("RevealGrantsBetween: got %v, %v; want the first grant only", gs, err)
		}
		return nil
	})

	// Exposure intervals: start, touch, end, list.
	e1 := &store.ExposureInterval{ID: haven.NewID(), UserID: u.ID, GrantID: g1.ID, FileID: f.ID, StartedAt: t0, LastSeenAt: t0}
	e2 := &store.ExposureInterval{ID: haven.NewID(), UserID: other.ID, GrantID: "g-other", FileID: f.ID,
		StartedAt: t0.Add(time.Hour), LastSeenAt: t0.Add(time.Hour)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.StartExposure(ctx, e1); err != nil {
			return err
		}
		if err := tx.StartExposure(ctx, e2); err != nil {
			return err
		}
		open, err := tx.OpenExposure(ctx, g1.ID)
		if err != nil {
			return err
		}
		if open.ID != e1.ID {
			t.Errorf("OpenExposure: got %s, want %s", open.ID, e1.ID)
		}
		if err := tx.TouchExposure(ctx, e1.ID, t0.Add(30*time.Second)); err != nil {
			return err
		}
		return tx.EndExposure(ctx, e1.ID, t0.Add(40*time.Second))
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.TouchExposure(ctx, e1.ID, t0.Add(50*time.Second)) })
	wantKind(t, err, haven.KindNotFound)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.EndExposure(ctx, e1.ID, t0.Add(50*time.Second)) })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		_, err := tx.OpenExposure(ctx, g1.ID)
		wantKind(t, err, haven.KindNotFound)
		got, err := tx.ExposureIntervals(ctx, u.ID, t0, t0.Add(24*time.Hour))
		if err != nil {
			return err
		}
		e1.LastSeenAt, e1.EndedAt = t0.Add(30*time.Second), t0.Add(40*time.Second)
		if diff := cmp.Diff([]*store.ExposureInterval{e1}, got); diff != "" {
			t.Errorf("ExposureIntervals of a user (-want +got):\n%s", diff)
		}
		all, err := tx.ExposureIntervals(ctx, "", t0, t0.Add(24*time.Hour))
		if err != nil || len(all) != 2 {
			t.Errorf("ExposureIntervals of everyone: got %d, %v; want 2", len(all), err)
		}
		none, err := tx.ExposureIntervals(ctx, "", t0.Add(2*time.Hour), t0.Add(24*time.Hour))
		if err != nil || len(none) != 0 {
			t.Errorf("ExposureIntervals after both started: got %d, %v; want 0", len(none), err)
		}
		return nil
	})

	// Legal authorities.
	la := &store.LegalAuthority{ID: haven.NewID(), ReportID: r.ID, FileID: f.ID, Kind: "warrant", Reference: "SW-2026-0001",
		Issuer: "Example County Superior Court", IssuedOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Notes: "synthetic",
		RecordedBy: u.ID, RecordedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.AddLegalAuthority(ctx, la) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.LegalAuthorities(ctx, r.ID, f.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.LegalAuthority{la}, got); diff != "" {
			t.Errorf("LegalAuthorities (-want +got):\n%s", diff)
		}
		if all, err := tx.LegalAuthorities(ctx, r.ID, ""); err != nil || len(all) != 1 {
			t.Errorf("LegalAuthorities of the report: got %d, %v", len(all), err)
		}
		if none, err := tx.LegalAuthorities(ctx, r.ID, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); err != nil || len(none) != 0 {
			t.Errorf("LegalAuthorities of another file: got %d, %v", len(none), err)
		}
		return nil
	})

	// Removing the report's files removes what hangs on them.
	write(t, s, func(tx *store.Tx) error { _, err := tx.DeleteReportFiles(ctx, r.ID); return err })
	read(t, s, func(tx *store.Tx) error {
		_, err := tx.Rendition(ctx, f.ID)
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.RevealGrant(ctx, g1.ID)
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
}
