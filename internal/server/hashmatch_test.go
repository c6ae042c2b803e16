package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/pdq"
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
	// A different picture does not match.
	other := sharedImage(t, "misc-images/c.png")
	if oh, oq, err := pdq.HashReader(bytes.NewReader(other), pdq.Options{}); err == nil {
		out, err := env.App.Hashes.Match(ctx, hashmatchQuery(oh, oq))
		if err != nil || len(out.Matches) != 0 {
			t.Errorf("an unrelated image matched: %+v %v", out, err)
		}
	}
}
