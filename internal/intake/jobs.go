package intake

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

type triageWorker struct {
	river.WorkerDefaults[TriageArgs]
	s *Service
}

// Work hands a report to the priority engine: on arrival, after a
// follow-up, and when one of its files matched the hash banks.
func (w *triageWorker) Work(ctx context.Context, j *river.Job[TriageArgs]) error {
	if w.s.triage == nil {
		w.s.log.Info("report ready for triage (no priority engine plugged in)", "report", j.Args.ReportID)
		return nil
	}
	why := j.Args.Reason
	if why == "" {
		why = "arrival"
	}
	return w.s.triage.Triage(ctx, j.Args.ReportID, why)
}

type fileWorker struct {
	river.WorkerDefaults[FileArgs]
	s *Service
}

// Work re-verifies the stored bytes of an uploaded file, then hashes and
// matches it against the hash banks.
func (w *fileWorker) Work(ctx context.Context, j *river.Job[FileArgs]) error {
	var file *haven.ReportFile
	err := w.s.store.View(ctx, func(tx *store.Tx) error {
		files, err := tx.ReportFiles(ctx, j.Args.ReportID)
		if err != nil {
			return err
		}
		for _, f := range files {
			if f.ID == j.Args.FileID {
				file = f
			}
		}
		return nil
	})
	if err != nil || file == nil {
		return err // a retracted or expired report's file is gone: nothing to do
	}
	if err := w.s.custody.VerifyItem(ctx, file.ItemID); err != nil {
		return err
	}
	if w.s.files == nil {
		return nil
	}
	matched, err := w.s.files.ProcessReportFile(ctx, file)
	if err != nil || !matched {
		return err
	}
	// New facts: the report is evaluated again.
	return w.s.store.InTx(ctx, func(tx *store.Tx) error {
		return w.s.jobs.EnqueueTx(ctx, tx, TriageArgs{ReportID: file.ReportID, Reason: "match"}, nil)
	})
}

type expiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	s *Service
}

func (w *expiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	n, err := w.s.ExpireDue(ctx)
	if n > 0 {
		w.s.log.Info("expired unfinished reports", "count", n)
	}
	return err
}

// ExpiryEvery is how often unfinished reports are checked for expiry.
const ExpiryEvery = 5 * time.Minute

// RegisterJobs adds the intake workers to w and returns intake's periodic
// jobs.
func (s *Service) RegisterJobs(w *river.Workers) []*river.PeriodicJob {
	river.AddWorker(w, &triageWorker{s: s})
	river.AddWorker(w, &fileWorker{s: s})
	river.AddWorker(w, &expiryWorker{s: s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ExpiryEvery),
		func() (river.JobArgs, *river.InsertOpts) { return ExpiryArgs{}, nil },
		&river.PeriodicJobOpts{ID: "report_expiry", RunOnStart: true})}
}
