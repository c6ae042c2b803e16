package server_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/lab"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/viewer"
)

// labSeries matches a report file to a new entry of series code in a
// synthetic positive bank.
type labSeries struct {
	env  *haventest.Env
	bank *haven.HashBank
	next byte
}

func newLabSeries(t *testing.T, env *haventest.Env) *labSeries {
	t.Helper()
	b := &haven.HashBank{ID: haven.NewID(), Name: "Series bank (synthetic)", PDQThreshold: 31, Enabled: true,
		CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()}
	if err := env.App.Store.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateHashBank(context.Background(), b) }); err != nil {
		t.Fatal(err)
	}
	return &labSeries{env: env, bank: b, next: 0x40}
}

// sighting files a report with the pattern and matches its file to code.
func (ls *labSeries) sighting(t *testing.T, code string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	id, fileID := fileReport(t, ls.env, viewerPattern(t), "pattern.png")
	e := &haven.HashEntry{BankID: ls.bank.ID, Algo: haven.AlgoMD5, Value: bytes.Repeat([]byte{ls.next}, 16), SeriesID: code,
		AddedAt: ls.env.Clock.Now(), Enabled: true}
	ls.next++
	err := ls.env.App.Store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.PutHashEntry(ctx, e); err != nil {
			return err
		}
		return tx.AddFileMatch(ctx, &haven.FileMatch{ReportID: id, FileID: fileID, EntryID: e.ID, Algo: haven.AlgoMD5, At: ls.env.Clock.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, fileID
}

var labImageRE = regexp.MustCompile(`src="/le/lab/([0-9a-f-]+)/image"`)

// checkMaskedPNG decodes a served PNG and checks that the mask's pixels
// have the fill colour and the pixels around it do not.
func checkMaskedPNG(t *testing.T, body string, m store.Mask) {
	t.Helper()
	img, err := png.Decode(strings.NewReader(body))
	if err != nil {
		t.Fatalf("decode served image: %v", err)
	}
	fill := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		fr, fg, fb, _ := lab.MaskColour.RGBA()
		return r == fr && g == fg && b == fb
	}
	for y := m.Y; y < m.Y+m.H; y++ {
		for x := m.X; x < m.X+m.W; x++ {
			if !fill(x, y) {
				t.Fatalf("pixel (%d, %d) inside the mask is %v, want the fill colour", x, y, img.At(x, y))
			}
		}
	}
	b := img.Bounds()
	for _, p := range []image.Point{{m.X - 1, m.Y}, {m.X + m.W, m.Y}, {m.X, m.Y - 1}, {m.X, m.Y + m.H}, {b.Max.X - 1, b.Max.Y - 1}} {
		if p.In(b) && fill(p.X, p.Y) {
			t.Errorf("pixel %v outside the mask has the fill colour", p)
		}
	}
}

// TestLabRoutesAccess: the workboard's forms, and the agency lab's 404s
// for anything that is not a published sanitised rendition.
func TestLabRoutesAccess(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ls := newLabSeries(t, env)
	id, fileID := ls.sighting(t, "SER-9")
	analyst := env.NewUser(t, "vid@example.org", haven.RoleVictimID, "")
	ag := env.Agency(t, "Synthetic Task Force")
	officer := env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
	c, le := env.Client(t), env.Client(t)
	c.Login(analyst)
	le.Login(officer)

	if r := c.Post("/app/workboard/SER-9/findings", url.Values{"body": {" "}}); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "Write something first") {
		t.Errorf("empty finding: %d", r.StatusCode)
	}
	r := c.Post("/app/workboard/SER-9/leads", url.Values{"report": {fmt.Sprint(id)}, "file": {fileID}, "clue": {"received"}, "note": {"same hour as another"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("lead: %d\n%s", r.StatusCode, r.Body)
	}
	if r := c.Get("/app/workboard/SER-9"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "same hour as another") {
		t.Errorf("series page after the lead: %d", r.StatusCode)
	}
	base := fmt.Sprintf("/app/workboard/SER-9/reports/%d/files/%s/", id, fileID)
	if r := c.Post(base+"mask", url.Values{"masks": {"nonsense"}}); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "could not be read") {
		t.Errorf("bad masks: %d", r.StatusCode)
	}
	if r := c.Get(fmt.Sprintf("/app/workboard/SER-OTHER/reports/%d/files/%s/work", id, fileID)); r.StatusCode != http.StatusNotFound {
		t.Errorf("work image under another series: %d, want 404", r.StatusCode)
	}
	r = c.Post(base+"mask", url.Values{"masks": {"10,10,50,40"}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/app/lab/") {
		t.Fatalf("sanitise: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	lid := strings.TrimPrefix(r.Header.Get("Location"), "/app/lab/")
	for _, path := range []string{"/le/lab/" + lid + "/image", "/le/lab/" + fileID + "/image", "/le/lab/missing/image"} {
		if r := le.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("LE %s: %d, want 404", path, r.StatusCode)
		}
	}
	if r := le.Get("/le/lab"); r.StatusCode != http.StatusOK || strings.Contains(r.Body, lid) {
		t.Errorf("LE lab before publishing: %d, lists the draft %v", r.StatusCode, strings.Contains(r.Body, lid))
	}
	if r := c.Post("/app/lab/"+lid+"/publish", url.Values{}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("publish without confirming: %d, want 400", r.StatusCode)
	}
	if r := c.Post("/app/lab/"+lid+"/publish", url.Values{"confirm": {"yes"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d\n%s", r.StatusCode, r.Body)
	}
	r = le.Get("/le/lab/" + lid + "/image")
	if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("LE image after publishing: %d %v", r.StatusCode, r.Header)
	}
	checkMaskedPNG(t, r.Body, store.Mask{X: 10, Y: 10, W: 50, H: 40})
	// The agency page carries no report or file data.
	page := le.Get("/le/lab")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "SER-9") || strings.Contains(page.Body, fileID) ||
		strings.Contains(page.Body, fmt.Sprintf("/reports/%d", id)) {
		t.Errorf("LE lab page: %d, or it shows report data", page.StatusCode)
	}
}

// TestBrowserWorkboardAndLab walks the workboard and the lab in Chromium:
// a series with two sightings from two reports rises above an older one,
// its sightings are newest first, a finding is added; the analyst draws a
// rectangle on the masking page (lab.js), saves and publishes, and the
// agency user's served picture is the masked one.
func TestBrowserWorkboardAndLab(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ls := newLabSeries(t, env)
	ls.sighting(t, "SER-OLD")
	env.Clock.Advance(time.Hour)
	r1, f1 := ls.sighting(t, "SER-NEW")
	env.Clock.Advance(time.Hour)
	r2, _ := ls.sighting(t, "SER-NEW")
	analyst := env.NewUser(t, "vid@example.org", haven.RoleVictimID, "")

	b := haventest.Browser(t)
	browserLogin(t, b, env, analyst)
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/app/workboard")); r.Status != http.StatusOK {
		t.Fatalf("workboard: status %d", r.Status)
	}
	codes := haventest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.workboard tbody a")).map(a => a.textContent)`))
	if len(codes) != 2 || codes[0] != "SER-NEW" || codes[1] != "SER-OLD" {
		t.Fatalf("workboard order: got %v, want SER-NEW then SER-OLD", codes)
	}
	if r := b.Load(chromedp.Click(chromedp.CSS(`table.workboard a[href="/app/workboard/SER-NEW"]`))); r.Status != http.StatusOK {
		t.Fatalf("series page: status %d", r.Status)
	}
	wantPath(t, b, "/app/workboard/SER-NEW")
	reports := haventest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("article.sighting")).map(a => a.dataset.report)`))
	if want := []string{fmt.Sprint(r2), fmt.Sprint(r1)}; len(reports) != 2 || reports[0] != want[0] || reports[1] != want[1] {
		t.Fatalf("sightings: got reports %v, want %v", reports, want)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("body"), "Striped wallpaper in both sightings (synthetic)"))
	if r := b.Load(chromedp.Click(chromedp.CSS(`form[action="/app/workboard/SER-NEW/findings"] button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after the finding: status %d", r.Status)
	}
	if n := haventest.Get(b, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("article.finding")).filter(a => a.textContent.includes("Striped wallpaper")).length`)); n != 1 {
		t.Fatalf("findings shown: %d, want 1", n)
	}

	// The masking page: draw one rectangle with the pointer.
	base := fmt.Sprintf("/app/workboard/SER-NEW/reports/%d/files/%s/", r1, f1)
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + base + "mask")); r.Status != http.StatusOK {
		t.Fatalf("mask page: status %d", r.Status)
	}
	b.Do(chromedp.Poll[chromedp.Void](`document.getElementById("lab-work").complete && document.getElementById("lab-work").naturalWidth > 0 && document.getElementById("lab-canvas").width > 0`))
	b.Do(chromedp.Evaluate[chromedp.Void](`(function () {
		const c = document.getElementById("lab-canvas");
		const box = c.getBoundingClientRect();
		const at = (type, x, y) => c.dispatchEvent(new PointerEvent(type, {bubbles: true, clientX: box.left + x, clientY: box.top + y, pointerId: 1}));
		at("pointerdown", 100, 60);
		at("pointermove", 160, 110);
		at("pointerup", 220, 160);
	})()`))
	value := haventest.Get(b, chromedp.Evaluate[string](`document.getElementById("masks").value`))
	masks, err := lab.ParseMasks(value)
	if err != nil || len(masks) != 1 || masks[0].W < 100 || masks[0].H < 80 {
		t.Fatalf("the script wrote masks %q (%v), want one rectangle of about 120×100", value, err)
	}
	b.Screenshot("masked")
	if r := b.Load(chromedp.Click(chromedp.CSS(`#lab-form button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after saving: status %d", r.Status)
	}
	if p := b.Path(); !strings.HasPrefix(p, "/app/lab/") {
		t.Fatalf("after saving the browser is at %s, want /app/lab/…", p)
	}
	lid := strings.TrimPrefix(b.Path(), "/app/lab/")
	b.Do(chromedp.Click(chromedp.ID("confirm")))
	if r := b.Load(chromedp.Click(chromedp.CSS(`form.lab-publish button[type=submit]`))); r.Status != http.StatusOK {
		t.Fatalf("after publishing: status %d", r.Status)
	}
	b.FlushConsole()
	for _, m := range b.Console() {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused") {
			t.Errorf("console: %s", m.Text)
		}
	}

	// The agency user sees the masked picture, and nothing else.
	ag := env.Agency(t, "Synthetic Task Force")
	officer := env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
	le := env.Client(t)
	le.Login(officer)
	page := le.Get("/le/lab")
	m := labImageRE.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil || m[1] != lid {
		t.Fatalf("LE lab: %d, image %v, want %s", page.StatusCode, m, lid)
	}
	r := le.Get("/le/lab/" + lid + "/image")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("LE image: %d", r.StatusCode)
	}
	checkMaskedPNG(t, r.Body, masks[0])
	var views int
	err = env.App.Store.View(context.Background(), func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: "lab.view", Limit: 100})
		for _, e := range evs {
			if e.ActorID == officer.ID {
				views++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if views == 0 {
		t.Error("the agency user's view is not audited")
	}
}

// TestLabWorkImageCountsAsExposure: the masking page's unblurred working
// picture counts a minute of revealed media each time it is drawn; once
// the daily budget is spent it is refused, and the masking page says why
// instead of showing it.
func TestLabWorkImageCountsAsExposure(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Config: func(c *config.Config) { c.ExposureDailyBudget = 2 * time.Minute }})
	ls := newLabSeries(t, env)
	id, fileID := ls.sighting(t, "SERIES-EXPOSURE")
	vid := env.NewUser(t, "vid-exposure@example.org", haven.RoleVictimID, "")
	c := env.Client(t)
	c.Login(vid)
	base := fmt.Sprintf("/app/workboard/SERIES-EXPOSURE/reports/%d/files/%s/", id, fileID)
	meter := func() time.Duration {
		m, err := env.App.Viewer.Meter(context.Background(), haven.Actor{UserID: vid.ID, Role: haven.RoleVictimID})
		if err != nil {
			t.Fatal(err)
		}
		return m.Today
	}
	if got := meter(); got != 0 {
		t.Fatalf("exposure before any view: %s", got)
	}
	for i := 1; i <= 2; i++ {
		if r := c.Get(base + "work"); r.StatusCode != http.StatusOK {
			t.Fatalf("working picture %d: %d", i, r.StatusCode)
		}
		if got, want := meter(), time.Duration(i)*viewer.WorkView; got != want {
			t.Errorf("after %d views: exposure %s, want %s", i, got, want)
		}
	}
	if r := c.Get(base + "work"); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "today&#39;s limit of revealed media") {
		t.Errorf("working picture over budget: %d", r.StatusCode)
	}
	if got := meter(); got != 2*viewer.WorkView {
		t.Errorf("a refused view was counted: %s", got)
	}
	p := c.Get(base + "mask")
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "today&#39;s limit of revealed media") || strings.Contains(p.Body, `id="lab-work"`) {
		t.Errorf("masking page over budget: %d, the picture is still offered or the reason missing", p.StatusCode)
	}
}

