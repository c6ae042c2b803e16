package server_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/referral"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// referralEnv is a running server with two agencies, an analyst, a user
// of each agency, an ESP and one filed ESP report with one file.
type referralEnv struct {
	env            *haventest.Env
	icac, county   *haven.Agency
	analyst        *haventest.User
	leA, leB       *haventest.User
	esp            *haventest.User
	espActor       haven.Actor
	report         int64
	fileID         string
	staff, portalA *haventest.Client
	portalB        *haventest.Client
}

func startReferral(t *testing.T, engine string) *referralEnv {
	t.Helper()
	ctx := context.Background()
	sys := haven.SystemActor("test")
	e := &referralEnv{env: haventest.Start(t, engine)}
	var err error
	if e.icac, err = e.env.App.Accounts.CreateAgency(ctx, sys, haven.Agency{Name: "Example State ICAC Task Force", Kind: haven.AgencyICAC}); err != nil {
		t.Fatal(err)
	}
	if e.county, err = e.env.App.Accounts.CreateAgency(ctx, sys, haven.Agency{Name: "Example County Sheriff's Office", Kind: haven.AgencyLocal}); err != nil {
		t.Fatal(err)
	}
	e.analyst = e.env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	e.leA = e.env.NewUser(t, "detective@icac.example.org", haven.RoleLE, e.icac.ID)
	e.leB = e.env.NewUser(t, "deputy@county.example.org", haven.RoleLE, e.county.ID)
	e.esp = e.env.NewUser(t, "Example Photos", haven.RoleESP, "")
	e.espActor = haven.Actor{UserID: e.esp.ID, Role: haven.RoleESP, Addr: "203.0.113.5"}
	e.report, e.fileID = e.fileReport(t, true)
	e.staff, e.portalA, e.portalB = e.env.Client(t), e.env.Client(t), e.env.Client(t)
	e.staff.Login(e.analyst)
	e.portalA.Login(e.leA)
	e.portalB.Login(e.leB)
	return e
}

// fileReport files a synthetic report as the ESP, with one small file
// when withFile is set.
func (e *referralEnv) fileReport(t *testing.T, withFile bool) (int64, string) {
	t.Helper()
	ctx := context.Background()
	now := e.env.Clock.Now()
	rep := &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "Example Chat", DateTime: now.Add(-time.Hour)},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", LastName: "Safety", Emails: []haven.Email{{Value: "abuse@example.org"}}}},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "example_user_7",
			IPCaptures: []haven.IPCapture{{IPAddress: "198.51.100.7", EventName: "Login", DateTime: now.Add(-2 * time.Hour)}}}}}
	sub, err := e.env.App.Intake.Submit(ctx, e.espActor, haven.SourceESP, rep)
	if err != nil {
		t.Fatal(err)
	}
	fileID := ""
	if withFile {
		f, err := e.env.App.Intake.AddFile(ctx, e.espActor, sub.Report.ID, strings.NewReader("synthetic benign bytes"), "pattern.txt", "text/plain")
		if err != nil {
			t.Fatal(err)
		}
		fileID = f.ID
	}
	if _, err := e.env.App.Intake.Finish(ctx, e.espActor, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	return sub.Report.ID, fileID
}

// pdfStrings returns the strings the PDF's content streams show,
// inflating compressed streams.
func pdfStrings(b []byte) string {
	var out strings.Builder
	str := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	for _, m := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(b, -1) {
		data := m[1]
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if inflated, err := io.ReadAll(zr); err == nil {
				data = inflated
			}
		}
		for _, s := range str.FindAllSubmatch(data, -1) {
			out.Write(s[1])
			out.WriteByte('\n')
		}
	}
	return out.String()
}

