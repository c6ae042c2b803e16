package haventest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Chrome is one headless Chromium for one test. Run actions on Ctx with
// chromedp.Do and chromedp.Run; it is closed when the test ends.
type Chrome struct {
	Ctx context.Context
	t   testing.TB

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// Browser starts headless Chromium (Debian's /usr/bin/chromium) with a
// fresh profile. The test is skipped when the browser is not installed,
// except under CI=true, where that is a failure. When the test fails, a
// full-page screenshot of the last page is saved (see ScreenshotDir) and
// the console messages are logged.
func Browser(t testing.TB) *Chrome {
	t.Helper()
	if testing.Short() {
		// CI's race run uses -short: the browser tests run in the full run.
		t.Skip("browser test skipped with -short")
	}
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser tests need %s (CI=true): %v; install it with "+
				"apt-get install -y --no-install-recommends chromium", ChromiumPath, err)
		}
		t.Skipf("skipping browser test: %s not found (apt-get install -y --no-install-recommends chromium)", ChromiumPath)
	}
	profile := t.TempDir() // removed after the browser has exited (cleanups run last-in first-out)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox, // as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	c := &Chrome{Ctx: ctx, t: t}

	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		<-consoleDone
	})
	// The first Do starts the browser and opens the tab; no timeout here, as
	// the context of the first call owns the browser.
	if err := chromedp.Do(ctx); err != nil {
		close(consoleDone)
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.console = append(c.console, m)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if p, err := c.saveScreenshot("failure"); err != nil {
			t.Logf("no failure screenshot: %v", err)
		} else {
			t.Logf("failure screenshot: %s", p)
		}
		if loc, err := runShort(c.Ctx, chromedp.Location()); err == nil {
			t.Logf("browser was at %s", loc)
		}
		for _, m := range c.Console() {
			t.Logf("console: %s %s:%d", m, m.URL, m.Line+1)
		}
	})
	return c
}

// runShort runs one action with a time limit, for the cleanup code, which
// must not hang on a browser that stopped answering.
func runShort[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// ActionTimeout bounds each action run through Do, Get and Load, so that a
// selector that never matches fails the test instead of hanging it.
const ActionTimeout = 10 * time.Second

// Do runs the steps in order and fails the test on an error.
func (c *Chrome) Do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.Ctx, ActionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatal(err)
	}
}

// Get runs one action that returns a value and fails the test on an error.
func Get[T any](c *Chrome, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.Ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// Load runs steps that make the page navigate (a click on a submit button,
// chromedp.Navigate), waits until the new page has loaded and returns the
// response of its document, after any redirects.
func (c *Chrome) Load(steps ...chromedp.Action[chromedp.Void]) *network.Response {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.Ctx, ActionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp == nil {
		c.t.Fatal("the page loaded without a document response")
	}
	return resp
}

// Path returns the path of the page the browser shows.
func (c *Chrome) Path() string {
	c.t.Helper()
	u, err := url.Parse(Get(c, chromedp.Location()))
	if err != nil {
		c.t.Fatal(err)
	}
	return u.Path
}

// Console returns the console messages seen so far: console API calls,
// uncaught exceptions and browser log entries (CSP violations, failed
// loads).
func (c *Chrome) Console() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), c.console...)
}

// FlushConsole waits until every console message the page emitted before
// the call has been collected, by logging a marker and waiting for it.
func (c *Chrome) FlushConsole() {
	c.t.Helper()
	marker := fmt.Sprintf("haventest-flush-%d", time.Now().UnixNano())
	if err := chromedp.Do(c.Ctx, chromedp.Evaluate[chromedp.Void](`console.debug("`+marker+`")`)); err != nil {
		c.t.Fatalf("flushing the console: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, m := range c.console {
			if m.Text == marker {
				c.console = append(c.console[:i], c.console[i+1:]...)
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("the console marker never arrived")
}

// Screenshot saves a full-page PNG of the current page as name.png in the
// test's screenshot folder and returns its path.
func (c *Chrome) Screenshot(name string) string {
	c.t.Helper()
	p, err := c.saveScreenshot(name)
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	c.t.Logf("screenshot: %s", p)
	return p
}

func (c *Chrome) saveScreenshot(name string) (string, error) {
	png, err := runShort(c.Ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
	if err != nil {
		return "", err
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		return "", errors.New("the browser did not return a PNG")
	}
	dir, err := ScreenshotDir(c.t)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name+".png")
	return p, os.WriteFile(p, png, 0o644)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ScreenshotDir returns the folder for the test's screenshots:
// $HAVEN_SCREENSHOTS/<test name>, or, when that is not set,
// <temp dir>/haven-screenshots/<test name>. The folder is kept after the
// test so that the pictures can be looked at.
func ScreenshotDir(t testing.TB) (string, error) {
	root := os.Getenv("HAVEN_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(os.TempDir(), "haven-screenshots")
	}
	dir := filepath.Join(root, unsafeName.ReplaceAllString(strings.ReplaceAll(t.Name(), "/", "_"), "_"))
	return dir, os.MkdirAll(dir, 0o755)
}
