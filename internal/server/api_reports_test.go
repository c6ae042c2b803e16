package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/server"
)

const jsonReport = `{
  "incidentSummary": {
    "incidentType": "Online Enticement of Children for Sexual Acts",
    "platform": "Example Chat",
    "escalateToHighPriority": "A meeting is planned (synthetic)",
    "reportAnnotations": {"sextortion": true},
    "incidentDateTime": "2026-04-01T10:00:00Z"
  },
  "internetDetails": [{"webPageIncident": {"url": ["https://example.com/u/demo"], "@thirdPartyHostedContent": false}}],
  "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Safety", "email": [{"#text": "abuse@example.org", "@type": "Work"}]}},
  "personOrUserReported": [{"espIdentifier": "u-1", "screenName": "demo_adult",
    "ipCaptureEvent": [{"ipAddress": "198.51.100.7", "eventName": "Login", "dateTime": "2026-04-01T09:00:00Z"}]}],
  "victim": [{"victimPerson": {"age": 13}}]
}`

type apiClient struct {
	t     *testing.T
	env   *haventest.Env
	token string
}

type apiResp struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (c *apiClient) do(method, path, ct string, body io.Reader, hdr ...string) *apiResp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.env.HTTP.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := &apiResp{status: resp.StatusCode, header: resp.Header, body: b}
	_ = json.Unmarshal(b, &out.json)
	return out
}

func newAPIClient(t *testing.T, env *haventest.Env, name string) *apiClient {
	u := env.NewUser(t, name, haven.RoleESP, "")
	tok, err := env.App.Accounts.CreateAPIToken(context.Background(), haven.SystemActor("test"), u.ID, "json-api")
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, env: env, token: tok}
}

func wantProblem(t *testing.T, name string, r *apiResp, status int, code float64, detail string) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: got %d %s, want %d problem+json: %s", name, r.status, r.header.Get("Content-Type"), status, r.body)
		return
	}
	if code != 0 && r.json["cybertipCode"] != code {
		t.Errorf("%s: cybertipCode %v, want %v", name, r.json["cybertipCode"], code)
	}
	if d, _ := r.json["detail"].(string); !strings.Contains(d, detail) || r.json["requestId"] == "" {
		t.Errorf("%s: detail %q does not mention %q", name, d, detail)
	}
}

func TestJSONAPIReportLifecycle(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	c := newAPIClient(t, env, "JSON Service")
	r := c.do("POST", "/api/v1/reports", "application/json", strings.NewReader(jsonReport), "Idempotency-Key", "try-1")
	if r.status != http.StatusCreated || r.json["status"] != "open" || r.json["expiresAt"] == nil {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := int64(r.json["id"].(float64))
	again := c.do("POST", "/api/v1/reports", "application/json", strings.NewReader(jsonReport), "Idempotency-Key", "try-1")
	if again.status != http.StatusOK || int64(again.json["id"].(float64)) != id || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the same key: %d %s", again.status, again.body)
	}
	path := "/api/v1/reports/" + itoa64(id)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "synthetic.png")
	fw.Write([]byte("synthetic image bytes"))
	mw.Close()
	f := c.do("POST", path+"/files", mw.FormDataContentType(), &body)
	if f.status != http.StatusCreated || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(f.json["fileId"].(string)) {
		t.Fatalf("add file: %d %s", f.status, f.body)
	}
	fileID := f.json["fileId"].(string)
	d := c.do("PUT", path+"/files/"+fileID, "application/json", strings.NewReader(`{"fileName": "synthetic.png", "fileViewedByEsp": true, "fileAnnotations": {"viral": true}}`))
	if d.status != http.StatusNoContent {
		t.Fatalf("file details: %d %s", d.status, d.body)
	}
	bad := c.do("PUT", path+"/files/"+fileID, "application/json", strings.NewReader(`{"fileRelevance": "Supplemental Reported", "industryClassification": "A1"}`))
	wantProblem(t, "classification on a supplemental file", bad, 422, 4100, "industryClassification")
	missing := c.do("PUT", path+"/files/"+strings.Repeat("0", 32), "application/json", strings.NewReader(`{}`))
	wantProblem(t, "unknown file", missing, 404, 5002, "File does not exist")
	fin := c.do("POST", path+"/finish", "", nil)
	if fin.status != http.StatusOK || fin.json["status"] != "finished" || len(fin.json["files"].([]any)) != 1 {
		t.Fatalf("finish: %d %s", fin.status, fin.body)
	}
	wantProblem(t, "finish twice", c.do("POST", path+"/finish", "", nil), 409, 5102, "finished")
	wantProblem(t, "retract finished", c.do("POST", path+"/retract", "", nil), 409, 5102, "finished")
	st := c.do("GET", path, "", nil)
	if st.status != http.StatusOK || st.json["status"] != "finished" {
		t.Fatalf("status: %d %s", st.status, st.body)
	}
	other := newAPIClient(t, env, "Other JSON Service")
	wantProblem(t, "another account's report", other.do("GET", path, "", nil), 404, 5001, "Report does not exist")
	rep, err := env.App.Intake.Get(context.Background(), haven.SystemActor("test"), id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source != haven.SourceAPI || rep.Incident.Escalate == nil || !rep.Incident.Annotations.Sextortion || rep.Victims[0].Person == nil || *rep.Victims[0].Person.Age != 13 {
		t.Errorf("stored report: %+v", rep.Incident)
	}
	// Retract an open one.
	r2 := c.do("POST", "/api/v1/reports", "application/json", strings.NewReader(jsonReport))
	p2 := "/api/v1/reports/" + itoa64(int64(r2.json["id"].(float64)))
	if rr := c.do("POST", p2+"/retract", "", nil); rr.status != http.StatusNoContent {
		t.Fatalf("retract: %d %s", rr.status, rr.body)
	}
	wantProblem(t, "retract twice", c.do("POST", p2+"/retract", "", nil), 409, 5101, "retracted")
}

