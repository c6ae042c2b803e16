package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/store"
)

// TestBrowserLocateRequestToDeliveredPDF is issue 7's walk through, in
// Chromium: an officer asks for help locating a noncompliant offender in
// the portal → an analyst names the registry record, records a query of a
// source and a candidate address, and delivers the report with its
// outcome → the officer sees the report with its timeline and places in
// the portal and downloads its PDF.
func TestBrowserLocateRequestToDeliveredPDF(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	ag := env.Agency(t, "Example County Sheriff")
	analystUser := env.NewUser(t, "locate-analyst@example.org", haven.RoleOffender, "")
	analyst := haven.Actor{UserID: analystUser.ID, Role: haven.RoleOffender, AuthAt: env.Clock.Now()}
	m, err := offender.ParseMapping(offenderSample(t, "state_b_mapping.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Offenders.SaveMapping(ctx, analyst, *m); err != nil {
		t.Fatal(err)
	}
	im, _, err := env.App.Offenders.StartImport(ctx, analyst, "state-b", "state_b.json", offenderSample(t, "state_b.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Offenders.ApplyImport(ctx, analyst, im.ID); err != nil {
		t.Fatal(err)
	}
	waitImport(t, env, analyst, im.ID)
	var absconded *store.Offender
	if err := env.App.Store.View(ctx, func(tx *store.Tx) (err error) {
		absconded, err = tx.OffenderBySourceKey(ctx, "state-b", "B-2002")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// The officer asks, in the browser.
	officer := env.NewUser(t, "deputy@example.org", haven.RoleLE, ag.ID)
	b := haventest.Browser(t)
	browserLoginTo(t, b, env, officer, "/le")
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/le/locate")); r.Status != http.StatusOK {
		t.Fatalf("locate page: %d", r.Status)
	}
	b.Do(
		chromedp.SendKeys(chromedp.ID("case_number"), "CASE-2026-0420"),
		chromedp.SendKeys(chromedp.ID("subject"), "Example Person Twelve, State B registry B-2002"),
		chromedp.SendKeys(chromedp.ID("details"), "Absconded after missing verification; synthetic test."),
	)
	if r := b.Load(chromedp.Click(chromedp.CSS(`main form[action="/le/locate"] button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("submit: %d", r.Status)
	}
	wantPath(t, b, "/le/locate")
	text := haventest.Get(b, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(text, "Your request was sent") || !strings.Contains(text, "CASE-2026-0420") {
		t.Fatalf("after submitting:\n%s", text)
	}
	href := haventest.Get(b, chromedp.Evaluate[string](`document.querySelector('a[href^="/le/locate/"]').getAttribute("href")`))
	reqID := strings.TrimPrefix(href, "/le/locate/")

	// The analyst works it through the staff pages.
	c := env.Client(t)
	c.Login(analystUser)
	list := c.Get("/app/offenders/locate")
	if !strings.Contains(list.Body, "CASE-2026-0420") {
		t.Fatalf("the analyst's list lacks the request:\n%s", list.Body)
	}
	c.Get("/app/offenders/locate/" + reqID)
	steps := []struct {
		path string
		form url.Values
	}{
		{"offender", url.Values{"offender": {absconded.ID}}},
		{"query", url.Values{"source": {"county property records (example)"}, "queried_on": {"2026-05-02"}, "asked": {"parcels in the subject's name"},
			"found": {"none since 2025"}}},
		{"query", url.Values{"source": {"public social media (example)"}, "queried_on": {"2026-05-03"}, "asked": {"profiles with the registered handle"},
			"found": {"a post from Sampleport"}}},
		{"candidate", url.Values{"kind": {"address"}, "value": {"12 Example Court, Sampleport"}, "confidence": {"high"}, "lat": {"39.91"},
			"lon": {"-75.21"}, "valid_from": {"2026-03-01"}, "note": {"utility hookup (synthetic)"}}},
		{"candidate", url.Values{"kind": {"employer"}, "value": {"Example Car Wash"}, "confidence": {"medium"}, "valid_from": {"2026-04-01"}}},
		{"deliver", url.Values{"outcome": {"located"}, "summary": {"The subject is likely living at 12 Example Court, Sampleport."}}},
	}
	for _, st := range steps {
		r := c.Post("/app/offenders/locate/"+reqID+"/"+st.path, st.form)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", st.path, r.StatusCode, r.Body)
		}
		c.Get(r.Header.Get("Location"))
	}

	// The officer reads the delivered report and downloads its PDF.
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/le/locate/" + reqID)); r.Status != http.StatusOK {
		t.Fatalf("report page: %d", r.Status)
	}
	if out := haventest.Get(b, chromedp.Text(chromedp.ID("locate-outcome"))); out != "located" {
		t.Errorf("outcome %q", out)
	}
	text = haventest.Get(b, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"Example Person Twelve", "12 Example Court, Sampleport", "39.91000, -75.21000", "county property records (example)",
		"Residences", "Locate findings"} {
		if !strings.Contains(text, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	if n := haventest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("main svg rect").length`)); n < 3 {
		t.Errorf("timeline bars: %d", n)
	}
	pdf := haventest.Get(b, chromedp.Evaluate[string](`fetch(document.getElementById("locate-pdf").href).then(r =>
		r.text().then(t => r.status + " " + r.headers.get("Content-Type") + " " + t.slice(0, 5)))`, chromedp.EvalAwaitPromise))
	if pdf != "200 application/pdf %PDF-" {
		t.Errorf("PDF download: %q", pdf)
	}
	for _, m := range b.Console() {
		if regexp.MustCompile(`(?i)content security policy|refused`).MatchString(m.Text) {
			t.Errorf("console: %s", m.Text)
		}
	}
}
