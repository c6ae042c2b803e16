// Package postgres is the PostgreSQL adapter of the store, through pgx's
// database/sql driver so that the job queue and the store share
// transactions of one type.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

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

// Dialect is the PostgreSQL dialect.
type Dialect struct{}

// Name returns "postgres".
func (Dialect) Name() string { return "postgres" }

// ForUpdate returns the row-locking clause.
func (Dialect) ForUpdate() string { return " FOR UPDATE" }

// AuditChains returns 8: concurrent transactions spread over eight
// audit chains instead of queueing on one head row.
func (Dialect) AuditChains() int { return 8 }

// NextReportNumberSQL takes the next number from a sequence, which takes
// no row lock (numbers of rolled-back submissions are skipped).
func (Dialect) NextReportNumberSQL() string { return `SELECT nextval('report_number')` }

// IsUniqueViolation reports whether err is SQLSTATE 23505.
func (Dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// Open connects to the database named by dsn, applies the migrations and
// returns the store.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*store.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := store.Migrate(ctx, db, "postgres", Migrations(), log); err != nil {
		db.Close()
		return nil, err
	}
	return store.New(db, db, Dialect{}), nil
}
