package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
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
	if err := s.app.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable",
			"message": "the database, evidence store or master key is not usable; see the server log"})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
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