func TestJSONAPIErrors(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	c := newAPIClient(t, env, "JSON Errors")
	wantProblem(t, "malformed JSON", c.do("POST", "/api/v1/reports", "application/json", strings.NewReader(`{"incidentSummary": `)), 400, 4110, "")
	wantProblem(t, "bad enum", c.do("POST", "/api/v1/reports", "application/json",
		strings.NewReader(strings.Replace(jsonReport, "Online Enticement of Children for Sexual Acts", "Nonsense", 1))), 422, 4100, "incidentType")
	wantProblem(t, "unknown member", c.do("POST", "/api/v1/reports", "application/json",
		strings.NewReader(strings.Replace(jsonReport, `"platform"`, `"favouriteColour": "blue", "platform"`, 1))), 422, 4100, "favouriteColour")
	wantProblem(t, "not JSON", c.do("POST", "/api/v1/reports", "text/xml", strings.NewReader(`<report/>`)), 400, 0, "application/json")
	wantProblem(t, "unknown report", c.do("POST", "/api/v1/reports/99999/finish", "", nil), 404, 5001, "")
	wantProblem(t, "long idempotency key", c.do("POST", "/api/v1/reports", "application/json", strings.NewReader(jsonReport),
		"Idempotency-Key", strings.Repeat("k", 201)), 400, 0, "Idempotency-Key")
	anon := &apiClient{t: t, env: env}
	r := anon.do("POST", "/api/v1/reports", "application/json", strings.NewReader(jsonReport))
	wantProblem(t, "no token", r, 401, 0, "bearer token")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
}

// TestOpenAPIMatchesRoutes checks the served OpenAPI document against the
// real route table: every /api/v1 route is documented with its method,
// and the document names no route that does not exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	r := (&apiClient{t: t, env: env}).do("GET", "/api/v1/openapi.json", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("openapi.json: %d", r.status)
	}
	if r.json["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", r.json["openapi"])
	}
	paths, _ := r.json["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	routes := map[string]bool{}
	for _, rt := range env.Server.Routes() {
		if strings.HasPrefix(rt.Path, "/api/v1/") {
			routes[rt.Method+" "+rt.Path] = true
			if rt.Surface != server.SurfaceAPI && rt.Path != "/api/v1/openapi.json" {
				t.Errorf("%s %s is under /api/v1 but not on the API surface", rt.Method, rt.Path)
			}
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("route %s is not in the OpenAPI document", k)
		}
	}
	for k := range documented {
		if !routes[k] {
			t.Errorf("the OpenAPI document names %s, which is not a route", k)
		}
	}
	comps := r.json["components"].(map[string]any)["schemas"].(map[string]any)
	rep, _ := comps["Report"].(map[string]any)
	if props, _ := rep["properties"].(map[string]any); props["incidentSummary"] == nil {
		t.Errorf("the Report schema lacks incidentSummary: %v", rep)
	}
	// Every $ref resolves inside the document.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if k == "$ref" {
					ref := val.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
					var cur any = r.json
					for _, p := range parts {
						m, _ := cur.(map[string]any)
						cur = m[p]
					}
					if cur == nil {
						t.Errorf("unresolved $ref %s", ref)
					}
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(r.json)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
