package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/i18n"
	"github.com/haven-hotline/haven/internal/selfreport"
)

// The survivors' self-report by hash (issue 9): /self-report, where a
// person hashes pictures on their own device (static/selfreport.js and
// the WebAssembly build of Haven's PDQ code) and sends only the hashes;
// /self-report/case, where they come back with the case number and
// secret to see the hashes, add more, withdraw, or change whether and how
// they are told of news; and the feed online services poll.

// selfReportRoutes lists the routes of the self-report.
func (s *Server) selfReportRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	return []Route{
		{Method: get, Path: "/self-report", Surface: SurfacePublic, Public: true, Handler: s.selfReportPage},
		{Method: post, Path: "/self-report", Surface: SurfacePublic, Public: true, MaxBody: selfreport.MaxField + 64<<10, Handler: s.selfReportSubmit},
		{Method: get, Path: "/self-report/case", Surface: SurfacePublic, Public: true, Handler: s.selfCasePage},
		{Method: post, Path: "/self-report/case", Surface: SurfacePublic, Public: true, MaxBody: selfreport.MaxField + 64<<10, Handler: s.selfCaseSubmit},
		{Method: get, Path: "/api/v1/self-report/hashes", Surface: SurfaceAPI, Perm: haven.PermMatchAPI, Handler: s.apiSelfReportFeed},
	}
}

// selfReportCSP lets the page run the WebAssembly hasher and play the
// person's own videos from blob: URLs (to draw frames); nothing else
// differs from the site's policy.
const selfReportCSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; " +
	"media-src blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// srView is a self-report page in the visitor's language.
type srView struct {
	c         *i18n.Catalog
	Lang      string
	LangLinks []pfLangOption
	// Kind is the page: "form", "receipt", "case-open", "case", "problem".
	Kind    string
	Title   string
	Errors  map[string]string
	Problem string
	Notice  string
	// Form values sent back.
	Relation, Context, Notify, Contact, Hashes string
	Number, Secret                             string
	Receipt                                    *selfreport.Receipt
	Case                                       *selfreport.Case
	Relations, NotifyChoices                   []string
}

// T translates a message.
func (v *srView) T(key string, args ...any) string { return v.c.T(key, args...) }

// Err returns a field's error message.
func (v *srView) Err(field string) string { return v.Errors[field] }

// HasErrors reports whether the page has field errors.
func (v *srView) HasErrors() bool { return len(v.Errors) > 0 }

// Home and FooterKey fill the public layout (_public_layout.html).
func (v *srView) Home() string { return "/self-report" }

// FooterKey is the message of the page's footer.
func (v *srView) FooterKey() string { return "sr.footer" }

func (s *Server) srNewView(r *request, asked, kind, path string) *srView {
	pf := s.public
	lang := asked
	if !pf.bundle.Supported(lang) {
		lang = pf.bundle.Match(r.Header.Get("Accept-Language"))
	}
	v := &srView{c: pf.bundle.Catalog(lang), Kind: kind, Errors: map[string]string{}, Relations: selfreport.Relations,
		NotifyChoices: selfreport.NotifyChoices, Notify: selfreport.NotifyNone}
	v.Lang = v.c.Lang()
	for _, l := range pf.bundle.Languages() {
		if l != v.Lang {
			v.LangLinks = append(v.LangLinks, pfLangOption{Code: l, Name: pf.bundle.Catalog(l).Name(), Href: path + "?lang=" + l})
		}
	}
	return v
}

func (s *Server) srRender(w http.ResponseWriter, r *request, status int, v *srView) error {
	if v.Title == "" {
		v.Title = v.T("sr.title")
	}
	w.Header().Set("Content-Security-Policy", selfReportCSP)
	return s.render(w, status, "self_report", s.newPage(r, v.Title, v))
}

// srFail shows an error of the service on the page: a field's message
// beside the field, anything else as the page's problem.
func (s *Server) srFail(w http.ResponseWriter, r *request, v *srView, err error) error {
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", r.id, "method", r.Method, "route", r.route.Path, "err", err)
		v.Problem = v.T("problem.internal")
		return s.srRender(w, r, status, v)
	}
	var he *haven.Error
	switch {
	case err == selfreport.ErrDenied:
		v.Errors["secret"] = v.T("sr.err.denied")
	case err == selfreport.ErrWithdrawn:
		v.Problem = v.T("sr.err.withdrawn")
	case asHaven(err, &he) && he.Field != "":
		key := "sr.err." + he.Field
		if v.c.Has(key) {
			v.Errors[he.Field] = v.T(key)
		} else {
			v.Errors[he.Field] = he.Message
		}
	default:
		v.Problem = safeMessage(err)
	}
	return s.srRender(w, r, status, v)
}

// srLimited answers a request refused by the rate limiter.
func (s *Server) srLimited(w http.ResponseWriter, r *request, v *srView, l *pfLimiter) bool {
	if ok, wait := l.allow(pfLimitKey(r.client.Addr), s.app.Clock.Now()); !ok {
		v.Problem = v.T("sr.limited", pfRetryAfter(w, wait))
		s.log.Info("self-report refused", "request_id", r.id, "reason", "rate_limit")
		_ = s.srRender(w, r, http.StatusTooManyRequests, v)
		return true
	}
	return false
}

