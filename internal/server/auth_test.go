package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
)

func auditTypes(t *testing.T, env *haventest.Env, typ string) []*haven.AuditEvent {
	t.Helper()
	ctx := context.Background()
	var evs []*haven.AuditEvent
	err := env.App.Store.View(ctx, func(tx *store.Tx) (err error) {
		evs, err = tx.RecentAuditEvents(ctx, store.AuditFilter{Type: typ, Limit: 500})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestNoAppPageWithoutSecondFactor: after the password alone, every page
// of the staff interface sends the browser to the code page, and every
// form post is refused (SECURITY.md 6).
func TestNoAppPageWithoutSecondFactor(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	c := env.Client(t)
	r := c.Post("/login", url.Values{"email": {u.Login}, "password": {u.Password}, "notice": {"on"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login/mfa" {
		t.Fatalf("password step: got %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	c.Get("/login/mfa")
	pending := c.CSRF
	n := 0
	for _, rt := range env.Server.Routes() {
		if rt.Surface != 4 && rt.Surface != 5 { // staff and LE surfaces
			continue
		}
		path := fill(rt.Path)
		if rt.Method == http.MethodGet {
			r := c.Get(path)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login/mfa" {
				t.Errorf("GET %s with the password only: got %d %q, want 303 to /login/mfa", rt.Path, r.StatusCode, r.Header.Get("Location"))
			}
		} else {
			r := c.Post(path, url.Values{"csrf": {pending}})
			if r.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST %s with the password only: got %d, want 401", rt.Path, r.StatusCode)
			}
		}
		n++
	}
	if n < 15 {
		t.Fatalf("checked only %d routes", n)
	}
	// And with the code, the same session gets in.
	r = c.Post("/login/mfa", url.Values{"code": {env.Code(t, u.Secret)}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/app" {
		t.Fatalf("code step: got %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := c.Get("/app"); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /app after the code: got %d", r.StatusCode)
	}
}

func TestTOTPCodesAreSingleUse(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "once@example.org", haven.RoleSupervisor, "")
	code := env.Code(t, u.Secret)
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		c := env.Client(t)
		c.Post("/login", url.Values{"email": {u.Login}, "password": {u.Password}, "notice": {"on"}})
		c.Get("/login/mfa")
		r := c.Post("/login/mfa", url.Values{"code": {code}})
		if r.StatusCode != want {
			t.Errorf("use %d of the same code: got %d, want %d", i+1, r.StatusCode, want)
		}
	}
}

// TestLockoutAfterFiveFailures: five wrong passwords lock the account until
// an administrator unlocks it; the answer never tells an unknown account
// from a wrong password (SECURITY.md 8).
func TestLockoutAfterFiveFailures(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	u := env.NewUser(t, "target@example.org", haven.RoleIntake, "")
	c := env.Client(t)
	login := func(email, pw string) *haventest.Response {
		return c.Post("/login", url.Values{"email": {email}, "password": {pw}, "notice": {"on"}})
	}
	unknown := login("nobody@example.org", "whatever password")
	for i := range 5 {
		env.Clock.Advance(time.Minute)
		r := login(u.Login, "wrong password number "+string(rune('a'+i)))
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: got %d, want 401", i+1, r.StatusCode)
		}
		if strip(r.Body) != strip(unknown.Body) {
			t.Fatalf("failure %d: the answer differs from the unknown-account answer", i+1)
		}
	}
	r := login(u.Login, u.Password)
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("right password on a locked account: got %d, want 401", r.StatusCode)
	}
	if strip(r.Body) != strip(unknown.Body) {
		t.Fatal("the locked-account answer differs from the unknown-account answer")
	}
	if got := auditTypes(t, env, "auth.lockout"); len(got) != 1 || got[0].ObjectID != u.ID {
		t.Fatalf("got %d lockout events, want 1 for the user", len(got))
	}
	// Time alone does not unlock.
	env.Clock.Advance(24 * time.Hour)
	if r := login(u.Login, u.Password); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a day later: got %d, want still locked", r.StatusCode)
	}
	// An administrator unlocks.
	a := env.Client(t)
	a.Login(admin)
	a.Get("/app/admin/users/" + u.ID)
	if r := a.Post("/app/admin/users/"+u.ID+"/unlock", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("unlock: got %d\n%s", r.StatusCode, r.Body)
	}
	if r := login(u.Login, u.Password); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after unlock: got %d, want 303", r.StatusCode)
	}
}