func auditEvents(t *testing.T, env *haventest.Env, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := env.App.Store.View(context.Background(), func(tx *store.Tx) (err error) {
		out, err = tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ, Limit: 500})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReferralPortalFlow: an analyst refers a report; the agency's user
// sees it in the portal, downloads the PDF and the JSON, acknowledges,
// asks for more and records outcomes; the staff panel shows all of it;
// revoking the referral ends the agency's access on its next request.
func TestReferralPortalFlow(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := startReferral(t, engine)
			id := e.report
			base := fmt.Sprintf("/app/reports/%d", id)

			r := e.staff.Get(base + "/referral?country=US&region=CA")
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Referral package") || !strings.Contains(r.Body, e.icac.Name) {
				t.Fatalf("staff referral page: %d\n%s", r.StatusCode, r.Body)
			}
			r = e.staff.Post(base+"/referrals", url.Values{})
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "choose at least one agency") {
				t.Errorf("refer to nobody: %d", r.StatusCode)
			}
			r = e.staff.Post(base+"/referrals", url.Values{"agency": {e.icac.ID}, "note": {"Suspect appears local to the task force."}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base+"/referral?done=referred" {
				t.Fatalf("refer: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
			}

			// The agency's portal.
			r = e.portalA.Get("/le")
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `href="/le/referrals"`) || !strings.Contains(r.Body, "1 not acknowledged yet") {
				t.Errorf("portal home: %d\n%s", r.StatusCode, r.Body)
			}
			r = e.portalA.Get("/le/referrals")
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, fmt.Sprintf(`href="/le/referrals/%d"`, id)) || !strings.Contains(r.Body, "365 days left") {
				t.Fatalf("portal list: %d\n%s", r.StatusCode, r.Body)
			}
			page := fmt.Sprintf("/le/referrals/%d", id)
			r = e.portalA.Get(page)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("portal page: %d\n%s", r.StatusCode, r.Body)
			}
			for _, want := range []string{"Suspect appears local to the task force.", "example_user_7",
				fmt.Sprintf(`href="/le/reports/%d/files/%s/view"`, id, e.fileID), "Acknowledge receipt"} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("the portal page lacks %q", want)
				}
			}
			r = e.portalA.Get(page + "/package.pdf")
			if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/pdf" ||
				!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(r.Body, "%PDF-") {
				t.Fatalf("PDF: %d %v %.20q", r.StatusCode, r.Header, r.Body)
			}
			if text := pdfStrings([]byte(r.Body)); !strings.Contains(text, fmt.Sprintf("Report %d", id)) {
				t.Errorf("the PDF does not show the report number:\n%s", text)
			}
			r = e.portalA.Get(page + "/package.json")
			var doc struct {
				Report struct {
					ID    int64 `json:"id"`
					Files []struct {
						ID string `json:"fileId"`
					} `json:"files"`
				} `json:"report"`
			}
			if r.StatusCode != http.StatusOK || json.Unmarshal([]byte(r.Body), &doc) != nil || doc.Report.ID != id ||
				len(doc.Report.Files) != 1 || doc.Report.Files[0].ID != e.fileID {
				t.Errorf("JSON: %d\n%s", r.StatusCode, r.Body)
			}

			// Acknowledge, ask, record and update the outcome.
			e.portalA.Get(page)
			for _, step := range []struct {
				path string
				form url.Values
				done string
			}{
				{"/acknowledge", nil, "acknowledged"},
				{"/messages", url.Values{"text": {"Do you hold the subscriber details?"}}, "asked"},
				{"/outcome", url.Values{"code": {"investigation_opened"}, "note": {"Case opened (synthetic)."}}, "outcome"},
				{"/outcome", url.Values{"code": {"arrest"}}, "outcome"},
			} {
				r = e.portalA.Post(page+step.path, step.form)
				if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != page+"?done="+step.done {
					t.Fatalf("%s: %d %s\n%s", step.path, r.StatusCode, r.Header.Get("Location"), r.Body)
				}
			}
			r = e.portalA.Post(page+"/outcome", url.Values{"code": {"solved"}})
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "choose the outcome") {
				t.Errorf("unknown outcome code: %d", r.StatusCode)
			}

			// It flows back to the analyst.
			r = e.staff.Get(base + "/referral")
			for _, want := range []string{"acknowledged", "Investigation opened", "Arrest", "Do you hold the subscriber details?", "Case opened (synthetic)."} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("the staff panel lacks %q", want)
				}
			}
			sys := haven.Actor{UserID: e.analyst.ID, Role: haven.RoleIntake}
			panel, err := e.env.App.Referrals.Panel(context.Background(), sys, id, "US", "US-CA")
			if err != nil {
				t.Fatal(err)
			}
			if v := panel.Live(); len(v) != 1 || !v[0].Acknowledged() || v[0].Outcome() == nil || v[0].Outcome().Code != "arrest" || len(v[0].Outcomes) != 2 {
				t.Errorf("panel data: %+v", v)
			}
			r = e.staff.Post(fmt.Sprintf("%s/referrals/%s/messages", base, e.icac.ID), url.Values{"text": {"Yes: in the supplement."}})
			if r.StatusCode != http.StatusSeeOther {
				t.Errorf("staff reply: %d\n%s", r.StatusCode, r.Body)
			}
			if r = e.portalA.Get(page); !strings.Contains(r.Body, "Yes: in the supplement.") {
				t.Error("the agency does not see the hotline's reply")
			}
			if n := len(auditEvents(t, e.env, "referral.download")); n != 2 {
				t.Errorf("got %d referral.download events, want 2", n)
			}

			// Revocation ends the agency's access on its next request.
			r = e.staff.Post(fmt.Sprintf("%s/referrals/%s/revoke", base, e.icac.ID), url.Values{"reason": {"Wrong agency (test)."}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoke: %d\n%s", r.StatusCode, r.Body)
			}
			for _, p := range []string{page, page + "/package.pdf", page + "/package.json"} {
				if r = e.portalA.Get(p); r.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s after revocation: %d, want 404", p, r.StatusCode)
				}
			}
			if r = e.portalA.Get("/le/referrals"); strings.Contains(r.Body, fmt.Sprintf(`href="/le/referrals/%d"`, id)) {
				t.Error("the revoked referral is still listed")
			}
		})
	}
}

