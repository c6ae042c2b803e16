// Package sqlite is the SQLite adapter of the store, on the pure-Go
// modernc.org/sqlite driver: WAL journal, a busy timeout, foreign keys on,
// one writer connection that takes the write lock at BEGIN, and a pool of
// read-only connections.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/haven-hotline/haven/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Dialect is the SQLite dialect.
type Dialect struct{}

// Name returns "sqlite".
func (Dialect) Name() string { return "sqlite" }

// ForUpdate returns "": SQLite's writer already holds the database lock.
func (Dialect) ForUpdate() string { return "" }

// AuditChains returns 1: SQLite has a single writer, so one chain never
// makes anyone wait.
func (Dialect) AuditChains() int { return 1 }

// NextReportNumberSQL takes the next number from the counters table (the
// write lock serialises it).
func (Dialect) NextReportNumberSQL() string {
	return `UPDATE counters SET value = value + 1 WHERE name = 'report' RETURNING value`
}

// IsUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY error.
func (Dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_time_format", "sqlite")
	if write {
		q.Set("_txlock", "immediate")
		// The single writer keeps 64 MiB of pages (the default is 2 MiB):
		// bulk writes into large indexes (a million-entry hash import)
		// otherwise re-read the same pages over and over.
		q.Add("_pragma", "cache_size(-65536)")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path, applies the
// migrations and returns the store. The folder is created with mode 0700
// and the file is made 0600.
func Open(ctx context.Context, path string, log *slog.Logger) (*store.Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite: the path may not contain ? or #")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := store.Migrate(ctx, write, "sqlite", Migrations(), log); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	return store.New(write, read, Dialect{}), nil
}
