package triage

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// SLAArgs is the periodic job that raises SLA alerts.
type SLAArgs struct{}

// Kind names the job.
func (SLAArgs) Kind() string { return "triage_sla_check" }

// ReevaluateArgs is the job that evaluates every open report again after
// a change of the rule table.
type ReevaluateArgs struct {
	Version int `json:"version"`
}

// Kind names the job.
func (ReevaluateArgs) Kind() string { return "triage_reevaluate" }

type slaWorker struct {
	river.WorkerDefaults[SLAArgs]
	s *Service
}

func (w *slaWorker) Work(ctx context.Context, _ *river.Job[SLAArgs]) error {
	_, err := w.s.CheckSLA(ctx)
	return err
}

type reevaluateWorker struct {
	river.WorkerDefaults[ReevaluateArgs]
	s *Service
}

func (w *reevaluateWorker) Work(ctx context.Context, _ *river.Job[ReevaluateArgs]) error {
	n, err := w.s.ReevaluateOpen(ctx)
	w.s.log.Info("open reports evaluated again after a rule change", "reports", n)
	return err
}

// SLACheckEvery is how often SLA breaches are looked for.
const SLACheckEvery = time.Minute

// RegisterJobs adds the triage workers to w and returns its periodic jobs.
func (s *Service) RegisterJobs(w *river.Workers) []*river.PeriodicJob {
	river.AddWorker(w, &slaWorker{s: s})
	river.AddWorker(w, &reevaluateWorker{s: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SLACheckEvery),
		func() (river.JobArgs, *river.InsertOpts) { return SLAArgs{}, nil },
		&river.PeriodicJobOpts{ID: "triage_sla_check", RunOnStart: true})}
}
