package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/sqlite"
)

// TestMigrationVersionsMatch proves both engines have the same migration
// versions, so a schema change cannot land for one engine only.
func TestMigrationVersionsMatch(t *testing.T) {
	lite, err := store.MigrationVersions(sqlite.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.MigrationVersions(postgres.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 {
		t.Fatal("no SQLite migrations found")
	}
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("migration versions differ (-sqlite +postgres):\n%s", diff)
	}
}