var requestIDs = regexp.MustCompile(`[0-9a-f]{24}`)

// TestLEOtherAgencyGets404 (SECURITY.md 1): a user of another agency gets,
// for the page, the PDF, the JSON and every action on a referred report,
// exactly the answer given for a report that does not exist; and the
// refusals are audited.
func TestLEOtherAgencyGets404(t *testing.T) {
	e := startReferral(t, "sqlite")
	if _, err := e.env.App.Referrals.Refer(context.Background(), haven.Actor{UserID: e.analyst.ID, Role: haven.RoleIntake},
		e.report, []string{e.icac.ID}, "For the task force only."); err != nil {
		t.Fatal(err)
	}
	type req struct {
		method, suffix string
		form           url.Values
	}
	reqs := []req{
		{"GET", "", nil},
		{"GET", "/package.pdf", nil},
		{"GET", "/package.json", nil},
		{"POST", "/acknowledge", url.Values{}},
		{"POST", "/messages", url.Values{"text": {"Anything?"}}},
		{"POST", "/messages", url.Values{"text": {""}}},
		{"POST", "/outcome", url.Values{"code": {"arrest"}}},
		{"POST", "/outcome", url.Values{"code": {"not-a-code"}}},
	}
	do := func(c *haventest.Client, id string, q req) *haventest.Response {
		t.Helper()
		c.Get("/le/referrals") // a fresh CSRF token
		if q.method == "GET" {
			return c.Get("/le/referrals/" + id + q.suffix)
		}
		return c.Post("/le/referrals/"+id+q.suffix, q.form)
	}
	for _, q := range reqs {
		other := do(e.portalB, fmt.Sprint(e.report), q)
		missing := do(e.portalB, fmt.Sprint(e.report+1000), q)
		garbage := do(e.portalB, "not-a-number", q)
		for name, got := range map[string]*haventest.Response{"referred elsewhere": other, "missing": missing, "malformed": garbage} {
			if got.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s (%s): got %d, want 404", q.method, q.suffix, name, got.StatusCode)
			}
		}
		a, b := requestIDs.ReplaceAllString(other.Body, "ID"), requestIDs.ReplaceAllString(missing.Body, "ID")
		if a != b || a != requestIDs.ReplaceAllString(garbage.Body, "ID") || other.Header.Get("Content-Type") != missing.Header.Get("Content-Type") {
			t.Errorf("%s %s: the answer for another agency's report differs from a missing report's", q.method, q.suffix)
		}
		if strings.Contains(other.Body, "For the task force only.") || strings.Contains(other.Body, e.icac.Name) {
			t.Errorf("%s %s: the answer leaks the referral", q.method, q.suffix)
		}
	}
	// The rightful agency still sees it, with nothing changed by the refusals.
	r := e.portalA.Get(fmt.Sprintf("/le/referrals/%d", e.report))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Acknowledge receipt") || strings.Contains(r.Body, "Anything?") {
		t.Errorf("the rightful agency's page: %d", r.StatusCode)
	}
	denied := 0
	for _, typ := range []string{"referral.read", "referral.download", "referral.acknowledge", "referral.message", "referral.outcome"} {
		for _, ev := range auditEvents(t, e.env, typ) {
			if ev.Outcome == haven.OutcomeDenied && ev.AgencyID == e.county.ID {
				denied++
			}
		}
	}
	if want := 3 * len(reqs); denied != want {
		t.Errorf("got %d audited refusals, want %d", denied, want)
	}
}

