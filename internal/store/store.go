// Package store keeps Haven's records in a SQL database. One implementation
// serves both engines: the SQL is written once with $N placeholders, which
// SQLite (modernc.org/sqlite) and PostgreSQL (pgx) both accept, and what
// differs between them (opening, migrations, locking, error codes) is a
// Dialect supplied by the adapters in store/sqlite and store/postgres.
//
// Every method is on Tx: writes happen inside Store.InTx, so a record, its
// audit event and its job commit or fail together; reads that need no
// audit use Store.View.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = haven.ErrNotFound

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = &haven.Error{Kind: haven.KindConflict, Message: "a record with the same key exists"}

// Dialect is what an engine adapter supplies.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// IsUniqueViolation reports whether err is a unique-constraint error.
	IsUniqueViolation(err error) bool
	// ForUpdate is the suffix that locks selected rows until the end of the
	// transaction ("" where the engine locks the whole database on write).
	ForUpdate() string
	// AuditChains is how many independent audit chains writers spread
	// over: several where transactions run concurrently, one where the
	// engine has a single writer anyway.
	AuditChains() int
	// NextReportNumberSQL returns one new report number.
	NextReportNumberSQL() string
}

// Store is the database of a Haven deployment.
type Store struct {
	write *sql.DB // the writer: a single connection on SQLite
	read  *sql.DB // readers; the same pool as write on PostgreSQL
	d     Dialect
}

// New returns a Store over already-opened and migrated databases. Adapters
// call it from their Open functions.
func New(write, read *sql.DB, d Dialect) *Store {
	if read == nil {
		read = write
	}
	return &Store{write: write, read: read, d: d}
}

// Dialect returns the engine adapter.
func (s *Store) Dialect() Dialect { return s.d }

// DB returns the writer pool, for the job queue which must share
// transactions with the store.
func (s *Store) DB() *sql.DB { return s.write }

// Close closes both pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Tx is a transaction. Its methods are the store's operations.
type Tx struct {
	tx *sql.Tx
	d  Dialect
	// afterCommit runs once the transaction has committed.
	afterCommit []func()
	// auditChain is the audit chain this transaction appends to, chosen
	// at its first event (0 until then).
	auditChain int
}

// AuditChain returns the audit chain the transaction appends to (0 if it
// has not appended yet).
func (tx *Tx) AuditChain() int { return tx.auditChain }

// SetAuditChain fixes the audit chain of the transaction.
func (tx *Tx) SetAuditChain(c int) { tx.auditChain = c }

// SQL returns the underlying transaction, for River's InsertTx.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// AfterCommit registers f to run after a successful commit (for example to
// remove a duplicate blob once the catalogue points elsewhere).
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// InTx runs fn in a read-write transaction and commits it if fn returns
// nil. On SQLite the transaction takes the write lock at BEGIN, so two
// writers never deadlock upgrading their locks.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return s.run(ctx, s.write, false, fn)
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	return s.run(ctx, s.read, true, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(*Tx) error) (err error) {
	sqlTx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly && s.d.Name() == "postgres"})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: sqlTx, d: s.d}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := tx.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, tx.conflict(err)
	}
	return res, nil
}

// conflict marks a unique-constraint violation with ErrConflict.
func (tx *Tx) conflict(err error) error {
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, query, args...)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// mustAffect turns "no row updated" into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// ts prepares a time for storage: UTC, milliseconds, NULL when zero.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Millisecond)
}

// nullTime scans a nullable timestamp.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	if nt.Valid {
		*n.t = nt.Time.UTC()
	} else {
		*n.t = time.Time{}
	}
	return nil
}

// utcTime scans a non-null timestamp and converts it to UTC.
type utcTime struct{ t *time.Time }

func (u utcTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	if !nt.Valid {
		return errors.New("unexpected NULL timestamp")
	}
	*u.t = nt.Time.UTC()
	return nil
}

// nullString stores "" as NULL (for optional foreign keys).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanNullString scans a nullable text column into a string.
type scanNullString struct{ s *string }

func (n scanNullString) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*n.s = ns.String
	return nil
}
