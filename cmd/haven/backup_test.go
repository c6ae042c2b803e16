package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/backup"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// openApp opens the deployment of c in the test process, as a second
// instance next to the commands.
func (c *cliEnv) openApp() *app.App {
	c.t.Helper()
	cfg, _, err := config.Load("test", nil, func(k string) string { return c.vars[k] }, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, nil, app.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(a.Close)
	return a
}

// target returns a fresh, empty deployment sharing src's master key file:
// a new data folder, and a new database (postgres) or bucket (s3).
func (c *cliEnv) target(engine string, s3srv *s3test.Server, bucket string) *cliEnv {
	t := c.t
	vars := map[string]string{"HAVEN_DATA_DIR": t.TempDir(), "HAVEN_LOG_LEVEL": "error",
		"HAVEN_MASTER_KEY_FILE": filepath.Join(c.vars["HAVEN_DATA_DIR"], "master.key")}
	if engine == "postgres" {
		vars["HAVEN_DATABASE_URL"] = storetest.PostgresURL(t)
	}
	if s3srv != nil {
		setS3(vars, s3srv, bucket)
	}
	return &cliEnv{t: t, vars: vars}
}

func setS3(vars map[string]string, s *s3test.Server, bucket string) {
	vars["HAVEN_EVIDENCE_URL"] = "s3://" + bucket + "/evidence"
	vars["HAVEN_S3_ENDPOINT"] = s.Config.Endpoint
	vars["HAVEN_S3_ACCESS_KEY"] = s.Config.AccessKey
	vars["HAVEN_S3_SECRET_KEY"] = s.Config.SecretKey
	vars["HAVEN_S3_INSECURE"] = "true"
}

func evidenceItems(t *testing.T, a *app.App) (live, shredded []*haven.EvidenceItem) {
	t.Helper()
	err := a.Store.View(context.Background(), func(tx *store.Tx) error {
		return tx.EvidenceItems(context.Background(), "", 1<<30, func(it *haven.EvidenceItem) error {
			if it.Shredded() {
				shredded = append(shredded, it)
			} else {
				live = append(live, it)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return live, shredded
}

// TestBackupRestoreDrill is SECURITY.md 28: a backup taken while another
// instance keeps acquiring evidence restores into an empty location, and
// the drill finds every count, item, tombstone and the audit chain intact;
// a shredded item stays shredded (also one shredded after the backup, via
// a newer backup's tombstones); an altered backup is reported.
func TestBackupRestoreDrill(t *testing.T) {
	for _, engine := range storetest.Engines() {
		for _, ev := range []string{"file", "s3"} {
			t.Run(engine+"/"+ev, func(t *testing.T) { drill(t, engine, ev) })
		}
	}
}

func drill(t *testing.T, engine, evStore string) {
	ctx := context.Background()
	var srv *s3test.Server
	bucket := func(name string) string { return "" }
	if evStore == "s3" {
		srv = s3test.StartServer(t)
		n := 0
		bucket = func(name string) string { n++; return fmt.Sprintf("haven-%s-%d", name, n) }
	}
	c := newCLI(t, engine)
	if srv != nil {
		setS3(c.vars, srv, bucket("live"))
	}
	c.must("demo")
	a := c.openApp()

	// A shredded item stays shredded.
	live, _ := evidenceItems(t, a)
	if len(live) < 3 {
		t.Fatalf("the demo made %d evidence items; want at least 3", len(live))
	}
	shredded := live[0].ID
	if err := a.Custody.Shred(ctx, cli, shredded, "Example destruction order 1"); err != nil {
		t.Fatal(err)
	}

	// Back up while this second instance keeps acquiring evidence.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var added atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := bytes.Repeat([]byte(fmt.Sprintf("synthetic concurrent item %d ", i)), 2000)
			if _, err := a.Custody.Acquire(ctx, cli, bytes.NewReader(body), custody.Source{Kind: "cli", Filename: "synthetic.bin"}); err != nil {
				t.Errorf("acquire during backup: %v", err)
				return
			}
			added.Add(1)
		}
	}()
	bk1 := filepath.Join(t.TempDir(), "backup-1")
	out := c.must("backup", "--to", bk1)
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "Backup ") || added.Load() == 0 {
		t.Fatalf("backup output %q; %d items added during it", out, added.Load())
	}
	t.Logf("%d items acquired while the backup ran", added.Load())
	assertNoClearDatabase(t, bk1)

	// The drill on an empty location.
	r1 := c.target(engine, srv, bucket("restore"))
	out = r1.must("restore", "--from", bk1, "--verify")
	t.Logf("haven restore --verify:\n%s", out)
	if !strings.Contains(out, "DRILL PASSED") {
		t.Fatalf("restore --verify:\n%s", out)
	}
	// The restored deployment passes the doctor, blobs and key included.
	if out := r1.must("doctor"); !strings.Contains(out, "the evidence store holds the blobs the database records") ||
		!strings.Contains(out, "ok    master key: it opens the deployment's") {
		t.Errorf("doctor on the restored deployment:\n%s", out)
	}
	ra := r1.openApp()
	rlive, rshred := evidenceItems(t, ra)
	if !strings.Contains(out, fmt.Sprintf("drill: %d items decrypt and hash-verify; %d shredded", len(rlive), len(rshred))) {
		t.Errorf("the drill's counts do not match the restored catalogue (%d live, %d shredded):\n%s", len(rlive), len(rshred), out)
	}
	if len(rlive) < len(live)-1 {
		t.Errorf("restored %d live items; the source had %d before the backup", len(rlive), len(live)-1)
	}
	assertShredded(t, ra, shredded)
	// Every restored item reads back identically through custody.
	for _, it := range rlive[:2] {
		assertSameBytes(t, a, ra, it.ID)
	}

	// An item shredded after backup 1 stays shredded when backup 1 is
	// restored with the tombstones of a newer backup.
	late := live[1].ID
	if err := a.Custody.Shred(ctx, cli, late, "Example destruction order 2"); err != nil {
		t.Fatal(err)
	}
	bk2 := filepath.Join(t.TempDir(), "backup-2")
	c.must("backup", "--to", bk2)
	r2 := c.target(engine, srv, bucket("restore"))
	out = r2.must("restore", "--from", bk1, "--tombstones", bk2, "--verify")
	if !strings.Contains(out, "DRILL PASSED") || !strings.Contains(out, "1 tombstones applied") {
		t.Fatalf("restore with newer tombstones:\n%s", out)
	}
	assertShredded(t, r2.openApp(), late)
	assertShredded(t, r2.openApp(), shredded)

	// An altered evidence blob in the backup is reported by name.
	tampered := copyDir(t, bk1)
	victim := live[2].ID
	flipByte(t, filepath.Join(tampered, backup.EvidenceDir, victim), 100)
	r3 := c.target(engine, srv, bucket("restore"))
	out, err := r3.run("restore", "--from", tampered, "--verify")
	if err == nil || !strings.Contains(out, victim) || !strings.Contains(out, "altered") {
		t.Fatalf("restore of a backup with an altered blob: err %v\n%s", err, out)
	}
	t.Logf("restore of an altered backup:\n%s", out)

	// An altered database part does not restore at all.
	tampered = copyDir(t, bk1)
	flipByte(t, filepath.Join(tampered, backup.DatabaseFile), 5000)
	r4 := c.target(engine, srv, bucket("restore"))
	out, err = r4.run("restore", "--from", tampered, "--verify")
	if err == nil || !strings.Contains(err.Error(), "failed authentication") {
		t.Fatalf("restore of a backup with an altered database: err %v\n%s", err, out)
	}

	// A backup does not open with another master key.
	other := c.target(engine, srv, bucket("restore"))
	other.vars["HAVEN_MASTER_KEY_FILE"] = filepath.Join(other.vars["HAVEN_DATA_DIR"], "master.key")
	other.must("migrate") // generates a different key
	other.vars["HAVEN_DATA_DIR"] = t.TempDir()
	if engine == "postgres" {
		other.vars["HAVEN_DATABASE_URL"] = storetest.PostgresURL(t)
	}
	out, err = other.run("restore", "--from", bk1)
	if err == nil || !strings.Contains(err.Error(), "does not unwrap with this master key") {
		t.Fatalf("restore with another master key: err %v\n%s", err, out)
	}
}

func assertShredded(t *testing.T, a *app.App, id string) {
	t.Helper()
	ctx := context.Background()
	it, _, err := a.Custody.Item(ctx, cli, id)
	if err != nil {
		t.Fatal(err)
	}
	if !it.Shredded() || len(it.WrappedKey) != 0 {
		t.Errorf("item %s is live after the restore", id)
	}
	if _, err := a.Custody.Open(ctx, cli, id, "restore drill test"); err == nil {
		t.Errorf("shredded item %s opens after the restore", id)
	}
	if rc, err := a.Backend.Get(ctx, id); err == nil {
		rc.Close()
		t.Errorf("the ciphertext of shredded item %s is in the restored store", id)
	}
}

func assertSameBytes(t *testing.T, src, dst *app.App, id string) {
	t.Helper()
	read := func(a *app.App) []byte {
		rc, err := a.Custody.Open(context.Background(), cli, id, "restore drill test")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(src), read(dst)) {
		t.Errorf("item %s reads differently after the restore", id)
	}
}

// assertNoClearDatabase checks that no file of the backup is a clear
// SQLite image or pg_dump archive.
func assertNoClearDatabase(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Database formats, table names, a record's text (the demo ESP's
		// name) and evidence content (what the concurrent writer stored).
		for _, magic := range []string{"SQLite format 3", "PGDMP", "audit_events", "evidence_items",
			"Example Photo Sharing", "synthetic concurrent item"} {
			if bytes.Contains(b, []byte(magic)) {
				t.Errorf("%s holds %q in clear", p, magic)
			}
		}
		return nil
	})
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) <= at {
		at = int64(len(b)) / 2
	}
	b[at] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
