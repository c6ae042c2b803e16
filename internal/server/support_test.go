package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
)

func supportRedirect(t *testing.T, what string, r *haventest.Response, prefix string) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s: got %d to %q, want 303 to %s…\n%s", what, r.StatusCode, loc, prefix, r.Body)
	}
	return loc
}

func supportAuditCount(t *testing.T, env *haventest.Env, typ, objectID string) int {
	t.Helper()
	n := 0
	err := env.App.Store.View(context.Background(), func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ, ObjectID: objectID, Limit: 500})
		n = len(evs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSupportPages drives the coordinator's pages: a volunteer and a
// family's request entered by form, the proposal with its reasons,
// approval, the family asking for a different volunteer, a provider added,
// the family referred with consent and the referral's closed loop; the
// directory downloaded as HSDS and uploaded into a second instance gives
// the same providers. Reads of the family's record are audited, and
// roles without the permissions are refused.
func TestSupportPages(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	coord := env.NewUser(t, "coordinator@example.org", haven.RoleSupport, "")
	c := env.Client(t)
	c.Login(coord)
	now := env.Clock.Now()

	c.Get("/app/support/volunteers")
	r := c.Post("/app/support/volunteers", url.Values{"name": {""}, "relation": {"parent"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "fill in this field") {
		t.Fatalf("volunteer without a name: got %d", r.StatusCode)
	}
	loc := supportRedirect(t, "add volunteer", c.Post("/app/support/volunteers", url.Values{
		"name": {"Example Volunteer One"}, "relation": {"parent"}, "experiences": {"missing"}, "languages": {"en, es"},
		"time_zone": {"America/Chicago"}, "region": {"Midwest"}, "trained_on": {now.AddDate(0, -2, 0).Format("2006-01-02")},
		"experience_since": {now.AddDate(-4, 0, 0).Format("2006-01-02")}, "capacity": {"1"}, "active": {"yes"}}), "/app/support/volunteers/")
	volID := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/app/support/volunteers/")
	if r := c.Get(loc); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Example Volunteer One") {
		t.Fatalf("volunteer page: %d", r.StatusCode)
	}

	c.Get("/app/support")
	loc = supportRedirect(t, "record request", c.Post("/app/support/requests", url.Values{
		"family": {"Example Family One"}, "case_type": {"missing"}, "language": {"es"}, "time_zone": {"America/Chicago"},
		"needs": {"emotional_support", "media"}}), "/app/support/requests/")
	reqID := strings.TrimPrefix(loc, "/app/support/requests/")
	r = c.Get(loc)
	for _, want := range []string{"Example Volunteer One", "same lived experience (missing)", "speaks the family&#39;s language (Spanish)", "Approve the match"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	supportRedirect(t, "approve", c.Post("/app/support/requests/"+reqID+"/approve", url.Values{"volunteer": {volID}}), "/app/support/requests/"+reqID)
	r = c.Get("/app/support/requests/" + reqID)
	if !strings.Contains(r.Body, "Volunteer: <a") || !strings.Contains(r.Body, "introduction") {
		t.Errorf("after approval the page does not show the volunteer and the introduction")
	}
	supportRedirect(t, "replace", c.Post("/app/support/requests/"+reqID+"/replace", url.Values{"reason": {"not a good fit"}}), "/app/support/requests/"+reqID)
	r = c.Get("/app/support/requests/" + reqID)
	if !strings.Contains(r.Body, "No volunteer fits now") || !strings.Contains(r.Body, "previous volunteer") {
		t.Errorf("after the family asked for a different volunteer, the previous one is still proposed")
	}
	if r := c.Get("/app/support/volunteers/" + volID); !strings.Contains(r.Body, "Example Family One") || !strings.Contains(r.Body, "replaced at the family") {
		t.Errorf("volunteer page does not list the family they supported")
	}
	if n := supportAuditCount(t, env, "support.request.read", reqID); n != 3 {
		t.Errorf("got %d audited reads of the family's record, want 3", n)
	}

	// A provider, by form.
	c.Get("/app/providers/new")
	loc = supportRedirect(t, "add provider", c.Post("/app/providers", url.Values{
		"organization": {"Example Counselling Collective"}, "name": {"Trauma counselling"}, "clinician": {"Example Clinician One"},
		"licence_type": {"LPC"}, "licence_number": {"0001"}, "licence_state": {"TX"}, "licence_verified_on": {"2026-01-05"},
		"specialities": {"trauma, child sexual abuse"}, "languages": {"en, es"}, "modes": {"in_person", "telehealth"},
		"fee_terms": {"pro_bono"}, "areas": {"TX, OK"}, "capacity": {"2"}, "email": {"clinic@example.org"}, "phone": {"555-0101"},
		"locations": {"Main office; 1 Example Street; Austin; TX; 78701; US"}}), "/app/providers/")
	provID := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/app/providers/")

	// Referral from the family's page, then its closed loop.
	c.Get("/app/support/requests/" + reqID)
	r = c.Post("/app/support/requests/"+reqID+"/referrals", url.Values{"provider": {provID}, "consent_by": {"parent"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "consent") {
		t.Errorf("referral without consent: got %d", r.StatusCode)
	}
	supportRedirect(t, "refer", c.Post("/app/support/requests/"+reqID+"/referrals", url.Values{"provider": {provID}, "consent": {"yes"},
		"consent_by": {"parent"}}), "/app/support/requests/"+reqID)
	pv, err := env.App.Support.Provider(context.Background(), haven.Actor{UserID: coord.ID, Role: haven.RoleSupport, AuthAt: now}, provID)
	if err != nil || len(pv.Referrals) != 1 {
		t.Fatalf("referral not stored: %v", err)
	}
	supportRedirect(t, "referral status", c.Post("/app/providers/referrals/"+pv.Referrals[0].ID+"/status",
		url.Values{"status": {"contacted"}, "from": {"request"}}), "/app/support/requests/"+reqID)
	r = c.Get("/app/providers/" + provID)
	if !strings.Contains(r.Body, "contacted") || !strings.Contains(r.Body, "first session held") {
		t.Errorf("provider page lacks the referral's status and next step")
	}

	if r := c.Get("/app/providers?language=es&mode=telehealth&available=yes"); !strings.Contains(r.Body, "1 of 1 providers") {
		t.Errorf("filter for Spanish telehealth with a place does not find the provider")
	}
	if r := c.Get("/app/providers?language=vi"); !strings.Contains(r.Body, "0 of 1 providers") || strings.Contains(r.Body, "Example Clinician One") {
		t.Errorf("filter for Vietnamese still shows the provider")
	}
	if r := c.Get("/app/support"); !strings.Contains(r.Body, "Nothing due") {
		t.Errorf("the released volunteer's introduction is still listed as due")
	}
	// HSDS export, then import into a fresh instance.
	r = c.Get("/app/providers/hsds.json")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil || len(doc["services"].([]any)) != 1 {
		t.Fatalf("export is not the directory: %v", err)
	}
	env2 := haventest.Start(t, "sqlite")
	cw := env2.NewUser(t, "casework@example.org", haven.RoleCasework, "")
	c2 := env2.Client(t)
	c2.Login(cw)
	c2.Get("/app/providers")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", c2.CSRF)
	fw, _ := mw.CreateFormFile("file", "providers-hsds3.json")
	_, _ = fw.Write([]byte(r.Body))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, env2.HTTP.URL+"/app/providers/hsds", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	supportRedirect(t, "import", c2.Do(req), "/app/providers?done=imported&created=1")
	sys := haven.SystemActor("test")
	want, err := env.App.Support.Providers(context.Background(), sys)
	if err != nil {
		t.Fatal(err)
	}
	got, err := env2.App.Support.Providers(context.Background(), sys)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(store.Provider{}, "CreatedAt", "UpdatedAt", "Open")); d != "" {
		t.Errorf("imported directory differs (-exported +imported):\n%s", d)
	}
	if r := c2.Get("/app/providers/" + provID); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Example Clinician One") {
		t.Errorf("imported provider page: %d", r.StatusCode)
	}

	// A supervisor reads the directory but not families or referrals.
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	cs := env.Client(t)
	cs.Login(sup)
	if r := cs.Get("/app/support/requests/" + reqID); r.StatusCode != http.StatusForbidden {
		t.Errorf("supervisor reads a family: got %d", r.StatusCode)
	}
	if r := cs.Get("/app/providers/" + provID); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "Referrals") {
		t.Errorf("supervisor provider page: %d (referrals shown: %v)", r.StatusCode, strings.Contains(r.Body, "Referrals"))
	}
	if r := cs.Get("/app/providers/hsds.json"); r.StatusCode != http.StatusForbidden {
		t.Errorf("supervisor export: got %d", r.StatusCode)
	}
}

// TestBrowserFamilySupport walks a coordinator through the pages in
// Chromium: a family's call recorded, the proposal read with its reasons,
// the match approved; the pages work under the strict CSP.
func TestBrowserFamilySupport(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	coord := env.NewUser(t, "coordinator@example.org", haven.RoleSupport, "")
	now := env.Clock.Now()
	actor := haven.Actor{UserID: coord.ID, Role: haven.RoleSupport, AuthAt: now}
	vol, err := env.App.Support.SaveVolunteer(context.Background(), actor, store.Volunteer{Name: "Example Volunteer One", Relation: "parent",
		Experiences: []string{"missing"}, ExperienceSince: now.AddDate(-5, 0, 0), Languages: []string{"es"}, TimeZone: "America/Chicago",
		TrainedOn: now.AddDate(0, -1, 0), Capacity: 2, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	b := haventest.Browser(t)
	browserLoginTo(t, b, env, coord, "/app")
	b.Load(chromedp.Navigate(env.HTTP.URL + "/app/support"))
	b.Do(
		chromedp.SendKeys(chromedp.ID("family"), "Example Family One"),
		chromedp.SetValue(chromedp.ID("case_type"), "missing"),
		chromedp.SetValue(chromedp.ID("language"), "es"),
		chromedp.SendKeys(chromedp.ID("time_zone"), "America/Chicago"),
	)
	b.Load(chromedp.Click(chromedp.CSS(`form[action="/app/support/requests"] button[type=submit]`)))
	if p := b.Path(); !strings.HasPrefix(p, "/app/support/requests/") {
		t.Fatalf("after recording the call the browser is at %s", p)
	}
	proposals := haventest.Get(b, chromedp.Text(chromedp.CSS("#proposals")))
	for _, want := range []string{"Example Volunteer One", "same lived experience (missing)", "speaks the family's language (Spanish)", "same time zone"} {
		if !strings.Contains(proposals, want) {
			t.Errorf("proposals lack %q:\n%s", want, proposals)
		}
	}
	b.Load(chromedp.Click(chromedp.CSS(`#proposals form button[type=submit]`)))
	if v := haventest.Get(b, chromedp.Text(chromedp.CSS("#volunteer"))); !strings.Contains(v, "Example Volunteer One") {
		t.Errorf("after approval: %q", v)
	}
	got, err := env.App.Support.Volunteer(context.Background(), actor, vol.ID)
	if err != nil || got.Load != 1 {
		t.Errorf("volunteer load after approval: %+v, %v", got, err)
	}
	b.FlushConsole()
	for _, m := range b.Console() {
		if regexp.MustCompile(`(?i)content security policy|refused`).MatchString(m.Text) {
			t.Errorf("console: %s", m.Text)
		}
	}
}
