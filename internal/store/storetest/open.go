package storetest

import (
	"context"
	"testing"

	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/sqlite"
)

// Open returns a fresh, migrated store on the named engine ("sqlite" or
// "postgres"), closed when the test ends.
func Open(t testing.TB, engine string) *store.Store {
	t.Helper()
	var s *store.Store
	var err error
	switch engine {
	case "sqlite":
		s, err = sqlite.Open(context.Background(), SQLitePath(t), nil)
	case "postgres":
		s, err = postgres.Open(context.Background(), PostgresURL(t), nil)
	default:
		t.Fatalf("unknown engine %q", engine)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", engine, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// URL returns a fresh database URL for the engine: a file path for SQLite
// or a new database for PostgreSQL.
func URL(t testing.TB, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return PostgresURL(t)
	}
	return SQLitePath(t)
}
