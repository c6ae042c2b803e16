package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
)

// TestCanariesStayOutOfLogs is SECURITY.md 15 for the foundation: the
// password, the session token, the TOTP secret and a typed login never
// appear in a log line, a metric or an error message, through sign-in,
// failures, administration and sign-out.
func TestCanariesStayOutOfLogs(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "canary-admin@example.org", haven.RoleAdmin, "")
	c := env.Client(t)
	bad := c.Post("/login", url.Values{"email": {"canary-nobody@example.org"}, "password": {"canary wrong passphrase"}, "notice": {"on"}})
	c.Login(admin)
	token := c.Cookie
	c.Get("/app/admin/users")
	created := c.Post("/app/admin/users", url.Values{"email": {"canary-new@example.org"}, "role": {"supervisor"}})
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create user: %d", created.StatusCode)
	}
	c.Get("/app/audit")
	c.Post("/logout", nil)
	metrics := env.Client(t).Get("/metrics")
	haystacks := map[string]string{"logs": env.Logs.String(), "metrics": metrics.Body, "failed sign-in page": bad.Body}
	canaries := map[string]string{
		"password":        admin.Password,
		"wrong password":  "canary wrong passphrase",
		"session token":   token,
		"TOTP secret":     admin.Secret,
		"typed login":     "canary-nobody@example.org",
		"new user's mail": "canary-new@example.org",
	}
	for where, text := range haystacks {
		for what, canary := range canaries {
			if what == "typed login" && where == "failed sign-in page" {
				continue // the form is refilled for the person typing
			}
			if canary != "" && strings.Contains(text, canary) {
				t.Errorf("the %s appears in the %s", what, where)
			}
		}
	}
	if !strings.Contains(metrics.Body, "haven_http_requests_total") {
		t.Error("metrics are missing")
	}
}