func (s *Server) selfReportPage(w http.ResponseWriter, r *request) error {
	v := s.srNewView(r, r.URL.Query().Get("lang"), "form", "/self-report")
	return s.srRender(w, r, http.StatusOK, v)
}

func (s *Server) selfReportSubmit(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return s.srFail(w, r, s.srNewView(r, "", "form", "/self-report"), err)
	}
	f := r.PostForm
	v := s.srNewView(r, f.Get("lang"), "form", "/self-report")
	v.Relation, v.Context, v.Notify, v.Contact, v.Hashes = f.Get("relation"), f.Get("context"), f.Get("notify"), f.Get("contact"), f.Get("hashes")
	if s.srLimited(w, r, v, s.public.selfReports) {
		return nil
	}
	files, err := selfreport.ParseFiles(v.Hashes)
	if err != nil {
		return s.srFail(w, r, v, err)
	}
	rec, err := s.app.SelfReports.Submit(r.Context(), r.actor, selfreport.Submission{Relation: v.Relation, Context: v.Context,
		Lang: v.Lang, Files: files, Notify: v.Notify, Contact: v.Contact})
	if err != nil {
		return s.srFail(w, r, v, err)
	}
	s.log.Info("self-report filed", "request_id", r.id, "files", len(files))
	done := s.srNewView(r, v.Lang, "receipt", "/self-report")
	done.Receipt, done.Title = rec, done.T("sr.receipt.title")
	done.LangLinks = nil // the receipt is shown once: a language switch would lose it
	w.Header().Set("Cache-Control", "no-store")
	return s.srRender(w, r, http.StatusOK, done)
}

func (s *Server) selfCasePage(w http.ResponseWriter, r *request) error {
	v := s.srNewView(r, r.URL.Query().Get("lang"), "case-open", "/self-report/case")
	v.Title = v.T("sr.case.title")
	return s.srRender(w, r, http.StatusOK, v)
}

// selfCaseSubmit runs an action on a case, given its number and secret
// in every request (the pages keep no session): open, add, withdraw,
// notify.
func (s *Server) selfCaseSubmit(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return s.srFail(w, r, s.srNewView(r, "", "case-open", "/self-report/case"), err)
	}
	f := r.PostForm
	v := s.srNewView(r, f.Get("lang"), "case-open", "/self-report/case")
	v.Title = v.T("sr.case.title")
	v.Number, v.Secret = strings.TrimSpace(f.Get("number")), strings.TrimSpace(f.Get("secret"))
	if s.srLimited(w, r, v, s.public.selfCases) {
		return nil
	}
	ctx, svc := r.Context(), s.app.SelfReports
	var err error
	switch f.Get("action") {
	case "", "open":
	case "add":
		var files []selfreport.File
		v.Hashes = f.Get("hashes")
		if files, err = selfreport.ParseFiles(v.Hashes); err == nil {
			var n int
			if n, err = svc.Add(ctx, r.actor, v.Number, v.Secret, files); err == nil {
				v.Notice, v.Hashes = v.T("sr.case.added", n), ""
			}
		}
	case "withdraw":
		if f.Get("confirm") != "yes" {
			err = haven.Invalidf("confirm", "confirm")
		} else if err = svc.Withdraw(ctx, r.actor, v.Number, v.Secret); err == nil {
			v.Notice = v.T("sr.case.withdrawn")
		}
	case "notify":
		v.Notify, v.Contact = f.Get("notify"), f.Get("contact")
		if err = svc.SetNotify(ctx, r.actor, v.Number, v.Secret, v.Notify, v.Contact); err == nil {
			v.Notice = v.T("sr.case.notified")
		}
	default:
		err = haven.Invalidf("action", "unknown action")
	}
	c, oerr := svc.Open(ctx, r.actor, v.Number, v.Secret)
	if oerr != nil {
		return s.srFail(w, r, v, oerr)
	}
	v.Kind, v.Case = "case", c
	if f.Get("action") != "notify" || err == nil {
		v.Notify, v.Contact = c.Notify, c.Contact
	}
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		v.Notice = ""
		return s.srFail(w, r, v, err)
	}
	return s.srRender(w, r, http.StatusOK, v)
}

// apiSelfReportFeed is GET /api/v1/self-report/hashes?after=N&limit=M:
// the self-reported bank's changes after change N, for online services.
func (s *Server) apiSelfReportFeed(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err = 0, nil
	}
	if err != nil || after < 0 {
		return haven.Invalidf("after", "after is a change number (0 or more)")
	}
	limit := 0
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			return haven.Invalidf("limit", "limit is a number from 1 to %d", selfreport.MaxFeed)
		}
	}
	feed, err := s.app.SelfReports.Feed(r.Context(), r.actor, after, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(feed)
}
