package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/store"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(a *app.App) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "haven_http_requests_total",
		Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "haven_http_request_duration_seconds",
		Help: "HTTP request duration by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.reg.MustRegister(m.requests, m.duration)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_evidence_items",
		Help: "Live evidence items in the vault."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var live int
		_ = a.Store.View(ctx, func(tx *store.Tx) (err error) { live, _, err = tx.CountEvidence(ctx); return err })
		return float64(live)
	}))
	registerOpsGauges(m.reg, &opsGauges{a: a})
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// opsGauges reads the operational numbers (queues, SLA breaches, job lag,
// match-index size, integrity failures) at most once per opsRefresh, on a
// scrape, so a scrape costs a few indexed or capped queries at most once
// every few seconds however many Prometheus servers scrape; the match
// index and the integrity failures are read less often (opsSlowRefresh):
// the first counts millions of entries, the second walks the audit log.
type opsGauges struct {
	a *app.App

	mu              sync.Mutex
	at, slowAt      time.Time
	reportQueue     map[string]int
	jobs            map[string]int // by River job state
	jobLag          float64
	slaBreaches     int
	matchEntries    int64
	integrityEvents int
}

const (
	opsRefresh     = 10 * time.Second
	opsSlowRefresh = 5 * time.Minute
	opsTimeout     = 3 * time.Second
	// opsCap caps the capped counts (SLA breaches, integrity events): above
	// it, the exact number does not change what an operator does.
	opsCap = 500
)

// refresh re-reads what is stale. Each number keeps its last value when
// its query fails (the failure shows in haven_ops_metrics_errors_total).
func (g *opsGauges) refresh(errs prometheus.Counter) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Sub(g.at) < opsRefresh {
		return
	}
	g.at = now
	ctx, cancel := context.WithTimeout(context.Background(), opsTimeout)
	defer cancel()
	a := g.a
	fail := func(err error) bool {
		if err != nil {
			errs.Inc()
			return true
		}
		return false
	}
	_ = a.Store.View(ctx, func(tx *store.Tx) error {
		if q, err := tx.QueueCounts(ctx); !fail(err) {
			g.reportQueue = q
		}
		if w, err := tx.OverdueWork(ctx, a.Clock.Now(), opsCap); !fail(err) {
			g.slaBreaches = len(w)
		}
		return nil
	})
	if a.Jobs != nil && a.Jobs.River() != nil {
		rc := a.Jobs.River()
		if counts, err := rc.Driver().GetExecutor().JobCountByAllStates(ctx, &riverdriver.JobCountByAllStatesParams{Schema: rc.Schema()}); !fail(err) {
			g.jobs = make(map[string]int, len(counts))
			for st, n := range counts {
				g.jobs[string(st)] = n
			}
		}
		res, err := rc.JobList(ctx, river.NewJobListParams().States("available").
			OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1))
		if !fail(err) {
			g.jobLag = 0
			if len(res.Jobs) == 1 {
				g.jobLag = max(0, now.Sub(res.Jobs[0].ScheduledAt).Seconds())
			}
		}
	}
	if now.Sub(g.slowAt) >= opsSlowRefresh {
		g.slowAt = now
		// NOTE: on SQLite this filter cannot use the (type, at) index and
		// walks the audit log newest first, hence the slow refresh.
		var evs []*haven.AuditEvent
		err := a.Store.View(ctx, func(tx *store.Tx) (err error) {
			evs, err = tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "evidence.integrity_failure", Limit: opsCap})
			return err
		})
		if !fail(err) {
			g.integrityEvents = len(evs)
		}
		banks, err := a.Hashes.Banks(ctx, haven.SystemActor("metrics"))
		if !fail(err) {
			var total int64
			err = a.Store.View(ctx, func(tx *store.Tx) error {
				for _, b := range banks {
					n, err := tx.CountHashEntries(ctx, b.ID)
					if err != nil {
						return err
					}
					total += n
				}
				return nil
			})
			if !fail(err) {
				g.matchEntries = total
			}
		}
	}
}

