package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
)

// The ESP API conformance suite: it drives /ispws as an ESP integration
// would, over HTTP, and checks the protocol's answers (codes, statuses,
// element order, headers) for every endpoint and every error code a
// client can provoke.

const minimalReport = `<?xml version="1.0" encoding="UTF-8"?>
<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <incidentDateTime>2025-01-02T03:04:05Z</incidentDateTime>
  </incidentSummary>
  <reporter><reportingPerson><firstName>A</firstName><lastName>B</lastName><email>abuse@example.org</email></reportingPerson></reporter>
</report>`

func reportWith(summaryExtra string) string {
	return strings.Replace(minimalReport, "<incidentDateTime>", summaryExtra+"<incidentDateTime>", 1)
}

type espTest struct {
	env   *haventest.Env
	c     *ispwsclient.Client
	other *ispwsclient.Client
	esp   *haventest.User
	ctx   context.Context
	t     *testing.T
}

func newESPTest(t *testing.T) *espTest {
	env := haventest.Start(t, "sqlite")
	u := env.NewUser(t, "Example Photos", haven.RoleESP, "")
	o := env.NewUser(t, "Other Service", haven.RoleESP, "")
	base := env.HTTP.URL + "/ispws"
	return &espTest{env: env, esp: u, ctx: context.Background(), t: t,
		c:     &ispwsclient.Client{BaseURL: base, Username: u.Login, Password: u.Password},
		other: &ispwsclient.Client{BaseURL: base, Username: o.Login, Password: o.Password}}
}

// want checks an answer's code and HTTP status, that it is never a 5xx
// unless expected, and that it carries a Request-ID.
func (e *espTest) want(name string, r *ispwsclient.Response, err error, code, status int) *ispwsclient.Response {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	if r.Code != code || r.HTTPStatus != status {
		e.t.Errorf("%s: got code %d HTTP %d (%q), want code %d HTTP %d", name, r.Code, r.HTTPStatus, r.Description, code, status)
	}
	if r.RequestID == "" {
		e.t.Errorf("%s: no Request-ID header", name)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		e.t.Errorf("%s: Content-Type %q", name, ct)
	}
	return r
}

func (e *espTest) submit(doc string) int64 {
	e.t.Helper()
	r, err := e.c.Submit(e.ctx, []byte(doc))
	e.want("submit", r, err, 0, 200)
	if r.ReportID <= 0 {
		e.t.Fatalf("submit: no report ID in %s", r.Body)
	}
	return r.ReportID
}

func TestESPStatusAuthAndXSD(t *testing.T) {
	e := newESPTest(t)
	r, err := e.c.Status(e.ctx)
	e.want("status", r, err, 0, 200)
	if !strings.Contains(r.Description, "Remote User : "+e.esp.Login) || !strings.Contains(r.Description, "Remote Ip : 127.0.0.1") {
		t.Errorf("status description %q", r.Description)
	}
	r2, _ := e.c.Status(e.ctx)
	if r2.RequestID == r.RequestID {
		t.Error("two responses carry the same Request-ID")
	}
	for name, c := range map[string]*ispwsclient.Client{
		"no credentials":  {BaseURL: e.c.BaseURL},
		"wrong password":  {BaseURL: e.c.BaseURL, Username: e.esp.Login, Password: "wrong"},
		"unknown account": {BaseURL: e.c.BaseURL, Username: "nobody-000000", Password: e.esp.Password},
	} {
		r, err := c.Status(e.ctx)
		e.want(name, r, err, 2000, 401)
		if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="`) {
			t.Errorf("%s: WWW-Authenticate %q", name, got)
		}
	}
	// Staff credentials are not ESP credentials.
	admin := e.env.NewUser(t, "admin@example.org", haven.RoleAdmin, "")
	r, err = (&ispwsclient.Client{BaseURL: e.c.BaseURL, Username: admin.Login, Password: admin.Password}).Status(e.ctx)
	e.want("staff account", r, err, 2000, 401)

	x, err := e.c.XSD(e.ctx)
	if err != nil || x.HTTPStatus != 200 || !bytes.Contains(x.Body, []byte("<xs:schema")) || !bytes.Contains(x.Body, []byte(`name="report"`)) {
		t.Fatalf("xsd: %v %d %.200s", err, x.HTTPStatus, x.Body)
	}
	r, err = e.c.Do(e.ctx, http.MethodGet, "nonsense", "", nil)
	e.want("unknown endpoint", r, err, 1210, 404)
}

