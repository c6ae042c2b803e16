package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
)

// sharedImage reads a reference photo of the PDQ test data (a bridge).
func sharedImage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "pdq", "images", name))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("PDQ reference images not found: %v", err)
	}
	return b
}

// TestBankedImageMatchShowsOnReport: an image known to a hash bank,
// uploaded (re-encoded) through the ESP API, is hashed and matched by the
// pipeline, and the staff report page shows the match, its
// classification and that it needs confirmation.
func TestBankedImageMatchShowsOnReport(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	original := sharedImage(t, "bridge-mods/aaa-orig.jpg")
	h, quality, err := pdq.HashReader(bytes.NewReader(original), pdq.Options{})
	if err != nil || quality < pdq.MinQuality {
		t.Fatalf("hash the reference: %v (quality %d)", err, quality)
	}
	sys := haven.SystemActor("test")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Test series bank", Source: "tests", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: h[:],
		Classification: haven.Classification{Scheme: "test", Code: "known-benign"}, SeriesID: "series-bridge"}); err != nil {
		t.Fatal(err)
	}
	// The ESP sends a re-encoded copy: other bytes, the same picture.
	img, err := jpeg.Decode(bytes.NewReader(original))
	if err != nil {
		t.Fatal(err)
	}
	var copyBuf bytes.Buffer
	if err := jpeg.Encode(&copyBuf, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	esp := env.NewUser(t, "Example Photos", haven.RoleESP, "")
	c := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	sub, err := c.Submit(ctx, []byte(minimalReport))
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	up, err := c.Upload(ctx, sub.ReportID, "bridge-copy.jpg", bytes.NewReader(copyBuf.Bytes()))
	if err != nil || up.Code != 0 {
		t.Fatalf("upload: %v %+v", err, up)
	}
	if fin, err := c.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
		t.Fatalf("finish: %v %+v", err, fin)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ms, err := env.App.Hashes.FileMatches(ctx, haven.Actor{Role: haven.RoleIntake}, sub.ReportID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 {
			if ms[0].Match.Algo != haven.AlgoPDQ || !ms[0].Match.NeedsConfirmation || ms[0].Match.Distance > 31 {
				t.Fatalf("match: %+v", ms[0].Match)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the uploaded file was not matched within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(analyst)
	page := web.Get(fmt.Sprintf("/app/reports/%d", sub.ReportID))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("report page: %d", page.StatusCode)
	}
	for _, want := range []string{"Test series bank", "known-benign", "series-bridge", "needs confirmation"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the report page does not show %q", want)
		}
	}
	// The hash search shows the entry and where it was seen.
	search := web.Get("/app/hashes?q=" + h.String())
	if search.StatusCode != http.StatusOK || !strings.Contains(search.Body, "Test series bank") ||
		!strings.Contains(search.Body, fmt.Sprintf("/app/reports/%d", sub.ReportID)) {
		t.Errorf("hash search: %d", search.StatusCode)
	}
	if bad := web.Get("/app/hashes?q=nothex"); bad.StatusCode != http.StatusBadRequest {
		t.Errorf("search with a bad value: %d", bad.StatusCode)
	}
	// A supervisor manages banks through the pages.
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	sw := env.Client(t)
	sw.Login(sup)
	sw.Get("/app/banks")
	r := sw.Post("/app/banks", url.Values{"name": {"Page bank"}, "source": {"tests"}, "pdq_threshold": {"20"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create bank: %d %s", r.StatusCode, r.Body)
	}
	bankPage := r.Header.Get("Location")
	sw.Get(bankPage)
	r = sw.Post(bankPage+"/entries", url.Values{"algo": {"md5"}, "value": {"00112233445566778899aabbccddeeff"}, "scheme": {"test"}, "code": {"x"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "00112233445566778899aabbccddeeff") {
		t.Fatalf("add entry: %d", r.StatusCode)
	}
	r = sw.Post(bankPage+"/entries", url.Values{"algo": {"md5"}, "value": {"0011"}})
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("a short MD5: %d", r.StatusCode)
	}
	// A different picture does not match.
	other := sharedImage(t, "misc-images/c.png")
	if oh, oq, err := pdq.HashReader(bytes.NewReader(other), pdq.Options{}); err == nil {
		out, err := env.App.Hashes.Match(ctx, hashmatchQuery(oh, oq))
		if err != nil || len(out.Matches) != 0 {
			t.Errorf("an unrelated image matched: %+v %v", out, err)
		}
	}
}

// TestMatchAPI: an ESP asks with a PDQ hash, with a file (hashed in
// memory, not kept) and with bad input.
func TestMatchAPI(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	original := sharedImage(t, "bridge-mods/aaa-orig.jpg")
	h, _, err := pdq.HashReader(bytes.NewReader(original), pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sys := haven.SystemActor("test")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "API bank", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: h[:],
		Classification: haven.Classification{Scheme: "test", Code: "known-benign"}, SeriesID: "series-secret"}); err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, env, "Matching Service")
	r := c.do("POST", "/api/v1/match", "application/json", strings.NewReader(`{"pdq": "`+h.String()+`"}`))
	if r.status != http.StatusOK {
		t.Fatalf("match by hash: %d %s", r.status, r.body)
	}
	ms := r.json["matches"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["bank"] != "API bank" || ms[0].(map[string]any)["series"] != nil {
		t.Fatalf("match by hash: %s", r.body)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "query.jpg")
	fw.Write(original)
	mw.Close()
	r = c.do("POST", "/api/v1/match", mw.FormDataContentType(), &body)
	if r.status != http.StatusOK || len(r.json["matches"].([]any)) != 1 {
		t.Fatalf("match by file: %d %s", r.status, r.body)
	}
	live, _, _ := countEvidence(t, env)
	if live != 0 {
		t.Errorf("the file sent for matching was stored (%d items)", live)
	}
	wantProblem(t, "bad hex", c.do("POST", "/api/v1/match", "application/json", strings.NewReader(`{"md5": "xyz"}`)), 400, 0, "md5")
	wantProblem(t, "empty", c.do("POST", "/api/v1/match", "application/json", strings.NewReader(`{}`)), 400, 0, "at least one")
}

func countEvidence(t *testing.T, env *haventest.Env) (int, int, error) {
	ctx := context.Background()
	var live, shredded int
	err := env.App.Store.View(ctx, func(tx *store.Tx) (err error) {
		live, shredded, err = tx.CountEvidence(ctx)
		return err
	})
	return live, shredded, err
}
