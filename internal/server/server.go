// Package server is Haven's HTTP server: one handler for every surface
// (operations, the staff interface, the law-enforcement portal and the
// APIs), each route declared once in routes.go with the permission it
// needs, behind the security headers, request IDs, body limits, metrics
// and the session and CSRF checks of its surface.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/secret"
)

// Server serves Haven over HTTP.
type Server struct {
	app     *app.App
	log     *slog.Logger
	mux     *http.ServeMux
	pages   *pages
	metrics *metrics
	routes  []Route
	cop     *http.CrossOriginProtection
	// ispwsPrefix is where the ESP API is served (default /ispws).
	ispwsPrefix string
	// public is the public report form's state: signing key, message
	// catalogs and rate limiters.
	public *publicForm
}

// New returns the server of a. The templates are parsed here, so a broken
// template fails the start, not a request.
func New(a *app.App) (*Server, error) {
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{app: a, log: a.Log, mux: http.NewServeMux(), pages: p, cop: http.NewCrossOriginProtection(),
		ispwsPrefix: a.Config.ISPWSPrefix}
	s.metrics = newMetrics(a)
	if s.public, err = newPublicForm(a.Secrets.Key(secret.PublicForm)); err != nil {
		return nil, err
	}
	s.public.sharedLimits(a.Store)
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		if err := rt.check(); err != nil {
			return nil, err
		}
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.Handle("/", s.wrap(Route{Method: "ANY", Path: "/", Surface: SurfaceLogin, Public: true, Handler: s.notFound}))
	return s, nil
}

// Routes returns the route table, for the role × route test.
func (s *Server) Routes() []Route { return s.routes }

// Registry returns the metrics registry.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// request is what a handler gets besides the ResponseWriter.
type request struct {
	*http.Request
	id        string
	client    account.Client
	principal *account.Principal // staff and LE surfaces
	actor     haven.Actor
	route     *Route
}

// wrap puts the route behind the middleware of its surface.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		req := &request{Request: r, id: newRequestID(), route: &rt}
		req.client = account.Client{Addr: s.clientAddr(r), RequestID: req.id}
		req.actor = haven.Actor{Addr: req.client.Addr, RequestID: req.id}
		sw.Header().Set("X-Request-ID", req.id)
		sw.Header().Set("Request-ID", req.id)
		securityHeaders(sw.Header(), rt.Surface)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "request_id", req.id, "route", rt.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.fail(sw, req, errors.New("panic"))
				}
			}
			s.metrics.observe(rt, r.Method, sw.status, time.Since(start))
		}()
		limit := s.app.Config.MaxBodyBytes
		if rt.MaxBody > 0 {
			limit = rt.MaxBody
		}
		r.Body = http.MaxBytesReader(sw, r.Body, limit)
		if err := s.authenticate(sw, req); err != nil {
			s.fail(sw, req, err)
			return
		}
		if sw.status != 0 {
			return // authenticate answered (a redirect)
		}
		if err := s.authorize(req); err != nil {
			s.fail(sw, req, err)
			return
		}
		if err := rt.Handler(sw, req); err != nil {
			s.fail(sw, req, err)
		}
	})
}

// clientAddr returns the address of the client, from X-Forwarded-For only
// when configured to trust a proxy.
func (s *Server) clientAddr(r *http.Request) string {
	if s.app.Config.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// securityHeaders sets the headers every response carries.
func securityHeaders(h http.Header, surface Surface) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	if surface != SurfaceStatic {
		h.Set("Cache-Control", "no-store")
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusOf maps an error kind to an HTTP status.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch haven.ErrorKind(err) {
	case haven.KindInvalid:
		return http.StatusBadRequest
	case haven.KindNotFound:
		return http.StatusNotFound
	case haven.KindConflict:
		return http.StatusConflict
	case haven.KindUnauthenticated:
		return http.StatusUnauthorized
	case haven.KindForbidden:
		return http.StatusForbidden
	case haven.KindUnavailable:
		return http.StatusServiceUnavailable
	case haven.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case haven.KindLocked:
		return http.StatusLocked
	case haven.KindReauth:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// safeMessage returns what a client may be told about err.
func safeMessage(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Sprintf("The request is larger than the limit of %d bytes.", mbe.Limit)
	}
	if statusOf(err) == http.StatusInternalServerError {
		return "Something went wrong on our side. The problem was recorded; please try again, and tell an administrator the request ID if it persists."
	}
	return haven.ErrorMessage(err)
}

// fail answers an error in the form of the route's surface, logging
// internal errors with their full chain and the request ID.
func (s *Server) fail(w http.ResponseWriter, r *request, err error) {
	status := statusOf(err)
	if status >= 500 && r.route.Surface != SurfacePublic && r.route.Surface != SurfaceAPI && r.route.Surface != SurfaceISPWS {
		s.log.Error("request failed", "request_id", r.id, "method", r.Method, "route", r.route.Path, "err", err)
	}
	switch r.route.Surface {
	case SurfacePublic:
		if s.pfFail(w, r, s.pfNewView(r, s.public, r.URL.Query().Get("lang")), err) == nil {
			return
		}
		s.renderError(w, r, status, safeMessage(err))
	case SurfaceISPWS:
		s.ispwsFail(w, r, err)
	case SurfaceAPI:
		s.problem(w, r, err)
	case SurfaceOps:
		writeJSON(w, status, map[string]any{"error": map[string]string{
			"kind": haven.ErrorKind(err).String(), "message": safeMessage(err), "request_id": r.id}})
	default:
		if haven.IsKind(err, haven.KindReauth) && r.principal != nil {
			http.Redirect(w, r.Request, "/app/reauth?next="+safePath(r.URL.Path), http.StatusSeeOther)
			return
		}
		if status == http.StatusUnauthorized && r.Method == http.MethodGet {
			http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
			return
		}
		s.renderError(w, r, status, safeMessage(err))
	}
}

// safePath keeps only a local path for redirects.
func safePath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/app"
	}
	return p
}

// Shutdown helper: ListenAndServe runs srv until ctx ends, then drains.
func ListenAndServe(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}
