package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/backup"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/evidence/s3"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/sqlite"
)

// backupCmd is `haven backup --to DIR`: a consistent, encrypted backup of
// the deployment described by the configuration, safe while it serves.
func backupCmd(ctx context.Context, e env, args []string) error {
	var to string
	cfg, rest, err := load(e, "backup", args, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "new (or empty) folder to write the backup into")
	})
	if err != nil {
		return err
	}
	if to == "" && len(rest) == 1 {
		to, rest = rest[0], nil
	}
	if to == "" || len(rest) > 0 {
		return exitError{code: 2, msg: "usage: haven backup --to FOLDER"}
	}
	db, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return exitError{code: 2, msg: "haven backup: HAVEN_DATABASE_URL: " + err.Error()}
	}
	a, err := openCore(ctx, e, cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	sum, err := backup.Create(ctx, backup.Source{Engine: db.Driver, SQLitePath: db.Path, PostgresDSN: db.DSN,
		Store: a.Store, Backend: a.Backend, Master: a.Master, Clock: a.Clock, Log: a.Log.With("component", "backup")}, to)
	outcome := haven.OutcomeSuccess
	if err != nil {
		outcome = haven.OutcomeFailure
	}
	details := map[string]string{}
	if sum != nil {
		details = map[string]string{"backup_id": sum.ID, "blobs": fmt.Sprint(sum.Blobs), "tombstones": fmt.Sprint(sum.Tombstones),
			"missing": fmt.Sprint(sum.Missing)}
	}
	aerr := a.Store.InTx(ctx, func(tx *store.Tx) error {
		return a.Audit.Record(ctx, tx, cli, audit.Entry{Type: "backup.create", ObjectType: "backup", Outcome: outcome, Details: details})
	})
	if err != nil {
		return err
	}
	if aerr != nil {
		return fmt.Errorf("the backup was written but its audit event was not: %w", aerr)
	}
	fmt.Fprintf(e.stdout, "Backup %s written to %s in %s:\n  database (%s): %d bytes, %d tables, %d rows\n"+
		"  evidence: %d blobs, %d bytes of ciphertext; %d tombstones\n",
		sum.ID, sum.Dir, sum.Took.Round(1e6), sum.Engine, sum.Database, sum.Tables, sum.Rows, sum.Blobs, sum.BlobBytes, sum.Tombstones)
	if sum.Missing > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("WARNING: %d live evidence items had no blob in the evidence store; "+
			"the backup records them as missing (run the evidence scrub and check the integrity alarms)", sum.Missing)}
	}
	fmt.Fprintln(e.stdout, "It can only be restored with the master key; keep that key apart from the backup.")
	return nil
}

// restoreCmd is `haven restore --from DIR [--verify] [--tombstones DIR]`:
// restores a backup into the empty deployment the configuration describes,
// and with --verify runs the drill.
func restoreCmd(ctx context.Context, e env, args []string) error {
	var from, tombsFrom string
	var verify bool
	cfg, rest, err := load(e, "restore", args, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "the backup folder")
		fs.BoolVar(&verify, "verify", false, "run the drill after restoring: counts, every item decrypts and hash-verifies, tombstones hold, audit chain verifies")
		fs.StringVar(&tombsFrom, "tombstones", "", "a newer backup whose tombstones are applied too (items shredded since this backup stay shredded)")
	})
	if err != nil {
		return err
	}
	if from == "" && len(rest) == 1 {
		from, rest = rest[0], nil
	}
	if from == "" || len(rest) > 0 {
		return exitError{code: 2, msg: "usage: haven restore --from FOLDER [--verify] [--tombstones NEWER_BACKUP]"}
	}
	// The master key must already exist: a new one could open nothing.
	master, err := loadMaster(cfg)
	if err != nil {
		return err
	}
	bk, err := backup.Open(from, master)
	if err != nil {
		return err
	}
	tombs := bk.Manifest.Tombstones
	if tombsFrom != "" {
		newer, err := backup.Open(tombsFrom, master)
		if err != nil {
			return fmt.Errorf("--tombstones: %w", err)
		}
		tombs = append(tombs, newer.Manifest.Tombstones...)
	}
	db, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return exitError{code: 2, msg: "haven restore: HAVEN_DATABASE_URL: " + err.Error()}
	}
	if err := checkEmptyEvidence(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Restoring backup %s (%s, made %s) into %s\n", bk.Header.ID, bk.Header.Engine,
		bk.Manifest.CreatedAt.Format("2006-01-02 15:04:05 UTC"), describeDB(db))
	var problems []backup.Problem
	mismatch, err := bk.RestoreDatabase(ctx, backup.Target{Engine: db.Driver, SQLitePath: db.Path, PostgresDSN: db.DSN})
	if err != nil {
		return err
	}
	for _, m := range mismatch {
		problems = append(problems, backup.Problem{What: m})
	}
	var rows int64
	for _, n := range bk.Manifest.Tables {
		rows += n
	}
	fmt.Fprintf(e.stdout, "  database: %d tables, %d rows", len(bk.Manifest.Tables), rows)
	if len(mismatch) == 0 {
		fmt.Fprint(e.stdout, "; every table's row count matches the backup")
	}
	fmt.Fprintln(e.stdout)

	a, err := openCore(ctx, e, cfg, master)
	if err != nil {
		return fmt.Errorf("open the restored deployment: %w", err)
	}
	defer a.Close()
	n, bprob, err := bk.RestoreEvidence(ctx, a.Store, a.Backend)
	if err != nil {
		return err
	}
	problems = append(problems, bprob...)
	applied, err := backup.ApplyTombstones(ctx, tombs, a.Store, a.Audit, a.Vault, a.Clock)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "  evidence: %d blobs restored; %d tombstones applied (%d known)\n", n, applied, len(tombs))
	if verify {
		rep, err := backup.Verify(ctx, tombs, a.Store, a.Vault, a.Audit)
		if err != nil {
			return err
		}
		problems = append(problems, rep.Problems...)
		fmt.Fprintf(e.stdout, "  drill: %d items decrypt and hash-verify; %d shredded items stay shredded; audit chain: %d events in %d chains checked\n",
			rep.Verified, rep.Shredded, rep.AuditEvents, rep.AuditChains)
	}
	outcome := haven.OutcomeSuccess
	if len(problems) > 0 {
		outcome = haven.OutcomeFailure
	}
	_ = a.Store.InTx(ctx, func(tx *store.Tx) error {
		return a.Audit.Record(ctx, tx, cli, audit.Entry{Type: "backup.restore", ObjectType: "backup", ObjectID: bk.Header.ID,
			Outcome: outcome, Details: map[string]string{"verified": fmt.Sprint(verify), "problems": fmt.Sprint(len(problems))}})
	})
	if len(problems) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "RESTORE FAILED the check: %d problems:", len(problems))
		for _, p := range problems {
			b.WriteString("\n  - " + p.String())
		}
		return exitError{code: 1, msg: b.String()}
	}
	if verify {
		fmt.Fprintln(e.stdout, "DRILL PASSED: the backup restores whole.")
	} else {
		fmt.Fprintln(e.stdout, "Restored. Run the drill with --verify to check every item.")
	}
	return nil
}

