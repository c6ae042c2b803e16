package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/selfreport"
)

// selfReportPicture is a benign synthetic picture: seeded noise under
// bands and a disc, big enough (hundreds of KB as PNG) that a leaked
// file could not hide in a small request.
func selfReportPicture(t testing.TB, seed uint32) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 480, 360))
	x32 := seed*2654435761 + 1
	for y := range 360 {
		for x := range 480 {
			x32 ^= x32 << 13
			x32 ^= x32 >> 17
			x32 ^= x32 << 5
			n := uint8(x32 & 0x1f)
			c := color.NRGBA{R: uint8(x/3) + n, G: uint8(y/2) + uint8(seed*40), B: 120 + n, A: 255}
			if dx, dy := x-240-int(seed)*30, y-180; dx*dx+dy*dy < 90*90 {
				c = color.NRGBA{R: 230, G: 60 + n, B: uint8(seed * 70), A: 255}
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

// espFeed polls the self-report feed with an ESP's bearer token.
func espFeed(t *testing.T, env *haventest.Env) *selfreport.Feed {
	t.Helper()
	ctx := context.Background()
	esp := env.NewUser(t, "esp-feed-"+haven.NewID()[:8], haven.RoleESP, "")
	tok, err := env.App.Accounts.CreateAPIToken(ctx, haven.SystemActor("test"), esp.ID, "self-report feed")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/api/v1/self-report/hashes?after=0", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: status %d", resp.StatusCode)
	}
	var f selfreport.Feed
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func feedHas(f *selfreport.Feed, algo haven.HashAlgo, value string) bool {
	for _, e := range f.Entries {
		if e.Algo == algo && e.Value == value && e.Live {
			return true
		}
	}
	return false
}

// TestSelfReportOverHTTP: the pages without a browser — a hashes list
// sent with the form gives a receipt; the case opens with its number and
// secret, takes more hashes, changes its notification choice and is
// withdrawn; a wrong secret is refused beside the field; Spanish works.
func TestSelfReportOverHTTP(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	c := env.Client(t)
	if p := c.Get("/self-report?lang=es"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `lang="es"`) ||
		!strings.Contains(p.Body, "Denuncia imágenes tuyas") {
		t.Fatalf("Spanish page: %d", p.StatusCode)
	}
	if csp := c.Get("/self-report").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	sum := md5.Sum([]byte("synthetic self-report file"))
	line := "file," + hex.EncodeToString(sum[:]) + ","
	// No relation: the form comes back with the message and the hashes.
	r := c.Post("/self-report", url.Values{"lang": {"en"}, "hashes": {line}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Choose who you are.") || !strings.Contains(r.Body, line) {
		t.Fatalf("missing relation: %d", r.StatusCode)
	}
	r = c.Post("/self-report", url.Values{"lang": {"en"}, "hashes": {line}, "relation": {"adult"}, "notify": {"none"}})
	if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("submit: %d", r.StatusCode)
	}
	number := regexp.MustCompile(`id="sr-number">([A-Z0-9-]+)<`).FindStringSubmatch(r.Body)
	secret := regexp.MustCompile(`id="sr-secret">([A-Z0-9-]+)<`).FindStringSubmatch(r.Body)
	if number == nil || secret == nil {
		t.Fatalf("no case number or secret on the receipt")
	}
	if !feedHas(espFeed(t, env), haven.AlgoMD5, hex.EncodeToString(sum[:])) {
		t.Error("the ESP feed lacks the self-reported MD5")
	}
	creds := url.Values{"lang": {"en"}, "number": {number[1]}, "secret": {secret[1]}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	if p := c.Post("/self-report/case", with("secret", "WRONG-SECRET")); p.StatusCode != http.StatusBadRequest ||
		!strings.Contains(p.Body, "The case number and secret do not match") {
		t.Errorf("wrong secret: %d", p.StatusCode)
	}
	p := c.Post("/self-report/case", with("action", "open"))
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, hex.EncodeToString(sum[:])) {
		t.Fatalf("open: %d", p.StatusCode)
	}
	sum2 := md5.Sum([]byte("another synthetic file"))
	if p := c.Post("/self-report/case", with("action", "add", "hashes", "file,"+hex.EncodeToString(sum2[:])+",")); p.StatusCode != http.StatusOK ||
		!strings.Contains(p.Body, "1 fingerprints were added") || !strings.Contains(p.Body, hex.EncodeToString(sum2[:])) {
		t.Errorf("add: %d", p.StatusCode)
	}
	if p := c.Post("/self-report/case", with("action", "notify", "notify", "email", "contact", "nope")); p.StatusCode != http.StatusBadRequest ||
		!strings.Contains(p.Body, "Give an email address") {
		t.Errorf("bad contact: %d", p.StatusCode)
	}
	if p := c.Post("/self-report/case", with("action", "notify", "notify", "counsel", "contact", "Counsel Example, counsel@example.org")); p.StatusCode != http.StatusOK ||
		!strings.Contains(p.Body, "Your choice was saved.") || !strings.Contains(p.Body, `value="Counsel Example, counsel@example.org"`) {
		t.Errorf("notify: %d", p.StatusCode)
	}
	if p := c.Post("/self-report/case", with("action", "withdraw")); p.StatusCode != http.StatusBadRequest {
		t.Errorf("withdraw without confirming: %d", p.StatusCode)
	}
	if p := c.Post("/self-report/case", with("action", "withdraw", "confirm", "yes")); p.StatusCode != http.StatusOK ||
		!strings.Contains(p.Body, "Your fingerprints were taken back") {
		t.Errorf("withdraw: %d", p.StatusCode)
	}
	if feedHas(espFeed(t, env), haven.AlgoMD5, hex.EncodeToString(sum[:])) {
		t.Error("the ESP feed still has a withdrawn MD5 as live")
	}
	// A law-enforcement user holds an API token but not the match
	// permission: the feed refuses it.
	le := env.NewUser(t, "le-sr@example.org", haven.RoleLE, env.Agency(t, "Example Feed Agency").ID)
	tok, err := env.App.Accounts.CreateAPIToken(context.Background(), haven.SystemActor("test"), le.ID, "x")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/api/v1/self-report/hashes", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the feed for a law-enforcement token: %d, want 403", resp.StatusCode)
	}
}

