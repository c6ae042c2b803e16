// Command havenload drives a running Haven server with the traffic of a
// busy day, all at once, and reports what it saw (issue 10, SECURITY.md
// 29): online services filing reports with a file through the JSON API,
// hash-match queries, the public pages, and supervisors reading the queue
// and reports. It samples the server's memory (resident set size) while it
// runs, then checks that every report a client was told was filed is
// stored, finished, with its file. A 5xx, a lost report or a transport
// error is a failure: the exit status is 1.
//
// It prepares its own accounts by opening the installation the server
// runs on (the same HAVEN_* environment): an ESP account with a bearer
// token and a supervisor session. Run it beside the server:
//
//	HAVEN_DATA_DIR=./haven-data go run ./cmd/haven serve &
//	HAVEN_DATA_DIR=./haven-data go run ./cmd/havenload -url http://127.0.0.1:8080 -pid $! -duration 10m
//
// scripts/soak does exactly that for SQLite and PostgreSQL. With -ramp it
// raises the number of clients step by step and reports the largest load
// whose p99 stayed under the -p99 limit.
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "havenload:", err)
		os.Exit(1)
	}
}

type options struct {
	url      string
	pid      int
	duration time.Duration
	esp      int // concurrent ESP clients filing reports
	match    int // concurrent match-API clients
	public   int // concurrent visitors of the public pages
	staff    int // concurrent supervisors reading pages
	fileSize int
	sample   time.Duration
	ramp     bool
	p99      time.Duration
	jsonOut  string
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("havenload", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running server")
	fs.IntVar(&o.pid, "pid", 0, "process ID of the server, to sample its memory (0: no sampling)")
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long to run (each step, with -ramp)")
	fs.IntVar(&o.esp, "esp", 4, "concurrent ESP clients filing reports with a file")
	fs.IntVar(&o.match, "match", 2, "concurrent hash-match clients")
	fs.IntVar(&o.public, "public", 2, "concurrent visitors of the public pages")
	fs.IntVar(&o.staff, "staff", 2, "concurrent supervisors reading the queue and reports")
	fs.IntVar(&o.fileSize, "file-size", 64<<10, "bytes of each synthetic file")
	fs.DurationVar(&o.sample, "sample", 10*time.Second, "memory sampling interval")
	fs.BoolVar(&o.ramp, "ramp", false, "double the clients each step until p99 passes -p99")
	fs.DurationVar(&o.p99, "p99", time.Second, "the p99 latency limit of -ramp")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	creds, err := prepare(ctx, getenv)
	if err != nil {
		return err
	}
	if !o.ramp {
		res, err := load(ctx, o, creds, out)
		if err != nil {
			return err
		}
		return finish(o, []*result{res}, out)
	}
	var steps []*result
	for scale := 1; scale <= 64; scale *= 2 {
		step := o
		step.esp, step.match, step.public, step.staff = o.esp*scale, o.match*scale, o.public*scale, o.staff*scale
		res, err := load(ctx, step, creds, out)
		if err != nil {
			return err
		}
		steps = append(steps, res)
		if res.P99 > o.p99 || res.Failures > 0 {
			break
		}
	}
	return finish(o, steps, out)
}

// creds is what the clients use.
type creds struct {
	token   string // the ESP's bearer token
	session string // the supervisor's session cookie value
}

// prepare opens the installation and makes the accounts.
func prepare(ctx context.Context, getenv func(string) string) (*creds, error) {
	cfg, _, err := config.Load("havenload", nil, getenv, io.Discard)
	if err != nil {
		return nil, err
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	if err != nil {
		return nil, fmt.Errorf("open the installation (run havenload with the server's HAVEN_* environment): %w", err)
	}
	defer a.Close()
	sys := haven.SystemActor("havenload")
	name := "Load test ESP " + haven.NewID()[:8]
	esp, err := a.Accounts.CreateESP(ctx, sys, name)
	if err != nil {
		return nil, err
	}
	c := &creds{}
	if c.token, err = a.Accounts.CreateAPIToken(ctx, sys, esp.UserID, "havenload"); err != nil {
		return nil, err
	}
	sup, _, err := a.Accounts.CreateUser(ctx, sys, account.NewUser{Login: "load-" + haven.NewID()[:8] + "@example.org",
		DisplayName: "Load test supervisor", Role: haven.RoleSupervisor})
	if err != nil {
		return nil, err
	}
	tok, hash := auth.NewToken()
	csrf, _ := auth.NewToken()
	now := time.Now()
	err = a.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateSession(ctx, &haven.Session{ID: haven.NewID(), TokenHash: hash, UserID: sup.ID, CSRFToken: csrf,
			MFAAt: now, AuthAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour)})
	})
	if err != nil {
		return nil, err
	}
	c.session = tok
	return c, nil
}

