package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServe runs `haven serve` for c on a free port and returns its base
// URL; the server stops when the test ends.
func (c *cliEnv) startServe() string {
	t := c.t
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return c.vars[k] },
			strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	base := ""
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "listening on "); i >= 0 {
			base = strings.Fields(sc.Text()[i+len("listening on "):])[0]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	if base == "" {
		t.Fatal("serve printed no address")
	}
	return base
}

// scrape returns the value of each unlabelled or labelled sample.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || !strings.HasPrefix(line, "haven_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// TestOperationalMetrics checks the operational metrics against counts
// read from the database directly, an integrity failure raised on
// purpose, and that readiness names a missing evidence store.
func TestOperationalMetrics(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.must("demo")
	a := c.openApp()
	live, _ := evidenceItems(t, a)
	// An integrity failure: alter one stored blob, then verify it.
	blob := ""
	filepath.WalkDir(filepath.Join(c.vars["HAVEN_DATA_DIR"], "evidence"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(p) == live[0].ID {
			blob = p
		}
		return err
	})
	if blob == "" {
		t.Fatal("the blob of the first item was not found on disk")
	}
	flipByte(t, blob, 200)
	if err := a.Custody.VerifyItem(context.Background(), live[0].ID); err != nil {
		t.Fatal(err)
	}

	base := c.startServe()
	db := c.db()
	count := func(q string) float64 {
		var n float64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// The demo's reports are triaged by jobs the server works: wait until
	// the queue settles (the metrics refresh every 10 seconds).
	var m map[string]float64
	var queue, want float64
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(time.Second) {
		m = scrape(t, base)
		queue = m[`haven_report_queue_depth{priority="P1"}`] + m[`haven_report_queue_depth{priority="P2"}`] +
			m[`haven_report_queue_depth{priority="P3"}`] + m[`haven_report_queue_depth{priority="INFO"}`]
		want = count(`SELECT count(*) FROM report_work WHERE open`)
		if (queue == want && want > 0) || time.Now().After(deadline) {
			break
		}
	}
	if queue != want || want == 0 {
		t.Errorf("report queue depth %v; the database has %v open reports", queue, want)
	}
	if got := m["haven_evidence_integrity_failures"]; got != 1 {
		t.Errorf("haven_evidence_integrity_failures = %v after one failure", got)
	}
	for _, name := range []string{`haven_job_queue_depth{state="available"}`, `haven_job_queue_depth{state="discarded"}`,
		"haven_job_lag_seconds", "haven_sla_breaches", "haven_match_index_entries", "haven_evidence_items",
		"haven_audit_write_failures_total"} {
		if _, ok := m[name]; !ok {
			t.Errorf("metric %s is missing", name)
		}
	}
	if got, want := m["haven_sla_breaches"], count(`SELECT count(*) FROM report_work WHERE open AND first_reviewed_at IS NULL AND sla_due_at < strftime('%Y-%m-%d %H:%M:%f', 'now')`); got != want {
		t.Errorf("haven_sla_breaches = %v; the database has %v", got, want)
	}

	// Readiness: the evidence folder disappears.
	ev := filepath.Join(c.vars["HAVEN_DATA_DIR"], "evidence")
	if err := os.Rename(ev, ev+".moved"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status  string
		Failing []string
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || len(body.Failing) != 1 || body.Failing[0] != "evidence store" {
		t.Errorf("readyz without the evidence folder: %d %+v", resp.StatusCode, body)
	}
	if err := os.Rename(ev+".moved", ev); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz with everything back: %d", resp.StatusCode)
	}
}