// TestBrowserSelfReport is the acceptance test of /self-report in
// Chromium on a phone-sized screen: two generated pictures are chosen;
// the page shows hashes equal to the server's Go PDQ hashes of the same
// files; the network log shows that no request carried file bytes (the
// only request with a body is the url-encoded form, with the expected
// fields, far smaller than either file); a receipt comes back; and an ESP
// polling the self-report feed sees both PDQ hashes.
func TestBrowserSelfReport(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := haventest.Browser(t)
	dir := t.TempDir()
	var paths, want []string
	smallest := 1 << 30
	for i, seed := range []uint32{1, 2} {
		data := selfReportPicture(t, seed)
		smallest = min(smallest, len(data))
		p := filepath.Join(dir, []string{"first.png", "second.png"}[i])
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		h, _, err := pdq.HashReader(bytes.NewReader(data), pdq.Options{})
		if err != nil {
			t.Fatal(err)
		}
		paths, want = append(paths, p), append(want, h.String())
	}
	if want[0] == want[1] {
		t.Fatal("the two pictures hash alike")
	}

	type sent struct {
		method, url, contentType string
		body                     []byte
		hasBody                  bool
	}
	var mu sync.Mutex
	var requests []sent
	if err := chromedp.Listen(b.Ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			s := sent{method: e.Request.Method, url: e.Request.URL, hasBody: e.Request.HasPostData}
			for k, v := range e.Request.Headers {
				if strings.EqualFold(k, "Content-Type") {
					s.contentType, _ = v.(string)
				}
			}
			for _, d := range e.Request.PostDataEntries {
				s.body = append(s.body, d.Bytes...)
			}
			mu.Lock()
			requests = append(requests, s)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	b.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/self-report?lang=en")); r.Status != http.StatusOK {
		t.Fatalf("page: %d", r.Status)
	}
	ready := "Ready. Choose your files."
	haventest.Get(b, chromedp.Poll[bool](`document.getElementById('sr-status').textContent === `+jsString(ready)))
	for i, p := range paths {
		b.Do(chromedp.SendKeys(chromedp.ID("sr-files"), p))
		haventest.Get(b, chromedp.Poll[bool](`document.querySelectorAll('#sr-rows tr').length === `+string(rune('1'+i))+
			` && !document.getElementById('sr-files').disabled`))
	}
	shown := haventest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#sr-rows tr td:nth-child(3)')).map(td => td.textContent)`))
	if strings.Join(shown, ",") != strings.Join(want, ",") {
		t.Fatalf("hashes shown %v, want the server's %v", shown, want)
	}
	field := haventest.Get(b, chromedp.Value(chromedp.ID("sr-hashes")))
	files, err := selfreport.ParseFiles(field)
	if err != nil || len(files) != 2 || files[0].PDQ.String() != want[0] || files[1].PDQ.String() != want[1] {
		t.Fatalf("hashes field %q: %v", field, err)
	}
	for i, p := range paths {
		data, _ := os.ReadFile(p)
		if sum := md5.Sum(data); !bytes.Equal(files[i].MD5, sum[:]) {
			t.Errorf("file %d: MD5 differs from the server's", i+1)
		}
	}
	// Phone-sized: nothing wider than the screen.
	if wide := haventest.Get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); wide {
		t.Error("the page scrolls sideways on a 390 px screen")
	}
	b.Do(chromedp.Click(chromedp.ID("sr-relation-minor")))
	if r := b.Load(chromedp.Click(chromedp.ID("sr-send"))); r.Status != http.StatusOK {
		t.Fatalf("send: %d", r.Status)
	}
	number := haventest.Get(b, chromedp.Text(chromedp.ID("sr-number")))
	secret := haventest.Get(b, chromedp.Text(chromedp.ID("sr-secret")))
	if !strings.HasPrefix(number, "SR-") || len(secret) < 20 {
		t.Fatalf("receipt: %q %q", number, secret)
	}
	mu.Lock()
	log := append([]sent(nil), requests...)
	mu.Unlock()
	posts := 0
	for _, s := range log {
		if !s.hasBody && s.method == http.MethodGet {
			continue
		}
		if s.method != http.MethodPost || !strings.HasSuffix(s.url, "/self-report") ||
			!strings.HasPrefix(s.contentType, "application/x-www-form-urlencoded") {
			t.Errorf("a request with a body that is not the self-report form: %s %s (%s)", s.method, s.url, s.contentType)
			continue
		}
		posts++
		if len(s.body) == 0 || len(s.body) >= smallest/10 {
			t.Errorf("form body of %d bytes (files are %d+ bytes)", len(s.body), smallest)
		}
		form, err := url.ParseQuery(string(s.body))
		if err != nil {
			t.Errorf("form body: %v", err)
		}
		for k := range form {
			switch k {
			case "lang", "hashes", "relation", "context", "notify", "contact":
			default:
				t.Errorf("the form sent a field %q", k)
			}
		}
		if strings.Contains(string(s.body), "first.png") || strings.Contains(string(s.body), "second.png") {
			t.Error("a file name was sent")
		}
	}
	if posts != 1 {
		t.Errorf("%d form posts, want 1", posts)
	}
	feed := espFeed(t, env)
	for _, h := range want {
		if !feedHas(feed, haven.AlgoPDQ, h) {
			t.Errorf("the ESP feed lacks PDQ %s", h)
		}
	}
	for _, m := range b.Console() {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused") {
			t.Errorf("console: %s", m.Text)
		}
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestHashWasmIsCurrent rebuilds the WebAssembly hasher with the toolchain
// recorded beside it and the flags of go:generate, and compares it with
// the committed static/hash.wasm: a change to internal/pdq or
// cmd/hashwasm without `go generate ./internal/server/` fails here.
func TestHashWasmIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WebAssembly binary (about a minute)")
	}
	version, err := os.ReadFile("static/hash.wasm.version")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("static/hash.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hash.wasm")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, "../../cmd/hashwasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOTOOLCHAIN="+strings.TrimSpace(string(version)), "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("static/hash.wasm (%d bytes) differs from a fresh build (%d bytes): run go generate ./internal/server/", len(committed), len(built))
	}
}

