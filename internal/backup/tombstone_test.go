package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/sqlite"
)

// deployment is a SQLite deployment with a local evidence folder.
type deployment struct {
	path    string
	store   *store.Store
	backend *evidence.Local
	vault   *evidence.Vault
	audit   *audit.Log
	custody *custody.Service
}

func openDeployment(t *testing.T, m *keys.Master, dir string) *deployment {
	t.Helper()
	ctx := context.Background()
	d := &deployment{path: filepath.Join(dir, "haven.db")}
	var err error
	if d.store, err = sqlite.Open(ctx, d.path, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.store.Close() })
	if d.backend, err = evidence.NewLocal(filepath.Join(dir, "evidence")); err != nil {
		t.Fatal(err)
	}
	d.vault = evidence.NewVault(d.backend, m)
	sec, err := secret.Load(ctx, d.store, m, haven.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	d.audit = audit.New(sec.Key(secret.AuditChain), sec.Key(secret.AuditPseudonym), haven.SystemClock{}, 1)
	d.custody = custody.New(d.store, d.vault, d.audit, haven.SystemClock{}, nil, 1<<20)
	return d
}

var sys = haven.SystemActor("test")

func (d *deployment) acquire(t *testing.T, n int) string {
	t.Helper()
	body := bytes.Repeat([]byte(fmt.Sprintf("synthetic item %d ", n)), 5000)
	acq, err := d.custody.Acquire(context.Background(), sys, bytes.NewReader(body), custody.Source{Kind: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return acq.ItemID
}

// shredOnGet shreds one item when the backup comes to copy its blob: the
// race between the database snapshot and the evidence copy.
type shredOnGet struct {
	evidence.Backend
	id    string
	shred func() error
}

func (s *shredOnGet) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.id {
		if err := s.shred(); err != nil {
			return nil, err
		}
	}
	return s.Backend.Get(ctx, key)
}

// TestShredDuringBackup: an item live in the snapshot but shredded before
// its blob was copied is a tombstone, which restore applies; an item whose
// blob was lost before the backup is reported by name.
func TestShredDuringBackup(t *testing.T) {
	ctx := context.Background()
	m, _ := keys.Generate()
	src := openDeployment(t, m, t.TempDir())
	before, during, kept, lost := src.acquire(t, 1), src.acquire(t, 2), src.acquire(t, 3), src.acquire(t, 4)
	if err := src.custody.Shred(ctx, sys, before, "Example destruction order 1"); err != nil {
		t.Fatal(err)
	}
	if err := src.backend.Delete(ctx, lost); err != nil { // lost outside Haven
		t.Fatal(err)
	}
	racing := &shredOnGet{Backend: src.backend, id: during, shred: func() error {
		return src.custody.Shred(ctx, sys, during, "Example destruction order 2")
	}}
	dir := filepath.Join(t.TempDir(), "bk")
	sum, err := Create(ctx, Source{Engine: "sqlite", SQLitePath: src.path, Store: src.store, Backend: racing, Master: m}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Blobs != 1 || sum.Tombstones != 2 || sum.Missing != 1 {
		t.Fatalf("backup summary %+v: want 1 blob (%s), 2 tombstones, 1 missing (%s)", sum, kept, lost)
	}

	bk, err := Open(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	dstDir := t.TempDir()
	mism, err := bk.RestoreDatabase(ctx, Target{Engine: "sqlite", SQLitePath: filepath.Join(dstDir, "haven.db")})
	if err != nil || len(mism) != 0 {
		t.Fatalf("restore database: %v %v", mism, err)
	}
	dst := openDeployment(t, m, dstDir)
	// The snapshot still holds the item shredded during the backup as live.
	it, _, err := dst.custody.Item(ctx, sys, during)
	if err != nil || it.Shredded() {
		t.Fatalf("the snapshot should hold %s live: %+v %v", during, it, err)
	}
	n, problems, err := bk.RestoreEvidence(ctx, dst.store, dst.backend)
	if err != nil || n != 1 {
		t.Fatalf("restore evidence: %d blobs, %v", n, err)
	}
	if len(problems) != 1 || problems[0].ItemID != lost || !strings.Contains(problems[0].What, "already missing") {
		t.Errorf("restore evidence problems %v: want the lost item %s named", problems, lost)
	}
	applied, err := ApplyTombstones(ctx, bk.Manifest.Tombstones, dst.store, dst.audit, dst.vault, nil)
	if err != nil || applied != 1 {
		t.Fatalf("apply tombstones: %d %v; want 1 (the item shredded during the backup)", applied, err)
	}
	rep, err := Verify(ctx, bk.Manifest.Tombstones, dst.store, dst.vault, dst.audit)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified != 1 || rep.Shredded != 2 || len(rep.Problems) != 1 || rep.Problems[0].ItemID != lost {
		t.Errorf("drill report %+v: want 1 verified, 2 shredded, the lost item as the one problem", rep)
	}
	if _, err := dst.custody.Open(ctx, sys, during, "test"); err == nil {
		t.Error("the item shredded during the backup opens after the restore")
	}
	rc, err := dst.custody.Open(ctx, sys, kept, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, bytes.Repeat([]byte("synthetic item 3 "), 5000)) {
		t.Errorf("the kept item reads back wrong: %v", err)
	}
	if res, err := dst.audit.Verify(ctx, dst.store); err != nil || res.Problem != nil {
		t.Errorf("audit chain after applying a tombstone: %+v %v", res, err)
	}
}