// TestWorkboardPromote: an unidentified series with a sighting is on the
// workboard; its series page lists the sighting and the entry; recording
// the identification from the workboard (a form error first) makes the
// victim identified, the series identified, and takes it off the
// workboard. The promotion is audited.
func TestWorkboardPromote(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ls := newLabSeries(t, env)
	id, _ := ls.sighting(t, "SERIES-PROMOTE")
	ag := env.Agency(t, "Example Promote Agency")
	vid := env.NewUser(t, "vid-promote@example.org", haven.RoleVictimID, "")
	c := env.Client(t)
	c.Login(vid)
	if p := c.Get("/app/workboard"); !strings.Contains(p.Body, "SERIES-PROMOTE") {
		t.Fatal("the series is not on the workboard")
	}
	// No series record yet: the page is the workboard's.
	r := c.Post("/app/workboard/SERIES-PROMOTE/promote", url.Values{"victim": {"V-PROMOTE-1"}, "officer_name": {"Officer Example"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "the identifying agency and the date") ||
		!strings.Contains(r.Body, `value="Officer Example"`) {
		t.Fatalf("promotion without an agency: %d", r.StatusCode)
	}
	r = c.Post("/app/workboard/SERIES-PROMOTE/promote", url.Values{"victim": {"V-PROMOTE-1"}, "agency": {ag.ID},
		"identified_on": {"2026-11-20"}, "officer_name": {"Officer Example"}, "officer_email": {"officer@example.org"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/app/victims/series/SERIES-PROMOTE?done=promoted" {
		t.Fatalf("promotion: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	p := c.Get("/app/victims/series/SERIES-PROMOTE?done=promoted")
	for _, want := range []string{"The identification was recorded.", "Status: identified", "V-PROMOTE-1", "yes, 2026-11-20",
		"Known files (1 hash entries)", fmt.Sprintf(`<a href="/app/reports/%d">#%d</a>`, id, id)} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("series page lacks %q", want)
		}
	}
	if p := c.Get("/app/workboard"); strings.Contains(p.Body, "SERIES-PROMOTE") {
		t.Error("an identified series is still on the workboard")
	}
	err := env.App.Store.View(context.Background(), func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: "series.promote", Limit: 5})
		if err == nil && (len(evs) != 1 || evs[0].ObjectID != "SERIES-PROMOTE") {
			t.Errorf("series.promote events: %d", len(evs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
