// Package stats is statistics and transparency (issue 9, program P9):
// daily rollups maintained by a job from the records of every program, the
// internal dashboards that read them (server-rendered SVG charts with a
// data table and a CSV of exactly that table), the public data releases
// with small-count suppression that also holds across releases, and
// aggregate research exports produced by a job, sealed, and downloadable
// for a limited time.
//
// Nothing here reads records per request: dashboards, releases and exports
// read the stat_rollups table, which the rollup job rebuilds (the recent
// days every few minutes, everything once a day, and on demand).
package stats

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/store"
)

// Sealer encrypts research exports at rest (the secret set's record key).
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Options tune the service.
type Options struct {
	// Threshold is the default small-count threshold (10).
	Threshold int
	// ExportTTL is how long a research export can be downloaded (24 h).
	ExportTTL time.Duration
	// RecentDays is how many days back the frequent rollup rebuilds (62);
	// older days are rebuilt by the daily full rebuild.
	RecentDays int
	// RollupEvery is the pace of the rollup job (10 minutes).
	RollupEvery time.Duration
}

// Service is statistics and transparency.
type Service struct {
	store  *store.Store
	audit  *audit.Log
	clock  haven.Clock
	log    *slog.Logger
	jobs   jobs.Enqueuer
	sealer Sealer
	opts   Options
}

// New returns the service.
func New(s *store.Store, a *audit.Log, clock haven.Clock, log *slog.Logger, j jobs.Enqueuer, sealer Sealer, opts Options) *Service {
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.ExportTTL <= 0 {
		opts.ExportTTL = 24 * time.Hour
	}
	if opts.RecentDays <= 0 {
		opts.RecentDays = 62
	}
	if opts.RollupEvery <= 0 {
		opts.RollupEvery = 10 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: a, clock: clock, log: log, jobs: j, sealer: sealer, opts: opts}
}

// DefaultThreshold is the default small-count threshold.
const DefaultThreshold = 10

// Threshold returns the service's default threshold.
func (s *Service) Threshold() int { return s.opts.Threshold }

// day formats a time as a rollup day.
func day(t time.Time) string { return t.UTC().Format(store.RollupDayFormat) }

// parseDay reads a YYYY-MM-DD day.
func parseDay(field, v string) (time.Time, error) {
	t, err := time.Parse(store.RollupDayFormat, v)
	if err != nil {
		return time.Time{}, haven.Invalidf(field, "give the date as YYYY-MM-DD")
	}
	return t, nil
}

// midnight returns the start of t's UTC day.
func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Rebuild recomputes the rollups: every metric over the recent days, or
// over all time when full. A metric whose records cannot be read (a
// program not installed yet) is noted and skipped; the others are built.
func (s *Service) Rebuild(ctx context.Context, full bool) error {
	now := s.clock.Now()
	from := time.Time{}
	if !full {
		from = midnight(now).AddDate(0, 0, -s.opts.RecentDays)
	}
	to := midnight(now).AddDate(0, 0, 1)
	var failed []string
	for _, m := range store.RollupMetrics() {
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.RebuildRollup(ctx, m, from, to, now)
			return err
		})
		if err != nil {
			s.log.Warn("rollup rebuild failed", "metric", m, "err", err)
			failed = append(failed, m)
			_ = s.store.InTx(ctx, func(tx *store.Tx) error {
				return tx.RecordRollupError(ctx, m, "the records of this program could not be read", now)
			})
		}
	}
	if len(failed) > 0 {
		s.log.Warn("rollups incomplete", "failed", len(failed))
	}
	if full {
		return s.store.InTx(ctx, func(tx *store.Tx) error { return tx.AnalyzeRollups(ctx) })
	}
	return nil
}

// RequestRebuild queues a full rollup rebuild (dashboards, on demand).
func (s *Service) RequestRebuild(ctx context.Context, a haven.Actor) error {
	if !a.Can(haven.PermDashboards) {
		return haven.ErrForbidden
	}
	if s.jobs == nil {
		return fmt.Errorf("request rebuild: no job queue")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.jobs.EnqueueTx(ctx, tx, RollupArgs{Full: true}, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "stats.rollup.rebuild", ObjectType: "stats", ObjectID: "rollups"})
	})
}

// BuiltAt returns when the rollups were last rebuilt (zero if never).
func (s *Service) BuiltAt(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := s.store.View(ctx, func(tx *store.Tx) error {
		st, err := tx.RollupStates(ctx)
		for _, v := range st {
			if v.BuiltAt.After(at) {
				at = v.BuiltAt
			}
		}
		return err
	})
	return at, err
}
