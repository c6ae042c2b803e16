package victimid

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
)

// RequestArgs is the job that matches a big identification request.
//
// NOTE: the submitted hashes travel in the job's arguments, so they stay
// in the job table until River deletes the finished job (24 hours by
// default). They are hashes, never file bytes; the request row keeps only
// the result summary.
type RequestArgs struct {
	RequestID string    `json:"request_id"`
	Items     []jobItem `json:"items"`
}

// Kind names the job.
func (RequestArgs) Kind() string { return "identification_request" }

type jobItem struct {
	MD5     string `json:"m,omitempty"`
	SHA1    string `json:"s1,omitempty"`
	SHA256  string `json:"s2,omitempty"`
	PDQ     string `json:"p,omitempty"`
	Quality int    `json:"q,omitempty"`
}

func encodeItem(it Item) jobItem {
	q := it.Query
	j := jobItem{MD5: hex.EncodeToString(q.MD5), SHA1: hex.EncodeToString(q.SHA1), SHA256: hex.EncodeToString(q.SHA256)}
	if q.PDQ != nil {
		j.PDQ, j.Quality = q.PDQ.String(), q.PDQQuality
	}
	return j
}

func decodeItem(j jobItem) Item {
	var q hashmatch.Query
	q.MD5, _ = hex.DecodeString(j.MD5)
	q.SHA1, _ = hex.DecodeString(j.SHA1)
	q.SHA256, _ = hex.DecodeString(j.SHA256)
	if h, err := pdq.ParseHash(j.PDQ); err == nil && j.PDQ != "" {
		q.PDQ, q.PDQQuality = &h, j.Quality
	}
	return Item{Query: q}
}

// progressEvery is how many items are matched between progress updates.
const progressEvery = 5000

// runRequest matches a queued request's items, recording progress, and
// stores its result.
func (s *Service) runRequest(ctx context.Context, args RequestArgs) error {
	var req *store.IDRequest
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		req, err = tx.IDRequest(ctx, args.RequestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("run identification request: %w", err)
	}
	if req.Status == RequestDone {
		return nil
	}
	per := map[string]int{}
	matched := 0
	for start := 0; start < len(args.Items); start += progressEvery {
		end := min(start+progressEvery, len(args.Items))
		batch := func(yield func(Item, error) bool) {
			for _, j := range args.Items[start:end] {
				if !yield(decodeItem(j), nil) {
					return
				}
			}
		}
		_, m, p, err := Match(ctx, s.matcher, batch)
		if err != nil {
			return err
		}
		matched += m
		for c, n := range p {
			per[c] += n
		}
		req.Processed, req.Matched = end, matched
		if end < len(args.Items) {
			if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateIDRequest(ctx, req) }); err != nil {
				return err
			}
		}
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.finish(ctx, tx, req, matched, per)
		return err
	})
}

type requestWorker struct {
	river.WorkerDefaults[RequestArgs]
	s *Service
}

func (w *requestWorker) Work(ctx context.Context, j *river.Job[RequestArgs]) error {
	return w.s.runRequest(ctx, j.Args)
}

// RegisterJobs adds the victim-identification workers to w.
func (s *Service) RegisterJobs(w *river.Workers) {
	river.AddWorker(w, &requestWorker{s: s})
}
