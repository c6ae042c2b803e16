package custody_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

const marker = "HAVEN-CANARY-MARKER-5b1e8c0d"

var analyst = haven.Actor{UserID: "analyst-1", Role: haven.RoleIntake, Addr: "192.0.2.50", RequestID: "req-test"}

type setup struct {
	app  *app.App
	dir  string
	tmp  string
	s3   *s3test.Server
	logs *haventest.SafeBuffer
}

// newSetup opens an installation on the engine and backend ("file" or
// "s3"), with TMPDIR pointed at a folder of its own so that anything
// written to temporary files can be inspected.
func newSetup(t *testing.T, engine, backend string) *setup {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	cfg := haventest.Config(t, engine, dir)
	s := &setup{dir: dir, tmp: tmp, logs: &haventest.SafeBuffer{}}
	if backend == "s3" {
		s.s3 = s3test.StartServer(t)
		cfg.EvidenceURL = "s3://" + s.s3.Config.Bucket + "/" + s.s3.Config.Prefix
		cfg.S3.Endpoint, cfg.S3.AccessKey, cfg.S3.SecretKey, cfg.S3.Region = s.s3.Config.Endpoint, s.s3.Config.AccessKey, s.s3.Config.SecretKey, s.s3.Config.Region
		cfg.S3.Insecure = true
	}
	a, err := app.Open(context.Background(), cfg, haventestLogger(s.logs), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	s.app = a
	return s
}

func payload(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	copy(b, marker)
	copy(b[n/2:], marker)
	copy(b[n-len(marker):], marker)
	return b
}

// scan fails the test if marker appears in any file under the roots.
func scan(t *testing.T, roots ...string) int {
	t.Helper()
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("the marker is in clear in %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func readAll(t *testing.T, s *setup, itemID string) ([]byte, error) {
	t.Helper()
	rc, err := s.app.Custody.Open(context.Background(), analyst, itemID, "test review")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestMarkerNeverInClear is SECURITY.md 16: after acquisition the marker
// is in no database file, no temporary file, no log and nowhere in the
// evidence folder or bucket in clear; the bytes read back are identical.
func TestMarkerNeverInClear(t *testing.T) {
	backends := []string{"file", "s3"}
	for _, engine := range storetest.Engines() {
		for _, backend := range backends {
			t.Run(engine+"/"+backend, func(t *testing.T) {
				s := newSetup(t, engine, backend)
				data := payload(t, 3<<20+17)
				acq, err := s.app.Custody.Acquire(context.Background(), analyst, bytes.NewReader(data),
					custody.Source{Kind: "staff-upload", Filename: "upload.bin", ContextType: "report", ContextID: "1"})
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(data); !bytes.Equal(acq.SHA256, sum[:]) {
					t.Fatal("the recorded SHA-256 is not the data's")
				}
				got, err := readAll(t, s, acq.ItemID)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read back: %d bytes, %v", len(got), err)
				}
				roots := []string{s.dir, s.tmp}
				if s.s3 != nil {
					roots = append(roots, s.s3.Dir)
				}
				if n := scan(t, roots...); n < 2 {
					t.Fatalf("scanned only %d files", n)
				}
				if engine == "postgres" {
					// The database lives in the server's folder: dump it
					// and look there.
					dump, err := exec.Command("pg_dump", s.app.Config.DatabaseURL).Output()
					if err != nil {
						t.Fatalf("pg_dump: %v", err)
					}
					if !bytes.Contains(dump, []byte("evidence_acquisitions")) {
						t.Fatal("the dump does not hold the evidence tables")
					}
					if bytes.Contains(dump, []byte(marker)) {
						t.Error("the marker is in clear in the PostgreSQL database")
					}
				}
				if strings.Contains(s.logs.String(), marker) {
					t.Error("the marker is in the logs")
				}
			})
		}
	}
}

func TestDuplicatesStoredOnce(t *testing.T) {
	s := newSetup(t, "sqlite", "file")
	ctx := context.Background()
	data := payload(t, 100_000)
	a1, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(data), custody.Source{Kind: "esp", Filename: "a.jpg", ContextType: "report", ContextID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(data), custody.Source{Kind: "public-form", Filename: "b.jpg", ContextType: "report", ContextID: "2"})
	if err != nil {
		t.Fatal(err)
	}
	if a1.ItemID != a2.ItemID || a1.ID == a2.ID {
		t.Fatalf("got items %s and %s, acquisitions %s and %s: want one item, two records", a1.ItemID, a2.ItemID, a1.ID, a2.ID)
	}
	_, acqs, err := s.app.Custody.Item(ctx, analyst, a1.ItemID)
	if err != nil || len(acqs) != 2 || acqs[1].Source != "public-form" || acqs[1].ContextID != "2" {
		t.Fatalf("custody records: %v %v", acqs, err)
	}
	blobs := 0
	_ = s.app.Backend.List(ctx, func(string) error { blobs++; return nil })
	if blobs != 1 {
		t.Fatalf("got %d blobs, want 1", blobs)
	}
}

func blobPath(t *testing.T, s *setup, itemID string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(filepath.Join(s.dir, "evidence"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == itemID {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no blob file for %s", itemID)
	}
	return found
}

func itemFailed(t *testing.T, s *setup, id string) bool {
	t.Helper()
	it, _, err := s.app.Custody.Item(context.Background(), analyst, id)
	if err != nil {
		t.Fatal(err)
	}
	return !it.IntegrityFailedAt.IsZero()
}

// TestIntegrityFailures is SECURITY.md 17, 18 and 21: swapped blobs and a
// flipped byte give integrity errors on read and in the scrub, each
// recorded on the item and in the audit log, never wrong bytes.
func TestIntegrityFailures(t *testing.T) {
	s := newSetup(t, "sqlite", "file")
	ctx := context.Background()
	var ids []string
	var datas [][]byte
	for i := range 3 {
		d := payload(t, 200_000+i)
		acq, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(d), custody.Source{Kind: "esp"})
		if err != nil {
			t.Fatal(err)
		}
		ids, datas = append(ids, acq.ItemID), append(datas, d)
	}
	// Swap the first two blobs.
	p0, p1 := blobPath(t, s, ids[0]), blobPath(t, s, ids[1])
	b0, _ := os.ReadFile(p0)
	b1, _ := os.ReadFile(p1)
	if err := os.WriteFile(p0, b1, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p1, b0, 0o600); err != nil {
		t.Fatal(err)
	}
	// Flip one byte in the middle of the third.
	p2 := blobPath(t, s, ids[2])
	b2, _ := os.ReadFile(p2)
	b2[len(b2)/2] ^= 0x01
	if err := os.WriteFile(p2, b2, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		got, err := readAll(t, s, id)
		if !haven.IsKind(err, haven.KindIntegrity) {
			t.Errorf("item %d: got %v, want an integrity error", i, err)
		}
		if len(got) > 0 && !bytes.HasPrefix(datas[i], got) {
			t.Errorf("item %d: wrong bytes were returned before the error", i)
		}
		if !itemFailed(t, s, id) {
			t.Errorf("item %d: the failure was not recorded on the item", i)
		}
	}
	res, err := s.app.Custody.Scrub(ctx, 10, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 3 || res.Verified != 0 {
		t.Errorf("scrub: got %+v, want 3 failed", res)
	}
	var alarms int
	_ = s.app.Store.View(ctx, func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "evidence.integrity_failure", Limit: 100})
		alarms = len(evs)
		return err
	})
	if alarms < 6 {
		t.Errorf("got %d integrity alarms in the audit log, want one per failed read and scrub (6)", alarms)
	}
}

// TestReadIsAudited: every read records who, why and from where before a
// byte is returned (SECURITY.md 12).
func TestReadIsAudited(t *testing.T) {
	s := newSetup(t, "sqlite", "file")
	ctx := context.Background()
	acq, err := s.app.Custody.Acquire(ctx, analyst, strings.NewReader("synthetic bytes"), custody.Source{Kind: "esp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Custody.Open(ctx, analyst, acq.ItemID, "  "); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("a read without purpose: got %v, want invalid", err)
	}
	if _, err := readAll(t, s, acq.ItemID); err != nil {
		t.Fatal(err)
	}
	le := haven.Actor{UserID: "le-1", Role: haven.RoleLE, AgencyID: "a"}
	if _, err := s.app.Custody.Open(ctx, le, acq.ItemID, "curious"); !haven.IsKind(err, haven.KindNotFound) {
		t.Errorf("LE read of unreferred evidence: got %v, want not found", err)
	}
	var evs []*haven.AuditEvent
	_ = s.app.Store.View(ctx, func(tx *store.Tx) (err error) {
		evs, err = tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "evidence.read"})
		return err
	})
	if len(evs) != 1 || evs[0].Purpose != "test review" || evs[0].ActorID != "analyst-1" || evs[0].SourceAddr != "192.0.2.50" || evs[0].RequestID != "req-test" {
		t.Fatalf("read events: %+v", evs)
	}
}

