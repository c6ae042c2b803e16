package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/vpdq/vpdqtest"
)

// viewerPattern is a benign synthetic picture: bands and a square.
func viewerPattern(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := color.NRGBA{R: uint8(x / 2), G: uint8(y / 2), B: 160, A: 255}
			if x > 150 && x < 250 && y > 100 && y < 200 {
				c = color.NRGBA{R: 240, G: 200, B: 20, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fileReport files a finished ESP report with one file and returns the
// report number and file ID.
func fileReport(t *testing.T, env *haventest.Env, data []byte, name string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	u := env.NewUser(t, fmt.Sprintf("esp-%d", time.Now().UnixNano()), haven.RoleESP, "")
	esp := haven.Actor{UserID: u.ID, Role: haven.RoleESP}
	sub, err := env.App.Intake.Submit(ctx, esp, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{
		Type: haven.IncidentCSAM, DateTime: env.Clock.Now().Add(-time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := env.App.Intake.AddFile(ctx, esp, sub.Report.ID, bytes.NewReader(data), name, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Intake.Finish(ctx, esp, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	return sub.Report.ID, f.ID
}

var grantRE = regexp.MustCompile(`data-grant="([^"]+)"`)

func TestViewerPagesAndReveal(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	data := viewerPattern(t)
	id, fileID := fileReport(t, env, data, "pattern.png")
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	c := env.Client(t)
	c.Login(analyst)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)

	r := c.Get(base + "/view")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("view: %d\n%s", r.StatusCode, r.Body)
	}
	for _, want := range []string{`src="` + base + `/rendition"`, `action="` + base + `/reveal"`, "Your exposure today", "0 s of revealed media today"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("view page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, base+"/original") {
		t.Error("the view page links the original before any reveal")
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "media-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("view page CSP %q", csp)
	}

	r = c.Get(base + "/rendition")
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("rendition: %d %v", r.StatusCode, r.Header)
	}
	img, err := png.Decode(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := img.(*image.Gray); !ok || g.Rect.Dx() > 320 || g.Rect.Dy() > 320 {
		t.Errorf("rendition is %T %v, want greyscale within 320 pixels", img, img.Bounds())
	}
	if r := c.Get(base + "/original"); r.StatusCode != http.StatusForbidden {
		t.Errorf("original before a reveal: %d, want 403", r.StatusCode)
	}

	// A reveal needs a reason; the form says so in place.
	r = c.Post(base+"/reveal", url.Values{"reason": {"  "}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Say why you need to see the original") {
		t.Fatalf("reveal without a reason: %d\n%s", r.StatusCode, r.Body)
	}
	r = c.Post(base+"/reveal", url.Values{"reason": {"confirm the classification"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), base+"/view?revealed=1") {
		t.Fatalf("reveal: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	r = c.Get(base + "/view?revealed=1")
	for _, want := range []string{`class="viewer-toggle"`, `<img class="viewer-media" src="` + base + `/original"`, "viewer.", "confirm the classification"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("revealed page lacks %q", want)
		}
	}
	m := grantRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("no grant on the revealed page")
	}
	r = c.Get(base + "/original")
	if r.StatusCode != http.StatusOK || r.Body != string(data) || r.Header.Get("Content-Type") != "image/png" ||
		r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("original: %d %v (%d bytes)", r.StatusCode, r.Header, len(r.Body))
	}
	env.Clock.Advance(15 * time.Second)
	r = c.Post(base+"/heartbeat", url.Values{"grant": {m[1]}, "state": {"visible"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"expired": false`) {
		t.Errorf("heartbeat: %d %s", r.StatusCode, r.Body)
	}
	r = c.Post(base+"/heartbeat", url.Values{"grant": {"nope"}, "state": {"visible"}})
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("heartbeat of an unknown grant: %d", r.StatusCode)
	}
}

// TestRevealOverBudgetShowsAKindPage: a reveal over the daily budget is
// refused with an explanation on the viewer page, not an error page.
func TestRevealOverBudgetShowsAKindPage(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	id, fileID := fileReport(t, env, viewerPattern(t), "pattern.png")
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	// Five hours already today.
	now := env.Clock.Now()
	err := env.App.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.StartExposure(ctx, &store.ExposureInterval{ID: haven.NewID(), UserID: analyst.ID, GrantID: "earlier", FileID: fileID,
			StartedAt: now.Add(-6 * time.Hour), LastSeenAt: now.Add(-time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	c := env.Client(t)
	c.Login(analyst)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)
	if r := c.Get(base + "/view"); !strings.Contains(r.Body, "reached today") || strings.Contains(r.Body, `action="`+base+`/reveal"`) {
		t.Errorf("the view page over budget still offers a reveal:\n%s", r.Body)
	}
	r := c.Post(base+"/reveal", url.Values{"reason": {"one more"}})
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "You have reached today") || !strings.Contains(r.Body, "That limit protects you") {
		t.Fatalf("reveal over budget: %d\n%s", r.StatusCode, r.Body)
	}
	if strings.Contains(r.Body, "Something went wrong") {
		t.Error("the refusal is shown as an error")
	}
}

// TestViewerVideoIsMutedAndStill: a revealed video is a <video> with
// controls, muted, not preloaded and never autoplayed.
func TestViewerVideoIsMutedAndStill(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	env := haventest.Start(t, "sqlite")
	id, fileID := fileReport(t, env, vpdqtest.Reference(t), "clip.mkv")
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	c := env.Client(t)
	c.Login(analyst)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)
	if r := c.Get(base + "/view"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "video (8 frames)") {
		t.Fatalf("video view: %d\n%s", r.StatusCode, r.Body)
	}
	if r := c.Post(base+"/reveal", url.Values{"reason": {"check the clip"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reveal: %d\n%s", r.StatusCode, r.Body)
	}
	r := c.Get(base + "/view")
	video := regexp.MustCompile(`<video[^>]*>`).FindString(r.Body)
	for _, want := range []string{"controls", "muted", `preload="none"`, `src="` + base + `/original"`} {
		if !strings.Contains(video, want) {
			t.Errorf("video element %q lacks %s", video, want)
		}
	}
	if strings.Contains(video, "autoplay") {
		t.Errorf("video element %q autoplays", video)
	}
	req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+base+"/original", nil)
	req.Header.Set("Range", "bytes=0-99")
	if r := c.Do(req); r.StatusCode != http.StatusPartialContent || len(r.Body) != 100 || r.Header.Get("Content-Type") != "video/webm" {
		t.Errorf("range of the original video: %d, %d bytes, %s", r.StatusCode, len(r.Body), r.Header.Get("Content-Type"))
	}
}

var requestIDRE = regexp.MustCompile(`[0-9a-f]{24}`)

// TestViewerLEOtherAgency404: an agency user asking for a file of a report
// not referred to their agency gets exactly the page a missing file gets.
func TestViewerLEOtherAgency404(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	id, fileID := fileReport(t, env, viewerPattern(t), "pattern.png")
	agA, agB := env.Agency(t, "Agency A"), env.Agency(t, "Agency B")
	env.App.Viewer.SetAgencyAccess(func(_ context.Context, agencyID string, reportID int64) (bool, error) {
		return agencyID == agA.ID && reportID == id, nil
	})
	officerA := env.NewUser(t, "a@example.org", haven.RoleLE, agA.ID)
	officerB := env.NewUser(t, "b@example.org", haven.RoleLE, agB.ID)
	ca, cb := env.Client(t), env.Client(t)
	ca.Login(officerA)
	cb.Login(officerB)
	base := fmt.Sprintf("/le/reports/%d/files/%s", id, fileID)
	missing := fmt.Sprintf("/le/reports/%d/files/%s", id, "ffffffffffffffffffffffffffffffff")
	if r := ca.Get(base + "/view"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `src="`+base+`/rendition"`) {
		t.Fatalf("agency A: %d\n%s", r.StatusCode, r.Body)
	}
	for _, action := range []string{"view", "rendition", "original"} {
		got := cb.Get(base + "/" + action)
		want := cb.Get(missing + "/" + action)
		if got.StatusCode != http.StatusNotFound || want.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, missing file %d; want 404 for both", action, got.StatusCode, want.StatusCode)
		}
		if g, w := requestIDRE.ReplaceAllString(got.Body, "ID"), requestIDRE.ReplaceAllString(want.Body, "ID"); g != w {
			t.Errorf("%s: the page for another agency's file differs from a missing file's:\n%s\n---\n%s", action, g, w)
		}
	}
	r := cb.Post(base+"/reveal", url.Values{"reason": {"look"}})
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("reveal by agency B: %d", r.StatusCode)
	}
}

// TestExposurePageShowsFiguresOnly: supervisors see time per person per
// day, and nothing that leads to content.
func TestExposurePageShowsFiguresOnly(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	id, fileID := fileReport(t, env, viewerPattern(t), "pattern.png")
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	supervisor := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	c.Login(analyst)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)
	c.Get(base + "/view")
	if r := c.Post(base+"/reveal", url.Values{"reason": {"classify"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reveal: %d\n%s", r.StatusCode, r.Body)
	}
	if r := c.Get("/app/exposure"); r.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst's exposure page: %d, want 403", r.StatusCode)
	}
	s := env.Client(t)
	s.Login(supervisor)
	r := s.Get("/app/exposure?days=7")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("exposure page: %d\n%s", r.StatusCode, r.Body)
	}
	for _, want := range []string{"Test intake_analyst", "Intake analyst", "1 min", env.Clock.Now().Format("2006-01-02")} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("exposure page lacks %q", want)
		}
	}
	for _, never := range []string{fileID, "/reports/", "classify"} {
		if strings.Contains(r.Body, never) {
			t.Errorf("exposure page shows %q", never)
		}
	}
}

// TestLegalAuthorityRoute: a supervisor records an authority through the
// form; a bad date comes back on the field.
func TestLegalAuthorityRoute(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	id, fileID := fileReport(t, env, viewerPattern(t), "pattern.png")
	supervisor := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	c := env.Client(t)
	c.Login(supervisor)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)
	c.Get(base + "/view")
	form := url.Values{"kind": {"warrant"}, "reference": {"SW-1"}, "issuer": {"Example Court"}, "issued_on": {"next week"}}
	r := c.Post(base+"/legal-authority", form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "YYYY-MM-DD") {
		t.Fatalf("bad date: %d\n%s", r.StatusCode, r.Body)
	}
	form.Set("issued_on", "2026-05-01")
	r = c.Post(base+"/legal-authority", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base+"/view?authority=1" {
		t.Fatalf("record: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
}

// TestBrowserViewerRevealBlur drives the viewer in Chromium: the revealed
// original is blurred until shown, shown unblurred when its box is ticked,
// and blurred again (class viewer-blurred) when the window loses focus.
func TestBrowserViewerRevealBlur(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	id, fileID := fileReport(t, env, viewerPattern(t), "pattern.png")
	analyst := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	b := haventest.Browser(t)
	browserLogin(t, b, env, analyst)
	base := fmt.Sprintf("/app/reports/%d/files/%s", id, fileID)
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + base + "/view")); r.Status != http.StatusOK {
		t.Fatalf("view: status %d", r.Status)
	}
	// The rendition loaded as an image (despite its attachment header).
	if w := haventest.Get(b, chromedp.Evaluate[int](`document.querySelector(".viewer-rendition img").naturalWidth`)); w != 320 {
		t.Errorf("rendition natural width %d, want 320", w)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("reason"), "confirm the classification"))
	if r := b.Load(chromedp.Click(chromedp.CSS(`form.viewer-reveal button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after the reveal: status %d", r.Status)
	}
	wantPath(t, b, base+"/view")
	// Wait for the original to load; it starts blurred.
	b.Do(chromedp.Poll[chromedp.Void](`document.querySelector("img.viewer-media").complete && document.querySelector("img.viewer-media").naturalWidth > 0`))
	filter := func() string {
		return haventest.Get(b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".viewer-media")).filter`))
	}
	blurred := func() bool {
		return haventest.Get(b, chromedp.Evaluate[bool](`document.querySelector(".viewer-media").classList.contains("viewer-blurred")`))
	}
	if f := filter(); !strings.Contains(f, "blur") || !blurred() {
		t.Fatalf("before showing: filter %q, blurred class %v; want blurred", f, blurred())
	}
	b.Do(chromedp.Click(chromedp.ID("viewer-show")))
	if f := filter(); f != "none" || blurred() {
		t.Fatalf("after ticking the box: filter %q, blurred class %v; want unblurred", f, blurred())
	}
	b.Screenshot("revealed")
	b.Do(chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("blur"))`))
	if !blurred() {
		t.Fatal("after the window lost focus the original does not have the class viewer-blurred")
	}
	if f := filter(); !strings.Contains(f, "blur") {
		t.Errorf("after the window lost focus: filter %q, want a blur", f)
	}
	if checked := haventest.Get(b, chromedp.Evaluate[bool](`document.getElementById("viewer-show").checked`)); checked {
		t.Error("the show box stayed ticked after the window lost focus")
	}
	b.FlushConsole()
	for _, m := range b.Console() {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused") {
			t.Errorf("console: %s", m.Text)
		}
	}
	// The page told the server: the exposure interval was ended by the stop.
	var ended bool
	deadline := time.Now().Add(5 * time.Second)
	for !ended && time.Now().Before(deadline) {
		err := env.App.Store.View(context.Background(), func(tx *store.Tx) error {
			ivs, err := tx.ExposureIntervals(context.Background(), analyst.ID, env.Clock.Now().Add(-time.Hour), env.Clock.Now().Add(time.Hour))
			for _, i := range ivs {
				ended = ended || !i.EndedAt.IsZero()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !ended {
		t.Error("no exposure interval was ended by the page's stop")
	}
}
