// Package storetest is the conformance suite of the store: every store
// method, run against each engine adapter, so that SQLite and PostgreSQL
// behave alike. It also provides fresh databases for other packages'
// tests.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to create test databases
)

// PostgresEnv names the variable that points the tests at a PostgreSQL
// server (a URL of any database the user may connect to; tests create and
// drop their own databases next to it).
const PostgresEnv = "HAVEN_TEST_POSTGRES_URL"

// PostgresRequiredEnv, when "1", turns a missing PostgresEnv into a test
// failure instead of a skip (CI sets it).
const PostgresRequiredEnv = "HAVEN_TEST_POSTGRES_REQUIRED"

// PostgresURL creates a fresh, empty database on the server named by
// HAVEN_TEST_POSTGRES_URL and returns its URL; the database is dropped when
// the test ends. Without the variable the test is skipped (or fails when
// HAVEN_TEST_POSTGRES_REQUIRED=1).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv(PostgresRequiredEnv) == "1" {
			t.Fatalf("%s is not set but %s=1", PostgresEnv, PostgresRequiredEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL to run them", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "haven_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// SQLitePath returns the path of a new database file in a temporary
// folder.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "haven.db")
}

// Engines lists the engines a test should run on: always "sqlite", and
// "postgres" when HAVEN_TEST_POSTGRES_URL is set or required.
func Engines() []string {
	if os.Getenv(PostgresEnv) != "" || os.Getenv(PostgresRequiredEnv) == "1" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Describe returns a log-friendly description of a database URL without
// its password.
func Describe(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "sqlite " + filepath.Base(dsn)
	}
	return fmt.Sprintf("postgres %s%s", u.Host, strings.TrimSuffix(u.Path, "/"))
}
