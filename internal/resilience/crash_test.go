package resilience_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// crashReport is the report every client files: synthetic, with one file.
const crashReport = `{
  "incidentSummary": {"incidentType": "Child Pornography (possession, manufacture, and distribution)",
    "incidentDateTime": "2026-04-01T10:00:00Z"},
  "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Safety", "email": [{"#text": "abuse@example.org"}]}},
  "additionalInfo": "crash-test %s"
}`

// receipt is what a client was told: the report with its file is filed.
type receipt struct {
	token    string
	reportID int64
	md5      string
}

type reportState struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Files  []struct {
		MD5 string `json:"md5"`
	} `json:"files"`
}

// fileOne files one report with the JSON API, retrying each step across
// crashes without making a duplicate: the report is created under an
// Idempotency-Key, the file is sent again only when the report does not
// hold it, and an unanswered finish is checked before it is retried. It
// returns the receipt once the server has said the report is finished.
func fileOne(ctx context.Context, c *api, token string, data []byte) (*receipt, error) {
	sum := md5.Sum(data)
	want := hex.EncodeToString(sum[:])
	retry := func(step func() (bool, error)) error {
		for {
			done, err := step()
			if done || (err != nil && !errors.Is(err, errDown)) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(40 * time.Millisecond):
			}
		}
	}
	var st reportState
	err := retry(func() (bool, error) {
		code, err := c.call(ctx, http.MethodPost, "/api/v1/reports", "application/json", fmt.Appendf(nil, crashReport, token),
			map[string]string{"Idempotency-Key": token}, &st)
		if err != nil {
			return false, err
		}
		if code != http.StatusCreated && code != http.StatusOK {
			return false, fmt.Errorf("create %s: status %d", token, code)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	path := "/api/v1/reports/" + strconv.FormatInt(st.ID, 10)
	state := func() (bool, error) {
		code, err := c.call(ctx, http.MethodGet, path, "", nil, nil, &st)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("get %s: status %d", path, code)
		}
		return err == nil, err
	}
	holds := func() bool {
		for _, f := range st.Files {
			if f.MD5 == want {
				return true
			}
		}
		return false
	}
	for {
		if err := retry(state); err != nil {
			return nil, err
		}
		if st.Status == string(haven.ReportFinished) {
			if !holds() || len(st.Files) != 1 {
				return nil, fmt.Errorf("report %d finished with %d files, not the one sent", st.ID, len(st.Files))
			}
			return &receipt{token: token, reportID: st.ID, md5: want}, nil
		}
		if st.Status != string(haven.ReportOpen) {
			return nil, fmt.Errorf("report %d is %s", st.ID, st.Status)
		}
		if !holds() {
			var body strings.Builder
			mw := multipart.NewWriter(&body)
			w, _ := mw.CreateFormFile("file", "synthetic.bin")
			_, _ = w.Write(data)
			_ = mw.Close()
			code, err := c.call(ctx, http.MethodPost, path+"/files", mw.FormDataContentType(), []byte(body.String()), nil, nil)
			if err != nil && !errors.Is(err, errDown) {
				return nil, err
			}
			if err == nil && code != http.StatusCreated {
				return nil, fmt.Errorf("upload to %d: status %d", st.ID, code)
			}
			continue // look again: the upload may or may not have been stored
		}
		code, err := c.call(ctx, http.MethodPost, path+"/finish", "", nil, nil, &st)
		if err != nil && !errors.Is(err, errDown) {
			return nil, err
		}
		if err == nil && code == http.StatusOK && st.Status == string(haven.ReportFinished) {
			return &receipt{token: token, reportID: st.ID, md5: want}, nil
		}
		// No answer, or an answer that does not say finished: look again.
	}
}

// TestCrashSafety is SECURITY.md 27: ESP clients file reports through the
// JSON API while the real server is killed with SIGKILL at random moments
// and restarted; afterwards every report a client holds a receipt for is
// finished, complete, decrypts and hash-verifies, and has its audit event;
// no two reports carry the same client token (no duplicate from a retry);
// no finished report lacks its file; and the audit chain verifies.
//
// The short form (CI) kills the server 8 times per engine; the long form
// is HAVEN_CRASH_KILLS=50 go test -run TestCrashSafety -timeout 60m
// ./internal/resilience/ (docs/operations.md).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills the real server")
	}
	kills := 8
	if v := os.Getenv("HAVEN_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("HAVEN_CRASH_KILLS=%q: want a number", v)
		}
		kills = n
	}
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) { crashRun(t, engine, kills) })
	}
}

