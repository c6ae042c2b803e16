package stats

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// ResearchTable is an aggregate table a researcher may export: one
// rollup metric, by calendar month and dimension. There are no records
// in any of them.
type ResearchTable struct {
	ID, Title, Metric, Dimension string
}

// ResearchTables lists the tables researchers may export.
var ResearchTables = []ResearchTable{
	{"reports-by-source", "Reports by source", "reports.source", "Source"},
	{"reports-by-incident-type", "Reports by incident type", "reports.incident_type", "Incident type"},
	{"reports-by-priority", "Reports by priority", "reports.priority", "Priority"},
	{"reports-by-country", "Reports by country", "reports.country", "Country"},
	{"reports-by-referral", "Referred and informational reports", "reports.referral", "Outcome"},
	{"referrals-by-agency", "Referrals by agency", "referrals.agency", "Agency"},
	{"matches-by-bank", "Hash matches by bank", "matches.bank", "Bank"},
	{"identification-requests", "Identification requests by status", "idrequests.status", "Status"},
}

func researchTable(id string) (ResearchTable, bool) {
	for _, t := range ResearchTables {
		if t.ID == id {
			return t, true
		}
	}
	return ResearchTable{}, false
}

// Export statuses.
const (
	ExportQueued = "queued"
	ExportDone   = "done"
	ExportFailed = "failed"
)

// ErrExpired is returned for a download whose link has expired.
var ErrExpired = &haven.Error{Kind: haven.KindNotFound, Message: "this download has expired: request the export again"}

// ErrNotReady is returned for a download of an export not produced yet.
var ErrNotReady = &haven.Error{Kind: haven.KindConflict, Message: "this export is not ready"}

func parseMonth(field, v string) (time.Time, error) {
	t, err := time.Parse("2006-01", v)
	if err != nil {
		return time.Time{}, haven.Invalidf(field, "give the month as YYYY-MM")
	}
	return t, nil
}

// RequestExport queues a research export of table over the calendar
// months from..to (YYYY-MM). Researchers only; audited.
func (s *Service) RequestExport(ctx context.Context, a haven.Actor, table, from, to string) (*store.StatExport, error) {
	if !a.Can(haven.PermResearch) {
		return nil, haven.ErrForbidden
	}
	if _, ok := researchTable(table); !ok {
		return nil, haven.Invalidf("table", "choose one of the listed tables")
	}
	f, err := parseMonth("from", from)
	if err != nil {
		return nil, err
	}
	t, err := parseMonth("to", to)
	if err != nil {
		return nil, err
	}
	if t.Before(f) {
		return nil, haven.Invalidf("to", "the last month is before the first")
	}
	if t.After(s.clock.Now()) {
		return nil, haven.Invalidf("to", "the last month has not started yet")
	}
	if f.AddDate(10, 0, 0).Before(t) {
		return nil, haven.Invalidf("from", "an export covers at most ten years")
	}
	if s.jobs == nil {
		return nil, errors.New("request export: no job queue")
	}
	e := &store.StatExport{ID: haven.NewID(), RequestedBy: a.UserID, Table: table, FromDay: day(f), ToDay: day(t.AddDate(0, 1, -1)),
		Threshold: s.opts.Threshold, Status: ExportQueued, CreatedAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateStatExport(ctx, e); err != nil {
			return err
		}
		if err := s.jobs.EnqueueTx(ctx, tx, ExportArgs{ExportID: e.ID}, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "stats.research.request", ObjectType: "stat_export", ObjectID: e.ID,
			Details: map[string]string{"table": table, "from": from, "to": to}})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Exports lists the researcher's own exports.
func (s *Service) Exports(ctx context.Context, a haven.Actor) ([]*store.StatExport, error) {
	if !a.Can(haven.PermResearch) {
		return nil, haven.ErrForbidden
	}
	var out []*store.StatExport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.StatExports(ctx, a.UserID, 50)
		return err
	})
	return out, err
}

