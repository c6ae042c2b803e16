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

// Work records that a report is ready for triage. The priority engine of
// the triage issue replaces this body; the job, its arguments and the
// transactional enqueue at finish stay.
func (w *triageWorker) Work(ctx context.Context, j *river.Job[TriageArgs]) error {
	w.s.log.Info("report ready for triage", "report", j.Args.ReportID, "reason", j.Args.Reason)
	return nil
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
	return w.s.files.ProcessReportFile(ctx, file)
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
