package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testStats checks the statistics rollups (built from reports and their
// triage records, per UTC day, partially and fully), the rollup readers,
// releases and research exports on each engine.
func testStats(t *testing.T, s *store.Store) {
	ctx := context.Background()
	day1 := time.Date(2026, 3, 14, 23, 30, 0, 0, time.UTC) // late on the 14th: the 14th, in UTC
	day2 := time.Date(2026, 3, 15, 0, 30, 0, 0, time.UTC)
	put := func(at time.Time, src, country, prio, esp string, reviewed time.Duration, typ haven.IncidentType) {
		t.Helper()
		write(t, s, func(tx *store.Tx) (err error) {
			rep := &haven.Report{Source: haven.ReportSource(src), Status: haven.ReportFinished, OpenedAt: at, ModifiedAt: at, FinishedAt: at,
				SubmitterID: esp, Incident: haven.IncidentSummary{Type: typ}}
			if rep.ID, err = tx.NextReportNumber(ctx); err != nil {
				return err
			}
			if err := tx.CreateReport(ctx, rep, nil, time.Time{}); err != nil {
				return err
			}
			w := &store.Work{ReportID: rep.ID, ReceivedAt: at, Source: src, ESPID: esp, Program: "cybertipline", Country: country,
				ComputedPriority: prio, Priority: prio, Reasons: "[]", RuleVersion: 1, EvaluatedAt: at, Status: "new", Open: true,
				SLADueAt: at.Add(time.Hour), Incidents: 1, UpdatedAt: at}
			if reviewed > 0 {
				w.FirstReviewedAt = at.Add(reviewed)
			}
			return tx.PutWork(ctx, w)
		})
	}
	put(day1, "public", "US", "P1", "", 30*time.Minute, haven.IncidentCSAM)
	put(day1.Add(-time.Hour), "public", "", "P1", "", 2*time.Hour, haven.IncidentEnticement)
	put(day2, "esp", "GB", "P2", "esp-example", 0, haven.IncidentCSAM)
	now := day2.Add(48 * time.Hour)
	build := func(from time.Time) {
		t.Helper()
		for _, m := range store.RollupMetrics() {
			write(t, s, func(tx *store.Tx) error {
				_, err := tx.RebuildRollup(ctx, m, from, now, now)
				return err
			})
		}
	}
	build(time.Time{})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.RollupTotals(ctx, "reports.source", "2026-03-14", "2026-03-15")
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0] != (store.RollupCount{Dimension: "public", Value: 2}) || got[1] != (store.RollupCount{Dimension: "esp", Value: 1}) {
			t.Errorf("reports by source %v", got)
		}
		days, err := tx.RollupDays(ctx, "reports.source", "2026-03-01", "2026-03-31")
		if err != nil {
			return err
		}
		if len(days) != 2 || days[0] != (store.RollupCell{Day: "2026-03-14", Value: 2}) || days[1] != (store.RollupCell{Day: "2026-03-15", Value: 1}) {
			t.Errorf("reports by day %v", days)
		}
		cells, err := tx.RollupCells(ctx, "reports.country", "2026-03-14", "2026-03-15")
		if err != nil {
			return err
		}
		want := []store.RollupCell{{Day: "2026-03-14", Dimension: "US", Value: 1}, {Day: "2026-03-14", Dimension: "unknown", Value: 1}, {Day: "2026-03-15", Dimension: "GB", Value: 1}}
		if len(cells) != 3 || cells[0] != want[0] || cells[1] != want[1] || cells[2] != want[2] {
			t.Errorf("country cells %v, want %v", cells, want)
		}
		rev, err := tx.RollupTotals(ctx, "review.first", "2026-03-14", "2026-03-15")
		if err != nil {
			return err
		}
		m := map[string]int64{}
		for _, r := range rev {
			m[r.Dimension] = r.Value
		}
		if m["P1|within"] != 1 || m["P1|late"] != 1 || m["P2|pending"] != 1 {
			t.Errorf("first review %v", m)
		}
		mins, err := tx.RollupTotals(ctx, "review.minutes", "2026-03-14", "2026-03-15")
		if err != nil {
			return err
		}
		if len(mins) != 1 || mins[0].Value != 150 {
			t.Errorf("review minutes %v, want P1 150", mins)
		}
		esp, err := tx.RollupTotals(ctx, "reports.esp", "2026-03-01", "2026-03-31")
		if err != nil {
			return err
		}
		if len(esp) != 1 || esp[0] != (store.RollupCount{Dimension: "esp-example", Value: 1}) {
			t.Errorf("reports by ESP %v", esp)
		}
		have, err := tx.RollupMetricsWithData(ctx)
		if err != nil {
			return err
		}
		if !have["reports.source"] || have["support.matches"] {
			t.Errorf("metrics with data %v", have)
		}
		st, err := tx.RollupStates(ctx)
		if err != nil {
			return err
		}
		if st["reports.source"] == nil || !st["reports.source"].FullAt.Equal(now) {
			t.Errorf("rollup state %+v", st["reports.source"])
		}
		return nil
	})
	// A partial rebuild replaces only its days.
	put(day2.Add(time.Hour), "phone", "US", "P3", "", 0, haven.IncidentCSAM)
	build(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
	read(t, s, func(tx *store.Tx) error {
		days, err := tx.RollupDays(ctx, "reports.source", "2026-03-01", "2026-03-31")
		if err != nil {
			return err
		}
		if len(days) != 2 || days[0].Value != 2 || days[1].Value != 2 {
			t.Errorf("after a partial rebuild %v", days)
		}
		return nil
	})

	// Releases.
	r := &store.StatRelease{ID: haven.NewID(), Period: "2026-H1", PeriodStart: "2026-01-01", PeriodEnd: "2026-06-30", Threshold: 10,
		Definitions: "Reports: synthetic.", Tables: `[]`, Status: "draft", CreatedBy: "u1", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateStatRelease(ctx, r) })
	r.Status, r.Version, r.PublishedBy, r.PublishedAt, r.Tables = "published", 1, "u2", t0.Add(time.Hour), `[{"id":"summary"}]`
	write(t, s, func(tx *store.Tx) error { return tx.UpdateStatRelease(ctx, r) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.StatRelease(ctx, r.ID)
		if err != nil {
			return err
		}
		if *got != *r {
			t.Errorf("release round trip\n got %+v\nwant %+v", got, r)
		}
		pub, err := tx.StatReleases(ctx, "published")
		if err != nil || len(pub) != 1 {
			t.Errorf("published %v %v", pub, err)
		}
		drafts, err := tx.StatReleases(ctx, "draft")
		if err != nil || len(drafts) != 0 {
			t.Errorf("drafts %v %v", drafts, err)
		}
		_, err = tx.StatRelease(ctx, "missing")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})

	// Research exports.
	e := &store.StatExport{ID: haven.NewID(), RequestedBy: "u3", Table: "reports-by-country", FromDay: "2026-01-01", ToDay: "2026-03-31",
		Threshold: 10, Status: "queued", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateStatExport(ctx, e) })
	e.Status, e.Rows, e.Body, e.FinishedAt, e.ExpiresAt = "done", 4, []byte{1, 2, 3}, t0.Add(time.Minute), t0.Add(24*time.Hour)
	write(t, s, func(tx *store.Tx) error { return tx.FinishStatExport(ctx, e) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.StatExport(ctx, e.ID)
		if err != nil {
			return err
		}
		if got.Status != "done" || got.Rows != 4 || string(got.Body) != "\x01\x02\x03" || !got.ExpiresAt.Equal(e.ExpiresAt) ||
			!got.CreatedAt.Equal(t0) || got.FromDay != "2026-01-01" {
			t.Errorf("export round trip %+v", got)
		}
		list, err := tx.StatExports(ctx, "u3", 10)
		if err != nil || len(list) != 1 {
			t.Errorf("exports %v %v", list, err)
		}
		if list, _ := tx.StatExports(ctx, "someone-else", 10); len(list) != 0 {
			t.Errorf("another user's exports listed: %d", len(list))
		}
		return nil
	})
}
