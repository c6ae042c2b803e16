// Package haventest starts real Haven servers for tests: a real database
// (SQLite, or PostgreSQL when configured), a real encrypted evidence
// folder, a fake clock, and helpers that create enrolled accounts and
// drive the sign-in flow over HTTP.
package haventest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/server"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// Clock is a fake clock that moves only when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to a fixed instant.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d).Truncate(time.Millisecond)
}

// Env is a running test server and what it is made of.
type Env struct {
	App    *app.App
	Server *server.Server
	HTTP   *httptest.Server
	Clock  *Clock
	Logs   *SafeBuffer
	Dir    string
}

// SafeBuffer is a bytes.Buffer safe for concurrent writes (server logs).
type SafeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SafeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written.
func (s *SafeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Config returns a configuration for a test installation in dir on the
// named engine.
func Config(t testing.TB, engine, dir string) config.Config {
	t.Helper()
	cfg, _, err := config.Load("test", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	cfg.DatabaseURL = filepath.Join(dir, "haven.db")
	if engine == "postgres" {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	cfg.EvidenceURL = "file://" + filepath.Join(dir, "evidence")
	cfg.MasterKeyFile = filepath.Join(dir, "master.key")
	cfg.BaseURL = "http://127.0.0.1"
	return cfg
}

// Start starts a server on the named engine ("sqlite" or "postgres").
func Start(t testing.TB, engine string) *Env {
	t.Helper()
	return StartWith(t, engine, Options{})
}

// Options adjust StartWith.
type Options struct {
	// Workers runs the background job workers, as `haven serve` does.
	Workers bool
	// RealClock uses the system clock instead of the fake one.
	RealClock bool
	// Config adjusts the configuration before the server starts.
	Config func(*config.Config)
}

// StartWith starts a server with options.
func StartWith(t testing.TB, engine string, opt Options) *Env {
	t.Helper()
	dir := t.TempDir()
	env := &Env{Clock: NewClock(), Logs: &SafeBuffer{}, Dir: dir}
	log := slog.New(slog.NewTextHandler(env.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var clock haven.Clock = env.Clock
	if opt.RealClock {
		clock = haven.SystemClock{}
	}
	cfg := Config(t, engine, dir)
	if opt.Config != nil {
		opt.Config(&cfg)
	}
	a, err := app.Open(context.Background(), cfg, log, app.Options{Clock: clock, Workers: opt.Workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if opt.Workers {
		if err := a.Jobs.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = a.Jobs.Stop(ctx)
		})
	}
	env.App = a
	if env.Server, err = server.New(a); err != nil {
		t.Fatal(err)
	}
	env.HTTP = httptest.NewServer(env.Server)
	t.Cleanup(env.HTTP.Close)
	return env
}

// User is an enrolled test account and its credentials.
type User struct {
	*haven.User
	Password string
	Secret   string // TOTP secret
}

var secretRE = regexp.MustCompile(`aria-label="secret key">([A-Z2-7]+)<`)

// NewUser creates an account of the given role through the services and
// enrols it completely (password and second factor).
func (e *Env) NewUser(t testing.TB, login string, role haven.Role, agencyID string) *User {
	t.Helper()
	ctx := context.Background()
	sys := haven.SystemActor("test")
	if role == haven.RoleESP {
		creds, err := e.App.Accounts.CreateESP(ctx, sys, login)
		if err != nil {
			t.Fatal(err)
		}
		u, err := e.App.Accounts.User(ctx, sys, creds.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return &User{User: u, Password: creds.Password}
	}
	u, link, err := e.App.Accounts.CreateUser(ctx, sys, account.NewUser{Login: login, DisplayName: "Test " + string(role), Role: role, AgencyID: agencyID})
	if err != nil {
		t.Fatal(err)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	password := "correct horse battery staple 1984"
	sess, err := e.App.Accounts.CompleteEnrolment(ctx, account.Client{Addr: "192.0.2.1"}, token, password, "", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.App.Accounts.Authenticate(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	enr, err := e.App.Accounts.BeginTOTP(ctx, account.Client{}, p)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = e.App.Accounts.Authenticate(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Accounts.VerifyTOTP(ctx, account.Client{}, p, e.Code(t, enr.Secret)); err != nil {
		t.Fatal(err)
	}
	if u, err = e.App.Accounts.User(ctx, sys, u.ID); err != nil {
		t.Fatal(err)
	}
	return &User{User: u, Password: password, Secret: enr.Secret}
}

// Code moves the clock to the next 30-second step and returns the TOTP
// code for it, so every code a test uses is fresh.
func (e *Env) Code(t testing.TB, secret string) string {
	t.Helper()
	e.Clock.Advance(30 * time.Second)
	code, err := totp.GenerateCodeCustom(secret, e.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// Agency creates an agency.
func (e *Env) Agency(t testing.TB, name string) *haven.Agency {
	t.Helper()
	ag, err := e.App.Accounts.CreateAgency(context.Background(), haven.SystemActor("test"), haven.Agency{Name: name, Kind: haven.AgencyLocal})
	if err != nil {
		t.Fatal(err)
	}
	return ag
}

// Client is a browser stand-in: it keeps the session cookie (which a Go
// cookie jar would not send over plain HTTP, since it is Secure) and the
// CSRF token of the last page.
type Client struct {
	env    *Env
	t      testing.TB
	Cookie string
	CSRF   string
	hc     *http.Client
}

// Client returns a new client without a session.
func (e *Env) Client(t testing.TB) *Client {
	return &Client{env: e, t: t, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a read response.
type Response struct {
	*http.Response
	Body string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Do sends a request with the session cookie and records a new cookie or
// CSRF token from the response.
func (c *Client) Do(req *http.Request) *Response {
	c.t.Helper()
	if c.Cookie != "" {
		req.Header.Set("Cookie", server.SessionCookie+"="+c.Cookie)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == server.SessionCookie {
			c.Cookie = ck.Value
		}
	}
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.CSRF = string(m[1])
	}
	return &Response{Response: resp, Body: string(b)}
}

// Get requests a path.
func (c *Client) Get(path string) *Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.env.HTTP.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// Post submits a form, adding the CSRF token of the last page unless the
// form has one.
func (c *Client) Post(path string, form url.Values) *Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") && c.CSRF != "" {
		form.Set("csrf", c.CSRF)
	}
	req, err := http.NewRequest(http.MethodPost, c.env.HTTP.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// Login signs u in over HTTP (password, then code) and fails the test if
// that does not end on a page of the signed-in interface.
func (c *Client) Login(u *User) {
	c.t.Helper()
	r := c.Post("/login", url.Values{"email": {u.Login}, "password": {u.Password}, "notice": {"on"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login/mfa" {
		c.t.Fatalf("password step: got %d %s, want 303 to /login/mfa\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	c.Get("/login/mfa") // picks up the CSRF token
	r = c.Post("/login/mfa", url.Values{"code": {c.env.Code(c.t, u.Secret)}})
	if r.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("code step: got %d, want 303\n%s", r.StatusCode, r.Body)
	}
	c.Get(r.Header.Get("Location"))
}

// SecretFromPage extracts the TOTP secret shown on the set-up page.
func SecretFromPage(body string) string {
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}
