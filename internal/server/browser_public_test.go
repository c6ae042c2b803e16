package server_test

// The public report form in headless Chromium: typed, clicked and sent as
// a person would, in English and in Spanish, without a line of script on
// the page. The people and links are made up.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/server"
)

// TestBrowserPublicReport files an anonymous report in English and one in
// Spanish through the real form, reads each receipt and adds to the first
// report with its secret.
func TestBrowserPublicReport(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := haventest.Browser(t)
	start := time.Now()

	text := func(sel string) string { return strings.TrimSpace(haventest.Get(b, chromedp.Text(chromedp.CSS(sel)))) }
	wantStep := func(want string) {
		t.Helper()
		wantPath(t, b, "/report")
		if got := text(".pf-progress"); got != want {
			t.Fatalf("progress %q, want %q\n%s", got, want, haventest.Get(b, chromedp.OuterHTML(chromedp.CSS("main"))))
		}
	}
	pressWant := func(sel string, status int64) {
		t.Helper()
		if r := b.Load(chromedp.Click(chromedp.CSS(sel))); r.Status != status {
			t.Fatalf("after %s: status %d, want %d\n%s", sel, r.Status, status, haventest.Get(b, chromedp.OuterHTML(chromedp.CSS("main"))))
		}
	}
	press := func(sel string) { t.Helper(); pressWant(sel, http.StatusOK) }
	next := func() { t.Helper(); press(`.pf-actions button[value=next]`) }

	// English, chosen by the browser's Accept-Language.
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/report")); r.Status != http.StatusOK {
		t.Fatalf("/report: status %d", r.Status)
	}
	wantStep("Step 1 of 6")
	if lang := haventest.Get(b, chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != "en" {
		t.Errorf("html lang %q", lang.Value)
	}
	// The honeypot is out of sight, and Next without a choice shows the
	// error summary with a link to the field.
	if !haventest.Get(b, chromedp.Evaluate[bool](`(() => { const r = document.getElementById("f-website").getBoundingClientRect(); return r.right < 0 || r.width <= 1 })()`)) {
		t.Error("the honeypot field is visible")
	}
	b.Screenshot("step1-en")
	pressWant(`.pf-actions button[value=next]`, http.StatusBadRequest)
	if got := text(`.pf-summary a[href="#f-type"]`); got != "Choose what this is about." {
		t.Errorf("error summary link %q", got)
	}
	if focused := haventest.Get(b, chromedp.Evaluate[string](`document.activeElement.className`)); focused != "pf-summary" {
		t.Errorf("the focus is on %q, want the error summary", focused)
	}
	b.Screenshot("step1-errors-en")
	// The browser logs the 400 of that page as a failed load; the check
	// at the end looks at what comes after it.
	b.FlushConsole()
	seen := len(b.Console())
	b.Do(
		chromedp.Click(chromedp.ID("f-type-7")), // Online Enticement of Children for Sexual Acts
		chromedp.SendKeys(chromedp.ID("f-details"), "A made-up account asked a fictional child for pictures."),
	)
	next()
	wantStep("Step 2 of 6")
	b.Do(
		chromedp.SendKeys(chromedp.ID("f-urls"), "https://example.com/fake-profile/7"+kb.Enter+"https://example.org/room/42"),
		chromedp.SendKeys(chromedp.ID("f-platform"), "ExampleChat"),
	)
	b.Screenshot("step2-en")
	next()
	wantStep("Step 3 of 6")
	// Back keeps what was typed.
	press(`.pf-actions button[value=back]`)
	wantStep("Step 2 of 6")
	if got := haventest.Get(b, chromedp.Value(chromedp.ID("f-platform"))); got != "ExampleChat" {
		t.Errorf("after Back the platform is %q", got)
	}
	next()
	wantStep("Step 3 of 6")
	b.Do(
		chromedp.SendKeys(chromedp.ID("f-child_name"), "Fictionalchild"),
		chromedp.SendKeys(chromedp.ID("f-child_age"), "13"),
	)
	// Enter in a text field means Next, not Back.
	b.Load(chromedp.SendKeys(chromedp.ID("f-person_username"), "example_user_07"+kb.Enter))
	wantStep("Step 4 of 6")
	b.Do(
		chromedp.SetValue(chromedp.ID("f-date"), "2026-05-02"),
		chromedp.SetValue(chromedp.ID("f-time"), "18:45"),
	)
	next()
	wantStep("Step 5 of 6")
	next() // anonymous
	wantStep("Step 6 of 6")
	review := text("main")
	for _, want := range []string{"Someone trying to get a child to do sexual things online", "https://example.org/room/42", "Fictionalchild",
		"2026-05-02 18:45", "Not given"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review lacks %q", want)
		}
	}
	b.Screenshot("review-en")
	env.Clock.Advance(server.PublicMinFillTime + time.Second)
	press("#pf-send")
	wantPath(t, b, "/report")
	number, secret := text("#receipt-number"), text("#receipt-secret")
	if number == "" || len(secret) != 24 {
		t.Fatalf("receipt number %q, secret %q", number, secret)
	}
	b.Screenshot("receipt-en")

	// Add to it, from the receipt's link.
	press(`a[href="/report/followup?lang=en"]`)
	wantPath(t, b, "/report/followup")
	b.Do(
		chromedp.SendKeys(chromedp.ID("f-number"), number),
		chromedp.SendKeys(chromedp.ID("f-secret"), strings.ToLower(secret)),
		chromedp.SendKeys(chromedp.ID("f-text"), "One more made-up detail."),
	)
	// Enter in a field sends the form (not the language button before it).
	b.Load(chromedp.SendKeys(chromedp.ID("f-secret"), kb.Enter))
	if h := text("main h1"); h != "Thank you. Your information was added." {
		t.Errorf("after the follow-up: %q", h)
	}

	// Spanish, by the language link of the first page.
	b.Load(chromedp.Navigate(env.HTTP.URL + "/report"))
	press(`.pf-lang a[lang=es]`)
	wantStep("Paso 1 de 6")
	if lang := haventest.Get(b, chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != "es" {
		t.Errorf("html lang %q", lang.Value)
	}
	b.Screenshot("step1-es")
	b.Do(chromedp.Click(chromedp.ID("f-type-8"))) // Unsolicited Obscene Material Sent to a Child
	next()
	wantStep("Paso 2 de 6")
	b.Do(chromedp.SendKeys(chromedp.ID("f-urls"), "https://example.com/mensaje-ficticio"))
	next()
	wantStep("Paso 3 de 6")
	next()
	wantStep("Paso 4 de 6")
	b.Do(chromedp.Click(chromedp.ID("f-when_unknown")))
	next()
	wantStep("Paso 5 de 6")
	next()
	wantStep("Paso 6 de 6")
	if !strings.Contains(text("main"), "No sé cuándo pasó") {
		t.Error("the Spanish review does not show the unknown date")
	}
	env.Clock.Advance(server.PublicMinFillTime + time.Second)
	press("#pf-send")
	if h := text("main h1"); h != "Gracias. Su denuncia fue enviada." {
		t.Errorf("Spanish receipt heading %q", h)
	}
	if text("#receipt-number") == number || text("#receipt-secret") == "" {
		t.Error("the Spanish receipt has no new number or secret")
	}

	b.FlushConsole()
	for _, m := range b.Console()[:seen] {
		if strings.Contains(m.Text, "Content Security Policy") || m.IsException() {
			t.Errorf("the browser reported: %s", m)
		}
	}
	if got := problems(b.Console()[seen:]); len(got) > 0 {
		t.Errorf("the browser reported %d problem(s) on the public form:\n%s", len(got), strings.Join(got, "\n"))
	}
	t.Logf("two reports and a follow-up in %v", time.Since(start).Round(time.Millisecond))
}
