package server_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/vpdq"
	"github.com/haven-hotline/haven/internal/vpdq/vpdqtest"
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
	// The analyst confirms the perceptual match.
	ms, _ := env.App.Hashes.FileMatches(ctx, haven.Actor{Role: haven.RoleIntake}, sub.ReportID)
	confirm := fmt.Sprintf("/app/reports/%d/files/%s/matches/%d/confirm", sub.ReportID, ms[0].Match.FileID, ms[0].Entry.ID)
	if r := web.Post(confirm, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", r.StatusCode, r.Body)
	}
	if page := web.Get(fmt.Sprintf("/app/reports/%d", sub.ReportID)); !strings.Contains(page.Body, "(confirmed") || strings.Contains(page.Body, "needs confirmation") {
		t.Error("the confirmation is not shown on the report page")
	}
	if r := web.Post(fmt.Sprintf("/app/reports/%d/files/%s/matches/%d/confirm", sub.ReportID, ms[0].Match.FileID, 424242), nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("confirming a match that does not exist: %d", r.StatusCode)
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
	// Disabling the first bank stops its matches; enabling restores them.
	sw.Get("/app/banks/" + bank.ID)
	q := hashmatchQuery(h, 100)
	if r := sw.Post("/app/banks/"+bank.ID+"/disable", nil); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "matches nothing") {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if out, _ := env.App.Hashes.Match(ctx, q); len(out.Matches) != 0 {
		t.Error("a disabled bank still matches")
	}
	if r := sw.Post("/app/banks/"+bank.ID+"/enable", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("enable: %d", r.StatusCode)
	}
	out, _ := env.App.Hashes.Match(ctx, q)
	if len(out.Matches) != 1 {
		t.Fatal("an enabled bank does not match")
	}
	if r := sw.Post("/app/banks/"+bank.ID+"/remove-entry", url.Values{"entry": {fmt.Sprint(out.Matches[0].Entry.ID)}}); r.StatusCode != http.StatusOK {
		t.Fatalf("remove entry: %d", r.StatusCode)
	}
	if out, _ := env.App.Hashes.Match(ctx, q); len(out.Matches) != 0 {
		t.Error("a removed entry still matches")
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

// TestBankImportJob: a supervisor uploads a CSV hash list through the
// bank page; the import job adds the good rows, reports the bad one with
// its line, and the imported hashes match at once.
func TestBankImportJob(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	bank, err := env.App.Hashes.CreateBank(ctx, haven.SystemActor("test"), haven.HashBank{Name: "Imported", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	c.Login(sup)
	c.Get("/app/banks/" + bank.ID)
	csv := "md5,classification_scheme,classification_code,external_id\n" +
		"00112233445566778899aabbccddeeff,test,one,ext-1\n" +
		"not-hex,test,two,ext-2\n" +
		"ffeeddccbbaa99887766554433221100,test,three,ext-3\n"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", c.CSRF)
	mw.WriteField("format", "csv")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/app/banks/"+bank.ID+"/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r := c.Do(req)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/app/imports/") {
		t.Fatalf("start import: %d %s", r.StatusCode, r.Body)
	}
	page := r.Header.Get("Location")
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := c.Get(page)
		if strings.Contains(p.Body, "<dd>done") {
			for _, want := range []string{"<dt>Entries added</dt><dd>2</dd>", "<dt>Rows rejected</dt><dd>1</dd>", "line 3"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("import page lacks %q", want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %s", p.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	exp := c.Get("/app/banks/" + bank.ID + "/export/csv")
	if exp.StatusCode != http.StatusOK || !strings.HasPrefix(exp.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(exp.Body, "ffeeddccbbaa99887766554433221100") || !strings.Contains(exp.Body, "00112233445566778899aabbccddeeff") {
		t.Errorf("export: %d %q", exp.StatusCode, exp.Body)
	}
	// The test classifications have no place in the NCMEC or VICS formats:
	// both exports are valid, empty documents.
	for format, want := range map[string]string{"ncmec-xml": "<queryResult></queryResult>", "vics-json": `{"value": [`} {
		exp := c.Get("/app/banks/" + bank.ID + "/export/" + format)
		if exp.StatusCode != http.StatusOK || !strings.Contains(exp.Body, want) || strings.Contains(exp.Body, "ffeedd") {
			t.Errorf("export %s: %d %q", format, exp.StatusCode, exp.Body)
		}
	}
	if exp := c.Get("/app/banks/" + bank.ID + "/export/pdf"); exp.StatusCode != http.StatusNotFound {
		t.Errorf("export as pdf: %d", exp.StatusCode)
	}
	sum := []byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00}
	out, err := env.App.Hashes.Match(ctx, hashmatchMD5(sum))
	if err != nil || len(out.Matches) != 1 || out.Matches[0].Entry.Classification.Code != "three" || out.Matches[0].Entry.ExternalID != "ext-3" {
		t.Fatalf("imported hash: %+v %v", out, err)
	}
	// Without the form's CSRF field the upload is refused before the file.
	var bad bytes.Buffer
	mw = multipart.NewWriter(&bad)
	mw.WriteField("format", "csv")
	fw, _ = mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte(csv))
	mw.Close()
	req, _ = http.NewRequest(http.MethodPost, env.HTTP.URL+"/app/banks/"+bank.ID+"/import", &bad)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := c.Do(req); r.StatusCode != http.StatusForbidden {
		t.Errorf("import without CSRF: %d", r.StatusCode)
	}
}

// TestBankedVideoMatchShowsOnReport: a bank holds the vPDQ hash of a
// synthetic clip; an ESP uploads a re-encoded copy as a plain MP4 (which
// must be hashed from memory, as a pipe cannot seek in it); the report
// page shows the video match with its frame shares, needing confirmation.
func TestBankedVideoMatchShowsOnReport(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	ref, err := hashmatch.HashVideoBytes(ctx, vpdqtest.Reference(t), vpdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	value, err := ref.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	sys := haven.SystemActor("test")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Known videos", Source: "tests", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoVPDQ, Value: value,
		Classification: haven.Classification{Scheme: "test", Code: "known-video"}}); err != nil {
		t.Fatal(err)
	}
	esp := env.NewUser(t, "Example Videos", haven.RoleESP, "")
	c := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	sub, err := c.Submit(ctx, []byte(minimalReport))
	if err != nil || sub.Code != 0 {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	if up, err := c.Upload(ctx, sub.ReportID, "clip.mp4", bytes.NewReader(vpdqtest.Reencoded(t))); err != nil || up.Code != 0 {
		t.Fatalf("upload: %v %+v", err, up)
	}
	if fin, err := c.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
		t.Fatalf("finish: %v %+v", err, fin)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ms, err := env.App.Hashes.FileMatches(ctx, haven.Actor{Role: haven.RoleIntake}, sub.ReportID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 {
			m := ms[0].Match
			if m.Algo != haven.AlgoVPDQ || !m.NeedsConfirmation || m.QueryShare < hashmatch.VideoShare || m.TargetShare < hashmatch.VideoShare {
				t.Fatalf("match: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the uploaded video was not matched within 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(analyst)
	page := web.Get(fmt.Sprintf("/app/reports/%d", sub.ReportID))
	for _, want := range []string{"Known videos", "known-video", "vpdq", "100% of this file's frames are in the known video", "needs confirmation"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the report page does not show %q", want)
		}
	}
}

// TestMatchAPIVideo: the match API takes a video file (hashed in memory)
// or a vPDQ hash in the reference text form, and answers with the frame
// shares.
func TestMatchAPIVideo(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	ref, err := hashmatch.HashVideoBytes(ctx, vpdqtest.Reference(t), vpdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	value, _ := ref.MarshalBinary()
	sys := haven.SystemActor("test")
	bank, _ := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Video bank", Enabled: true})
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoVPDQ, Value: value}); err != nil {
		t.Fatal(err)
	}
	c := newAPIClient(t, env, "Video Service")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "query.ts")
	fw.Write(vpdqtest.Trimmed(t))
	mw.Close()
	r := c.do("POST", "/api/v1/match", mw.FormDataContentType(), &body)
	if r.status != http.StatusOK || len(r.json["matches"].([]any)) != 1 {
		t.Fatalf("match by video file: %d %s", r.status, r.body)
	}
	m := r.json["matches"].([]any)[0].(map[string]any)
	if m["algo"] != "vpdq" || m["queryShare"].(float64) < 0.99 || m["targetShare"].(float64) > 0.6 || m["perceptual"] != true {
		t.Errorf("a trimmed clip: %s", r.body)
	}
	text, _ := ref.MarshalText()
	js, _ := json.Marshal(map[string]string{"vpdq": string(text)})
	r = c.do("POST", "/api/v1/match", "application/json", bytes.NewReader(js))
	if r.status != http.StatusOK || len(r.json["matches"].([]any)) != 1 {
		t.Fatalf("match by vPDQ text: %d %s", r.status, r.body)
	}
	wantProblem(t, "bad vpdq", c.do("POST", "/api/v1/match", "application/json", strings.NewReader(`{"vpdq": "0,100,zz,0.0"}`)), 400, 0, "vpdq")
}
