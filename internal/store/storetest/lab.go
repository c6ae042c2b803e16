package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testLab covers the workboard and the redacted lab: series activity and
// sightings from the file matches, findings, leads, and sanitised
// renditions with their masks and publication.
func testLab(t *testing.T, s *store.Store) {
	ctx := context.Background()
	pos := &haven.HashBank{ID: haven.NewID(), Name: "Series bank (synthetic)", PDQThreshold: 31, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	neg := &haven.HashBank{ID: haven.NewID(), Name: "Negatives (synthetic)", Negative: true, PDQThreshold: 31, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	type rf struct {
		report *haven.Report
		file   *haven.ReportFile
	}
	var files []rf
	entry := func(bank, series string, v byte) *haven.HashEntry {
		return &haven.HashEntry{BankID: bank, Algo: haven.AlgoMD5, Value: bytes.Repeat([]byte{v}, 16), SeriesID: series, AddedAt: t0, Enabled: true}
	}
	eA, eA2, eB, eN := entry(pos.ID, "SER-A", 1), entry(pos.ID, "SER-A", 2), entry(pos.ID, "SER-B", 3), entry(neg.ID, "SER-N", 4)
	write(t, s, func(tx *store.Tx) error {
		for _, b := range []*haven.HashBank{pos, neg} {
			if err := tx.CreateHashBank(ctx, b); err != nil {
				return err
			}
		}
		for _, e := range []*haven.HashEntry{eA, eA2, eB, eN} {
			if _, err := tx.PutHashEntry(ctx, e); err != nil {
				return err
			}
		}
		// Three reports received an hour apart, one file each.
		for i := range 3 {
			id, err := tx.NextReportNumber(ctx)
			if err != nil {
				return err
			}
			at := t0.Add(time.Duration(i) * time.Hour)
			r := &haven.Report{ID: id, Source: haven.SourceESP, Status: haven.ReportFinished, OpenedAt: at, ModifiedAt: at,
				Incident: haven.IncidentSummary{Type: haven.IncidentCSAM}}
			if err := tx.CreateReport(ctx, r, nil, time.Time{}); err != nil {
				return err
			}
			f := &haven.ReportFile{ID: fmt.Sprintf("%032x", i+1), ReportID: id, AcquisitionID: "acq", ItemID: "item",
				Filename: "pattern.png", ContentType: "image/png", Size: 1, MD5: make([]byte, 16), SHA1: make([]byte, 20),
				SHA256: make([]byte, 32), UploadedAt: at}
			if err := tx.AddReportFile(ctx, f); err != nil {
				return err
			}
			files = append(files, rf{r, f})
		}
		match := func(x rf, e *haven.HashEntry) error {
			return tx.AddFileMatch(ctx, &haven.FileMatch{ReportID: x.report.ID, FileID: x.file.ID, EntryID: e.ID, Algo: haven.AlgoMD5, At: t0})
		}
		// SER-A: files 0 and 2 (file 2 by two entries); SER-B: file 1;
		// the negative bank's series never shows.
		for _, m := range []struct {
			x rf
			e *haven.HashEntry
		}{{files[0], eA}, {files[2], eA}, {files[2], eA2}, {files[1], eB}, {files[1], eN}} {
			if err := match(m.x, m.e); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		act, err := tx.SeriesActivity(ctx)
		if err != nil {
			return err
		}
		want := []*store.SeriesActivity{
			{Code: "SER-A", Sightings: 2, Reports: 2, Newest: t0.Add(2 * time.Hour)},
			{Code: "SER-B", Sightings: 1, Reports: 1, Newest: t0.Add(time.Hour)},
		}
		if diff := cmp.Diff(want, act); diff != "" {
			t.Errorf("SeriesActivity (-want +got):\n%s", diff)
		}
		sights, err := tx.SeriesSightings(ctx, "SER-A")
		if err != nil {
			return err
		}
		if len(sights) != 2 || sights[0].FileID != files[2].file.ID || sights[1].FileID != files[0].file.ID ||
			!sights[0].ReceivedAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("SeriesSightings: got %+v, want files 2 then 0", sights)
		}
		if none, err := tx.SeriesSightings(ctx, "SER-N"); err != nil || len(none) != 0 {
			t.Errorf("sightings of a negative bank's series: %v %v", none, err)
		}
		for _, c := range []struct {
			code string
			x    rf
			want bool
		}{{"SER-A", files[0], true}, {"SER-A", files[1], false}, {"SER-B", files[1], true}, {"SER-N", files[1], false}} {
			got, err := tx.FileInSeries(ctx, c.code, c.x.report.ID, c.x.file.ID)
			if err != nil || got != c.want {
				t.Errorf("FileInSeries(%s, %s): got %v %v, want %v", c.code, c.x.file.ID, got, err, c.want)
			}
		}
		return nil
	})

	// Findings and leads, newest first.
	f1 := &store.LabFinding{ID: haven.NewID(), SeriesCode: "SER-A", Body: "Wallpaper pattern (synthetic)", AuthorID: "u1", CreatedAt: t0}
	f2 := &store.LabFinding{ID: haven.NewID(), SeriesCode: "SER-A", Body: "Second finding", AuthorID: "u1", CreatedAt: t0.Add(time.Minute)}
	l1 := &store.LabLead{ID: haven.NewID(), SeriesCode: "SER-A", ReportID: files[0].report.ID, FileID: files[0].file.ID, Clue: "location",
		Note: "check region", MarkedBy: "u1", MarkedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		for _, f := range []*store.LabFinding{f1, f2} {
			if err := tx.AddLabFinding(ctx, f); err != nil {
				return err
			}
		}
		return tx.AddLabLead(ctx, l1)
	})
	read(t, s, func(tx *store.Tx) error {
		fs, err := tx.LabFindings(ctx, "SER-A")
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.LabFinding{f2, f1}, fs); diff != "" {
			t.Errorf("LabFindings (-want +got):\n%s", diff)
		}
		ls, err := tx.LabLeads(ctx, "SER-A")
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*store.LabLead{l1}, ls); diff != "" {
			t.Errorf("LabLeads (-want +got):\n%s", diff)
		}
		if other, _ := tx.LabFindings(ctx, "SER-B"); len(other) != 0 {
			t.Errorf("findings of another series: %v", other)
		}
		return nil
	})

	// Sanitised renditions: create, get with masks, publish once.
	lr := &store.LabRendition{ID: haven.NewID(), SeriesCode: "SER-A", ReportID: files[0].report.ID, FileID: files[0].file.ID,
		ItemID: "item-lab", ContentType: "image/png", Width: 320, Height: 240, MadeBy: "u1", MadeAt: t0,
		Masks: []store.Mask{{X: 10, Y: 20, W: 30, H: 40}, {X: 0, Y: 0, W: 5, H: 5}}}
	write(t, s, func(tx *store.Tx) error { return tx.CreateLabRendition(ctx, lr) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.LabRendition(ctx, lr.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(lr, got); diff != "" {
			t.Errorf("LabRendition (-want +got):\n%s", diff)
		}
		if got.Published() {
			t.Error("a new lab rendition is published")
		}
		_, err = tx.LabRendition(ctx, "missing")
		wantKind(t, err, haven.KindNotFound)
		pub, err := tx.PublishedLabRenditions(ctx)
		if err != nil || len(pub) != 0 {
			t.Errorf("published before publishing: %v %v", pub, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error { return tx.PublishLabRendition(ctx, lr.ID, "u2", t0.Add(time.Hour)) })
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.PublishLabRendition(ctx, lr.ID, "u2", t0.Add(time.Hour)) })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		pub, err := tx.PublishedLabRenditions(ctx)
		if err != nil {
			return err
		}
		if len(pub) != 1 || pub[0].ID != lr.ID || pub[0].PublishedBy != "u2" || !pub[0].PublishedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("PublishedLabRenditions: got %+v", pub)
		}
		all, err := tx.LabRenditionsOfSeries(ctx, "SER-A")
		if err != nil || len(all) != 1 {
			t.Errorf("LabRenditionsOfSeries: %v %v", all, err)
		}
		return nil
	})
}