func TestESPRotationAndDisable(t *testing.T) {
	e := newESPTest(t)
	status := func(name string, c *ispwsclient.Client, code, httpStatus int) {
		t.Helper()
		r, err := c.Status(e.ctx)
		e.want(name, r, err, code, httpStatus)
	}
	status("before", e.c, 0, 200)
	creds, err := e.env.App.Accounts.RotateESP(e.ctx, haven.SystemActor("test"), e.esp.ID)
	if err != nil {
		t.Fatal(err)
	}
	status("old password after rotation", e.c, 2000, 401)
	fresh := &ispwsclient.Client{BaseURL: e.c.BaseURL, Username: creds.Username, Password: creds.Password}
	status("new password", fresh, 0, 200)
	if err := e.env.App.Accounts.SetDisabled(e.ctx, haven.SystemActor("test"), e.esp.ID, true); err != nil {
		t.Fatal(err)
	}
	status("disabled account", fresh, 2000, 401)
}

func TestESPFullExchange(t *testing.T) {
	e := newESPTest(t)
	id := e.submit(minimalReport)
	data := []byte("synthetic file bytes for the ESP conformance test")
	up, err := e.c.Upload(e.ctx, id, "synthetic-1.jpg", bytes.NewReader(data))
	e.want("upload", up, err, 0, 200)
	sum := md5.Sum(data)
	if up.Hash != hex.EncodeToString(sum[:]) {
		t.Errorf("upload hash %q, want the MD5 of the bytes %x", up.Hash, sum)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(up.FileID) || up.ReportID != id {
		t.Errorf("upload fileId %q reportId %d", up.FileID, up.ReportID)
	}
	if !regexp.MustCompile(`(?s)<responseCode>.*</responseCode>\s*<responseDescription>.*</responseDescription>\s*<reportId>.*</reportId>\s*<fileId>.*</fileId>\s*<hash>`).Match(up.Body) {
		t.Errorf("upload response elements out of order: %s", up.Body)
	}
	fi := fmt.Sprintf(`<fileDetails><reportId>%d</reportId><fileId>%s</fileId><fileName>synthetic-1.jpg</fileName>`+
		`<fileViewedByEsp>true</fileViewedByEsp><fileAnnotations><viral/><potentialMeme>true</potentialMeme></fileAnnotations></fileDetails>`, id, up.FileID)
	r, err := e.c.FileInfo(e.ctx, []byte(fi))
	e.want("fileinfo", r, err, 0, 200)
	if r.ReportID != id || r.FileID != up.FileID {
		t.Errorf("fileinfo answer %+v", r)
	}
	up2, err := e.c.Upload(e.ctx, id, "synthetic-2.png", strings.NewReader("second synthetic file"))
	e.want("second upload", up2, err, 0, 200)
	done, err := e.c.Finish(e.ctx, id, false)
	e.want("finish", done, err, 0, 200)
	if done.Root != "reportDoneResponse" || len(done.FileIDs) != 2 || done.FileIDs[0] != up.FileID || done.FileIDs[1] != up2.FileID {
		t.Errorf("finish answer %s", done.Body)
	}
	rep, err := e.env.App.Intake.Get(e.ctx, haven.SystemActor("test"), id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != haven.ReportFinished || len(rep.Files) != 2 || rep.Files[0].Details == nil || !rep.Files[0].Details.Annotations.Viral {
		t.Errorf("stored report: %+v", rep)
	}
}

func TestESPFinishAndRetractEncodings(t *testing.T) {
	e := newESPTest(t)
	for _, mp := range []bool{false, true} {
		id := e.submit(minimalReport)
		r, err := e.c.Finish(e.ctx, id, mp)
		e.want(fmt.Sprintf("finish multipart=%v", mp), r, err, 0, 200)
		if len(r.FileIDs) != 0 || !bytes.Contains(r.Body, []byte("<files")) {
			t.Errorf("finish without files: %s", r.Body)
		}
		r, err = e.c.Finish(e.ctx, id, mp)
		e.want("finish again", r, err, 5102, 409)
		r, err = e.c.Retract(e.ctx, id, mp)
		e.want("retract finished", r, err, 5102, 409)
		up, err := e.c.Upload(e.ctx, id, "late.jpg", strings.NewReader("late"))
		e.want("upload to finished", up, err, 5102, 409)

		id = e.submit(minimalReport)
		r, err = e.c.Retract(e.ctx, id, mp)
		e.want(fmt.Sprintf("retract multipart=%v", mp), r, err, 0, 200)
		r, err = e.c.Retract(e.ctx, id, mp)
		e.want("retract again", r, err, 5101, 409)
		r, err = e.c.Finish(e.ctx, id, mp)
		e.want("finish retracted", r, err, 5101, 409)
		up, err = e.c.Upload(e.ctx, id, "late.jpg", strings.NewReader("late"))
		e.want("upload to retracted", up, err, 5101, 409)
	}
}

func TestESPOwnershipAndMissing(t *testing.T) {
	e := newESPTest(t)
	id := e.submit(minimalReport)
	up, err := e.c.Upload(e.ctx, id, "a.jpg", strings.NewReader("bytes"))
	e.want("upload", up, err, 0, 200)
	r, err := e.other.Upload(e.ctx, id, "b.jpg", strings.NewReader("x"))
	e.want("another ESP's report: upload", r, err, 5001, 404)
	r, err = e.other.Finish(e.ctx, id, false)
	e.want("another ESP's report: finish", r, err, 5001, 404)
	r, err = e.other.FileInfo(e.ctx, fmt.Appendf(nil, `<fileDetails><reportId>%d</reportId><fileId>%s</fileId></fileDetails>`, id, up.FileID))
	e.want("another ESP's report: fileinfo", r, err, 5001, 404)
	r, err = e.c.FileInfo(e.ctx, fmt.Appendf(nil, `<fileDetails><reportId>%d</reportId><fileId>%s</fileId></fileDetails>`, id, strings.Repeat("0", 32)))
	e.want("unknown file", r, err, 5002, 404)
	r, err = e.c.Finish(e.ctx, 987654321, false)
	e.want("unknown report", r, err, 5001, 404)
	r, err = e.c.Upload(e.ctx, 987654321, "x.jpg", strings.NewReader("x"))
	e.want("upload to unknown report", r, err, 5001, 404)
}

func TestESPExpiry(t *testing.T) {
	e := newESPTest(t)
	id := e.submit(minimalReport)
	e.env.Clock.Advance(24*time.Hour + time.Minute)
	if n, err := e.env.App.Intake.ExpireDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	r, err := e.c.Finish(e.ctx, id, false)
	e.want("finish expired", r, err, 5001, 404)
}

func TestESPRequestShapes(t *testing.T) {
	e := newESPTest(t)
	for _, ct := range []string{"text/xml; charset=utf-8", "text/xml", "application/xml", "text/plain;charset=UTF-8", ""} {
		c := *e.c
		c.ContentType = ct
		r, err := c.Do(e.ctx, http.MethodPost, "submit", ct, strings.NewReader(minimalReport))
		e.want("submit as "+ct, r, err, 0, 200)
	}
	for _, flag := range []string{"<sextortion/>", "<sextortion>true</sextortion>"} {
		id := e.submit(reportWith("<reportAnnotations>" + flag + "</reportAnnotations>"))
		rep, err := e.env.App.Intake.Get(e.ctx, haven.SystemActor("test"), id)
		if err != nil || rep.Incident.Annotations == nil || !rep.Incident.Annotations.Sextortion {
			t.Errorf("flag %s was not stored as set: %v", flag, err)
		}
	}
	// Upload shapes.
	bad := map[string]func() (string, *bytes.Buffer){
		"missing id": func() (string, *bytes.Buffer) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			fw, _ := mw.CreateFormFile("file", "a.jpg")
			fw.Write([]byte("x"))
			mw.Close()
			return mw.FormDataContentType(), &b
		},
		"non-numeric id": func() (string, *bytes.Buffer) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField("id", "abc")
			fw, _ := mw.CreateFormFile("file", "a.jpg")
			fw.Write([]byte("x"))
			mw.Close()
			return mw.FormDataContentType(), &b
		},
	}
	for name, build := range bad {
		ct, body := build()
		r, err := e.c.Do(e.ctx, http.MethodPost, "upload", ct, body)
		e.want("upload "+name, r, err, 4000, 400)
	}
	id := e.submit(minimalReport)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("id", fmt.Sprint(id))
	mw.Close()
	r, err := e.c.Do(e.ctx, http.MethodPost, "upload", mw.FormDataContentType(), &b)
	e.want("upload without a file", r, err, 4200, 400)
	r, err = e.c.Do(e.ctx, http.MethodPost, "upload", "multipart/form-data; boundary=zzz", strings.NewReader("--zzz\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n"+fmt.Sprint(id)+"\r\n--zzz\r\nContent-Disp"))
	e.want("malformed multipart", r, err, 4200, 400)
	r, err = e.c.Do(e.ctx, http.MethodPost, "upload", "application/json", strings.NewReader("{}"))
	e.want("upload not multipart", r, err, 4200, 400)
	r, err = e.c.Do(e.ctx, http.MethodPost, "finish", "application/x-www-form-urlencoded", strings.NewReader("nothing=1"))
	e.want("finish without id", r, err, 4000, 400)
}

