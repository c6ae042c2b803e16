package backup

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/store/sqlite"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// newBackup makes a backup of a fresh SQLite deployment with no evidence
// (the full drill with evidence runs in cmd/haven's TestBackupRestoreDrill).
func newBackup(t *testing.T, m *keys.Master) string {
	t.Helper()
	path := storetest.SQLitePath(t)
	s, err := sqlite.Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b, err := evidence.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bk")
	sum, err := Create(context.Background(), Source{Engine: "sqlite", SQLitePath: path, Store: s, Backend: b, Master: m}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tables == 0 || sum.Rows == 0 {
		t.Fatalf("a migrated database backed up as %d tables, %d rows", sum.Tables, sum.Rows)
	}
	return dir
}

func TestOpenChecksKeyAndBinding(t *testing.T) {
	m, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := newBackup(t, m)
	bk, err := Open(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if bk.Manifest.ID != bk.Header.ID || bk.Manifest.Tables["haven_schema_version"] == 0 {
		t.Fatalf("manifest %+v does not describe the snapshot", bk.Manifest)
	}

	// Another master key opens nothing.
	other, _ := keys.Generate()
	if _, err := Open(dir, other); !haven.IsKind(err, haven.KindIntegrity) {
		t.Errorf("open with another master key: %v", err)
	}

	// A header whose ID is changed no longer unwraps its key.
	hb, _ := os.ReadFile(filepath.Join(dir, HeaderFile))
	var h Header
	json.Unmarshal(hb, &h)
	h.ID = haven.NewID()
	changed, _ := json.Marshal(h)
	os.WriteFile(filepath.Join(dir, HeaderFile), changed, 0o600)
	if _, err := Open(dir, m); !haven.IsKind(err, haven.KindIntegrity) {
		t.Errorf("open with an altered header ID: %v", err)
	}
	os.WriteFile(filepath.Join(dir, HeaderFile), hb, 0o600)

	// The manifest of another backup, even under the same key, does not
	// decrypt in this one.
	dir2 := newBackup(t, m)
	mf, _ := os.ReadFile(filepath.Join(dir2, ManifestFile))
	os.WriteFile(filepath.Join(dir, ManifestFile), mf, 0o600)
	if _, err := Open(dir, m); !haven.IsKind(err, haven.KindIntegrity) {
		t.Errorf("open with another backup's manifest: %v", err)
	}

	// A folder that is not a backup says so.
	if _, err := Open(t.TempDir(), m); err == nil || !strings.Contains(err.Error(), "not a Haven backup") {
		t.Errorf("open an empty folder: %v", err)
	}
}

func TestCreateRefusesNonEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "something"), []byte("x"), 0o600)
	m, _ := keys.Generate()
	_, err := Create(context.Background(), Source{Engine: "sqlite", Master: m}, dir)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("backup into a non-empty folder: %v", err)
	}
}

func TestRestoreRefusesExistingDatabase(t *testing.T) {
	m, _ := keys.Generate()
	bk, err := Open(newBackup(t, m), m)
	if err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(t.TempDir(), "haven.db")
	os.WriteFile(existing, []byte("not empty"), 0o600)
	if _, err := bk.RestoreDatabase(context.Background(), Target{Engine: "sqlite", SQLitePath: existing}); err == nil ||
		!strings.Contains(err.Error(), "empty location") {
		t.Fatalf("restore over an existing file: %v", err)
	}
	if _, err := bk.RestoreDatabase(context.Background(), Target{Engine: "postgres"}); err == nil {
		t.Fatal("a SQLite backup restored into PostgreSQL")
	}
	// Into a new path it restores, with every count matching.
	mism, err := bk.RestoreDatabase(context.Background(), Target{Engine: "sqlite", SQLitePath: filepath.Join(t.TempDir(), "new.db")})
	if err != nil || len(mism) != 0 {
		t.Fatalf("restore: %v %v", mism, err)
	}
}

// FuzzOpenHeader: whatever the clear header holds, Open fails cleanly
// (the header is the only part read before authentication).
func FuzzOpenHeader(f *testing.F) {
	m, err := keys.Generate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"format":"haven-backup/1","id":"x","engine":"sqlite","wrapped_key":"AAAA"}`))
	f.Add([]byte(`{"format":"haven-backup/1","engine":"postgres","wrapped_key":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, header []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, HeaderFile), header, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, m); err == nil {
			t.Fatal("a made-up header opened")
		}
	})
}