// TestSelfReportNews: a survivor self-reports a picture and asks to be
// told by e-mail; an online service then reports a copy of it; the file
// job matches it against the self-reported bank and queues news; the
// support coordinator sees the case number and the e-mail in the
// notification queue and marks it passed on; the survivor's case page
// says a copy was found (never which report); a second self-report that
// chose not to be told gets no news.
func TestSelfReportNews(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	data := viewerPattern(t)
	sum := md5.Sum(data)
	h, q, err := pdq.HashReader(bytes.NewReader(data), pdq.Options{})
	if err != nil {
		t.Fatal(err)
	}
	anon := haven.Actor{Addr: "192.0.2.60"}
	file := selfreport.File{MD5: sum[:], PDQ: &h, Quality: q}
	told, err := env.App.SelfReports.Submit(ctx, anon, selfreport.Submission{Relation: selfreport.RelationAdult, Lang: "en",
		Files: []selfreport.File{file}, Notify: selfreport.NotifyEmail, Contact: "survivor@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	silent, err := env.App.SelfReports.Submit(ctx, anon, selfreport.Submission{Relation: selfreport.RelationMinor, Lang: "en",
		Files: []selfreport.File{file}, Notify: selfreport.NotifyNone})
	if err != nil {
		t.Fatal(err)
	}
	reportID, _ := fileReport(t, env, data, "copy.png")
	coord := env.NewUser(t, "coordinator-news@example.org", haven.RoleSupport, "")
	actor := haven.Actor{UserID: coord.ID, Role: haven.RoleSupport, AuthAt: env.Clock.Now()}
	var news []*selfreport.NewsItem
	deadline := time.Now().Add(30 * time.Second)
	for len(news) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no news within 30 s of the report")
		}
		time.Sleep(100 * time.Millisecond)
		if news, err = env.App.SelfReports.NewsQueue(ctx, actor); err != nil {
			t.Fatal(err)
		}
	}
	if len(news) != 1 || news[0].Number != told.Number || news[0].Contact != "survivor@example.org" || news[0].CybertipReport != reportID {
		t.Fatalf("news queue: %+v", news[0])
	}
	c := env.Client(t)
	c.Login(coord)
	page := c.Get("/app/victims/notifications")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, told.Number) || !strings.Contains(page.Body, "e-mail: survivor@example.org") ||
		strings.Contains(page.Body, silent.Number) {
		t.Fatalf("queue page: %d", page.StatusCode)
	}
	if r := c.Post("/app/victims/self-reports/"+news[0].ID+"/sent", url.Values{"note": {"e-mail sent 2026-11-27"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark passed on: %d", r.StatusCode)
	}
	if left, _ := env.App.SelfReports.NewsQueue(ctx, actor); len(left) != 0 {
		t.Errorf("%d news left after passing it on", len(left))
	}
	pub := env.Client(t)
	p := pub.Post("/self-report/case", url.Values{"lang": {"en"}, "number": {told.Number}, "secret": {told.Secret}})
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "a copy of one of your pictures was reported to us") ||
		!strings.Contains(p.Body, "We have told you as you asked.") || strings.Contains(p.Body, "#"+strconv.FormatInt(reportID, 10)) {
		t.Errorf("the survivor's case page: %d", p.StatusCode)
	}
	if p := pub.Post("/self-report/case", url.Values{"lang": {"en"}, "number": {silent.Number}, "secret": {silent.Secret}}); !strings.Contains(p.Body, "Nothing new.") {
		t.Error("the survivor who chose not to be told has news")
	}
	// Someone without the notification permission cannot see the queue.
	if _, err := env.App.SelfReports.NewsQueue(ctx, haven.Actor{UserID: "x", Role: haven.RoleIntake}); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("intake analyst reads the news queue: %v", err)
	}
}
