package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/store"
)

func offenderSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "offender", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadExport posts an export to the import form as a browser would.
func uploadExport(t *testing.T, env *haventest.Env, c *haventest.Client, source, name string) *haventest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", c.CSRF)
	_ = mw.WriteField("source", source)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(offenderSample(t, name))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/app/offenders/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.Do(req)
}

// TestOffenderImportThroughThePages: an analyst saves State A's mapping,
// uploads the export, sees the preview (4 new records, 3 rejected with
// reasons), applies it as a job, and finds the records, a record page
// with its timeline and coordinates, the noncompliant list; each read of
// a record is audited.
func TestOffenderImportThroughThePages(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	analyst := env.NewUser(t, "offender-analyst@example.org", haven.RoleOffender, "")
	c := env.Client(t)
	c.Login(analyst)
	if r := c.Get("/app/offenders/imports"); r.StatusCode != http.StatusOK {
		t.Fatalf("imports page: %d", r.StatusCode)
	}
	if r := c.Post("/app/offenders/mappings", url.Values{"mapping": {"{not json"}}); r.StatusCode != http.StatusBadRequest &&
		r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a broken mapping: %d", r.StatusCode)
	}
	c.Get("/app/offenders/imports")
	if r := c.Post("/app/offenders/mappings", url.Values{"mapping": {string(offenderSample(t, "state_a_mapping.json"))}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save mapping: %d %s", r.StatusCode, r.Body)
	}
	c.Get("/app/offenders/imports")
	r := uploadExport(t, env, c, "state-a", "state_a.csv")
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.StatusCode, r.Body)
	}
	importURL := r.Header.Get("Location")
	p := c.Get(importURL)
	for _, want := range []string{"previewed", "<dt>Will add</dt><dd>4</dd>", "<dt>Rejected</dt><dd>3</dd>", "record 4: tier is not I, II or III",
		"record 5: the name is missing", "A-1001"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("preview page lacks %q", want)
		}
	}
	if r := c.Post(importURL+"/apply", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", r.StatusCode, r.Body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p = c.Get(importURL)
		if strings.Contains(p.Body, `<dd id="import-status">done`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import job did not finish:\n%s", p.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(p.Body, "<dt>Added</dt><dd>4</dd>") {
		t.Errorf("result page:\n%s", p.Body)
	}
	list := c.Get("/app/offenders?q=person+one")
	m := regexp.MustCompile(`href="/app/offenders/([0-9a-f-]{36})">Example Person One<`).FindStringSubmatch(list.Body)
	if m == nil {
		t.Fatalf("search did not find the record:\n%s", list.Body)
	}
	rec := c.Get("/app/offenders/" + m[1])
	for _, want := range []string{"<svg", "Residences", "40.71000, -77.01000", "https://www.openstreetmap.org/?mlat=40.71000&amp;mlon=-77.01000",
		"Example Warehouse Co", "tier III"} {
		if !strings.Contains(strings.ToLower(rec.Body), strings.ToLower(want)) {
			t.Errorf("record page lacks %q", want)
		}
	}
	if strings.Contains(rec.Body, "style=") {
		t.Error("the record page uses an inline style, which the CSP blocks")
	}
	comp := c.Get("/app/offenders/compliance")
	if !strings.Contains(comp.Body, "Example Person Three") || strings.Contains(comp.Body, "Example Person One<") {
		t.Errorf("compliance list:\n%s", comp.Body)
	}
	var reads int
	if err := env.App.Store.View(ctx, func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "offender.read", ObjectID: m[1]})
		reads = len(evs)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("audited reads of the record: got %d, want 1", reads)
	}
}