// strip removes what legitimately differs between two answers.
func strip(body string) string {
	if i := strings.Index(body, `<span class="reqid">`); i >= 0 {
		if j := strings.Index(body[i:], "</span>"); j >= 0 {
			body = body[:i] + body[i+j:]
		}
	}
	if i := strings.Index(body, `value="`); i >= 0 {
		// the refilled e-mail field
		if j := strings.Index(body[i+7:], `"`); j >= 0 {
			body = body[:i] + body[i+7+j:]
		}
	}
	return body
}

// TestSessionLimits: 15 minutes idle or 12 hours absolute end a session,
// on the fake clock; logout ends it server-side (SECURITY.md 9).
func TestSessionLimits(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "idle@example.org", haven.RoleSupervisor, "")

	c := env.Client(t)
	c.Login(u)
	env.Clock.Advance(14 * time.Minute)
	if r := c.Get("/app"); r.StatusCode != http.StatusOK {
		t.Fatalf("after 14 idle minutes: got %d, want 200", r.StatusCode)
	}
	env.Clock.Advance(15*time.Minute + time.Second)
	if r := c.Get("/app"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("after 15 idle minutes: got %d %q, want 303 to /login", r.StatusCode, r.Header.Get("Location"))
	}

	c = env.Client(t)
	c.Login(u)
	alive := 0 // minutes the session lasted while active every 10 minutes
	for range 13 * 6 {
		env.Clock.Advance(10 * time.Minute)
		if r := c.Get("/app"); r.StatusCode != http.StatusOK {
			break
		}
		alive += 10
	}
	// Signed in at the code step; the absolute limit counts from the
	// password step half a minute earlier.
	if alive != 11*60+50 {
		t.Fatalf("an active session lasted %d minutes, want it to end at 12 hours (last good request at 11 h 50)", alive)
	}

	c = env.Client(t)
	c.Login(u)
	old := c.Cookie
	c.Post("/logout", nil)
	c.Cookie = old
	if r := c.Get("/app"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the cookie of a logged-out session still works: %d", r.StatusCode)
	}
}

func TestSessionRotatesAtLogin(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "rotate@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	c.Login(u)
	first := c.Cookie
	c.Login(u)
	if c.Cookie == first {
		t.Fatal("the session token did not change at sign-in")
	}
	c.Cookie = first
	if r := c.Get("/app"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the previous session survived a new sign-in: %d", r.StatusCode)
	}
}

// TestDisableTakesEffectNextRequest (SECURITY.md 2).
func TestDisableTakesEffectNextRequest(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	u := env.NewUser(t, "leaver@example.org", haven.RoleIntake, "")
	c := env.Client(t)
	c.Login(u)
	a := env.Client(t)
	a.Login(admin)
	a.Get("/app/admin/users/" + u.ID)
	if r := a.Post("/app/admin/users/"+u.ID+"/disable", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("disable: got %d", r.StatusCode)
	}
	if r := c.Get("/app"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disabled user's next request: got %d, want redirect to sign-in", r.StatusCode)
	}
}

// TestLEUserSeesOnlyOwnAgency: an LE user of agency A asking for agency B
// gets the same 404 as for an ID that does not exist, and the denial is
// audited (SECURITY.md 1).
func TestLEUserSeesOnlyOwnAgency(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	a := env.Agency(t, "Agency A")
	b := env.Agency(t, "Agency B")
	u := env.NewUser(t, "officer@example.org", haven.RoleLE, a.ID)
	c := env.Client(t)
	c.Login(u)
	own := c.Get("/le/agencies/" + a.ID)
	if own.StatusCode != http.StatusOK || !strings.Contains(own.Body, "Agency A") {
		t.Fatalf("own agency: got %d", own.StatusCode)
	}
	other := c.Get("/le/agencies/" + b.ID)
	missing := c.Get("/le/agencies/" + haven.NewID())
	if other.StatusCode != http.StatusNotFound || missing.StatusCode != http.StatusNotFound {
		t.Fatalf("got %d for B and %d for a missing ID, want 404 for both", other.StatusCode, missing.StatusCode)
	}
	if strip(other.Body) != strip(missing.Body) {
		t.Error("the answer for agency B differs from the answer for a missing ID")
	}
	if strings.Contains(other.Body, "Agency B") {
		t.Error("the 404 names agency B")
	}
	denied := auditTypes(t, env, "agency.read")
	found := false
	for _, ev := range denied {
		found = found || (ev.ObjectID == b.ID && ev.Outcome == haven.OutcomeDenied && ev.ActorID == u.ID)
	}
	if !found {
		t.Error("the denied read of agency B was not audited")
	}
	// The JSON API answers the same way.
	tok, err := env.App.Accounts.CreateAPIToken(context.Background(), haven.SystemActor("test"), u.ID, "t")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{a.ID: 200, b.ID: 404, haven.NewID(): 404} {
		req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/api/v1/agencies/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if r := env.Client(t).Do(req); r.StatusCode != want {
			t.Errorf("API agency %s: got %d, want %d", id, r.StatusCode, want)
		}
	}
}

