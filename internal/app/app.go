// Package app assembles a Haven process from its configuration: the
// database, the master key, the evidence vault, the application secrets,
// the audit log, the services and the job queue. The command line and the
// HTTP server both start from an App.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/casework"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/evidence/s3"
	"github.com/haven-hotline/haven/internal/geo"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/intake"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/lab"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/referral"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/selfreport"
	"github.com/haven-hotline/haven/internal/stats"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/sqlite"
	"github.com/haven-hotline/haven/internal/support"
	"github.com/haven-hotline/haven/internal/triage"
	"github.com/haven-hotline/haven/internal/victimid"
	"github.com/haven-hotline/haven/internal/viewer"
)

// App is an assembled Haven process.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Clock    haven.Clock
	Store    *store.Store
	Master   *keys.Master
	Backend  evidence.Backend
	Vault    *evidence.Vault
	Secrets  *secret.Set
	Audit    *audit.Log
	Accounts *account.Service
	Custody  *custody.Service
	Intake   *intake.Service
	Hashes   *hashmatch.Service
	Triage   *triage.Service
	Jobs     *jobs.Client
	// Referrals refers reports to agencies and serves the agency portal.
	Referrals *referral.Service
	// VictimID keeps series and victims and answers identification requests.
	VictimID *victimid.Service
	// Viewer shows report files safely: renditions, reveals, exposure.
	Viewer *viewer.Service
	// Identifiers links reports by the identifiers they share.
	Identifiers *identifiers.Service
	// Geo places reports in a country and region.
	Geo *geo.Service
	// Lab is the unidentified-series workboard and the redacted lab.
	Lab *lab.Service
	// Offenders keeps registry records, imports, linkage, locate requests and surveys.
	Offenders *offender.Service
	// SelfReports keeps survivors' self-reports by hash.
	SelfReports *selfreport.Service
	// Casework keeps cases, recovery plans, Hope Bags and assistance requests.
	Casework *casework.Service
	// Support keeps peer-support volunteers, family requests and matching,
	// and the provider network with HSDS import/export and referrals.
	Support *support.Service
	// Stats keeps the rollups, dashboards, public releases and research exports.
	Stats *stats.Service
	// MasterKeyCreated is true when this start generated the master key.
	MasterKeyCreated bool
}

// Options adjust Open for tests and commands.
type Options struct {
	// Clock replaces the system clock (tests).
	Clock haven.Clock
	// Workers makes the job client able to work jobs (serve); commands
	// only enqueue.
	Workers bool
}

