package server_test

// Real-browser tests: headless Debian Chromium, driven through chromedp,
// against a real Haven server on 127.0.0.1. They are skipped when
// /usr/bin/chromium is missing, except under CI=true.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/server"
)

const adminPassword = "a long passphrase for the demo 2026"

// wantPath fails the test unless the browser shows path.
func wantPath(t *testing.T, b *haventest.Chrome, path string) {
	t.Helper()
	if got := b.Path(); got != path {
		t.Fatalf("browser is at %s, want %s", got, path)
	}
}

// sessionCookie returns the browser's session cookie, or nil. It reads
// every cookie of the browser through the Storage domain, which also sees
// HttpOnly cookies.
func sessionCookie(t *testing.T, b *haventest.Chrome) *network.Cookie {
	t.Helper()
	res, err := chromedp.CallBrowser(b.Ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == server.SessionCookie {
			return c
		}
	}
	return nil
}

// browserLogin signs u in through the real forms: password, then code.
func browserLogin(t *testing.T, b *haventest.Chrome, env *haventest.Env, u *haventest.User) {
	t.Helper()
	browserLoginTo(t, b, env, u, "/app")
}

// browserLoginTo signs u in and expects to land on home (/app for staff,
// /le for law enforcement).
func browserLoginTo(t *testing.T, b *haventest.Chrome, env *haventest.Env, u *haventest.User, home string) {
	t.Helper()
	b.Load(chromedp.Navigate(env.HTTP.URL + "/login"))
	b.Do(
		chromedp.SendKeys(chromedp.ID("email"), u.Login),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("notice-ack")),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("password step: status %d", r.Status)
	}
	wantPath(t, b, "/login/mfa")
	b.Do(chromedp.SendKeys(chromedp.ID("code"), env.Code(t, u.Secret)))
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login/mfa"] button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("code step: status %d", r.Status)
	}
	wantPath(t, b, home)
}

// TestBrowserFirstAdminFlow walks the first start of an installation in a
// real browser: the one-time link, the password, the second factor, the
// home page, the session cookie, and signing out.
func TestBrowserFirstAdminFlow(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	link, err := env.App.Accounts.EnsureFirstAdmin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lu, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(lu.Path, "/enrol/") {
		t.Fatalf("first-admin link %q: want a /enrol/<token> link (%v)", link, err)
	}
	b := haventest.Browser(t)

	// The one-time link: e-mail, name and password.
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + lu.Path)); r.Status != http.StatusOK {
		t.Fatalf("enrolment page: status %d", r.Status)
	}
	if h := haventest.Get(b, chromedp.Text(chromedp.CSS("main h1"))); h != "Set up the first administrator" {
		t.Fatalf("enrolment page heading %q", h)
	}
	b.Do(
		chromedp.SendKeys(chromedp.ID("email"), "admin@example.org"),
		chromedp.SendKeys(chromedp.ID("name"), "Ada Admin"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.SendKeys(chromedp.ID("confirm"), adminPassword),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after the enrolment form: status %d", r.Status)
	}

	// The second-factor set-up page: read the key as a person would type
	// it by hand, and answer with the code for the server's (fake) clock.
	wantPath(t, b, "/login/mfa")
	if h := haventest.Get(b, chromedp.Text(chromedp.CSS("main h1"))); h != "Set up your second factor" {
		t.Fatalf("second-factor page heading %q", h)
	}
	// The key sits in a closed <details>, so it is not rendered: read its
	// text content rather than its visible text.
	secret := strings.TrimSpace(haventest.Get(b, chromedp.TextContent(chromedp.CSS(`p.secret[aria-label="secret key"]`))))
	if secret == "" || haventest.SecretFromPage(`aria-label="secret key">`+secret+`<`) != secret {
		t.Fatalf("secret key on the page: %q", secret)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("code"), env.Code(t, secret)))
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login/mfa"] button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after the code: status %d", r.Status)
	}

	// Home.
	wantPath(t, b, "/app")
	if h := haventest.Get(b, chromedp.Text(chromedp.CSS("main h1"))); !strings.HasPrefix(h, "Welcome") || !strings.Contains(h, "Ada Admin") {
		t.Errorf("home heading %q, want Welcome, Ada Admin", h)
	}
	nav := haventest.Get(b, chromedp.Text(chromedp.CSS(`nav[aria-label="Main"]`), chromedp.NodeVisible))
	for _, want := range []string{"Home", "Accounts", "Audit"} {
		if !strings.Contains(nav, want) {
			t.Errorf("navigation %q lacks %q", nav, want)
		}
	}
	b.Screenshot("home")

	// The session cookie: stored by the browser over plain HTTP on
	// 127.0.0.1 (a secure context), HttpOnly, Secure, SameSite=Strict, and
	// invisible to scripts.
	ck := sessionCookie(t, b)
	if ck == nil {
		t.Fatalf("the browser holds no %s cookie", server.SessionCookie)
	}
	if !ck.HTTPOnly || !ck.Secure || ck.SameSite != network.CookieSameSiteStrict || ck.Path != "/" {
		t.Errorf("session cookie: HttpOnly=%v Secure=%v SameSite=%q Path=%q Domain=%q, want HttpOnly, Secure, SameSite=Strict, Path=/",
			ck.HTTPOnly, ck.Secure, ck.SameSite, ck.Path, ck.Domain)
	}
	t.Logf("session cookie: domain %s, path %s, HttpOnly %v, Secure %v, SameSite %s, source scheme %s, port %d",
		ck.Domain, ck.Path, ck.HTTPOnly, ck.Secure, ck.SameSite, ck.SourceScheme, ck.SourcePort)
	if dc := haventest.Get(b, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(dc, server.SessionCookie) {
		t.Errorf("document.cookie shows the session cookie: %q", dc)
	}

	// Sign out with the button in the top bar.
	if r := b.Load(chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`))); r.Status != http.StatusOK {
		t.Fatalf("after sign-out: status %d", r.Status)
	}
	wantPath(t, b, "/logout")
	if title := haventest.Get(b, chromedp.Title()); !strings.HasPrefix(title, "Signed out") {
		t.Errorf("title after sign-out %q", title)
	}
	if msg := haventest.Get(b, chromedp.Text(chromedp.CSS(`[role=status]`))); !strings.Contains(msg, "You are signed out") {
		t.Errorf("sign-out banner %q", msg)
	}
	if ck := sessionCookie(t, b); ck != nil {
		t.Errorf("the session cookie is still in the browser after sign-out")
	}

	// The staff interface now sends the browser to the sign-in page.
	b.Load(chromedp.Navigate(env.HTTP.URL + "/app"))
	wantPath(t, b, "/login")
}

// TestBrowserLoginLockoutMessage: a wrong password shows the error banner
// and empties the password field; the right one then gets through both
// steps.
func TestBrowserLoginLockoutMessage(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "intake@example.org", haven.RoleIntake, "")
	b := haventest.Browser(t)

	b.Load(chromedp.Navigate(env.HTTP.URL + "/login"))
	b.Do(
		chromedp.SendKeys(chromedp.ID("email"), u.Login),
		chromedp.SendKeys(chromedp.ID("password"), "not the password at all"),
		chromedp.Click(chromedp.ID("notice-ack")),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`))); r.Status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want %d", r.Status, http.StatusUnauthorized)
	}
	wantPath(t, b, "/login")
	alert := haventest.Get(b, chromedp.Text(chromedp.CSS(`[role=alert]`), chromedp.NodeVisible))
	for _, want := range []string{"e-mail address or password is not right", "After 5 failed attempts"} {
		if !strings.Contains(alert, want) {
			t.Errorf("error banner %q lacks %q", alert, want)
		}
	}
	if pw := haventest.Get(b, chromedp.Value(chromedp.ID("password"))); pw != "" {
		t.Errorf("password field after a failure holds %q, want it empty", pw)
	}
	if em := haventest.Get(b, chromedp.Value(chromedp.ID("email"))); em != u.Login {
		t.Errorf("e-mail field after a failure holds %q, want %q", em, u.Login)
	}
	if ck := sessionCookie(t, b); ck != nil {
		t.Errorf("a failed sign-in left a session cookie")
	}

	// Now the right password, in the same form.
	b.Do(chromedp.SendKeys(chromedp.ID("password"), u.Password))
	if !haventest.Get(b, chromedp.JavascriptAttribute[bool](chromedp.ID("notice-ack"), "checked")) {
		b.Do(chromedp.Click(chromedp.ID("notice-ack")))
	}
	b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)))
	wantPath(t, b, "/login/mfa")
	if h := haventest.Get(b, chromedp.Text(chromedp.CSS("main h1"))); h != "Enter your code" {
		t.Errorf("second step heading %q", h)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("code"), env.Code(t, u.Secret)))
	b.Load(chromedp.Click(chromedp.CSS(`main form[action="/login/mfa"] button[type=submit]`)))
	wantPath(t, b, "/app")
	if h := haventest.Get(b, chromedp.Text(chromedp.CSS("main h1"))); !strings.HasPrefix(h, "Welcome") {
		t.Errorf("home heading %q", h)
	}
}