func TestCSRFAndCrossOrigin(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "csrf@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	c.Login(u)
	if r := c.Post("/app/account/password", url.Values{"csrf": {"forged"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("wrong CSRF token: got %d, want 403", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/app/account/password", strings.NewReader("csrf="+c.CSRF))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := c.Do(req); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: got %d, want 403", r.StatusCode)
	}
}

func TestSecurityHeadersAndCookie(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "headers@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	r := c.Post("/login", url.Values{"email": {u.Login}, "password": {u.Password}, "notice": {"on"}})
	var cookie *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-haven_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Domain != "" {
		t.Fatalf("session cookie: got %+v, want __Host-, Secure, HttpOnly, SameSite=Strict, Path=/", cookie)
	}
	if len(cookie.Value) < 43 { // 256 bits in base64url
		t.Errorf("session token has %d characters, want at least 43", len(cookie.Value))
	}
	for _, path := range []string{"/login", "/app", "/healthz"} {
		r := c.Get(path)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: got nosniff %q cache %q", path, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Cache-Control"))
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no request ID", path)
		}
	}
	login := c.Get("/login")
	if !strings.Contains(login.Body, "Use is monitored and recorded") {
		t.Error("the login page lacks the system-use notice")
	}
	if strings.Contains(login.Body, "<script>") || strings.Contains(login.Body, " style=") {
		t.Error("a page carries inline script or style")
	}
}

func TestLoginNeedsNoticeAcknowledgement(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "notice@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	r := c.Post("/login", url.Values{"email": {u.Login}, "password": {u.Password}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "system-use notice") {
		t.Fatalf("without acknowledgement: got %d", r.StatusCode)
	}
	c.Login(u)
	got := auditTypes(t, env, "auth.password_ok")
	if len(got) == 0 || got[0].Details["notice_acknowledged"] != "true" {
		t.Error("the acknowledgement of the notice was not recorded")
	}
}

// TestSensitiveActionNeedsRecentAuth: an administrator who signed in more
// than five minutes ago is sent to confirm before disabling an account
// (SECURITY.md 11).
func TestSensitiveActionNeedsRecentAuth(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	u := env.NewUser(t, "someone@example.org", haven.RoleIntake, "")
	a := env.Client(t)
	a.Login(admin)
	for range 3 { // stay active but let the sign-in age
		env.Clock.Advance(2 * time.Minute)
		a.Get("/app/admin/users/" + u.ID)
	}
	r := a.Post("/app/admin/users/"+u.ID+"/disable", nil)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/app/reauth") {
		t.Fatalf("stale sign-in: got %d %q, want redirect to /app/reauth", r.StatusCode, r.Header.Get("Location"))
	}
	a.Get(r.Header.Get("Location"))
	r = a.Post("/app/reauth", url.Values{"password": {admin.Password}, "code": {env.Code(t, admin.Secret)}, "next": {"/app/admin/users/" + u.ID}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reauth: got %d\n%s", r.StatusCode, r.Body)
	}
	a.Get("/app/admin/users/" + u.ID)
	if r := a.Post("/app/admin/users/"+u.ID+"/disable", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("after reauth: got %d", r.StatusCode)
	}
}

func TestCannotChangeOwnRole(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	a := env.Client(t)
	a.Login(admin)
	a.Get("/app/admin/users/" + admin.ID)
	r := a.Post("/app/admin/users/"+admin.ID+"/role", url.Values{"role": {"auditor"}})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("own role change: got %d, want 403", r.StatusCode)
	}
}