func TestESPInvalidDocuments(t *testing.T) {
	e := newESPTest(t)
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name   string
		doc    string
		code   int
		status int
		want   string // in the description
	}{
		{"wrong order", strings.Replace(minimalReport, "<reporter>", "", 1)[:0] + `<report><reporter><reportingPerson><firstName>A</firstName></reportingPerson></reporter><incidentSummary><incidentType>Child Sex Tourism</incidentType><incidentDateTime>2025-01-02T03:04:05Z</incidentDateTime></incidentSummary></report>`, 4100, 422, "incidentSummary"},
		{"invented element", reportWith("<favouriteColour>blue</favouriteColour>"), 4100, 422, "favouriteColour"},
		{"bad enum", strings.Replace(minimalReport, "Child Pornography (possession, manufacture, and distribution)", "Something Else", 1), 4100, 422, "incidentType"},
		{"future date", strings.Replace(minimalReport, "2025-01-02T03:04:05Z", future, 1), 4100, 422, "future"},
		{"bad date", strings.Replace(minimalReport, "2025-01-02T03:04:05Z", "yesterday", 1), 4100, 422, "incidentDateTime"},
		{"flag false", reportWith("<reportAnnotations><spam>false</spam></reportAnnotations>"), 4100, 422, "spam"},
		{"missing reporter", strings.Split(minimalReport, "<reporter>")[0] + "</report>", 4100, 422, "reporter"},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE report [<!ENTITY x "y">]>` + minimalReport[strings.Index(minimalReport, "<report "):], 4110, 400, "DOCTYPE"},
		{"not well-formed", "<report><incidentSummary>", 4110, 400, ""},
		{"wrong root", "<fileDetails><reportId>1</reportId><fileId>x</fileId></fileDetails>", 4110, 400, "report"},
		{"default namespace", strings.Replace(minimalReport, "<report ", `<report xmlns="urn:example" `, 1), 4110, 400, "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.c.Submit(e.ctx, []byte(tt.doc))
			e.want(tt.name, r, err, tt.code, tt.status)
			if !strings.Contains(r.Description, tt.want) || r.Description == "" {
				t.Errorf("description %q does not mention %q", r.Description, tt.want)
			}
		})
	}
	big := reportWith("<platform>" + strings.Repeat("x", int(e.env.App.Config.MaxBodyBytes)) + "</platform>")
	r, err := e.c.Submit(e.ctx, []byte(big))
	e.want("oversized body", r, err, 4110, 413)

	id := e.submit(minimalReport)
	up, _ := e.c.Upload(e.ctx, id, "a.jpg", strings.NewReader("bytes"))
	r, err = e.c.FileInfo(e.ctx, fmt.Appendf(nil, `<fileDetails><reportId>%d</reportId><fileId>%s</fileId><fileRelevance>Supplemental Reported</fileRelevance><industryClassification>A1</industryClassification></fileDetails>`, id, up.FileID))
	e.want("classification on a supplemental file", r, err, 4100, 422)
	r, err = e.c.FileInfo(e.ctx, []byte("<fileDetails>"))
	e.want("malformed fileinfo", r, err, 4110, 400)
}

// TestESPMaximalReport submits the maximal sample (every element of the
// schema) and checks it is stored whole: exported again, it is the same.
func TestESPMaximalReport(t *testing.T) {
	e := newESPTest(t)
	files, _ := filepath.Glob("../cybertip/testdata/valid/*maximal*report*.xml")
	if len(files) == 0 {
		files, _ = filepath.Glob("../cybertip/testdata/valid/*maximal*.xml")
	}
	var doc []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte("<report")) {
			doc = b
		}
	}
	if doc == nil {
		t.Fatal("no maximal report sample in ../cybertip/testdata/valid")
	}
	// Its incident date is in the past of the real clock, not necessarily
	// of the fake one: move the fake clock to now.
	e.env.Clock.Advance(time.Until(e.env.Clock.Now()) * -1)
	id := e.submit(string(doc))
	rep, err := e.env.App.Intake.Get(e.ctx, haven.SystemActor("test"), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Internet) < 8 || len(rep.Victims) == 0 || len(rep.Reported) == 0 || len(rep.Recipients) == 0 || rep.LawEnforcement == nil {
		t.Fatalf("the maximal report lost elements: %d internet details, %d victims", len(rep.Internet), len(rep.Victims))
	}
	// Lossless storage: exported by a staff member, the stored report is
	// the submitted one. (The codec's own tests prove that decoding and
	// encoding keep every element; this proves storage does too.)
	analyst := e.env.NewUser(t, "exporter@example.org", haven.RoleIntake, "")
	c := e.env.Client(t)
	c.Login(analyst)
	exp := c.Get(fmt.Sprintf("/app/reports/%d/cybertip.xml", id))
	if exp.StatusCode != http.StatusOK || !strings.HasPrefix(exp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(exp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("export: %d %v", exp.StatusCode, exp.Header)
	}
	opt := cybertip.Options{Now: time.Now().Add(24 * time.Hour)}
	in, err := cybertip.DecodeReport(bytes.NewReader(doc), opt)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cybertip.DecodeReport(strings.NewReader(exp.Body), opt)
	if err != nil {
		t.Fatalf("the export does not decode: %v", err)
	}
	content := func(r *haven.Report) []any {
		return []any{r.BatchedReason, r.Incident, r.Internet, r.LawEnforcement, r.Reporter, r.Reported, r.Recipients, r.Victims, r.AdditionalInfo}
	}
	if diff := cmp.Diff(content(in), content(out)); diff != "" {
		t.Errorf("the exported report differs from the submitted one (-submitted +exported):\n%s", diff)
	}
	// An old sign-in must be confirmed first.
	for range 4 {
		e.env.Clock.Advance(2 * time.Minute)
		c.Get("/app/reports")
	}
	if r := c.Get(fmt.Sprintf("/app/reports/%d/cybertip.xml", id)); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/app/reauth") {
		t.Errorf("export with a stale sign-in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}