// TestBrowserNoCSPViolations loads the sign-in page and two pages of the
// signed-in interface and checks that the browser reported no Content
// Security Policy violation and no script error. It first checks, on a
// page made to break the same policy, that such a report is seen at all.
func TestBrowserNoCSPViolations(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	b := haventest.Browser(t)

	// Control: a page that breaks Haven's own policy (an inline style and
	// an inline script) must be reported, or this test would prove nothing.
	probe, err := http.Get(env.HTTP.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	probe.Body.Close()
	csp := probe.Header.Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("/login sends no Content-Security-Policy")
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>control</title><style>p{color:red}</style><script>document.title="ran"</script><p>x</p>`)
	}))
	defer bad.Close()
	b.Load(chromedp.Navigate(bad.URL))
	b.FlushConsole()
	if title := haventest.Get(b, chromedp.Title()); title != "control" {
		t.Fatalf("the inline script of the control page ran (title %q): the policy is not enforced", title)
	}
	if got := problems(b.Console()); len(got) < 2 {
		t.Fatalf("the control page should give 2 CSP reports, the console has %d:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, p := range problems(b.Console()) {
		t.Logf("control page, as expected: %s", p)
	}
	seen := len(b.Console())

	// Haven's pages.
	b.Load(chromedp.Navigate(env.HTTP.URL + "/login"))
	wantPath(t, b, "/login")
	browserLogin(t, b, env, admin) // ends on /app
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/app/admin/users")); r.Status != http.StatusOK {
		t.Fatalf("/app/admin/users: status %d", r.Status)
	}
	wantPath(t, b, "/app/admin/users")
	b.FlushConsole()
	msgs := b.Console()[seen:]
	if got := problems(msgs); len(got) > 0 {
		t.Errorf("the browser reported %d problem(s) on Haven's pages:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, m := range msgs {
		t.Logf("console: %s", m)
	}
}

// problems picks the console messages that are errors: uncaught
// exceptions, console.error calls and browser log entries of the error
// level (CSP violations, failed loads), and anything that names the
// Content Security Policy.
func problems(msgs []chromedp.ConsoleMessage) []string {
	var out []string
	for _, m := range msgs {
		if m.IsException() || m.Type == chromedp.ConsoleError || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
		}
	}
	return out
}