// core is the part of a deployment backup and restore need: no job
// queue, no services, and above all no hash index loaded into memory
// (millions of entries on a large deployment).
type core struct {
	Store   *store.Store
	Backend evidence.Backend
	Vault   *evidence.Vault
	Master  *keys.Master
	Audit   *audit.Log
	Clock   haven.Clock
	Log     *slog.Logger
}

func (c *core) Close() {
	if c.Store != nil {
		c.Store.Close()
	}
}

// openCore opens the database (applying pending migrations, as every
// command does), the evidence store, the master key (never creating one:
// master may be given already loaded) and the audit log.
func openCore(ctx context.Context, e env, cfg config.Config, master *keys.Master) (_ *core, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	c := &core{Clock: haven.SystemClock{}, Log: newLogger(e, cfg.LogLevel), Master: master}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.Master == nil {
		if c.Master, err = loadMaster(cfg); err != nil {
			return nil, err
		}
	}
	db, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if db.Driver == "sqlite" {
		c.Store, err = sqlite.Open(ctx, db.Path, c.Log)
	} else {
		c.Store, err = postgres.Open(ctx, db.DSN, c.Log)
	}
	if err != nil {
		return nil, err
	}
	if c.Backend, err = openBackend(ctx, cfg); err != nil {
		return nil, fmt.Errorf("evidence store: %w", err)
	}
	c.Vault = evidence.NewVault(c.Backend, c.Master)
	secrets, err := secret.Load(ctx, c.Store, c.Master, c.Clock)
	if err != nil {
		return nil, err
	}
	c.Audit = audit.New(secrets.Key(secret.AuditChain), secrets.Key(secret.AuditPseudonym), c.Clock, c.Store.Dialect().AuditChains())
	return c, nil
}

// loadMaster reads the configured master key without ever creating one.
func loadMaster(cfg config.Config) (*keys.Master, error) {
	if cfg.MasterKey != "" {
		m, err := keys.Parse([]byte(cfg.MasterKey))
		if err != nil {
			return nil, fmt.Errorf("HAVEN_MASTER_KEY: %w", err)
		}
		return m, nil
	}
	m, err := keys.LoadFile(cfg.MasterKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the master key file %s does not exist: put the master key of the backed-up deployment there "+
			"(or set HAVEN_MASTER_KEY) before restoring", cfg.MasterKeyFile)
	}
	return m, err
}

// openBackend opens the configured evidence store (s3.New creates a
// missing bucket, which an empty restore target may well be).
func openBackend(ctx context.Context, cfg config.Config) (evidence.Backend, error) {
	ev, err := config.ParseEvidenceURL(cfg.EvidenceURL)
	if err != nil {
		return nil, err
	}
	if ev.Backend == "file" {
		return evidence.NewLocal(ev.Dir)
	}
	return s3.New(ctx, s3.Config{Endpoint: cfg.S3.Endpoint, Bucket: ev.Bucket, Prefix: ev.Prefix,
		AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, Region: cfg.S3.Region, Secure: !cfg.S3.Insecure})
}

// checkEmptyEvidence refuses to restore over an evidence store that holds
// blobs.
func checkEmptyEvidence(ctx context.Context, cfg config.Config) error {
	b, err := openBackend(ctx, cfg)
	if err != nil {
		return fmt.Errorf("evidence store: %w", err)
	}
	errFound := errors.New("found")
	err = b.List(ctx, func(string) error { return errFound })
	if errors.Is(err, errFound) {
		return errors.New("the target evidence store is not empty: restore only into an empty location")
	}
	return err
}

func describeDB(db config.Database) string {
	if db.Driver == "sqlite" {
		return "SQLite " + db.Path
	}
	return "PostgreSQL " + redactDSN(db.DSN)
}

// redactDSN drops the password of a database URL for display.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			cred := dsn[i+3 : i+3+j]
			if user, _, ok := strings.Cut(cred, ":"); ok {
				return dsn[:i+3] + user + ":xxxxx" + dsn[i+3+j:]
			}
		}
	}
	return dsn
}
