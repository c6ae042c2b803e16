package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
)

// TestBrowserAdministration creates an agency and an LE account through
// the real forms, checks the one-time link is shown, and keeps a
// screenshot of each administration page.
func TestBrowserAdministration(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	admin := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	b := haventest.Browser(t)
	browserLogin(t, b, env, admin)

	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/admin/agencies"))
	b.Do(
		chromedp.SendKeys(chromedp.ID("name"), "Example County Sheriff"),
		chromedp.SendKeys(chromedp.ID("jurisdiction"), "US-EX"),
	)
	b.Load(chromedp.Click(chromedp.CSS(`form[action="/app/admin/agencies"] button[type=submit]`)))
	if text := haventest.Get(b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "The agency was added.") || !strings.Contains(text, "Example County Sheriff") {
		t.Fatalf("agencies page after adding: %q", text)
	}
	b.Screenshot("agencies")

	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/admin/users"))
	b.Do(
		chromedp.SendKeys(chromedp.ID("email"), "deputy@example.org"),
		chromedp.SendKeys(chromedp.ID("name"), "Deputy Example"),
		chromedp.SetValue(chromedp.ID("role"), string(haven.RoleLE)),
	)
	var agencyID string
	ags, err := env.App.Accounts.Agencies(context.Background(), haven.SystemActor("test"))
	if err != nil || len(ags) != 1 {
		t.Fatalf("agencies: %v %v", ags, err)
	}
	agencyID = ags[0].ID
	b.Do(chromedp.SetValue(chromedp.ID("agency"), agencyID))
	b.Load(chromedp.Click(chromedp.CSS(`form[action="/app/admin/users"] button[type=submit]`)))
	link := haventest.Get(b, chromedp.Text(chromedp.CSS(".oneshot .secret")))
	if !strings.Contains(link, "/enrol/") {
		t.Fatalf("no enrolment link shown after creating the account: %q", link)
	}
	b.Screenshot("users")

	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/audit"))
	b.Load(chromedp.Click(chromedp.CSS(`form[action="/app/audit/verify"] button[type=submit]`)))
	if text := haventest.Get(b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "The audit chain is intact") {
		t.Fatalf("audit verification not shown: %q", text[:min(len(text), 300)])
	}
	b.Screenshot("audit")

	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/programs/reports"))
	if text := haventest.Get(b, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(text, "Nothing here yet") {
		t.Fatalf("empty state missing: %q", text)
	}
	b.Screenshot("program-empty-state")
}