// exportSections builds the export's tables: one section per month (its
// dimensions and total) and, so that months cannot be subtracted from
// the half-yearly public figures, one per dimension and half-year (its
// months and their sum). The month cells are shared between the two.
func exportSections(cells []store.RollupCell) (months []*Section, all []*Section) {
	byMonth := map[string]*Section{}
	byHalf := map[string]*Section{}
	var order []string
	for _, c := range cells {
		m := c.Day[:7]
		ms, ok := byMonth[m]
		if !ok {
			ms = &Section{ID: m, Total: &Cell{Label: "Total"}}
			byMonth[m] = ms
			order = append(order, m)
		}
		var cell *Cell
		for _, x := range ms.Cells {
			if x.Label == c.Dimension {
				cell = x
			}
		}
		if cell == nil {
			cell = &Cell{Label: c.Dimension}
			ms.Cells = append(ms.Cells, cell)
		}
		cell.Value += c.Value
		ms.Total.Value += c.Value
	}
	for _, m := range order {
		ms := byMonth[m]
		months = append(months, ms)
		half := m[:4] + "-H1"
		if m[5:] > "06" {
			half = m[:4] + "-H2"
		}
		for _, c := range ms.Cells {
			k := half + "\x00" + c.Label
			hs, ok := byHalf[k]
			if !ok {
				hs = &Section{ID: k, Total: &Cell{}}
				byHalf[k] = hs
			}
			hs.Cells = append(hs.Cells, c)
			hs.Total.Value += c.Value
		}
	}
	all = append(all, months...)
	for _, k := range sortedKeys(byHalf) {
		all = append(all, byHalf[k])
	}
	return months, all
}

// RunExport produces a queued export (the job): the table's monthly
// figures with suppression, as CSV sealed with the record key.
func (s *Service) RunExport(ctx context.Context, id string) error {
	var e *store.StatExport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		e, err = tx.StatExport(ctx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("run export: %w", err)
	}
	if e.Status != ExportQueued {
		return nil
	}
	t, _ := researchTable(e.Table)
	var cells []store.RollupCell
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		cells, err = tx.RollupCells(ctx, t.Metric, e.FromDay, e.ToDay)
		return err
	})
	if err != nil {
		return fmt.Errorf("run export: %w", err)
	}
	months, all := exportSections(cells)
	Protect(all, e.Threshold)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"month", t.Dimension, "count"})
	rows := 0
	for _, m := range months {
		for _, c := range m.Cells {
			_ = cw.Write(csvSafe([]string{m.ID, c.Label, c.Display(e.Threshold)}))
			rows++
		}
		_ = cw.Write([]string{m.ID, "Total", m.Total.Display(e.Threshold)})
		rows++
	}
	cw.Flush()
	now := s.clock.Now()
	e.Status, e.Rows, e.FinishedAt, e.ExpiresAt = ExportDone, rows, now, now.Add(s.opts.ExportTTL)
	if e.Body, err = s.sealer.Seal(buf.Bytes(), "stats-export:"+e.ID); err != nil {
		return fmt.Errorf("run export: seal: %w", err)
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.FinishStatExport(ctx, e); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("stats-export"), audit.Entry{Type: "stats.research.produce",
			ObjectType: "stat_export", ObjectID: e.ID, Details: map[string]string{"rows": strconv.Itoa(rows)}})
	})
}

// Download returns an export's CSV to the researcher who asked for it,
// until it expires (ErrExpired after). Audited.
func (s *Service) Download(ctx context.Context, a haven.Actor, id string) ([]byte, *store.StatExport, error) {
	if !a.Can(haven.PermResearch) {
		return nil, nil, haven.ErrNotFound
	}
	var e *store.StatExport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		e, err = tx.StatExport(ctx, id)
		return err
	})
	if err != nil || e.RequestedBy != a.UserID {
		return nil, nil, haven.ErrNotFound
	}
	if e.Status != ExportDone {
		return nil, nil, ErrNotReady
	}
	if !s.clock.Now().Before(e.ExpiresAt) {
		return nil, nil, ErrExpired
	}
	body, err := s.sealer.Open(e.Body, "stats-export:"+e.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("download export: %w", err)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "stats.research.download", ObjectType: "stat_export", ObjectID: e.ID,
			Details: map[string]string{"table": e.Table}})
	})
	if err != nil {
		return nil, nil, err
	}
	return body, e, nil
}
