// Package jobs runs Haven's background work on River, in the same database
// as everything else: on SQLite through River's SQLite driver and on
// PostgreSQL through its database/sql driver, so that both give
// transactions of type *sql.Tx and a job can be enqueued in the same
// transaction as the change it belongs to.
//
// Services do not import River's client: they take an Enqueuer, so the
// queue could be swapped without touching them.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/haven-hotline/haven/internal/store"
)

// Enqueuer puts a job in the queue inside a store transaction: the job
// exists if and only if the transaction commits.
type Enqueuer interface {
	EnqueueTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

func driver(s *store.Store) (riverdriver.Driver[*sql.Tx], error) {
	switch s.Dialect().Name() {
	case "sqlite":
		return riversqlite.New(s.DB()), nil
	case "postgres":
		return riverdatabasesql.New(s.DB()), nil
	}
	return nil, fmt.Errorf("jobs: unsupported engine %q", s.Dialect().Name())
}

// Migrate creates or updates River's own tables. It is idempotent.
func Migrate(ctx context.Context, s *store.Store) error {
	drv, err := driver(s)
	if err != nil {
		return err
	}
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	return nil
}

// Config configures a Client.
type Config struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
	Logger   *slog.Logger
	// MaxWorkers is the number of jobs run at once (default 4).
	MaxWorkers int
	// Poll is how often idle workers look for new jobs (default 1s).
	Poll time.Duration
}

// Client enqueues and, once started, works jobs.
type Client struct {
	river *river.Client[*sql.Tx]
}

// New returns a client over the store's database. River's tables must
// exist (see Migrate). A client with no workers can only enqueue.
func New(s *store.Store, cfg Config) (*Client, error) {
	drv, err := driver(s)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	rc := &river.Config{
		Logger:            cfg.Logger,
		PeriodicJobs:      cfg.Periodic,
		FetchPollInterval: cfg.Poll,
		JobTimeout:        30 * time.Minute,
	}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}}
	}
	c, err := river.NewClient(drv, rc)
	if err != nil {
		return nil, fmt.Errorf("new job client: %w", err)
	}
	return &Client{river: c}, nil
}

// EnqueueTx inserts a job inside tx.
func (c *Client) EnqueueTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := c.river.InsertTx(ctx, tx.SQL(), args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Start starts working jobs until Stop.
func (c *Client) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish (until ctx ends) and stops.
func (c *Client) Stop(ctx context.Context) error {
	if err := c.river.Stop(ctx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}

// River returns the underlying client, for tests and the job console.
func (c *Client) River() *river.Client[*sql.Tx] { return c.river }

// Late is an Enqueuer whose client is set after construction: the
// workers need the services and the services need the queue.
type Late struct{ c *Client }

// Set gives the Late enqueuer its client.
func (l *Late) Set(c *Client) { l.c = c }

// EnqueueTx enqueues through the client once it is set.
func (l *Late) EnqueueTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if l.c == nil {
		return fmt.Errorf("enqueue %s: the job queue is not set up", args.Kind())
	}
	return l.c.EnqueueTx(ctx, tx, args, opts)
}