// registerOpsGauges adds the operational metrics to reg.
func registerOpsGauges(reg *prometheus.Registry, g *opsGauges) {
	errs := prometheus.NewCounter(prometheus.CounterOpts{Name: "haven_ops_metrics_errors_total",
		Help: "Failed reads of the operational metrics (a database that does not answer in time)."})
	reg.MustRegister(errs, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "haven_audit_write_failures_total",
		Help: "Audit events that could not be written since the start (each failed its action): alert on any increase."},
		func() float64 { return float64(g.a.Audit.WriteFailures()) }))
	read := func(f func() float64) func() float64 {
		return func() float64 {
			g.refresh(errs)
			g.mu.Lock()
			defer g.mu.Unlock()
			return f()
		}
	}
	for _, p := range []string{"P1", "P2", "P3", "INFO"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_report_queue_depth",
			Help:        "Open reports waiting in the triage queue, by priority (counted up to 10000).",
			ConstLabels: prometheus.Labels{"priority": p}}, read(func() float64 { return float64(g.reportQueue[p]) })))
	}
	for _, st := range []string{"available", "running", "retryable", "scheduled", "discarded"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_job_queue_depth",
			Help:        "Background jobs by state (discarded: gave up after every retry).",
			ConstLabels: prometheus.Labels{"state": st}}, read(func() float64 { return float64(g.jobs[st]) })))
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_job_lag_seconds",
			Help: "How long the oldest runnable job has waited past its scheduled time (0 when none waits)."},
			read(func() float64 { return g.jobLag })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_sla_breaches",
			Help: "Open reports not yet reviewed whose triage SLA has passed (counted up to 500)."},
			read(func() float64 { return float64(g.slaBreaches) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_match_index_entries",
			Help: "Hash entries in the match banks (refreshed every 5 minutes)."},
			read(func() float64 { return float64(g.matchEntries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "haven_evidence_integrity_failures",
			Help: "Evidence integrity failures recorded in the audit log (counted up to 500, refreshed every 5 minutes): alert on any increase."},
			read(func() float64 { return float64(g.integrityEvents) })),
	)
}

// observe records a request under its route pattern, never its raw path,
// so no identifier ends up in a metric label.
func (m *metrics) observe(rt Route, method string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	m.requests.WithLabelValues(rt.Path, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(rt.Path).Observe(d.Seconds())
}

func (s *Server) healthz(w http.ResponseWriter, r *request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	err := s.app.Ready(ctx)
	if s.app.Jobs != nil && s.app.Jobs.River() != nil {
		// The job queue: its tables answer (jobs carry intake's second
		// half, so a queue that cannot be read is not ready).
		_, jerr := s.app.Jobs.River().JobList(ctx, river.NewJobListParams().First(1))
		if jerr != nil {
			err = errors.Join(err, errors.New("job queue: "+jerr.Error()))
		}
	}
	if err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": failingParts(err),
			"message": "a part Haven needs is not usable (see failing); the reason is in the server log"})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// failingParts names the parts a readiness error concerns ("database",
// "evidence store", "master key", "job queue"), never the details.
func failingParts(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range j.Unwrap() {
			parts = append(parts, failingParts(e)...)
		}
		return parts
	}
	if name, _, ok := strings.Cut(err.Error(), ":"); ok && len(name) < 20 {
		return []string{name}
	}
	return []string{"unknown"}
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *request) error {
	if tok := s.app.Config.MetricsToken; tok != "" {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+tok)) != 1 {
			return &haven.Error{Kind: haven.KindUnauthenticated, Message: "a bearer token is required for metrics"}
		}
	}
	s.metrics.handler.ServeHTTP(w, r.Request)
	return nil
}

func (s *Server) notFound(w http.ResponseWriter, r *request) error {
	return &haven.Error{Kind: haven.KindNotFound, Message: "There is no page at this address."}
}

func (s *Server) root(w http.ResponseWriter, r *request) error {
	switch {
	case r.principal == nil || r.principal.MFAPending:
		http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
	case r.principal.User.Role == haven.RoleLE:
		http.Redirect(w, r.Request, "/le", http.StatusSeeOther)
	default:
		http.Redirect(w, r.Request, "/app", http.StatusSeeOther)
	}
	return nil
}