// Open assembles an App. The caller must Close it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Log: log, Clock: opts.Clock}
	if a.Clock == nil {
		a.Clock = haven.SystemClock{}
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := a.openMasterKey(); err != nil {
		return nil, err
	}
	unlock, err := a.lockMigrations(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if unlock != nil {
			unlock()
		}
	}()
	if err := a.openStore(ctx); err != nil {
		return nil, err
	}
	if err := a.openEvidence(ctx); err != nil {
		return nil, err
	}
	if a.Secrets, err = secret.Load(ctx, a.Store, a.Master, a.Clock); err != nil {
		return nil, err
	}
	a.Audit = audit.New(a.Secrets.Key(secret.AuditChain), a.Secrets.Key(secret.AuditPseudonym), a.Clock, a.Store.Dialect().AuditChains())
	a.Accounts = account.New(a.Store, a.Audit, a.Secrets, a.Clock, account.Config{
		BaseURL: cfg.BaseURL, SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionAbsolute})
	a.Custody = custody.New(a.Store, a.Vault, a.Audit, a.Clock, log, cfg.MaxUploadBytes)
	enq := &jobs.Late{}
	a.Intake = intake.New(a.Store, a.Audit, a.Custody, enq, a.Secrets, a.Clock, log.With("component", "intake"))
	a.Hashes = hashmatch.New(a.Store, a.Audit, a.Custody, enq, a.Clock, log.With("component", "hashmatch"))
	a.Intake.SetFileProcessor(a.Hashes)
	a.Identifiers = identifiers.New(a.Store, a.Audit, a.Clock, log.With("component", "identifiers"),
		identifiers.Options{DefaultCallingCode: cfg.DefaultCallingCode})
	if a.Geo, err = geo.New(a.Store, a.Audit, a.Clock, log.With("component", "geo"),
		geo.Options{DatabasePath: cfg.GeoIPDB, DefaultCallingCode: cfg.DefaultCallingCode}); err != nil {
		return nil, err
	}
	a.Triage = triage.New(a.Store, a.Audit, a.Clock, log.With("component", "triage"), triage.Options{})
	a.Intake.SetTriager(a.Triage)
	a.Referrals = referral.New(a.Store, a.Audit, a.Clock, log.With("component", "referral"), referral.Options{})
	a.Viewer = viewer.New(a.Store, a.Audit, a.Custody, enq, a.Clock, log.With("component", "viewer"), viewer.Options{
		LegalGate: cfg.LegalGate, DailyBudget: cfg.ExposureDailyBudget, BreakAfter: cfg.ExposureBreakAfter,
		BreakLength: cfg.ExposureBreakLength})
	a.Viewer.SetMatcher(a.Hashes)
	a.Triage.SetLinker(linker{ids: a.Identifiers, store: a.Store})
	a.Triage.SetLocator(locator{geo: a.Geo})
	a.Referrals.SetAfterRefer(a.markReferred)
	a.VictimID = victimid.New(a.Store, a.Audit, a.Clock, log.With("component", "victimid"), a.Hashes)
	a.VictimID.SetJobs(enq, 0)
	a.Triage.SetSeriesStatus(a.VictimID)
	a.Viewer.SetAgencyAccess(a.Referrals.AgencyCanSee)
	a.Lab = lab.New(a.Store, a.Audit, a.Custody, a.Clock, log.With("component", "lab"), lab.Options{LegalGate: cfg.LegalGate})
	a.Lab.SetExposure(func(ctx context.Context, tx *store.Tx, act haven.Actor, fileID string) error {
		_, err := a.Viewer.ChargeWorkView(ctx, tx, act, fileID)
		return err
	})
	a.Lab.SetIdentified(func(ctx context.Context) (map[string]bool, error) {
		done := map[string]bool{}
		err := a.Store.View(ctx, func(tx *store.Tx) error {
			rows, err := tx.ListSeries(ctx)
			for _, r := range rows {
				if victimid.DeriveStatus(r.Series.Status, r.Victims, r.Identified) == victimid.StatusIdentified {
					done[r.Code] = true
				}
			}
			return err
		})
		return done, err
	})
	a.SelfReports = selfreport.New(a.Store, a.Audit, a.Hashes, a.Secrets, a.Clock, log.With("component", "selfreport"))
	a.Hashes.SetMatchHook(func(ctx context.Context, tx *store.Tx, f *haven.ReportFile, matches []hashmatch.Result) error {
		var self []int64
		for _, m := range matches {
			if m.Bank != nil && m.Bank.ID == selfreport.BankID {
				self = append(self, m.Entry.ID)
			}
		}
		if len(self) == 0 {
			return nil
		}
		return a.SelfReports.NoteMatches(ctx, tx, f.ReportID, self)
	})

	// Issue 7 (offender tracking) services are built here.
	a.Offenders = offender.New(a.Store, a.Audit, a.Clock, log.With("component", "offender"), enq,
		offender.Options{DefaultCallingCode: cfg.DefaultCallingCode})

	// Issue 8 (casework) services are built here.
	a.Casework = casework.New(a.Store, a.Audit, a.Custody, a.Clock, log.With("component", "casework"))

	// Issue 8 (family support and providers) services are built here.
	a.Support = support.New(a.Store, a.Audit, a.Clock, log.With("component", "support"))
	a.Casework.SetProviders(a.Support) // recovery plans refer families to the provider network

	// Issue 9 (statistics) services are built here.
	a.Stats = stats.New(a.Store, a.Audit, a.Clock, log.With("component", "stats"), enq, a.Secrets, stats.Options{})

	if err := jobs.Migrate(ctx, a.Store); err != nil {
		return nil, err
	}
	unlock()
	unlock = nil
	jc := jobs.Config{Logger: log.With("component", "jobs")}
	if opts.Workers {
		jc.Workers, jc.Periodic = a.workers()
	}
	if a.Jobs, err = jobs.New(a.Store, jc); err != nil {
		return nil, err
	}
	enq.Set(a.Jobs)
	if err := a.Hashes.Load(ctx); err != nil {
		return nil, fmt.Errorf("load hash banks: %w", err)
	}
	return a, nil
}

func (a *App) openMasterKey() error {
	var err error
	if a.Config.MasterKey != "" {
		if a.Master, err = keys.Parse([]byte(a.Config.MasterKey)); err != nil {
			return fmt.Errorf("HAVEN_MASTER_KEY: %w", err)
		}
		return nil
	}
	a.Master, a.MasterKeyCreated, err = keys.LoadOrCreateFile(a.Config.MasterKeyFile)
	if err != nil {
		return fmt.Errorf("master key %s: %w", a.Config.MasterKeyFile, err)
	}
	if a.MasterKeyCreated {
		a.Log.Warn("GENERATED A NEW MASTER KEY. It protects every piece of evidence and every secret: "+
			"back it up apart from the data, and in production supply your own with HAVEN_MASTER_KEY_FILE "+
			"or HAVEN_MASTER_KEY instead of a key generated beside the data.", "file", a.Config.MasterKeyFile)
	}
	return nil
}

