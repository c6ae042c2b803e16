package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/support"
)

// TestBrowserMissingChildCase is the acceptance test of issue 8's
// casework: in a real browser, a specialist opens a missing-child case
// from a CyberTipline report, records risk indicators, saves a recovery
// plan with a provider referral, distributes Hope Bags for the case, and
// the case timeline shows all of it.
func TestBrowserMissingChildCase(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	report := caseReport(t, env)
	specialist := env.NewUser(t, "specialist@example.org", haven.RoleCasework, "")

	b := haventest.Browser(t)
	browserLogin(t, b, env, specialist)

	// Open the case from the report's page.
	reportPath := "/app/reports/" + strconv.FormatInt(report, 10)
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + reportPath)); r.Status != http.StatusOK {
		t.Fatalf("report page: status %d", r.Status)
	}
	if r := b.Load(chromedp.Click(chromedp.CSS(`#casework a.button`))); r.Status != http.StatusOK {
		t.Fatalf("new case form: status %d", r.Status)
	}
	if got := haventest.Get(b, chromedp.Value(chromedp.ID("report"))); got != strconv.FormatInt(report, 10) {
		t.Fatalf("report field: got %q, want %d", got, report)
	}
	b.Do(
		chromedp.SetValue(chromedp.ID("type"), "nonfamily_abduction"),
		chromedp.SendKeys(chromedp.ID("title"), "Example nonfamily abduction"),
		chromedp.SendKeys(chromedp.ID("child_pseudonym"), "Child Example A"),
		chromedp.SendKeys(chromedp.ID("child_age"), "10"),
		chromedp.SendKeys(chromedp.ID("child_description"), "synthetic: blue backpack"),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`form.case-new button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("open: status %d", r.Status)
	}
	casePath := b.Path()
	if !strings.HasPrefix(casePath, "/app/cases/") || len(casePath) != len("/app/cases/")+36 {
		t.Fatalf("after opening the browser is at %s, want the case page", casePath)
	}
	caseID := strings.TrimPrefix(casePath, "/app/cases/")
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + reportPath)); r.Status != http.StatusOK {
		t.Fatalf("report page: status %d", r.Status)
	}
	if href := haventest.Get(b, chromedp.Evaluate[string](`document.querySelector("#casework li a").getAttribute("href")`)); href != casePath {
		t.Fatalf("the report page links to %q, want the case %s", href, casePath)
	}
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + casePath)); r.Status != http.StatusOK {
		t.Fatalf("case page: status %d", r.Status)
	}

	// Indicators from the checklist.
	env.Clock.Advance(time.Minute)
	b.Do(
		chromedp.Click(chromedp.ID("ind-age_under_11")),
		chromedp.Click(chromedp.ID("ind-online_contact")),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`#indicator-form button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("indicators: status %d", r.Status)
	}
	if n := haventest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("table.indicators tbody tr:not(:has(.empty-row))").length`)); n != 2 {
		t.Fatalf("indicators recorded: %d, want 2", n)
	}

	// The recovery plan with a referral to a provider of the network.
	coord := env.NewUser(t, "coordinator-plan@example.org", haven.RoleSupport, "")
	prov, err := env.App.Support.SaveProvider(context.Background(), haven.Actor{UserID: coord.ID, Role: haven.RoleSupport, AuthAt: env.Clock.Now()},
		support.ProviderInput{OrganizationName: "Example Counselling Centre", Provider: store.Provider{Name: "Example Counselling Centre",
			Clinician: "Dr Example", Languages: []string{"en"}, Modes: []string{"telehealth"}, FeeTerms: []string{"pro_bono"}, Capacity: 3, Status: "active"}})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if r := b.Load(chromedp.Reload()); r.Status != http.StatusOK { // the page now offers the provider
		t.Fatalf("reload: status %d", r.Status)
	}
	b.Do(
		chromedp.Click(chromedp.ID("safety_include")),
		chromedp.SendKeys(chromedp.ID("safety_responsible"), "Example County CPS"),
		chromedp.SetValue(chromedp.ID("safety_status"), "in_progress"),
		chromedp.Click(chromedp.ID("mental_health_include")),
		chromedp.SendKeys(chromedp.ID("mental_health_responsible"), "Example Worker"),
		chromedp.SendKeys(chromedp.ID("mental_health_due"), "2026-12-15"),
		chromedp.SendKeys(chromedp.ID("mental_health_service"), "trauma-focused therapy"),
	)
	sel := `(() => { const s = document.getElementById("mental_health_provider_id"); s.value = ` + strconv.Quote(prov.ID) + `; return s.value; })()`
	if got := haventest.Get(b, chromedp.Evaluate[string](sel)); got != prov.ID {
		t.Fatalf("the provider %s is not offered in the plan form (%q)", prov.ID, got)
	}
	if r := b.Load(chromedp.Click(chromedp.CSS(`#plan-form button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("plan: status %d", r.Status)
	}
	if got := haventest.Get(b, chromedp.Evaluate[string](`document.querySelector("table.plan p.referral").textContent`)); !strings.Contains(got, "Example Counselling Centre") {
		t.Fatalf("the plan shows the referral %q", got)
	}

	// Hope Bags: a line of the inventory, then a distribution for the case.
	ctx := context.Background()
	actor := haven.Actor{UserID: specialist.ID, Role: haven.RoleCasework, AuthAt: env.Clock.Now()}
	line, err := env.App.Casework.AddStockLine(ctx, actor, "Child 8-12", "Standard", "Example Warehouse", 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Casework.Restock(ctx, actor, line.ID, 6, time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if r := b.Load(chromedp.Click(chromedp.CSS(`#hopebags a[href^="/app/hopebags?case="]`))); r.Status != http.StatusOK {
		t.Fatalf("Hope Bags page: status %d", r.Status)
	}
	if got := haventest.Get(b, chromedp.Value(chromedp.ID("dist-case"))); got != caseID {
		t.Fatalf("the distribution form's case: got %q, want %s", got, caseID)
	}
	b.Do(
		chromedp.SetValue(chromedp.ID("dist-item"), line.ID),
		chromedp.SetValue(chromedp.ID("dist-quantity"), "2"),
		chromedp.SendKeys(chromedp.ID("dist-recipient"), "Example Caseworker"),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`#distribute-form button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("distribute: status %d", r.Status)
	}
	wantPath(t, b, "/app/hopebags")
	// 6 - 2 = 4 left with an alert at 5: the page warns.
	if alert := haventest.Get(b, chromedp.Evaluate[string](`(document.querySelector(".low-stock") || {textContent: ""}).textContent`)); !strings.Contains(alert, "4 left") {
		t.Errorf("low-stock alert: got %q, want 4 left", alert)
	}

	// The timeline shows all of it, in order.
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + casePath)); r.Status != http.StatusOK {
		t.Fatalf("case page: status %d", r.Status)
	}
	kinds := haventest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#timeline li.event")).map(e => e.dataset.kind)`))
	texts := haventest.Get(b, chromedp.Evaluate[string](`document.getElementById("timeline").textContent`))
	b.Screenshot("case-timeline")
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	for kind, want := range map[string]int{"status": 1, "report": 1, "indicator": 2, "plan": 1, "hopebag": 1} {
		if count[kind] != want {
			t.Errorf("timeline %s entries: got %d, want %d (all: %v)", kind, count[kind], want, kinds)
		}
	}
	if n := len(kinds); n < 6 || kinds[n-1] != "hopebag" || kinds[n-2] != "plan" {
		t.Errorf("timeline order: %v, want … plan, hopebag last", kinds)
	}
	for _, want := range []string{"CyberTipline report " + strconv.FormatInt(report, 10) + " linked", "Child under 11 years of age",
		"Met someone online before going missing", "Recovery plan version 1 saved", "Hope Bags distributed: 2 to Example Caseworker"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
	b.FlushConsole()
	for _, m := range b.Console() {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused") {
			t.Errorf("console: %s", m.Text)
		}
	}
}
