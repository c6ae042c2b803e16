package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
	"github.com/haven-hotline/haven/internal/keys"
)

// TestDoctor runs `haven doctor` on a healthy deployment and on
// misconfigured ones, and checks that each problem is named.
func TestDoctor(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.must("demo")
	dir := c.vars["HAVEN_DATA_DIR"]
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}

	out, err := c.run("doctor")
	if err != nil || !strings.Contains(out, "ok    master key: it opens the deployment's") ||
		!strings.Contains(out, "the evidence store holds the blobs") || !strings.Contains(out, "schema is up to date") {
		t.Fatalf("doctor on a healthy deployment: %v\n%s", err, out)
	}

	t.Run("wrong master key on PostgreSQL", func(t *testing.T) {
		pg := newCLI(t, "postgres") // skipped, like every PostgreSQL test, without HAVEN_TEST_POSTGRES_URL
		pg.must("migrate")
		if out := pg.must("doctor"); !strings.Contains(out, "ok    master key: it opens the deployment's 4 stored secrets") {
			t.Fatalf("doctor on a healthy PostgreSQL deployment:\n%s", out)
		}
		other, _ := keys.Generate()
		path := filepath.Join(t.TempDir(), "other.key")
		if err := keys.WriteFile(path, other); err != nil {
			t.Fatal(err)
		}
		pg.vars["HAVEN_MASTER_KEY_FILE"] = path
		out, err := pg.run("doctor")
		if err == nil || !strings.Contains(out, "FAIL  master key: WRONG MASTER KEY") {
			t.Fatalf("doctor with another key on PostgreSQL: %v\n%s", err, out)
		}
	})

	t.Run("wrong master key", func(t *testing.T) {
		other, err := keys.Generate()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "other.key")
		if err := keys.WriteFile(path, other); err != nil {
			t.Fatal(err)
		}
		d := &cliEnv{t: t, vars: map[string]string{"HAVEN_DATA_DIR": dir, "HAVEN_MASTER_KEY_FILE": path}}
		out, err := d.run("doctor")
		if err == nil || !strings.Contains(out, "FAIL  master key: WRONG MASTER KEY") || !strings.Contains(err.Error(), "master key") {
			t.Fatalf("doctor with another deployment's key: %v\n%s", err, out)
		}
		// A missing key file is named too (serve would make a new one).
		d.vars["HAVEN_MASTER_KEY_FILE"] = filepath.Join(t.TempDir(), "absent.key")
		out, err = d.run("doctor")
		if err == nil || !strings.Contains(out, "does not exist: serve would generate a NEW key") {
			t.Fatalf("doctor without the key file: %v\n%s", err, out)
		}
	})

	t.Run("wrong evidence folder and loose permissions", func(t *testing.T) {
		empty := t.TempDir()
		d := &cliEnv{t: t, vars: map[string]string{"HAVEN_DATA_DIR": dir, "HAVEN_EVIDENCE_URL": "file://" + empty}}
		db := filepath.Join(dir, "haven.db")
		if err := os.Chmod(db, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(db, 0o600)
		if err := os.Chmod(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := d.run("doctor")
		if err == nil || !strings.Contains(out, "probably points at the wrong folder or bucket") ||
			!strings.Contains(out, "haven.db has mode 0644: other users can read it") ||
			!strings.Contains(out, "has mode 0755: other users can read or enter it") {
			t.Fatalf("doctor with an empty evidence folder and a 0755 data folder: %v\n%s", err, out)
		}
	})

	t.Run("unreachable database, missing bucket, plain HTTP", func(t *testing.T) {
		srv := s3test.StartServer(t)
		d := &cliEnv{t: t, vars: map[string]string{
			"HAVEN_DATA_DIR":        dir,
			"HAVEN_DATABASE_URL":    "postgres://haven@127.0.0.1:1/haven?sslmode=disable",
			"HAVEN_EVIDENCE_URL":    "s3://haven-missing-bucket/evidence",
			"HAVEN_S3_ENDPOINT":     srv.Config.Endpoint,
			"HAVEN_S3_ACCESS_KEY":   srv.Config.AccessKey,
			"HAVEN_S3_SECRET_KEY":   srv.Config.SecretKey,
			"HAVEN_S3_INSECURE":     "true",
			"HAVEN_BASE_URL":        "http://haven.example.org",
			"HAVEN_MASTER_KEY_FILE": filepath.Join(dir, "master.key"),
		}}
		out, err := d.run("doctor")
		for _, want := range []string{
			"FAIL  database: the PostgreSQL database 127.0.0.1:1/haven cannot be reached: connection refused",
			`FAIL  evidence: the evidence bucket "haven-missing-bucket" does not exist`,
			"FAIL  public address: HAVEN_BASE_URL http://haven.example.org is plain HTTP on a network address",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("doctor output lacks %q", want)
			}
		}
		if err == nil || !strings.Contains(err.Error(), "3 problems must be fixed (evidence, database, public address)") {
			t.Errorf("doctor's verdict: %v", err)
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
		// Wrong S3 credentials are named as such.
		d.vars["HAVEN_S3_SECRET_KEY"] = "not-the-secret"
		out, _ = d.run("doctor")
		if !strings.Contains(out, "refuses the credentials") {
			t.Errorf("doctor with a wrong S3 secret:\n%s", out)
		}
		// Doctor created nothing.
		if _, err := os.Stat(filepath.Join(srv.Dir, "haven-missing-bucket")); err == nil {
			t.Error("doctor created the missing bucket")
		}
	})

	t.Run("pending migrations", func(t *testing.T) {
		// Forget the newest migration as if this binary were newer than
		// the database.
		if _, err := c.db().Exec(`DELETE FROM haven_schema_version WHERE version_id = (SELECT max(version_id) FROM haven_schema_version)`); err != nil {
			t.Fatal(err)
		}
		out, err := c.run("doctor")
		if err != nil || !strings.Contains(out, "warn  database: 1 migrations are pending") {
			t.Fatalf("doctor with a migration pending: %v\n%s", err, out)
		}
	})
}