// lockMigrations takes the migration lock (store.LockMigrations) on a
// connection of its own, held until the job queue's tables are migrated.
func (a *App) lockMigrations(ctx context.Context) (func(), error) {
	db, err := config.ParseDatabaseURL(a.Config.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if db.Driver == "sqlite" {
		return store.LockMigrations(ctx, "sqlite", db.Path, nil)
	}
	pg, err := sql.Open("pgx", db.DSN)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	unlock, err := store.LockMigrations(ctx, "postgres", "", pg)
	if err != nil {
		pg.Close()
		return nil, err
	}
	return func() { unlock(); pg.Close() }, nil
}

func (a *App) openStore(ctx context.Context) error {
	db, err := config.ParseDatabaseURL(a.Config.DatabaseURL)
	if err != nil {
		return err
	}
	switch db.Driver {
	case "sqlite":
		a.Store, err = sqlite.Open(ctx, db.Path, a.Log)
	case "postgres":
		a.Store, err = postgres.Open(ctx, db.DSN, a.Log)
	}
	return err
}

func (a *App) openEvidence(ctx context.Context) error {
	ev, err := config.ParseEvidenceURL(a.Config.EvidenceURL)
	if err != nil {
		return err
	}
	switch ev.Backend {
	case "file":
		a.Backend, err = evidence.NewLocal(ev.Dir)
	case "s3":
		a.Backend, err = s3.New(ctx, s3.Config{Endpoint: a.Config.S3.Endpoint, Bucket: ev.Bucket, Prefix: ev.Prefix,
			AccessKey: a.Config.S3.AccessKey, SecretKey: a.Config.S3.SecretKey, Region: a.Config.S3.Region,
			Secure: !a.Config.S3.Insecure})
	}
	if err != nil {
		return fmt.Errorf("evidence store: %w", err)
	}
	a.Vault = evidence.NewVault(a.Backend, a.Master)
	return nil
}

// Ready checks that the database, the evidence store and the master key
// are usable.
func (a *App) Ready(ctx context.Context) error {
	var errs []error
	if err := a.Store.Ping(ctx); err != nil {
		errs = append(errs, fmt.Errorf("database: %w", err))
	}
	if err := a.Backend.Ping(ctx); err != nil {
		errs = append(errs, fmt.Errorf("evidence store: %w", err))
	}
	probe := []byte("haven-readiness")
	if w, err := a.Master.Wrap(probe, probe); err != nil {
		errs = append(errs, fmt.Errorf("master key: %w", err))
	} else if _, err := a.Master.Unwrap(w, probe); err != nil {
		errs = append(errs, fmt.Errorf("master key: %w", err))
	}
	return errors.Join(errs...)
}

// Close releases the database.
func (a *App) Close() {
	if a.Geo != nil {
		a.Geo.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
}

// SessionCleanupArgs is the periodic job that deletes ended sessions.
type SessionCleanupArgs struct{}

// Kind names the job.
func (SessionCleanupArgs) Kind() string { return "session_cleanup" }

type sessionCleanup struct {
	river.WorkerDefaults[SessionCleanupArgs]
	a *App
}

func (w *sessionCleanup) Work(ctx context.Context, _ *river.Job[SessionCleanupArgs]) error {
	n, err := w.a.Accounts.CleanupSessions(ctx)
	if err == nil && n > 0 {
		w.a.Log.Info("removed ended sessions", "count", n)
	}
	if err != nil {
		return err
	}
	// Rate-limit buckets idle for a day are full again: the same as none.
	return w.a.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.DeleteIdleRateLimits(ctx, w.a.Clock.Now().Add(-24*time.Hour))
		return err
	})
}

// EvidenceScrubArgs is the periodic job that re-verifies stored evidence.
type EvidenceScrubArgs struct{}

// Kind names the job.
func (EvidenceScrubArgs) Kind() string { return "evidence_scrub" }

type evidenceScrub struct {
	river.WorkerDefaults[EvidenceScrubArgs]
	a *App
}

// ScrubBatch and ScrubEvery set the pace of the scrub: every item is
// re-verified at least once a week on an installation that keeps up.
const (
	ScrubBatch    = 500
	ScrubEvery    = 15 * time.Minute
	ScrubInterval = 7 * 24 * time.Hour
)

func (w *evidenceScrub) Work(ctx context.Context, _ *river.Job[EvidenceScrubArgs]) error {
	res, err := w.a.Custody.Scrub(ctx, ScrubBatch, ScrubInterval)
	w.a.Log.Info("evidence scrub", "verified", res.Verified, "failed", res.Failed, "orphans_removed", res.OrphansRemoved)
	return err
}

func (a *App) workers() (*river.Workers, []*river.PeriodicJob) {
	w := river.NewWorkers()
	river.AddWorker(w, &sessionCleanup{a: a})
	river.AddWorker(w, &evidenceScrub{a: a})
	periodic := a.Intake.RegisterJobs(w)
	a.Hashes.RegisterJobs(w)
	a.VictimID.RegisterJobs(w)
	a.Offenders.RegisterJobs(w)
	a.Viewer.RegisterJobs(w)
	periodic = append(periodic, a.Triage.RegisterJobs(w)...)
	periodic = append(periodic, a.Stats.RegisterJobs(w)...)
	periodic = append(periodic,
		river.NewPeriodicJob(river.PeriodicInterval(5*time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SessionCleanupArgs{}, nil },
			&river.PeriodicJobOpts{ID: "session_cleanup", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(ScrubEvery),
			func() (river.JobArgs, *river.InsertOpts) { return EvidenceScrubArgs{}, nil },
			&river.PeriodicJobOpts{ID: "evidence_scrub", RunOnStart: true}),
	)
	return w, periodic
}