// TestFeedbackAPI: an ESP gets aggregated, anonymous outcomes of its own
// reports with small counts suppressed; other accounts are refused.
func TestFeedbackAPI(t *testing.T) {
	e := startReferral(t, "sqlite")
	ctx := context.Background()
	analyst := haven.Actor{UserID: e.analyst.ID, Role: haven.RoleIntake}
	leA := haven.Actor{UserID: e.leA.ID, Role: haven.RoleLE, AgencyID: e.icac.ID}
	ids := []int64{e.report}
	for range 6 {
		id, _ := e.fileReport(t, false)
		ids = append(ids, id)
	}
	// Seven reports this month: five referred (three with an arrest),
	// two informational.
	for _, id := range ids[:5] {
		if _, err := e.env.App.Referrals.Refer(ctx, analyst, id, []string{e.icac.ID}, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids[:3] {
		if err := e.env.App.Referrals.RecordOutcome(ctx, leA, id, referral.OutcomeArrest, ""); err != nil {
			t.Fatal(err)
		}
	}
	token, err := e.env.App.Accounts.CreateAPIToken(ctx, haven.SystemActor("test"), e.esp.ID, "feedback")
	if err != nil {
		t.Fatal(err)
	}
	get := func(tok string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodGet, e.env.HTTP.URL+"/api/v1/feedback", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	status, _, body := get(token)
	if status != http.StatusOK {
		t.Fatalf("feedback: %d\n%s", status, body)
	}
	var f struct {
		MinCount int `json:"minCount"`
		Months   []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	if f.MinCount != 5 || len(f.Months) != 1 {
		t.Fatalf("feedback: %s", body)
	}
	m := f.Months[0]
	want := map[string]string{"month": `"2026-05"`, "reports": "7", "informational": `"\u003c5"`, "outcomes": `{"arrest":"\u003c5"}`}
	for k, v := range want {
		var compact bytes.Buffer
		_ = json.Compact(&compact, m[k])
		if compact.String() != v {
			t.Errorf("%s: got %s, want %s", k, m[k], v)
		}
	}
	if _, ok := m["referred"]; ok {
		t.Errorf("referred (5) is shown beside a suppressed informational (2), which it would reveal: %s", body)
	}
	if len(m) != len(want) {
		t.Errorf("unexpected members: %s", body)
	}
	if strings.Contains(body, e.icac.Name) || strings.Contains(body, e.icac.ID) {
		t.Errorf("the feedback names an agency: %s", body)
	}
	// Law enforcement may hold a token, but not this feedback.
	leToken, err := e.env.App.Accounts.CreateAPIToken(ctx, haven.SystemActor("test"), e.leA.ID, "not feedback")
	if err != nil {
		t.Fatal(err)
	}
	if status, ct, _ := get(leToken); status != http.StatusForbidden || ct != "application/problem+json" {
		t.Errorf("feedback for law enforcement: %d %s, want 403 problem+json", status, ct)
	}
}

// TestReferralJurisdictionPage: a supervisor sets areas and rules on the
// jurisdiction page, tries them, and the analyst's panel suggests the
// agency with its rule.
func TestReferralJurisdictionPage(t *testing.T) {
	e := startReferral(t, "sqlite")
	sup := e.env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	c := e.env.Client(t)
	c.Login(sup)
	r := c.Get("/app/admin/jurisdiction")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("page: %d\n%s", r.StatusCode, r.Body)
	}
	r = c.Post("/app/admin/jurisdiction/areas", url.Values{"agency": {e.icac.ID}, "areas": {"US-CA, us-or"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("areas: %d\n%s", r.StatusCode, r.Body)
	}
	c.Get("/app/admin/jurisdiction")
	r = c.Post("/app/admin/jurisdiction/areas", url.Values{"agency": {e.icac.ID}, "areas": {"Atlantis"}})
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad areas: %d", r.StatusCode)
	}
	r = c.Post("/app/admin/jurisdiction/rules", url.Values{"label": {"The region's ICAC task force"}, "choose": {"kind:icac"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add rule: %d\n%s", r.StatusCode, r.Body)
	}
	c.Get("/app/admin/jurisdiction")
	r = c.Post("/app/admin/jurisdiction/rules", url.Values{"choose": {"kind:icac"}, "region": {"MX-BCN"}, "country": {"US"}})
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad rule: %d", r.StatusCode)
	}
	r = c.Get("/app/admin/jurisdiction?country=US&region=US-CA")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, e.icac.Name+"</strong>") || !strings.Contains(r.Body, "covering US-CA") {
		t.Errorf("try: %d\n%s", r.StatusCode, r.Body)
	}
	r = e.staff.Get(fmt.Sprintf("/app/reports/%d/referral?country=US&region=US-OR", e.report))
	if !strings.Contains(r.Body, "The region&#39;s ICAC task force (icac agency covering US-OR, rule 1)") ||
		!strings.Contains(r.Body, fmt.Sprintf(`value="%s" checked`, e.icac.ID)) {
		t.Errorf("the panel does not suggest the task force:\n%s", r.Body)
	}
	for _, typ := range []string{"agency.areas", "jurisdiction.rule_add"} {
		if len(auditEvents(t, e.env, typ)) != 1 {
			t.Errorf("%s not audited once", typ)
		}
	}
	// Analysts may not change the rules.
	if r = e.staff.Get("/app/admin/jurisdiction"); r.StatusCode != http.StatusForbidden {
		t.Errorf("jurisdiction page for an analyst: %d, want 403", r.StatusCode)
	}
}
