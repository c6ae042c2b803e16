package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/victimid"
)

// TestIdentificationRequestEndToEnd: a series with two identified victims
// (one opted in to notification) and an unidentified series; an LE user
// submits a CSV hash list in which two hashes match exactly and one
// perceptually. The report lists the right series, counts and contacts,
// holds nothing else about victims, a notification is made for the
// opted-in victim only, and the downloads are a PDF and JSON.
func TestIdentificationRequestEndToEnd(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	sys := haven.SystemActor("test")
	ag := env.Agency(t, "Example County ICAC Task Force")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Test series bank", Source: "tests", Enabled: true, PDQThreshold: 31})
	if err != nil {
		t.Fatal(err)
	}
	var md5s []string
	for i := range 2 {
		sum := md5.Sum([]byte{byte(i), 'e', '2', 'e'})
		md5s = append(md5s, hex.EncodeToString(sum[:]))
		if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:], SeriesID: "SERIES-TEST-1"}); err != nil {
			t.Fatal(err)
		}
	}
	orig, _, err := pdq.HashReader(bytes.NewReader(sharedImage(t, "bridge-mods/aaa-orig.jpg")), pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: orig[:], SeriesID: "SERIES-TEST-2"}); err != nil {
		t.Fatal(err)
	}
	blurred, _, err := pdq.HashReader(bytes.NewReader(sharedImage(t, "bridge-mods/blur-a-little.jpg")), pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vidUser := env.NewUser(t, "vid@example.org", haven.RoleVictimID, "")
	vidActor := haven.Actor{UserID: vidUser.ID, Role: haven.RoleVictimID, AuthAt: env.Clock.Now()}
	for _, s := range []store.Series{{Code: "SERIES-TEST-1", Name: "Test series one"}, {Code: "SERIES-TEST-2", Name: "Test series two"}} {
		if _, err := env.App.VictimID.SaveSeries(ctx, vidActor, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []store.Victim{
		{ID: "V-TEST-1", Identified: true, AgencyID: ag.ID, OfficerName: "Officer One", OfficerEmail: "officer1@example.org",
			IdentifiedOn: env.Clock.Now(), Notify: victimid.NotifyYes, CounselName: "Counsel One", CounselContact: "counsel1@example.org",
			ApproxAge: 11, Series: []string{"SERIES-TEST-1"}},
		{ID: "V-TEST-2", Identified: true, AgencyID: ag.ID, OfficerName: "Officer Two", OfficerEmail: "officer2@example.org",
			IdentifiedOn: env.Clock.Now(), Notify: victimid.NotifyNo, Series: []string{"SERIES-TEST-1"}},
		{ID: "V-TEST-3", Notify: victimid.NotifyYes, Series: []string{"SERIES-TEST-2"}},
	} {
		if _, err := env.App.VictimID.SaveVictim(ctx, vidActor, v); err != nil {
			t.Fatal(err)
		}
	}

	le := env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
	web := env.Client(t)
	web.Login(le)
	if p := web.Get("/le/identification"); p.StatusCode != http.StatusOK {
		t.Fatalf("request form: %d", p.StatusCode)
	}
	list := "md5,pdq\n" + md5s[0] + ",\n" + md5s[1] + ",\n" + strings.Repeat("1", 32) + ",\n," + blurred.String() + "\n"
	r := web.Post("/le/identification", url.Values{"case_number": {"CASE-TEST-1"}, "purpose": {"investigation"}, "format": {"csv"}, "list": {list}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	loc := r.Header.Get("Location")
	page := web.Get(loc)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("report page: %d", page.StatusCode)
	}
	for _, want := range []string{"SERIES-TEST-1", "SERIES-TEST-2", "4 files submitted, 3 matched", "Officer One", "officer2@example.org", "unidentified"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the report page does not show %q", want)
		}
	}
	// The page's text without its links, asset names and random IDs (the
	// request ID in the footer, hashes: any digits may appear in them):
	// the victim's approximate age (11) must not be in it.
	text := regexp.MustCompile(`(href|src)="[^"]*"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}`).
		ReplaceAllString(page.Body, "")
	for _, banned := range []string{"Counsel One", "counsel1@example.org", "V-TEST-3", "do_not_notify", "11"} {
		if strings.Contains(text, banned) {
			t.Errorf("the report page shows %q", banned)
		}
	}
	pdf := web.Get(loc + "/report.pdf")
	if pdf.StatusCode != http.StatusOK || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Errorf("PDF: %d", pdf.StatusCode)
	}
	js := web.Get(loc + "/report.json")
	if js.StatusCode != http.StatusOK || !strings.Contains(js.Body, `"matched_files": 2`) || strings.Contains(js.Body, "Counsel") {
		t.Errorf("JSON: %d %s", js.StatusCode, js.Body)
	}
	// LE users never list series or victims.
	for _, path := range []string{"/app/victims", "/app/victims/records", "/app/victims/records/V-TEST-1", "/app/victims/series/SERIES-TEST-1"} {
		if got := web.Get(path); got.StatusCode == http.StatusOK || strings.Contains(got.Body, "V-TEST-1") {
			t.Errorf("LE %s: %d", path, got.StatusCode)
		}
	}
	// Another agency's user gets not found.
	other := env.NewUser(t, "le2@example.org", haven.RoleLE, env.Agency(t, "Example Other Agency").ID)
	web2 := env.Client(t)
	web2.Login(other)
	for _, p := range []string{loc, loc + "/report.pdf", loc + "/report.json"} {
		if got := web2.Get(p); got.StatusCode != http.StatusNotFound {
			t.Errorf("another agency's %s: %d, want 404", p, got.StatusCode)
		}
	}
	// One notification, for the opted-in identified victim; the support
	// worker sees counsel and marks it sent.
	sup := env.NewUser(t, "support@example.org", haven.RoleSupport, "")
	sw := env.Client(t)
	sw.Login(sup)
	q := sw.Get("/app/victims/notifications")
	if q.StatusCode != http.StatusOK || !strings.Contains(q.Body, "Counsel One") || !strings.Contains(q.Body, "CASE-TEST-1") ||
		strings.Count(q.Body, "Mark sent") != 1 {
		t.Fatalf("notification queue: %d", q.StatusCode)
	}
	ns, err := env.App.VictimID.Notifications(ctx, haven.Actor{UserID: sup.ID, Role: haven.RoleSupport, AuthAt: env.Clock.Now()})
	if err != nil || len(ns) != 1 || ns[0].VictimID != "V-TEST-1" {
		t.Fatalf("notifications: %v", err)
	}
	if r := sw.Post("/app/victims/notifications/"+ns[0].ID+"/sent", url.Values{"note": {"letter to counsel"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("mark sent: %d", r.StatusCode)
	}
	// The victim-ID team sees the series and victims; the admin does not
	// see counsel.
	vw := env.Client(t)
	vw.Login(vidUser)
	if p := vw.Get("/app/victims/series/SERIES-TEST-1"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "V-TEST-1") ||
		!strings.Contains(p.Body, "Known files (2 hash entries)") || !strings.Contains(p.Body, "<td>CASE-TEST-1</td><td>Example County ICAC Task Force</td><td>investigation</td><td>2</td>") {
		t.Errorf("series page: %d, without its entries or the case", p.StatusCode)
	}
	if p := vw.Get("/app/victims/stats"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "Identification requests per month") {
		t.Errorf("stats page: %d", p.StatusCode)
	}
	adm := env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	aw := env.Client(t)
	aw.Login(adm)
	if p := aw.Get("/app/victims/records/V-TEST-1"); p.StatusCode != http.StatusOK || strings.Contains(p.Body, "Counsel One") {
		t.Errorf("admin victim page: %d", p.StatusCode)
	}
}

// TestIdentificationRequestQueued: a list above the threshold is matched
// by a job; the page shows progress, then the report.
func TestIdentificationRequestQueued(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	sys := haven.SystemActor("test")
	ag := env.Agency(t, "Example County ICAC Task Force")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Test series bank", Source: "tests", Enabled: true, PDQThreshold: 31})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("queued"))
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:], SeriesID: "SERIES-TEST-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.VictimID.SaveSeries(ctx, haven.Actor{UserID: "vid", Role: haven.RoleVictimID, AuthAt: env.Clock.Now()},
		store.Series{Code: "SERIES-TEST-1", Name: "Test series one"}); err != nil {
		t.Fatal(err)
	}
	env.App.VictimID.SetJobs(env.App.Jobs, 2)
	le := env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
	web := env.Client(t)
	web.Login(le)
	hashes := hex.EncodeToString(sum[:]) + "\n" + strings.Repeat("2", 32) + "\n" + strings.Repeat("3", 32) + "\n"
	r := web.Post("/le/identification", url.Values{"case_number": {"CASE-TEST-9"}, "purpose": {"investigation"}, "hashes": {hashes}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	loc := r.Header.Get("Location")
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := web.Get(loc)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("report page: %d", p.StatusCode)
		}
		if strings.Contains(p.Body, "3 files submitted, 1 matched") && strings.Contains(p.Body, "SERIES-TEST-1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued request did not finish within 30 s:\n%s", p.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIdentificationRequestFiles: an LE user uploads a hash list file and
// a seized image as a multipart form; the image is hashed (PDQ) and
// matched perceptually, and a form without the CSRF field is refused.
func TestIdentificationRequestFiles(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	sys := haven.SystemActor("test")
	ag := env.Agency(t, "Example County ICAC Task Force")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Test series bank", Source: "tests", Enabled: true, PDQThreshold: 31})
	if err != nil {
		t.Fatal(err)
	}
	orig, _, err := pdq.HashReader(bytes.NewReader(sharedImage(t, "bridge-mods/aaa-orig.jpg")), pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: orig[:], SeriesID: "SERIES-TEST-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.VictimID.SaveSeries(ctx, haven.Actor{UserID: "vid", Role: haven.RoleVictimID, AuthAt: env.Clock.Now()},
		store.Series{Code: "SERIES-TEST-2", Name: "Test series two"}); err != nil {
		t.Fatal(err)
	}
	le := env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
	web := env.Client(t)
	web.Login(le)
	web.Get("/le/identification")
	form := func(csrf string) *http.Request {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if csrf != "" {
			_ = mw.WriteField("csrf", csrf)
		}
		_ = mw.WriteField("case_number", "CASE-TEST-3")
		_ = mw.WriteField("purpose", "investigation")
		_ = mw.WriteField("format", "csv")
		fw, _ := mw.CreateFormFile("list", "list.csv")
		_, _ = fw.Write([]byte("md5\n" + strings.Repeat("4", 32) + "\n"))
		fw, _ = mw.CreateFormFile("files", "seized.jpg")
		_, _ = fw.Write(sharedImage(t, "bridge-mods/blur-a-little.jpg"))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/le/identification", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return req
	}
	if r := web.Do(form("")); r.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF: got %d, want 403", r.StatusCode)
	}
	web.Get("/le/identification")
	r := web.Do(form(web.CSRF))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	p := web.Get(r.Header.Get("Location"))
	if !strings.Contains(p.Body, "2 files submitted, 1 matched") || !strings.Contains(p.Body, "SERIES-TEST-2") {
		t.Errorf("report page:\n%s", p.Body)
	}
}

// TestVictimFormsKeepInput: a series or victim record that cannot be
// saved comes back as the form with the message beside the field and
// the values typed, not as an error page; nothing is saved.
func TestVictimFormsKeepInput(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	vid := env.NewUser(t, "vid-forms@example.org", haven.RoleVictimID, "")
	c := env.Client(t)
	c.Login(vid)
	r := c.Post("/app/victims/records", url.Values{"id": {"V-FORM-1"}, "series": {"SERIES-FORM"}, "identified_on": {"31/12/2025"},
		"officer_name": {"Officer Example"}, "notify": {"prosecution_only"}})
	if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid date: status %d, want 400 or 422", r.StatusCode)
	}
	for _, want := range []string{`class="field-error">give the date as YYYY-MM-DD`, `value="V-FORM-1"`, `value="Officer Example"`,
		`<option value="prosecution_only" selected>`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("victim form: no %q in the page", want)
		}
	}
	r = c.Post("/app/victims/records", url.Values{"id": {"V-FORM-1"}, "approx_age": {"twelve"}})
	if !strings.Contains(r.Body, `class="field-error">give the approximate age at production as a whole number of years`) {
		t.Errorf("age: status %d, no field error", r.StatusCode)
	}
	r = c.Post("/app/victims/series", url.Values{"code": {"SERIES-FORM"}, "name": {"Form series"}, "status": {"halfway"}})
	if r.StatusCode >= 500 || r.StatusCode < 400 || !strings.Contains(r.Body, `class="field-error">choose identified, partially, unidentified or derived`) ||
		!strings.Contains(r.Body, `value="Form series"`) {
		t.Errorf("series form: status %d", r.StatusCode)
	}
	if p := c.Get("/app/victims/records"); strings.Contains(p.Body, "V-FORM-1") {
		t.Error("the invalid victim record was saved")
	}
	if p := c.Get("/app/victims"); strings.Contains(p.Body, "SERIES-FORM") {
		t.Error("the invalid series was saved")
	}
}
