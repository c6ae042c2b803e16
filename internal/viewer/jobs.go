package viewer

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// RenditionArgs is the job that makes a file's rendition ahead of its
// first view.
type RenditionArgs struct {
	ReportID int64  `json:"report_id"`
	FileID   string `json:"file_id"`
}

// Kind names the job.
func (RenditionArgs) Kind() string { return "viewer_rendition" }

type renditionWorker struct {
	river.WorkerDefaults[RenditionArgs]
	s *Service
}

// Work makes the rendition unless the file is gone, already has one, is
// known material or waits behind the legal gate (nothing is derived from
// those).
func (w *renditionWorker) Work(ctx context.Context, j *river.Job[RenditionArgs]) error {
	_, err := w.s.Prepare(ctx, j.Args.ReportID, j.Args.FileID)
	if haven.IsKind(err, haven.KindNotFound) {
		return nil // a retracted or expired report's file is gone
	}
	return err
}

// Prepare makes a file's rendition now, if the viewer would show one,
// and returns the file's state.
func (s *Service) Prepare(ctx context.Context, reportID int64, fileID string) (State, error) {
	live, err := s.liveMatches(ctx, reportID, fileID)
	if err != nil {
		return "", err
	}
	var fc *facts
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		fc, err = s.load(ctx, tx, reportID, fileID, live)
		return err
	})
	if err != nil {
		return "", err
	}
	if st := fc.state(); st != StateViewable {
		return st, nil
	}
	r, err := s.ensureRendition(ctx, fc.file)
	if err != nil {
		return "", err
	}
	if r.Kind == store.RenditionNone {
		return StateUnreadable, nil
	}
	return StateViewable, nil
}

// EnqueueRendition queues the making of a file's rendition inside tx (for
// the intake pipeline, once a file's hashes have been matched).
func (s *Service) EnqueueRendition(ctx context.Context, tx *store.Tx, reportID int64, fileID string) error {
	if s.jobs == nil {
		return nil
	}
	return s.jobs.EnqueueTx(ctx, tx, RenditionArgs{ReportID: reportID, FileID: fileID}, nil)
}

// RegisterJobs adds the viewer's workers to w.
func (s *Service) RegisterJobs(w *river.Workers) {
	river.AddWorker(w, &renditionWorker{s: s})
}
