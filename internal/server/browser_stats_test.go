package server_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
)

// TestBrowserDashboards loads the dashboards in Chromium: every chart of
// a program with data renders its SVG beside its table, the others say
// they have no data, and the console reports no content-security-policy
// violation (the charts use presentation attributes, never style).
func TestBrowserDashboards(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	var reps []statReport
	base := time.Date(2026, 4, 20, 8, 0, 0, 0, time.UTC)
	for i := range 24 {
		reps = append(reps, statReport{at: base.Add(time.Duration(i) * 5 * time.Hour), source: []string{"esp", "public", "phone"}[i%3],
			esp: "esp-example", country: []string{"US", "GB", "CA"}[i%3], priority: []string{"P1", "P2", "P3", "INFO"}[i%4],
			incident: haven.IncidentCSAM, reviewed: time.Duration(i%3) * 40 * time.Minute})
	}
	insertStatReports(t, env, 1, reps)
	rebuildStats(t, env)
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	b := haventest.Browser(t)
	browserLoginTo(t, b, env, sup, "/app")
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/app/dashboards?from=2026-04-01&to=2026-05-04")); r.Status != http.StatusOK {
		t.Fatalf("dashboards: %d", r.Status)
	}
	ids := haventest.Get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("section.chart-card")].map(s => s.id)`))
	if len(ids) != 15 {
		t.Fatalf("%d charts on the page, want 15: %v", len(ids), ids)
	}
	type state struct {
		ID      string  `json:"id"`
		SVG     bool    `json:"svg"`
		Width   float64 `json:"width"`
		Shapes  int     `json:"shapes"`
		NoData  bool    `json:"noData"`
		Rows    int     `json:"rows"`
		CSVLink bool    `json:"csv"`
	}
	states := haventest.Get(b, chromedp.Evaluate[[]state](`[...document.querySelectorAll("section.chart-card")].map(s => {
		const svg = s.querySelector("svg");
		return {id: s.id, svg: !!svg, width: svg ? svg.getBoundingClientRect().width : 0,
			shapes: svg ? svg.querySelectorAll("rect, polyline, circle").length : 0,
			noData: !!s.querySelector(".no-data"), rows: s.querySelectorAll("tbody tr").length,
			csv: !!s.querySelector('a[href$=".csv?by=day&from=2026-04-01&to=2026-05-04"], a[href*=".csv?"]')};
	})`))
	withData := map[string]bool{"chart-reports-over-time": true, "chart-reports-by-source": true, "chart-reports-by-incident-type": true,
		"chart-reports-by-priority": true, "chart-reports-by-esp": true, "chart-reports-by-country": true, "chart-first-review": true}
	for _, s := range states {
		switch {
		case !s.CSVLink:
			t.Errorf("%s: no CSV link", s.ID)
		case withData[s.ID] && (!s.SVG || s.Width < 100 || s.Shapes == 0 || s.Rows == 0):
			t.Errorf("%s: chart not rendered: %+v", s.ID, s)
		case !withData[s.ID] && (s.SVG || !s.NoData):
			t.Errorf("%s: a program without data must say so: %+v", s.ID, s)
		}
	}
	if n := haventest.Get(b, chromedp.Evaluate[int](`document.scripts.length`)); n != 0 {
		t.Errorf("%d scripts on the dashboard page", n)
	}
	b.Screenshot("dashboards")
	// The public statistics page too.
	if r := b.Load(chromedp.Navigate(env.HTTP.URL + "/statistics")); r.Status != http.StatusOK {
		t.Fatalf("statistics: %d", r.Status)
	}
	for _, m := range b.Console() {
		if regexp.MustCompile(`(?i)content security policy|refused`).MatchString(m.Text) {
			t.Errorf("console: %s", m.Text)
		}
	}
}