// TestShredding is SECURITY.md 20: a shredded item's key is gone, a
// tombstone stays, and even its ciphertext restored from a backup cannot
// be decrypted.
func TestShredding(t *testing.T) {
	s := newSetup(t, "sqlite", "file")
	ctx := context.Background()
	data := payload(t, 50_000)
	acq, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(data), custody.Source{Kind: "esp"})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := os.ReadFile(blobPath(t, s, acq.ItemID))
	admin := haven.Actor{UserID: "admin-1", Role: haven.RoleAdmin}
	if err := s.app.Custody.Shred(ctx, admin, acq.ItemID, "court order 2026-17"); !haven.IsKind(err, haven.KindReauth) {
		t.Fatalf("shred without a recent sign-in: got %v, want reauth", err)
	}
	if err := s.app.Custody.Shred(ctx, analyst, acq.ItemID, "x"); !haven.IsKind(err, haven.KindForbidden) {
		t.Fatalf("shred by an analyst: got %v, want forbidden", err)
	}
	admin.AuthAt = s.app.Clock.Now()
	if err := s.app.Custody.Shred(ctx, admin, acq.ItemID, "court order 2026-17"); err != nil {
		t.Fatal(err)
	}
	it, _, err := s.app.Custody.Item(ctx, analyst, acq.ItemID)
	if err != nil || !it.Shredded() || it.WrappedKey != nil || it.ShredReason != "court order 2026-17" {
		t.Fatalf("tombstone: %+v %v", it, err)
	}
	if _, err := readAll(t, s, acq.ItemID); err == nil {
		t.Fatal("a shredded item was read")
	}
	// Put the ciphertext back, as a restored evidence backup would.
	p := filepath.Join(s.dir, "evidence", acq.ItemID[len(acq.ItemID)-2:], acq.ItemID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Vault.Open(ctx, acq.ItemID, it.WrappedKey, acq.SHA256); !haven.IsKind(err, haven.KindIntegrity) {
		t.Fatalf("restored ciphertext of a shredded item: got %v, want it undecryptable", err)
	}
	// The same bytes may arrive again later: a new item.
	again, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(data), custody.Source{Kind: "esp"})
	if err != nil || again.ItemID == acq.ItemID {
		t.Fatalf("re-acquisition after destruction: %v %v", again, err)
	}
}

func TestTooLargeLeavesNothing(t *testing.T) {
	s := newSetup(t, "sqlite", "file")
	s.app.Custody = custody.New(s.app.Store, s.app.Vault, s.app.Audit, s.app.Clock, nil, 1000)
	ctx := context.Background()
	_, err := s.app.Custody.Acquire(ctx, analyst, bytes.NewReader(make([]byte, 1001)), custody.Source{Kind: "esp"})
	if !haven.IsKind(err, haven.KindTooLarge) {
		t.Fatalf("got %v, want too large", err)
	}
	blobs := 0
	_ = s.app.Backend.List(ctx, func(string) error { blobs++; return nil })
	live, _, _ := countItems(t, s)
	if blobs != 0 || live != 0 {
		t.Fatalf("got %d blobs and %d items left, want none", blobs, live)
	}
}

func countItems(t *testing.T, s *setup) (live, shredded int, err error) {
	ctx := context.Background()
	err = s.app.Store.View(ctx, func(tx *store.Tx) error {
		live, shredded, err = tx.CountEvidence(ctx)
		return err
	})
	return
}