// TestNoLEUserSeesAnOffenderOutsideTheirRequest: LE users reach no staff
// offender page; another agency's user cannot open a request or its PDF;
// the requesting agency sees the record only in its delivered report.
func TestNoLEUserSeesAnOffenderOutsideTheirRequest(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	agA, agB := env.Agency(t, "Example County Sheriff"), env.Agency(t, "Example City Police")
	analystUser := env.NewUser(t, "analyst@example.org", haven.RoleOffender, "")
	analyst := haven.Actor{UserID: analystUser.ID, Role: haven.RoleOffender, AuthAt: env.Clock.Now()}
	m, err := offender.ParseMapping(offenderSample(t, "state_a_mapping.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Offenders.SaveMapping(ctx, analyst, *m); err != nil {
		t.Fatal(err)
	}
	im, _, err := env.App.Offenders.StartImport(ctx, analyst, "state-a", "state_a.csv", offenderSample(t, "state_a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Offenders.ApplyImport(ctx, analyst, im.ID); err != nil {
		t.Fatal(err)
	}
	waitImport(t, env, analyst, im.ID)
	var wanted, other *store.Offender
	if err := env.App.Store.View(ctx, func(tx *store.Tx) (err error) {
		if wanted, err = tx.OffenderBySourceKey(ctx, "state-a", "A-1003"); err != nil {
			return err
		}
		other, err = tx.OffenderBySourceKey(ctx, "state-a", "A-1002")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	leA, leB := env.NewUser(t, "officer-a@example.org", haven.RoleLE, agA.ID), env.NewUser(t, "officer-b@example.org", haven.RoleLE, agB.ID)
	a := env.Client(t)
	a.Login(leA)
	a.Get("/le/locate")
	if r := a.Post("/le/locate", url.Values{"case_number": {"CASE-2026-0001"}, "subject": {"Example Person Three"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	page := a.Get("/le/locate")
	mm := regexp.MustCompile(`href="/le/locate/([0-9a-f-]{36})">CASE-2026-0001<`).FindStringSubmatch(page.Body)
	if mm == nil {
		t.Fatalf("the request is not listed:\n%s", page.Body)
	}
	reqID := mm[1]
	if r := a.Get("/le/locate/" + reqID); r.StatusCode != http.StatusOK || strings.Contains(r.Body, "Example Person Three —") {
		t.Errorf("undelivered request: %d", r.StatusCode)
	}
	if r := a.Get("/le/locate/" + reqID + "/report.pdf"); r.StatusCode != http.StatusNotFound {
		t.Errorf("PDF before delivery: %d, want 404", r.StatusCode)
	}
	if err := env.App.Offenders.SetLocateOffender(ctx, analyst, reqID, wanted.ID); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Offenders.DeliverLocate(ctx, analyst, reqID, offender.OutcomeNotLocated, "No current address was found."); err != nil {
		t.Fatal(err)
	}
	rep := a.Get("/le/locate/" + reqID)
	if !strings.Contains(rep.Body, "Example Person Three") || !strings.Contains(rep.Body, "not_located") || strings.Contains(rep.Body, "Example Person Two") {
		t.Errorf("delivered report:\n%s", rep.Body)
	}
	if r := a.Get("/le/locate/" + reqID + "/report.pdf"); r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Body, "%PDF-") {
		t.Errorf("PDF: %d", r.StatusCode)
	}
	for _, path := range []string{"/app/offenders", "/app/offenders/" + wanted.ID, "/app/offenders/" + other.ID, "/app/offenders/locate/" + reqID,
		"/app/offenders/compliance", "/app/offenders/links"} {
		if r := a.Get(path); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
			t.Errorf("LE user on %s: %d, want 403 or 404", path, r.StatusCode)
		}
	}
	b := env.Client(t)
	b.Login(leB)
	for _, path := range []string{"/le/locate/" + reqID, "/le/locate/" + reqID + "/report.pdf"} {
		if r := b.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("another agency on %s: %d, want 404", path, r.StatusCode)
		}
	}
	if r := b.Get("/le/locate"); strings.Contains(r.Body, "CASE-2026-0001") {
		t.Error("another agency lists the request")
	}
}

// TestPublicOffenderCountsMatchDownloads: without signing in, the page
// shows the latest survey, and the CSV and JSON hold the same counts.
func TestPublicOffenderCountsMatchDownloads(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	analyst := haven.Actor{UserID: "survey-analyst", Role: haven.RoleOffender, AuthAt: env.Clock.Now()}
	older := env.Clock.Now().AddDate(0, -7, 0)
	latest := env.Clock.Now().AddDate(0, -1, 0)
	for _, c := range []struct {
		date time.Time
		j    string
		n    int
	}{{older, "State A", 100}, {latest, "State A", 1234}, {latest, "State B", 567}, {latest, "State C", 89}} {
		if err := env.App.Offenders.EnterSurveyCount(ctx, analyst, c.date, c.j, c.n); err != nil {
			t.Fatal(err)
		}
	}
	c := env.Client(t)
	page := c.Get("/statistics/registered-offenders")
	if page.StatusCode != http.StatusOK {
		t.Fatalf("page: %d", page.StatusCode)
	}
	pageCounts := map[string]int{}
	for _, m := range regexp.MustCompile(`<tr><td>([^<]+)</td><td>(\d+)</td></tr>`).FindAllStringSubmatch(page.Body, -1) {
		n, _ := strconv.Atoi(m[2])
		pageCounts[m[1]] = n
	}
	total := regexp.MustCompile(`id="national-total">(\d+)<`).FindStringSubmatch(page.Body)
	date := regexp.MustCompile(`id="survey-date">([0-9-]+)<`).FindStringSubmatch(page.Body)
	if len(pageCounts) != 3 || total == nil || date == nil || date[1] != latest.Format("2006-01-02") || total[1] != "1890" {
		t.Fatalf("page counts %v, total %v, date %v", pageCounts, total, date)
	}
	csvResp := c.Get("/statistics/registered-offenders.csv")
	rows, err := csv.NewReader(strings.NewReader(csvResp.Body)).ReadAll()
	if err != nil || csvResp.StatusCode != http.StatusOK {
		t.Fatalf("CSV: %d %v", csvResp.StatusCode, err)
	}
	csvCounts := map[string]int{}
	for _, row := range rows[1:] {
		if row[0] != date[1] {
			t.Errorf("CSV row of another date: %v", row)
		}
		n, _ := strconv.Atoi(row[2])
		if row[1] == "TOTAL" {
			if strconv.Itoa(n) != total[1] {
				t.Errorf("CSV total %d, page %s", n, total[1])
			}
			continue
		}
		csvCounts[row[1]] = n
	}
	var doc struct {
		SurveyDate string `json:"survey_date"`
		Total      int    `json:"national_total"`
		Counts     []struct {
			Jurisdiction string `json:"jurisdiction"`
			Count        int    `json:"registered_offenders"`
		} `json:"counts"`
	}
	jsonResp := c.Get("/statistics/registered-offenders.json")
	if err := json.Unmarshal([]byte(jsonResp.Body), &doc); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	jsonCounts := map[string]int{}
	for _, c := range doc.Counts {
		jsonCounts[c.Jurisdiction] = c.Count
	}
	for j, n := range pageCounts {
		if csvCounts[j] != n || jsonCounts[j] != n {
			t.Errorf("%s: page %d, CSV %d, JSON %d", j, n, csvCounts[j], jsonCounts[j])
		}
	}
	if len(csvCounts) != len(pageCounts) || len(jsonCounts) != len(pageCounts) || doc.SurveyDate != date[1] || strconv.Itoa(doc.Total) != total[1] {
		t.Errorf("downloads differ from the page: CSV %v, JSON %+v", csvCounts, doc)
	}
}

// waitImport waits for the import job to finish.
func waitImport(t *testing.T, env *haventest.Env, a haven.Actor, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		im, _, err := env.App.Offenders.Import(context.Background(), a, id)
		if err != nil {
			t.Fatal(err)
		}
		if im.Status == offender.ImportDone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import is still %s", im.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tipNearPersonOne is a tip whose cell-phone incident carries Example
// Person Two's number and a place 0.3 km from Example Person One's home.
const tipNearPersonOne = `<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Online Enticement of Children for Sexual Acts</incidentType>
    <incidentDateTime>2026-04-01T20:00:00Z</incidentDateTime>
  </incidentSummary>
  <internetDetails>
    <cellPhoneIncident>
      <phoneNumber countryCallingCode="+1">202-555-0102</phoneNumber>
      <latitude>40.7120</latitude>
      <longitude>-77.0130</longitude>
    </cellPhoneIncident>
  </internetDetails>
  <reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName><email>tips@example.org</email></reportingPerson></reporter>
</report>`

// TestLinkageWithARealTip: a tip filed through the ESP API is indexed
// by triage; linkage then finds the offender sharing its phone number
// and the offender living near its place, each with its reasons, and the
// tip's page of linked offenders lists both.
func TestLinkageWithARealTip(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	analystUser := env.NewUser(t, "linkage-analyst@example.org", haven.RoleOffender, "")
	analyst := haven.Actor{UserID: analystUser.ID, Role: haven.RoleOffender, AuthAt: env.Clock.Now()}
	m, err := offender.ParseMapping(offenderSample(t, "state_a_mapping.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Offenders.SaveMapping(ctx, analyst, *m); err != nil {
		t.Fatal(err)
	}
	im, _, err := env.App.Offenders.StartImport(ctx, analyst, "state-a", "state_a.csv", offenderSample(t, "state_a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.App.Offenders.ApplyImport(ctx, analyst, im.ID); err != nil {
		t.Fatal(err)
	}
	waitImport(t, env, analyst, im.ID)

	esp := env.NewUser(t, "Example Chat", haven.RoleESP, "")
	ic := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	sub, err := ic.Submit(ctx, []byte(tipNearPersonOne))
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	if fin, err := ic.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
		t.Fatalf("finish: %v %+v", err, fin)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := env.App.Store.View(ctx, func(tx *store.Tx) error {
			_, err := tx.EntityByKey(ctx, "phone", "+12025550102")
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tip's phone number was not indexed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c := env.Client(t)
	c.Login(analystUser)
	c.Get("/app/offenders/links")
	if r := c.Post("/app/offenders/links/run", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("run linkage: %d %s", r.StatusCode, r.Body)
	}
	id := strconv.FormatInt(sub.ReportID, 10)
	var page *haventest.Response
	for deadline := time.Now().Add(20 * time.Second); ; {
		page = c.Get("/app/offenders/reports/" + id + "/links")
		// Linkage runs as a job: wait until it has linked both offenders.
		if strings.Count(page.Body, "Example Person") >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"Example Person Two", "shares the phone number +12025550102 with tip (report " + id + ")",
		"Example Person One", "km from the tip (report " + id + ") of 2026-04-01; lived there at the time"} {
		if !strings.Contains(html.UnescapeString(page.Body), want) {
			t.Errorf("the tip's links lack %q:\n%s", want, page.Body)
		}
	}
}

// TestOffenderFormsKeepInput: an incident, a fact or a survey count that
// cannot be saved comes back as the form with the message and the values
// typed; a casework specialist records an incident but sees no offender
// links on it.
func TestOffenderFormsKeepInput(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	analyst := env.NewUser(t, "forms-analyst@example.org", haven.RoleOffender, "")
	c := env.Client(t)
	c.Login(analyst)
	c.Get("/app/offenders/incidents")
	r := c.Post("/app/offenders/incidents", url.Values{"kind": {"attempted_abduction"}, "occurred_at": {"2026-04-02"},
		"place": {"Example Playground"}, "lat": {"140.5"}, "lon": {"-77"}})
	if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad latitude: %d", r.StatusCode)
	}
	if !strings.Contains(r.Body, "decimal degrees") || !strings.Contains(r.Body, `value="Example Playground"`) {
		t.Errorf("the form did not come back with its message and values:\n%s", r.Body)
	}
	r = c.Post("/app/offenders/incidents", url.Values{"kind": {"attempted_abduction"}, "occurred_at": {"2026-04-02"},
		"place": {"Example Playground"}, "lat": {"40.5"}, "lon": {"-77"}, "identifiers": {"phone:202-555-0109\nvehicle:EXM 77"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("record incident: %d %s", r.StatusCode, r.Body)
	}
	incident := r.Header.Get("Location")
	if p := c.Get(incident); !strings.Contains(html.UnescapeString(p.Body), "phone:+12025550109\nvehicle:EXM77") {
		t.Errorf("incident page:\n%s", p.Body)
	}
	c.Get("/app/offenders/surveys")
	r = c.Post("/app/offenders/surveys", url.Values{"date": {"2026-01-01"}, "jurisdiction": {"State A"}, "count": {"many"}})
	if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `value="State A"`) {
		t.Errorf("bad count: %d", r.StatusCode)
	}
	r = c.Post("/app/offenders/surveys", url.Values{"date": {"2026-01-01"}, "jurisdiction": {"State A"}, "count": {"321"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("survey count: %d %s", r.StatusCode, r.Body)
	}
	if p := c.Get("/app/offenders/surveys"); !strings.Contains(p.Body, "national total 321") {
		t.Errorf("survey history:\n%s", p.Body)
	}

	caseworker := env.NewUser(t, "caseworker@example.org", haven.RoleCasework, "")
	cw := env.Client(t)
	cw.Login(caseworker)
	if p := cw.Get(incident); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "No offender is linked") {
		t.Errorf("a casework specialist on the incident: %d", p.StatusCode)
	}
	if p := cw.Get("/app/offenders"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a casework specialist on the offender list: %d, want 403", p.StatusCode)
	}
}
