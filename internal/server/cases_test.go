package server_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
)

// caseReport files a finished child sex trafficking report and returns
// its number.
func caseReport(t *testing.T, env *haventest.Env) int64 {
	t.Helper()
	ctx := context.Background()
	u := env.NewUser(t, "esp-casework", haven.RoleESP, "")
	esp := haven.Actor{UserID: u.ID, Role: haven.RoleESP}
	sub, err := env.App.Intake.Submit(ctx, esp, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{
		Type: haven.IncidentSexTrafficking, DateTime: env.Clock.Now().Add(-time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Intake.Finish(ctx, esp, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	return sub.Report.ID
}

var caseLocRE = regexp.MustCompile(`^/app/cases/([0-9a-f-]{36})\?done=opened$`)

// TestCasePagesAndAgencyAccess: a specialist opens a case from a report
// over HTTP and works it; an officer of the agency sees the case only
// once shared, read-only and without internal notes; before that, and for
// another agency, the case answers exactly like a missing ID.
func TestCasePagesAndAgencyAccess(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	report := caseReport(t, env)
	ag := env.Agency(t, "Example County Sheriff")
	other := env.Agency(t, "Example Other Police")
	spec := env.Client(t)
	spec.Login(env.NewUser(t, "specialist@example.org", haven.RoleCasework, ""))

	if p := spec.Get("/app/cases/new?report=" + strconv.FormatInt(report, 10)); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `value="`+strconv.FormatInt(report, 10)+`"`) {
		t.Fatalf("new case form: %d, report prefilled: %v", p.StatusCode, strings.Contains(p.Body, strconv.FormatInt(report, 10)))
	}
	// A validation problem comes back on its field.
	r := spec.Post("/app/cases", url.Values{"report": {strconv.FormatInt(report, 10)}, "type": {"family_abduction"}, "title": {"Example case"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "field-error") {
		t.Fatalf("missing pseudonym: %d", r.StatusCode)
	}
	r = spec.Post("/app/cases", url.Values{"report": {strconv.FormatInt(report, 10)}, "type": {"family_abduction"}, "title": {"Example family abduction"},
		"child_pseudonym": {"Child Example A"}, "child_age": {"7"}, "child_description": {"synthetic: red coat"}})
	m := caseLocRE.FindStringSubmatch(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("open: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	id := m[1]
	base := "/app/cases/" + id
	for path, form := range map[string]url.Values{
		"/notes":      {"note": {"Internal synthetic note"}},
		"/people":     {"person_name": {"Example Person One"}, "person_role": {"parent"}, "person_contact": {"555-0100"}},
		"/indicators": {"indicator": {"age_under_11", "unknown_adult"}},
		"/tasks":      {"task_title": {"Canvass the park"}, "task_owner": {"Example Worker"}, "task_due": {"2026-12-01"}},
		"/offenders":  {"offender": {"OFF-EXAMPLE-7"}},
	} {
		if r := spec.Post(base+path, form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", path, r.StatusCode, r.Body)
		}
	}
	page := spec.Get(base)
	for _, want := range []string{"Child Example A", "synthetic: red coat", "Internal synthetic note", "Child under 11 years of age",
		"Canvass the park", "OFF-EXAMPLE-7", "CyberTipline report " + strconv.FormatInt(report, 10) + " linked"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}

	for query, want := range map[string]bool{"": true, "?type=family_abduction": true, "?type=trafficking_victim": false,
		"?status=open": true, "?status=closed": false} {
		if got := strings.Contains(spec.Get("/app/cases"+query).Body, `href="`+base+`"`); got != want {
			t.Errorf("case list %q shows the case: %v, want %v", query, got, want)
		}
	}

	// A photo, as the browser sends it: fields first, then the file.
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var pngBytes bytes.Buffer
	_ = png.Encode(&pngBytes, img)
	photo := func(csrf string) *haventest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", csrf)
		_ = mw.WriteField("caption", "synthetic photo")
		fw, _ := mw.CreateFormFile("photo", "photo.png")
		fw.Write(pngBytes.Bytes())
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+base+"/photos", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return spec.Do(req)
	}
	csrf := spec.CSRF
	if r := photo("not-the-token"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("photo with a wrong CSRF token: %d, want 403", r.StatusCode)
	}
	if r := photo(csrf); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("photo: %d\n%s", r.StatusCode, r.Body)
	}
	page = spec.Get(base)
	photos := regexp.MustCompile(`href="(/app/cases/photos/[0-9a-f-]{36})"`).FindAllStringSubmatch(page.Body, -1)
	if len(photos) != 1 {
		t.Fatalf("the case page links %d photos, want the one sent with the right token", len(photos))
	}
	pm := photos[0]
	if r := spec.Get(pm[1]); r.StatusCode != http.StatusOK || r.Body != pngBytes.String() || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("photo read back: %d, %d bytes, %s", r.StatusCode, len(r.Body), r.Header.Get("Content-Type"))
	}

	// The agency's officer: not shared yet, so not found like a missing ID.
	officer := env.Client(t)
	officer.Login(env.NewUser(t, "officer@example.org", haven.RoleLE, ag.ID))
	hidden, missing := officer.Get("/le/cases/"+id), officer.Get("/le/cases/"+haven.NewID())
	if hidden.StatusCode != http.StatusNotFound || missing.StatusCode != http.StatusNotFound {
		t.Fatalf("unshared: %d, missing: %d, want 404 both", hidden.StatusCode, missing.StatusCode)
	}
	if stripPerRequest(hidden.Body) != stripPerRequest(missing.Body) {
		t.Error("an unshared case and a missing one answer differently")
	}
	if l := officer.Get("/le/cases"); strings.Contains(l.Body, "Example family abduction") {
		t.Error("the portal lists an unshared case")
	}
	if r := spec.Post(base+"/agencies", url.Values{"agency": {ag.ID}, "agency_role": {"investigating"}, "shared": {"on"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("share: %d", r.StatusCode)
	}
	if l := officer.Get("/le/cases"); !strings.Contains(l.Body, `href="/le/cases/`+id+`"`) {
		t.Error("the portal does not list the shared case")
	}
	shared := officer.Get("/le/cases/" + id)
	if shared.StatusCode != http.StatusOK || !strings.Contains(shared.Body, "Child Example A") {
		t.Fatalf("shared case: %d", shared.StatusCode)
	}
	for _, banned := range []string{"Internal synthetic note", "555-0100", "/app/cases/photos/", "<form method=\"post\" action=\"/app"} {
		if strings.Contains(shared.Body, banned) {
			t.Errorf("the agency's view shows %q", banned)
		}
	}
	// Officers never reach the staff pages; another agency never sees it.
	if r := officer.Get(base); r.StatusCode != http.StatusForbidden {
		t.Errorf("officer on the staff case page: %d", r.StatusCode)
	}
	stranger := env.Client(t)
	stranger.Login(env.NewUser(t, "officer2@example.org", haven.RoleLE, other.ID))
	if r := stranger.Get("/le/cases/" + id); r.StatusCode != http.StatusNotFound {
		t.Errorf("another agency: %d, want 404", r.StatusCode)
	}
}

// TestAssistanceRequestsHTTP: an officer asks for assistance in the
// portal; staff triage, assign and deliver; the officer reads the
// analysis on the page and as a PDF; another agency cannot.
func TestAssistanceRequestsHTTP(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ag := env.Agency(t, "Example County Sheriff")
	officer := env.Client(t)
	officer.Login(env.NewUser(t, "officer@example.org", haven.RoleLE, ag.ID))
	officer.Get("/le/cases")
	r := officer.Post("/le/cases/assistance", url.Values{"requester_name": {"Example Officer"}, "requester_contact": {"officer@example.org"},
		"their_reference": {"CASE-EX-9"}, "question": {"Please map the synthetic accounts."}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/le/cases/assistance/") {
		t.Fatalf("submit: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	loc := strings.TrimSuffix(r.Header.Get("Location"), "?done=created")
	id := strings.TrimPrefix(loc, "/le/cases/assistance/")

	specUser := env.NewUser(t, "specialist@example.org", haven.RoleCasework, "")
	spec := env.Client(t)
	spec.Login(specUser)
	if l := spec.Get("/app/cases/assistance"); !strings.Contains(l.Body, "/app/cases/assistance/"+id) {
		t.Fatal("the request is not listed for staff")
	}
	staffPage := "/app/cases/assistance/" + id
	spec.Get(staffPage)
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/triage", url.Values{"priority": {"urgent"}}},
		{"/assign", url.Values{"assignee": {specUser.ID}}},
		{"/deliver", url.Values{"analysis": {"Synthetic analysis: two linked accounts."}}},
	} {
		if r := spec.Post(staffPage+step.path, step.form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", step.path, r.StatusCode, r.Body)
		}
	}
	p := officer.Get(loc)
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "Synthetic analysis: two linked accounts.") {
		t.Fatalf("officer's page: %d", p.StatusCode)
	}
	if pdf := officer.Get(loc + "/analysis.pdf"); pdf.StatusCode != http.StatusOK || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Errorf("PDF: %d", pdf.StatusCode)
	}
	stranger := env.Client(t)
	stranger.Login(env.NewUser(t, "officer2@example.org", haven.RoleLE, env.Agency(t, "Example Other Police").ID))
	for _, path := range []string{loc, loc + "/analysis.pdf"} {
		if r := stranger.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("another agency %s: %d, want 404", path, r.StatusCode)
		}
	}
	if r := spec.Post(staffPage+"/close", url.Values{"outcome": {"Arrest made (synthetic)."}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", r.StatusCode)
	}
	if p := officer.Get(loc); !strings.Contains(p.Body, "Arrest made (synthetic).") {
		t.Error("the officer does not see the outcome")
	}
}

// strip removes the per-request parts of a page (request ID, CSRF token).
func stripPerRequest(body string) string {
	body = regexp.MustCompile(`Request [0-9a-f]+`).ReplaceAllString(body, "")
	return regexp.MustCompile(`name="csrf" value="[^"]+"`).ReplaceAllString(body, "")
}
