package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

type pingArgs struct{ N int }

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	done chan int
}

func (w *pingWorker) Work(ctx context.Context, j *river.Job[pingArgs]) error {
	w.done <- j.Args.N
	return nil
}

type tickArgs struct{}

func (tickArgs) Kind() string { return "test_tick" }

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	n *atomic.Int32
}

func (w *tickWorker) Work(ctx context.Context, j *river.Job[tickArgs]) error {
	w.n.Add(1)
	return nil
}

// TestTransactionalEnqueue shows a job enqueued in a rolled-back
// transaction never runs, and one in a committed transaction does, on both
// engines; and that a periodic job fires.
func TestTransactionalEnqueue(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, engine)
			if err := jobs.Migrate(ctx, s); err != nil {
				t.Fatal(err)
			}
			if err := jobs.Migrate(ctx, s); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			done := make(chan int, 10)
			var ticks atomic.Int32
			workers := river.NewWorkers()
			river.AddWorker(workers, &pingWorker{done: done})
			river.AddWorker(workers, &tickWorker{n: &ticks})
			c, err := jobs.New(s, jobs.Config{Workers: workers, Poll: 100 * time.Millisecond,
				Periodic: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
					func() (river.JobArgs, *river.InsertOpts) { return tickArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})}})
			if err != nil {
				t.Fatal(err)
			}
			boom := errors.New("boom")
			err = s.InTx(ctx, func(tx *store.Tx) error {
				if err := c.EnqueueTx(ctx, tx, pingArgs{N: 1}, nil); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			err = s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAgency(ctx, &haven.Agency{ID: haven.NewID(), Name: "Queue Test", Kind: haven.AgencyLocal, CreatedAt: time.Now()}); err != nil {
					return err
				}
				return c.EnqueueTx(ctx, tx, pingArgs{N: 2}, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_ = c.Stop(stopCtx)
			}()
			select {
			case n := <-done:
				if n != 2 {
					t.Fatalf("got job %d, want the committed job 2", n)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the committed job did not run")
			}
			select {
			case n := <-done:
				t.Fatalf("job %d ran though its transaction rolled back", n)
			case <-time.After(300 * time.Millisecond):
			}
			deadline := time.Now().Add(20 * time.Second)
			for ticks.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if ticks.Load() == 0 {
				t.Fatal("the periodic job did not run on start")
			}
		})
	}
}
