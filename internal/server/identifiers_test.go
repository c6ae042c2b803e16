package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
)

// identifierReport stores a synthetic finished report naming the
// reported user by e-mail, screen name and IP address, and indexes and
// locates it as the triage job does.
func identifierReport(t *testing.T, env *haventest.Env, email string, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	r := &haven.Report{Source: haven.SourcePublic, Status: haven.ReportFinished, OpenedAt: at, ModifiedAt: at, FinishedAt: at,
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "Example Chat"},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "suspect_one",
			Person:     &haven.Person{Emails: []haven.Email{{Value: email}}, Addresses: []haven.Address{{State: "CA", Country: "US"}}},
			IPCaptures: []haven.IPCapture{{IPAddress: "192.0.2.7", EventName: "Login", DateTime: at.Add(-time.Hour)}}}},
		AdditionalInfo: "synthetic test report"}
	err := env.App.Store.InTx(ctx, func(tx *store.Tx) (err error) {
		if r.ID, err = tx.NextReportNumber(ctx); err != nil {
			return err
		}
		return tx.CreateReport(ctx, r, nil, time.Time{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Identifiers.IndexReport(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Geo.Locate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

var entityLinkRE = regexp.MustCompile(`href="/app/entities/(\d+)"`)

// TestIdentifierSearchAndEntityPages: an analyst finds two reports by
// the e-mail address they share, typed differently, and opens the
// entity's page, which lists both; a law-enforcement user can reach
// neither page; the values reach no log line and no audit event.
func TestIdentifierSearchAndEntityPages(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	at := env.Clock.Now()
	first := identifierReport(t, env, "suspect.one@example.org", at.Add(-48*time.Hour))
	second := identifierReport(t, env, "Suspect.One@EXAMPLE.org", at.Add(-24*time.Hour))

	analyst := env.NewUser(t, "identifiers-analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(analyst)
	page := web.Get("/app/identifiers?" + url.Values{"q": {"  SUSPECT.ONE@example.org "}}.Encode())
	if page.StatusCode != http.StatusOK {
		t.Fatalf("search: got %d, want 200\n%s", page.StatusCode, page.Body)
	}
	for _, want := range []string{"suspect.one@example.org", "E-mail address", `scope="col"`, "audit log"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the search page does not show %q", want)
		}
	}
	m := entityLinkRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("the search page links to no entity\n%s", page.Body)
	}
	entityPath := "/app/entities/" + m[1]
	page = web.Get(entityPath)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("entity page: got %d, want 200", page.StatusCode)
	}
	for _, want := range []string{"suspect.one@example.org", fmt.Sprintf(`href="/app/reports/%d"`, first),
		fmt.Sprintf(`href="/app/reports/%d"`, second), "Reported person or user", `scope="col"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the entity page does not show %q", want)
		}
	}
	if strings.Index(page.Body, fmt.Sprintf("/app/reports/%d", second)) > strings.Index(page.Body, fmt.Sprintf("/app/reports/%d", first)) {
		t.Error("the entity page does not list the newest report first")
	}
	if strings.Contains(page.Body, "<title>suspect") || strings.Contains(strings.SplitN(page.Body, "</title>", 2)[0], "example.org") {
		t.Error("the identifier's value is in the page title")
	}
	// A network, a kind, and refusals.
	if page := web.Get("/app/identifiers?q=192.0.2.0%2F24"); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "192.0.2.7") {
		t.Errorf("network search: %d", page.StatusCode)
	}
	page = web.Get("/app/identifiers?kind=email&q=not-an-address")
	if page.StatusCode != http.StatusBadRequest || !strings.Contains(page.Body, "one @") {
		t.Errorf("invalid search: got %d, want 400 with the reason", page.StatusCode)
	}
	if page := web.Get("/app/identifiers?q=nobody%40example.org"); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "No report mentions") {
		t.Errorf("search without results: %d", page.StatusCode)
	}
	if page := web.Get("/app/entities/999999"); page.StatusCode != http.StatusNotFound {
		t.Errorf("unknown entity: got %d, want 404", page.StatusCode)
	}
	if page := web.Get("/app/entities/not-a-number"); page.StatusCode != http.StatusNotFound {
		t.Errorf("malformed entity ID: got %d, want 404", page.StatusCode)
	}
	if page := web.Get(entityPath + "?after=garbage"); page.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed cursor: got %d, want 400", page.StatusCode)
	}

	// Law enforcement sees none of it.
	ag := env.Agency(t, "Identifier Test Agency")
	le := env.NewUser(t, "identifiers-le@example.org", haven.RoleLE, ag.ID)
	leWeb := env.Client(t)
	leWeb.Login(le)
	for _, path := range []string{"/app/identifiers?q=suspect.one%40example.org", entityPath, "/app/identifiers"} {
		page := leWeb.Get(path)
		if page.StatusCode != http.StatusForbidden && page.StatusCode != http.StatusNotFound {
			t.Errorf("LE user at %s: got %d, want 403 or 404", path, page.StatusCode)
		}
		if strings.Contains(page.Body, "suspect.one") {
			t.Errorf("LE user at %s sees the identifier", path)
		}
	}

	// Audited, without the values; never logged.
	ctx := context.Background()
	var evs []*haven.AuditEvent
	err := env.App.Store.View(ctx, func(tx *store.Tx) error {
		for _, typ := range []string{"identifier.search", "identifier.entity_read"} {
			got, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: typ})
			if err != nil {
				return err
			}
			if len(got) == 0 {
				t.Errorf("no %s event", typ)
			}
			evs = append(evs, got...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if s := fmt.Sprint(ev.Details, ev.ObjectID); strings.Contains(strings.ToLower(s), "suspect") || strings.Contains(s, "192.0.2") {
			t.Errorf("audit event %s holds a value: %s", ev.Type, s)
		}
	}
	if logs := strings.ToLower(env.Logs.String()); strings.Contains(logs, "suspect.one") || strings.Contains(logs, "192.0.2.7") {
		t.Error("an identifier reached the server log")
	}
}

// TestIdentifierLocationCorrection: an intake analyst corrects a
// report's location with a reason (refused without one); a role without
// the permission is refused.
func TestIdentifierLocationCorrection(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	id := identifierReport(t, env, "suspect.two@example.org", env.Clock.Now().Add(-time.Hour))
	path := fmt.Sprintf("/app/reports/%d/location", id)
	analyst := env.NewUser(t, "location-analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(analyst)
	web.Get("/app/identifiers") // a page with the CSRF token
	r := web.Post(path, url.Values{"country": {"US"}, "region": {"NV"}, "reason": {" "}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "location_error=reason") {
		t.Fatalf("correction without a reason: got %d to %s, want 303 to the error", r.StatusCode, r.Header.Get("Location"))
	}
	r = web.Post(path, url.Values{"country": {"US"}, "region": {"NV"}, "reason": {"The caller confirmed the state."}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "location=corrected") {
		t.Fatalf("correction: got %d to %s", r.StatusCode, r.Header.Get("Location"))
	}
	loc, err := env.App.Geo.Location(ctx, haven.Actor{Role: haven.RoleIntake}, id)
	if err != nil {
		t.Fatal(err)
	}
	if c, reg := loc.Effective(); c != "US" || reg != "US-NV" || loc.Corrected.By != analyst.ID || loc.Computed.Region != "US-CA" {
		t.Errorf("after correction: %+v %+v", loc, loc.Corrected)
	}
	if r := web.Post("/app/reports/999999/location", url.Values{"country": {"US"}, "reason": {"x"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown report: got %d, want 404", r.StatusCode)
	}

	vid := env.NewUser(t, "location-vid@example.org", haven.RoleVictimID, "")
	vidWeb := env.Client(t)
	vidWeb.Login(vid)
	vidWeb.Get("/app/identifiers")
	if r := vidWeb.Post(path, url.Values{"country": {"GB"}, "reason": {"no"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("victim-identification analyst corrects: got %d, want 403", r.StatusCode)
	}
}
