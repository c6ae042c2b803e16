package server_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/geo/geotest"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/store"
)

// escalatedReport names a reported user seen at 192.0.2.10, which the
// test GeoIP database places in California.
const escalatedReport = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Online Enticement of Children for Sexual Acts</incidentType>
    <escalateToHighPriority>The child says the user will meet them tonight.</escalateToHighPriority>
    <incidentDateTime>2026-05-03T20:00:00Z</incidentDateTime>
  </incidentSummary>
  <reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName><email>tips@example.org</email></reportingPerson></reporter>
  <personOrUserReported>
    <espIdentifier>user-0042</espIdentifier>
    <espService>Example Chat</espService>
    <screenName>synthetic_user_42</screenName>
    <ipCaptureEvent><ipAddress>192.0.2.10</ipAddress><eventName>Login</eventName><dateTime>2026-05-03T19:00:00Z</dateTime></ipCaptureEvent>
  </personOrUserReported>
</report>`

// TestBrowserTriageToOutcome is issue 5's walk through, in Chromium: an
// ESP report with an escalation flag arrives → it is first in the queue as
// P1 with its reasons → an analyst claims it, views its file blurred,
// reveals it with a reason, refers it to the agency that geolocation
// suggests → that agency's officer sees it, acknowledges it and records an
// outcome → the analyst sees the outcome. Screenshots are kept on failure.
func TestBrowserTriageToOutcome(t *testing.T) {
	mmdb := geotest.WriteDB(t)
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true, Config: func(c *config.Config) { c.GeoIPDB = mmdb }})
	ctx := context.Background()
	sys := haven.SystemActor("test")

	// The directory: California's ICAC task force covers US-CA; another
	// agency covers Texas. The rule: the region's ICAC task force.
	ca, err := env.App.Accounts.CreateAgency(ctx, sys, haven.Agency{Name: "Example California ICAC Task Force", Kind: haven.AgencyICAC})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := env.App.Accounts.CreateAgency(ctx, sys, haven.Agency{Name: "Example Texas ICAC Task Force", Kind: haven.AgencyICAC})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Referrals.SetAreas(ctx, sys, ca.ID, []store.AgencyArea{{AgencyID: ca.ID, Country: "US", Region: "US-CA"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Referrals.SetAreas(ctx, sys, tx.ID, []store.AgencyArea{{AgencyID: tx.ID, Country: "US", Region: "US-TX"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Referrals.AddRule(ctx, sys, store.JurisdictionRule{Label: "The region's ICAC task force", Country: "US", AgencyKind: haven.AgencyICAC}); err != nil {
		t.Fatal(err)
	}

	// The ESP files the report with a benign photo (the PDQ reference bridge).
	esp := env.NewUser(t, "Example Chat", haven.RoleESP, "")
	c := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	sub, err := c.Submit(ctx, []byte(escalatedReport))
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	if up, err := c.Upload(ctx, sub.ReportID, "photo.jpg", bytes.NewReader(sharedImage(t, "bridge-mods/aaa-orig.jpg"))); err != nil || up.Code != 0 {
		t.Fatalf("upload: %v %+v", err, up)
	}
	if fin, err := c.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
		t.Fatalf("finish: %v %+v", err, fin)
	}
	id := sub.ReportID
	if it := waitTriaged(t, env, id); it.Priority != "P1" || it.Country != "US" {
		t.Fatalf("triaged as %s in %q", it.Priority, it.Country)
	}
	// A plain report filed earlier stays behind it in the queue.
	older, err := c.Submit(ctx, []byte(minimalReport))
	if err != nil {
		t.Fatal(err)
	}
	c.Finish(ctx, older.ReportID, false)
	waitTriaged(t, env, older.ReportID)

	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	b := haventest.Browser(t)
	browserLogin(t, b, env, analyst)

	// The queue: the escalated report first, as P1.
	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/queue"))
	first := haventest.Get(b, chromedp.Text(chromedp.CSS("#queue tbody tr:first-child")))
	if !strings.Contains(first, "P1") || !strings.Contains(first, fmt.Sprint(id)) {
		b.Screenshot("queue")
		t.Fatalf("first row of the queue: %q", first)
	}
	b.Load(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#queue a[href="/app/reports/%d"]`, id))))
	panel := haventest.Get(b, chromedp.Text(chromedp.CSS("#triage")))
	for _, want := range []string{"P1", "The reporter asked for urgent handling", "The child says the user will meet them tonight."} {
		if !strings.Contains(panel, want) {
			b.Screenshot("triage-panel")
			t.Fatalf("the triage panel lacks %q: %q", want, panel)
		}
	}
	b.Load(chromedp.Click(chromedp.CSS(`form[action$="/triage/claim"] button`)))
	if panel := haventest.Get(b, chromedp.Text(chromedp.CSS("#triage"))); !strings.Contains(panel, "with") || !strings.Contains(panel, "in_review") {
		b.Screenshot("claimed")
		t.Fatalf("after claiming: %q", panel)
	}

	// The file, blurred first; then revealed with a reason.
	b.Load(chromedp.Click(chromedp.CSS(`a.button[href*="/files/"][href$="/view"]`)))
	renditions := haventest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('img[src*="/rendition"]').length`))
	if renditions != 1 {
		b.Screenshot("viewer")
		t.Fatal("the viewer shows no rendition")
	}
	b.Screenshot("viewer-blurred")
	b.Do(chromedp.SendKeys(chromedp.ID("reason"), "Confirm the age of the child before referral"))
	b.Load(chromedp.Click(chromedp.CSS(`form.viewer-reveal button[type=submit]`)))
	originals := haventest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('#original img, #original video').length`))
	if originals != 1 {
		b.Screenshot("revealed")
		t.Fatalf("after the reveal the page shows %d originals", originals)
	}
	b.Screenshot("revealed")

	// Refer to the agency geolocation suggests (pre-selected).
	b.Load(chromedp.Navigate(fmt.Sprintf("%s/app/reports/%d", env.HTTP.URL, id)))
	caChecked := haventest.Get(b, chromedp.Evaluate[bool](fmt.Sprintf(`!!(document.getElementById('refer-%s') && document.getElementById('refer-%s').checked)`, ca.ID, ca.ID)))
	txChecked := haventest.Get(b, chromedp.Evaluate[bool](fmt.Sprintf(`!!(document.getElementById('refer-%s') && document.getElementById('refer-%s').checked)`, tx.ID, tx.ID)))
	if !caChecked || txChecked {
		b.Screenshot("referral-panel")
		t.Fatalf("suggested agency: California checked %v, Texas checked %v", caChecked, txChecked)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("refer-note"), "Escalated: meeting planned tonight."))
	b.Load(chromedp.Click(chromedp.CSS(`form[action$="/referrals"] button[type=submit]`)))
	if it := waitTriaged(t, env, id); it.Status != "referred" || it.Open {
		t.Errorf("after the referral the report is %s (open %v)", it.Status, it.Open)
	}

	// The officer of that agency.
	officer := env.NewUser(t, "officer@example.org", haven.RoleLE, ca.ID)
	lb := haventest.Browser(t)
	browserLoginTo(t, lb, env, officer, "/le")
	lb.Load(chromedp.Navigate(env.HTTP.URL + "/le/referrals"))
	if list := haventest.Get(lb, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(list, fmt.Sprint(id)) {
		lb.Screenshot("le-referrals")
		t.Fatalf("the officer's referrals do not list report %d: %q", id, list)
	}
	lb.Load(chromedp.Navigate(fmt.Sprintf("%s/le/referrals/%d", env.HTTP.URL, id)))
	lb.Load(chromedp.Click(chromedp.CSS(`form[action$="/acknowledge"] button`)))
	lb.Do(chromedp.SetValue(chromedp.ID("code"), "child_safeguarded"),
		chromedp.SendKeys(chromedp.ID("outcome-note"), "Child safeguarded on the evening of the report."))
	lb.Load(chromedp.Click(chromedp.CSS(`form[action$="/outcome"] button[type=submit]`)))
	lb.Screenshot("le-outcome")

	// The analyst sees the acknowledgement and the outcome.
	b.Load(chromedp.Navigate(fmt.Sprintf("%s/app/reports/%d", env.HTTP.URL, id)))
	ref := haventest.Get(b, chromedp.Text(chromedp.CSS("#referral")))
	for _, want := range []string{"Example California ICAC Task Force", "acknowledged", "Child safeguarded on the evening of the report."} {
		if !strings.Contains(ref, want) {
			b.Screenshot("analyst-outcome")
			t.Fatalf("the analyst's referral panel lacks %q: %q", want, ref)
		}
	}
	b.Screenshot("analyst-outcome")
}