func crashRun(t *testing.T, engine string, kills int) {
	in := newInstall(t, engine)
	token := in.espToken("Crash Test ESP")
	srv := in.start(freePort(t))
	var mu sync.Mutex
	base := srv.URL()
	c := &api{base: func() string { mu.Lock(); defer mu.Unlock(); return base }, token: token,
		http: &http.Client{Timeout: 20 * time.Second}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const clients = 6
	var (
		wg       sync.WaitGroup
		rmu      sync.Mutex
		receipts []*receipt
		failures []error
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for n := 0; ctx.Err() == nil; n++ {
				tok := fmt.Sprintf("%s-c%d-r%d", engine, i, n)
				data := make([]byte, 8<<10+rng.IntN(56<<10))
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
				r, err := fileOne(ctx, c, tok, data)
				rmu.Lock()
				switch {
				case err == nil:
					receipts = append(receipts, r)
				case ctx.Err() == nil:
					failures = append(failures, fmt.Errorf("%s: %w", tok, err))
				}
				rmu.Unlock()
			}
		}()
	}
	rng := rand.New(rand.NewPCG(99, uint64(len(engine))))
	start := time.Now()
	for k := range kills {
		time.Sleep(time.Duration(150+rng.IntN(1100)) * time.Millisecond)
		srv.kill()
		if k%3 == 2 {
			time.Sleep(300 * time.Millisecond) // clients meet a closed port for a while
		}
		srv.launch()
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	wg.Wait()
	srv.kill() // the last stop is a crash too
	t.Logf("%s: %d kills in %s, %d receipts", engine, kills, time.Since(start).Round(time.Second), len(receipts))
	for _, err := range failures {
		t.Errorf("client: %v", err)
	}
	if len(receipts) < kills {
		t.Fatalf("only %d receipts in %d kills: the clients did not get through", len(receipts), kills)
	}
	verifyAfterCrash(t, in, receipts)
}

// verifyAfterCrash opens the installation (without serving) and checks
// what the clients were told against what is stored.
func verifyAfterCrash(t *testing.T, in *install, receipts []*receipt) {
	ctx := context.Background()
	getenv := func(k string) string {
		for _, kv := range in.env {
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
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	type row struct {
		id     int64
		status string
		key    string
	}
	var rows []row
	err = a.Store.View(ctx, func(tx *store.Tx) error {
		rs, err := tx.SQL().QueryContext(ctx, `SELECT id, status, COALESCE(idempotency_key, '') FROM reports ORDER BY id`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.id, &r.status, &r.key); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]row{}
	for _, r := range rows {
		byKey[r.key] = append(byKey[r.key], r)
	}
	for k, rs := range byKey {
		if k != "" && len(rs) > 1 {
			t.Errorf("client token %s has %d reports: a retry made a duplicate", k, len(rs))
		}
	}
	reader := haven.Actor{UserID: "", Role: haven.RoleSupervisor, System: true, Addr: "local:crash-test"}
	check := func(id int64, wantMD5 string) {
		var rep *haven.Report
		var finishEvents int
		err := a.Store.View(ctx, func(tx *store.Tx) (err error) {
			if rep, err = tx.Report(ctx, id, false); err != nil {
				return err
			}
			return tx.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE type = 'report.finish' AND object_id = $1`,
				strconv.FormatInt(id, 10)).Scan(&finishEvents)
		})
		if err != nil {
			t.Errorf("report %d: %v", id, err)
			return
		}
		if finishEvents != 1 {
			t.Errorf("report %d: %d report.finish audit events, want 1", id, finishEvents)
		}
		if len(rep.Files) != 1 {
			t.Errorf("report %d: finished with %d files", id, len(rep.Files))
			return
		}
		f := rep.Files[0]
		if wantMD5 != "" && hex.EncodeToString(f.MD5) != wantMD5 {
			t.Errorf("report %d: file MD5 %x, the client sent %s", id, f.MD5, wantMD5)
		}
		rc, err := a.Custody.Open(ctx, reader, f.ItemID, "crash-safety verification")
		if err != nil {
			t.Errorf("report %d: open evidence: %v", id, err)
			return
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != hex.EncodeToString(f.SHA256) {
			t.Errorf("report %d: evidence does not decrypt to its SHA-256 (%v)", id, err)
		}
	}
	received := map[int64]bool{}
	for _, r := range receipts {
		received[r.reportID] = true
		rs := byKey[r.token]
		if len(rs) != 1 || rs[0].id != r.reportID || rs[0].status != string(haven.ReportFinished) {
			t.Errorf("receipted report %d (%s) is not stored as one finished report: %+v", r.reportID, r.token, rs)
			continue
		}
		check(r.reportID, r.md5)
	}
	// Finished reports no client heard about (the answer was lost in a
	// crash and the client was stopped) must be complete as well.
	extra := 0
	for _, r := range rows {
		if r.status == string(haven.ReportFinished) && !received[r.id] {
			extra++
			check(r.id, "")
		}
	}
	t.Logf("%d reports stored: %d receipted, %d finished without a receipt (client stopped), %d open or retracted",
		len(rows), len(receipts), extra, len(rows)-len(receipts)-extra)
	if out := in.run("audit", "verify"); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify: %s", out)
	}
}