// result is one run.
type result struct {
	Clients   map[string]int   `json:"clients"`
	Seconds   float64          `json:"seconds"`
	Requests  int              `json:"requests"`
	PerSecond float64          `json:"requests_per_second"`
	Reports   int              `json:"reports_filed"`
	P50       time.Duration    `json:"p50_ns"`
	P95       time.Duration    `json:"p95_ns"`
	P99       time.Duration    `json:"p99_ns"`
	ByKind    map[string]*kind `json:"by_kind"`
	Status    map[int]int      `json:"status"`
	Failures  int              `json:"failures"`
	Lost      int              `json:"lost_reports"`
	RSS       []rssSample      `json:"rss"`
	Errors    []string         `json:"errors,omitempty"`
}

type kind struct {
	Requests int           `json:"requests"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	lat      []time.Duration
}

type rssSample struct {
	At  float64 `json:"seconds"`
	RSS int64   `json:"rss_kb"`
}

// recorder gathers latencies and statuses from every client.
type recorder struct {
	mu     sync.Mutex
	kinds  map[string]*kind
	status map[int]int
	errs   []string
	fails  atomic.Int64
}

func (r *recorder) add(k string, d time.Duration, status int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kd := r.kinds[k]
	if kd == nil {
		kd = &kind{}
		r.kinds[k] = kd
	}
	kd.lat = append(kd.lat, d)
	r.status[status]++
	if err != nil || status >= 500 || status == 0 {
		r.fails.Add(1)
		if len(r.errs) < 20 {
			r.errs = append(r.errs, fmt.Sprintf("%s: status %d %v", k, status, err))
		}
	}
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(float64(len(l))*p))]
}

func load(ctx context.Context, o options, c *creds, out io.Writer) (*result, error) {
	rec := &recorder{kinds: map[string]*kind{}, status: map[int]int{}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	noRedirect := &http.Client{Timeout: 30 * time.Second, Transport: hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(k string, req *http.Request, client *http.Client, want ...int) ([]byte, int) {
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			if req.Context().Err() == nil { // not the end of the run cutting a request short
				rec.add(k, time.Since(start), 0, err)
			}
			return nil, 0
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil && req.Context().Err() != nil {
			return nil, 0
		}
		d := time.Since(start)
		if err == nil && len(want) > 0 && !slices.Contains(want, resp.StatusCode) && resp.StatusCode < 500 {
			err = fmt.Errorf("unexpected status")
		}
		rec.add(k, d, resp.StatusCode, err)
		return b, resp.StatusCode
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var wg sync.WaitGroup
	var fmu sync.Mutex
	var filed []filedReport
	bearer := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+c.token)
		return req
	}
	for i := range o.esp {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				data := make([]byte, o.fileSize)
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
				if f, ok := fileReport(ctx, o.url, data, bearer, hc, do); ok {
					fmu.Lock()
					filed = append(filed, f)
					fmu.Unlock()
				}
			}
		}()
	}
	for i := range o.match {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(1000+i), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil {
				var body string
				if rng.IntN(2) == 0 {
					sum := md5.Sum([]byte(strconv.FormatUint(rng.Uint64(), 10)))
					body = `{"md5":"` + hex.EncodeToString(sum[:]) + `"}`
				} else {
					a, b := md5.Sum([]byte(strconv.FormatUint(rng.Uint64(), 10))), md5.Sum([]byte(strconv.FormatUint(rng.Uint64(), 10)))
					body = `{"pdq":"` + hex.EncodeToString(a[:]) + hex.EncodeToString(b[:]) + `","pdqQuality":90}`
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.url+"/api/v1/match", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				do("match", bearer(req), hc, http.StatusOK)
			}
		}()
	}
	for i := range o.public {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths := []string{"/report", "/report?lang=es", "/self-report", "/report/followup", "/statistics/registered-offenders"}
			for n := i; ctx.Err() == nil; n++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.url+paths[n%len(paths)], nil)
				do("public", req, hc, http.StatusOK)
			}
		}()
	}
	for i := range o.staff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; ctx.Err() == nil; n++ {
				path := []string{"/app/queue", "/app/reports", "/app"}[n%3]
				fmu.Lock()
				if len(filed) > 0 && n%4 == 3 {
					path = "/app/reports/" + strconv.FormatInt(filed[n%len(filed)].id, 10)
				}
				fmu.Unlock()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.url+path, nil)
				req.Header.Set("Cookie", "__Host-haven_session="+c.session)
				do("staff", req, noRedirect, http.StatusOK)
			}
		}()
	}
	// Memory samples of the server.
	res := &result{Clients: map[string]int{"esp": o.esp, "match": o.match, "public": o.public, "staff": o.staff}}
	start := time.Now()
	var sampler sync.WaitGroup
	if o.pid > 0 {
		sampler.Add(1)
		go func() {
			defer sampler.Done()
			t := time.NewTicker(o.sample)
			defer t.Stop()
			for {
				if kb, err := rssKB(o.pid); err == nil {
					res.RSS = append(res.RSS, rssSample{At: time.Since(start).Seconds(), RSS: kb})
					fmt.Fprintf(out, "t=%4.0fs rss=%d MiB\n", time.Since(start).Seconds(), kb>>10)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
	sampler.Wait()
	res.Seconds = time.Since(start).Seconds()
	// Every report a client was told was filed is there, finished, with its file.
	vctx := context.Background()
	for _, f := range filed {
		req, _ := http.NewRequestWithContext(vctx, http.MethodGet, o.url+"/api/v1/reports/"+strconv.FormatInt(f.id, 10), nil)
		resp, err := hc.Do(bearer(req))
		if err != nil {
			res.Lost++
			continue
		}
		var st struct {
			Status string `json:"status"`
			Files  []struct {
				MD5 string `json:"md5"`
			} `json:"files"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || st.Status != "finished" || len(st.Files) != 1 || st.Files[0].MD5 != f.md5 {
			res.Lost++
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var all []time.Duration
	res.ByKind = rec.kinds
	for _, k := range rec.kinds {
		slices.Sort(k.lat)
		k.Requests, k.P50, k.P99 = len(k.lat), pct(k.lat, .50), pct(k.lat, .99)
		all = append(all, k.lat...)
	}
	slices.Sort(all)
	res.Requests, res.PerSecond = len(all), float64(len(all))/res.Seconds
	res.P50, res.P95, res.P99 = pct(all, .50), pct(all, .95), pct(all, .99)
	res.Status, res.Failures, res.Errors, res.Reports = rec.status, int(rec.fails.Load()), rec.errs, len(filed)
	return res, nil
}

type filedReport struct {
	id  int64
	md5 string
}

// fileReport files one report with one file. A report counts as filed
// only when the finish answered 200.
func fileReport(ctx context.Context, base string, data []byte, bearer func(*http.Request) *http.Request, hc *http.Client,
	do func(string, *http.Request, *http.Client, ...int) ([]byte, int)) (filedReport, bool) {
	body := `{"incidentSummary": {"incidentType": "Child Pornography (possession, manufacture, and distribution)",
		"incidentDateTime": "2026-04-01T10:00:00Z"},
		"reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Safety", "email": [{"#text": "abuse@example.org"}]}},
		"additionalInfo": "load test (synthetic)"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/reports", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", haven.NewID())
	b, code := do("esp", bearer(req), hc, http.StatusCreated)
	if code != http.StatusCreated {
		return filedReport{}, false
	}
	var st struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(b, &st) != nil || st.ID == 0 {
		return filedReport{}, false
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	w, _ := mw.CreateFormFile("file", "synthetic.bin")
	_, _ = w.Write(data)
	_ = mw.Close()
	path := base + "/api/v1/reports/" + strconv.FormatInt(st.ID, 10)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, path+"/files", &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if _, code := do("esp", bearer(req), hc, http.StatusCreated); code != http.StatusCreated {
		return filedReport{}, false
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, path+"/finish", nil)
	if _, code := do("esp", bearer(req), hc, http.StatusOK); code != http.StatusOK {
		return filedReport{}, false
	}
	sum := md5.Sum(data)
	return filedReport{id: st.ID, md5: hex.EncodeToString(sum[:])}, true
}

// rssKB reads a process's resident set size from /proc.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

func finish(o options, steps []*result, out io.Writer) error {
	failed := false
	for i, r := range steps {
		fmt.Fprintf(out, "\nstep %d: clients %v, %.0f s\n", i+1, r.Clients, r.Seconds)
		fmt.Fprintf(out, "  %d requests, %.1f/s; %d reports filed; p50 %s p95 %s p99 %s\n", r.Requests, r.PerSecond, r.Reports,
			r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.P99.Round(time.Millisecond))
		for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
			kd := r.ByKind[k]
			fmt.Fprintf(out, "  %-7s %7d requests  p50 %s  p99 %s\n", k, kd.Requests, kd.P50.Round(time.Millisecond), kd.P99.Round(time.Millisecond))
		}
		fmt.Fprintf(out, "  statuses %v; failures (5xx or transport) %d; lost reports %d\n", r.Status, r.Failures, r.Lost)
		if n := len(r.RSS); n > 1 {
			fmt.Fprintf(out, "  server RSS: first %d MiB, max %d MiB, last %d MiB\n", r.RSS[0].RSS>>10, maxRSS(r.RSS)>>10, r.RSS[n-1].RSS>>10)
		}
		for _, e := range r.Errors {
			fmt.Fprintln(out, "  error:", e)
		}
		if r.Failures > 0 || r.Lost > 0 {
			failed = true
		}
	}
	if o.ramp {
		best := -1
		for i, r := range steps {
			if r.P99 <= o.p99 && r.Failures == 0 && r.Lost == 0 {
				best = i
			}
		}
		if best >= 0 {
			fmt.Fprintf(out, "\nlargest load with p99 under %s: step %d, clients %v, %.1f requests/s\n", o.p99, best+1, steps[best].Clients,
				steps[best].PerSecond)
		}
		failed = false // a ramp ends by going over the limit on purpose
		for _, r := range steps {
			if r.Lost > 0 {
				failed = true
			}
		}
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(steps, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if failed {
		return errors.New("failures or lost reports (see above)")
	}
	return nil
}

func maxRSS(s []rssSample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.RSS)
	}
	return m
}
