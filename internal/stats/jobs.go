package stats

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven/internal/store"
)

// RollupArgs is the job that rebuilds the rollups: the recent days, or
// everything when Full (and, whatever Full says, everything when the
// last full rebuild is more than a day old).
type RollupArgs struct {
	Full bool `json:"full,omitempty"`
}

// Kind names the job.
func (RollupArgs) Kind() string { return "stats_rollup" }

type rollupWorker struct {
	river.WorkerDefaults[RollupArgs]
	s *Service
}

func (w *rollupWorker) Work(ctx context.Context, j *river.Job[RollupArgs]) error {
	full := j.Args.Full
	if !full {
		var err error
		if full, err = w.s.fullDue(ctx); err != nil {
			return err
		}
	}
	return w.s.Rebuild(ctx, full)
}

// fullDue reports whether a metric has had no full rebuild for a day.
func (s *Service) fullDue(ctx context.Context) (bool, error) {
	due := false
	err := s.store.View(ctx, func(tx *store.Tx) error {
		st, err := tx.RollupStates(ctx)
		if err != nil {
			return err
		}
		for _, m := range store.RollupMetrics() {
			v, ok := st[m]
			if !ok || v.FullAt.IsZero() || s.clock.Now().Sub(v.FullAt) > 24*time.Hour {
				due = true
			}
		}
		return nil
	})
	return due, err
}

// ExportArgs is the job that produces a research export.
type ExportArgs struct {
	ExportID string `json:"export_id"`
}

// Kind names the job.
func (ExportArgs) Kind() string { return "stats_export" }

type exportWorker struct {
	river.WorkerDefaults[ExportArgs]
	s *Service
}

func (w *exportWorker) Work(ctx context.Context, j *river.Job[ExportArgs]) error {
	return w.s.RunExport(ctx, j.Args.ExportID)
}

// RegisterJobs adds the statistics workers and returns the periodic
// rollup job.
func (s *Service) RegisterJobs(w *river.Workers) []*river.PeriodicJob {
	river.AddWorker(w, &rollupWorker{s: s})
	river.AddWorker(w, &exportWorker{s: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.opts.RollupEvery),
		func() (river.JobArgs, *river.InsertOpts) { return RollupArgs{}, nil },
		&river.PeriodicJobOpts{ID: "stats_rollup", RunOnStart: true})}
}
