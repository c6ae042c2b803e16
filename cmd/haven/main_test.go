package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// cli runs the command with a data folder and database of its own.
type cliEnv struct {
	t    *testing.T
	vars map[string]string
}

func newCLI(t *testing.T, engine string) *cliEnv {
	dir := t.TempDir()
	vars := map[string]string{"HAVEN_DATA_DIR": dir, "HAVEN_LOG_LEVEL": "error"}
	if engine == "postgres" {
		vars["HAVEN_DATABASE_URL"] = storetest.PostgresURL(t)
	}
	return &cliEnv{t: t, vars: vars}
}

func (c *cliEnv) run(args ...string) (string, error) {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.vars[k] }, strings.NewReader(""), &out, &errb)
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			return out.String() + errb.String() + ex.msg, ex
		}
	}
	return out.String(), err
}

func (c *cliEnv) must(args ...string) string {
	c.t.Helper()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("haven %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cliEnv) db() *sql.DB {
	c.t.Helper()
	driver, dsn := "sqlite", filepath.Join(c.vars["HAVEN_DATA_DIR"], "haven.db")
	if u := c.vars["HAVEN_DATABASE_URL"]; u != "" {
		driver, dsn = "pgx", u
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

func TestJSONInterface(t *testing.T) {
	c := newCLI(t, "sqlite")
	var ag struct{ ID, Name string }
	if err := json.Unmarshal([]byte(c.must("agency", "create", "Example Police", "--kind", "local", "--json")), &ag); err != nil || !haven.ValidID(ag.ID) {
		t.Fatalf("agency create --json: %+v %v", ag, err)
	}
	var esp struct{ Username, Password string }
	if err := json.Unmarshal([]byte(c.must("esp", "create", "Example Photos", "--json")), &esp); err != nil || esp.Username == "" || len(esp.Password) < 24 {
		t.Fatalf("esp create --json: %+v %v", esp, err)
	}
	var u struct {
		ID   string `json:"id"`
		Link string `json:"enrolment_link"`
	}
	out := c.must("user", "create", "--email", "officer@example.org", "--role", "le_user", "--agency", "Example Police", "--json")
	if err := json.Unmarshal([]byte(out), &u); err != nil || !haven.ValidID(u.ID) || !strings.Contains(u.Link, "/enrol/") {
		t.Fatalf("user create --json: %s %v", out, err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(c.must("token", "create", "--user", esp.Username, "--json")), &tok); err != nil || !strings.HasPrefix(tok.Token, "hvn_") {
		t.Fatalf("token create --json: %+v %v", tok, err)
	}
	if _, err := c.run("user", "create", "--email", "x@example.org", "--role", "le_user"); err == nil {
		t.Error("an LE user without an agency was created")
	}
	if out, err := c.run("nonsense"); err == nil || !strings.Contains(out, "unknown command") {
		t.Errorf("unknown command: got %v %q", err, out)
	}
	if !strings.Contains(c.must("version"), "haven") {
		t.Error("version printed nothing useful")
	}
}

// TestAuditVerifyCommand: `haven audit verify` exits 0 on an intact chain
// and non-zero naming the first bad event after a change, deletion,
// insertion or reordering made directly in the database, on both engines.
func TestAuditVerifyCommand(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			tampers := map[string][]string{
				"modified":  {`UPDATE audit_events SET type = 'nothing.happened' WHERE seq = 3`},
				"deleted":   {`DELETE FROM audit_events WHERE seq = 3`},
				"inserted":  {`UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3`, `UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000`, `INSERT INTO audit_events (chain, seq, id, at, type, outcome, prev_hash, hash) SELECT chain, 3, 'forged', at, 'user.create', 'success', hash, hash FROM audit_events WHERE seq = 2`},
				"reordered": {`UPDATE audit_events SET seq = -3 WHERE seq = 3`, `UPDATE audit_events SET seq = 3 WHERE seq = 4`, `UPDATE audit_events SET seq = 4 WHERE seq = -3`},
			}
			for name, stmts := range tampers {
				t.Run(name, func(t *testing.T) {
					c := newCLI(t, engine)
					c.must("agency", "create", "Agency One")
					c.must("agency", "create", "Agency Two")
					c.must("user", "create", "--email", "a@example.org", "--role", "auditor")
					c.must("esp", "create", "Example Service")
					if out := c.must("audit", "verify"); !strings.Contains(out, "intact") {
						t.Fatalf("intact chain: %s", out)
					}
					db := c.db()
					for _, q := range stmts {
						if _, err := db.Exec(q); err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					out, err := c.run("audit", "verify")
					var ex exitError
					if !errors.As(err, &ex) || ex.code != 1 {
						t.Fatalf("got %v, want exit 1\n%s", err, out)
					}
					if !strings.Contains(out, "first bad event 3") {
						t.Errorf("got %q, want it to name event 3", out)
					}
				})
			}
		})
	}
}

// TestKeysRotate: after `haven keys rotate --retire` every item still
// decrypts and verifies, the application secrets still open, and the old
// key is gone from the keyset (SECURITY.md 19).
func TestKeysRotate(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.must("demo")
	keyFile := filepath.Join(c.vars["HAVEN_DATA_DIR"], "master.key")
	before, err := keys.LoadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	a := openApp(t, c)
	var live int
	_ = a.Store.View(context.Background(), func(tx *store.Tx) (err error) {
		live, _, err = tx.CountEvidence(context.Background())
		return err
	})
	a.Close()
	if live < 3 {
		t.Fatalf("the demo stored %d evidence items, want at least 3", live)
	}
	out := c.must("keys", "rotate", "--retire")
	if !strings.Contains(out, fmt.Sprintf("re-wrapped %d evidence keys", live)) || !strings.Contains(out, "Retired") {
		t.Fatalf("rotate output (want %d items): %s", live, out)
	}
	after, err := keys.LoadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.KeyIDs()) != 1 || after.PrimaryKeyID() == before.PrimaryKeyID() {
		t.Fatalf("got keys %v, want only a new primary (old %d)", after.KeyIDs(), before.PrimaryKeyID())
	}
	a = openApp(t, c)
	res, err := a.Custody.Scrub(context.Background(), 100, -time.Hour)
	if err != nil || res.Verified != live || res.Failed != 0 {
		t.Fatalf("after rotation: scrub %+v, %v; want %d verified", res, err, live)
	}
	a.Close()
	if out := c.must("audit", "verify"); !strings.Contains(out, "intact") {
		t.Fatalf("audit after rotation: %s", out)
	}
	if out := c.must("keys", "retire"); !strings.Contains(out, "nothing to retire") {
		t.Errorf("second retire: %s", out)
	}
}

func openApp(t *testing.T, c *cliEnv) *app.App {
	t.Helper()
	cfg := haventest.Config(t, "sqlite", c.vars["HAVEN_DATA_DIR"])
	if u := c.vars["HAVEN_DATABASE_URL"]; u != "" {
		cfg.DatabaseURL = u
	}
	a, err := app.Open(context.Background(), cfg, nil, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestServe starts the real command on a free port, checks health and
// readiness, and stops it with the context.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string {
			if k == "HAVEN_DATA_DIR" {
				return dir
			}
			return ""
		}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base, link string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.Contains(line, "/enrol/") {
			link = line
		}
		if i := strings.Index(line, "listening on "); i >= 0 {
			base = strings.Fields(line[i+len("listening on "):])[0]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if base == "" || link == "" {
		t.Fatalf("no address or first-admin link printed (base %q link %q)", base, link)
	}
	if !strings.HasPrefix(link, base+"/enrol/") {
		t.Errorf("the enrolment link %q does not point at the server %q", link, base)
	}
	for _, p := range []string{"/healthz", "/readyz", "/login"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got %d", p, resp.StatusCode)
		}
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "first administrator") {
		t.Errorf("first-admin link: got %d", resp.StatusCode)
	}
	if fi, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("master key: %v %v, want a 0600 file", fi, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestDemoLoadsRegistrySamples: the demonstration imports both shipped
// synthetic registry exports with their mappings (queued for the job,
// or applied when a server already ran it).
func TestDemoLoadsRegistrySamples(t *testing.T) {
	c := newCLI(t, "sqlite")
	out := c.must("demo")
	if n := strings.Count(out, "Queued the synthetic registry export"); n != 2 {
		t.Fatalf("demo output names %d registry imports, want 2:\n%s", n, out)
	}
	a := openApp(t, c)
	defer a.Close()
	ims, err := a.Offenders.Imports(context.Background(), haven.Actor{Role: haven.RoleOffender, System: true, Addr: "local:test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 2 {
		t.Fatalf("%d imports, want 2", len(ims))
	}
	for _, im := range ims {
		if im.Status != offender.ImportQueued && im.Status != offender.ImportRunning && im.Status != offender.ImportDone {
			t.Errorf("import %s of %s: status %q", im.ID, im.Source, im.Status)
		}
	}
}
