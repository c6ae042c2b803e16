package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrate applies the embedded migrations in fsys (one .sql file per
// version, numbered identically for every engine) to db. On PostgreSQL an
// advisory lock makes concurrent starts of several instances safe.
func Migrate(ctx context.Context, db *sql.DB, engine string, fsys fs.FS, log *slog.Logger) error {
	var dialect goose.Dialect
	var opts []goose.ProviderOption
	switch engine {
	case "sqlite":
		dialect = goose.DialectSQLite3
	case "postgres":
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return fmt.Errorf("migrate: unknown engine %q", engine)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithTableName("haven_schema_version"))
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("applied migration", "engine", engine, "version", r.Source.Version, "took", r.Duration)
		}
	}
	return nil
}

// MigrationVersions lists the versions of the migration files in fsys.
func MigrationVersions(fsys fs.FS) ([]int64, error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, nil, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil && p == nil {
		// NewProvider needs a database only to run; collect the sources
		// ourselves when it refuses a nil one.
		return collectVersions(fsys)
	}
	var out []int64
	for _, s := range p.ListSources() {
		out = append(out, s.Version)
	}
	return out, nil
}

func collectVersions(fsys fs.FS) ([]int64, error) {
	entries, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, name := range entries {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// migrationLockKey is the PostgreSQL advisory-lock key of LockMigrations
// (an arbitrary constant: "haven-mg" in ASCII).
const migrationLockKey = 0x686176656e2d6d67

// LockMigrations takes the deployment-wide migration lock and returns its
// release. Every process holds it from before the schema migrations until
// after the job queue's, so two instances (or a command started while the
// server starts) never migrate at once. PostgreSQL: a session advisory
// lock on a connection of its own; SQLite: an exclusive flock on
// "<database>.migrate-lock" next to the database file.
func LockMigrations(ctx context.Context, engine, sqlitePath string, db *sql.DB) (func(), error) {
	switch engine {
	case "postgres":
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
			conn.Close()
		}, nil
	case "sqlite":
		if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		f, err := os.OpenFile(sqlitePath+".migrate-lock", os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
	}
	return nil, fmt.Errorf("migration lock: unknown engine %q", engine)
}
