package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

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
