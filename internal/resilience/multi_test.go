package resilience_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
	"github.com/haven-hotline/haven/internal/store"
)

// TestMultiInstance runs two `haven serve` processes against one
// PostgreSQL database and one S3 bucket (versitygw), as production runs
// several behind a load balancer (docs/operations.md):
//
//   - a hash added through instance A (a self-report) matches through
//     instance B within seconds (B follows the change sequence);
//   - a report filed through A with a file is stored in the shared bucket
//     and read back through B; its arrival triage job runs exactly once
//     although both instances work the queue;
//   - the public pages' rate limit is shared: B refuses what A used up;
//   - a logout on A ends the session on B.
func TestMultiInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers")
	}
	srv := s3test.StartServer(t)
	base := newInstall(t, "postgres")
	dirA := ""
	for _, kv := range base.env {
		if v, ok := strings.CutPrefix(kv, "HAVEN_DATA_DIR="); ok {
			dirA = v
		}
	}
	s3env := []string{"HAVEN_EVIDENCE_URL=s3://" + srv.Config.Bucket + "/" + srv.Config.Prefix,
		"HAVEN_S3_ENDPOINT=" + srv.Config.Endpoint, "HAVEN_S3_ACCESS_KEY=" + srv.Config.AccessKey,
		"HAVEN_S3_SECRET_KEY=" + srv.Config.SecretKey, "HAVEN_S3_REGION=" + srv.Config.Region, "HAVEN_S3_INSECURE=true",
		"HAVEN_MASTER_KEY_FILE=" + filepath.Join(dirA, "master.key")}
	a := base.with(s3env...)
	token := a.espToken("Multi-instance ESP") // makes the master key, migrates
	b := a.with("HAVEN_DATA_DIR=" + t.TempDir())
	one, two := a.start(freePort(t)), b.start(freePort(t))
	defer one.stop()
	defer two.stop()
	ctx := context.Background()

	// A self-report through A; its MD5 matches through B.
	sum := md5.Sum([]byte("multi-instance synthetic file " + haven.NewID()))
	digest := hex.EncodeToString(sum[:])
	resp, err := http.PostForm(one.URL()+"/self-report", url.Values{"lang": {"en"}, "relation": {"adult"}, "notify": {"none"},
		"hashes": {"file," + digest + ","}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("self-report through A: %d", resp.StatusCode)
	}
	cb := &api{base: two.URL, token: token, http: http.DefaultClient}
	start := time.Now()
	for {
		var out struct {
			Matches []struct {
				Bank string `json:"bank"`
			} `json:"matches"`
		}
		code, err := cb.call(ctx, http.MethodPost, "/api/v1/match", "application/json", []byte(`{"md5":"`+digest+`"}`), nil, &out)
		if err != nil || code != http.StatusOK {
			t.Fatalf("match through B: %d %v", code, err)
		}
		if len(out.Matches) == 1 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a hash added through A did not match through B within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("a hash added through A matched through B after %s", time.Since(start).Round(10*time.Millisecond))

	// The public pages' rate limit (5 new self-reports per 10 minutes and
	// address) is shared: 4 more through A, then B refuses the sixth.
	post := func(s *server) int {
		resp, err := http.PostForm(s.URL()+"/self-report", url.Values{"lang": {"en"}, "relation": {"adult"}, "notify": {"none"},
			"hashes": {"file," + digest + ","}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 4 {
		if code := post(one); code != http.StatusOK {
			t.Fatalf("self-report %d through A: %d", i+2, code)
		}
	}
	if code := post(two); code != http.StatusTooManyRequests {
		t.Errorf("the sixth self-report from one address, through B: %d, want 429 (the limit is shared)", code)
	}

	// A report with a file through A, read back through B.
	ca := &api{base: one.URL, token: token, http: http.DefaultClient}
	data := []byte("synthetic evidence bytes for the multi-instance test " + haven.NewID())
	rep, err := fileOne(ctx, ca, "multi-"+haven.NewID(), data)
	if err != nil {
		t.Fatal(err)
	}
	var st reportState
	if code, err := cb.call(ctx, http.MethodGet, "/api/v1/reports/"+strconv.FormatInt(rep.reportID, 10), "", nil, nil, &st); err != nil ||
		code != http.StatusOK || st.Status != string(haven.ReportFinished) || len(st.Files) != 1 || st.Files[0].MD5 != rep.md5 {
		t.Fatalf("the report through B: %d %v %+v", code, err, st)
	}

	// Open the installation directly to look at the queue, the audit log
	// and the sessions both instances share.
	getenv := func(k string) string {
		for _, kv := range a.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	cfg, _, err := config.Load("verify", nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	rc, err := inst.Custody.Open(ctx, haven.Actor{Role: haven.RoleSupervisor, System: true, Addr: "local:multi-test"}, itemOf(t, inst, rep.reportID),
		"multi-instance verification")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(data) {
		t.Error("the evidence read from the shared bucket differs from what was sent")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var done, arrivals int
		err := inst.Store.View(ctx, func(tx *store.Tx) error {
			if err := tx.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'report_triage'
				AND (args->>'report_id')::bigint = $1 AND state = 'completed'`, rep.reportID).Scan(&done); err != nil {
				return err
			}
			return tx.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE type = 'triage.evaluated'
				AND object_id = $1 AND details LIKE '%"why":"arrival"%'`, strconv.FormatInt(rep.reportID, 10)).Scan(&arrivals)
		})
		if err != nil {
			t.Fatal(err)
		}
		if done == 1 && arrivals == 1 {
			break
		}
		if done > 1 || arrivals > 1 || time.Now().After(deadline) {
			t.Fatalf("arrival triage of report %d: %d completed jobs and %d evaluations, want exactly 1 of each", rep.reportID, done, arrivals)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A session made for a supervisor works on both; a logout on A ends it on B.
	var user struct{ ID string }
	out := a.run("user", "create", "--email", "supervisor-multi@example.org", "--role", "supervisor", "--json")
	if err := json.Unmarshal([]byte(out), &user); err != nil {
		t.Fatal(err)
	}
	tok, hash := auth.NewToken()
	csrf, _ := auth.NewToken()
	now := time.Now()
	err = inst.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSession(ctx, &haven.Session{ID: haven.NewID(), TokenHash: hash, UserID: user.ID, CSRFToken: csrf,
			MFAAt: now, AuthAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	home := func(s *server) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/app", nil)
		req.Header.Set("Cookie", "__Host-haven_session="+tok)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if ga, gb := home(one), home(two); ga != http.StatusOK || gb != http.StatusOK {
		t.Fatalf("the session before logout: A %d, B %d", ga, gb)
	}
	req, _ := http.NewRequest(http.MethodPost, one.URL()+"/logout", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "__Host-haven_session="+tok)
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout on A: %d", resp.StatusCode)
	}
	if gb := home(two); gb == http.StatusOK {
		t.Error("the session still works on B after a logout on A")
	}
}

// itemOf returns the evidence item of a report's only file.
func itemOf(t *testing.T, a *app.App, reportID int64) string {
	t.Helper()
	var id string
	err := a.Store.View(context.Background(), func(tx *store.Tx) error {
		r, err := tx.Report(context.Background(), reportID, false)
		if err != nil {
			return err
		}
		if len(r.Files) != 1 {
			return fmt.Errorf("report %d has %d files", reportID, len(r.Files))
		}
		id = r.Files[0].ItemID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
