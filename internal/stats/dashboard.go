package stats

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/stats/chart"
	"github.com/haven-hotline/haven/internal/store"
)

// Range is the period a dashboard shows and how time charts group days.
type Range struct {
	From, To time.Time // days, inclusive
	By       string    // day, week or month
}

// MaxRangeDays bounds a dashboard range (ten years).
const MaxRangeDays = 3660

// ParseRange reads a range from form values, defaulting to the last 90
// days up to today and grouping by day up to 92 days, by week up to two
// years, by month beyond.
func ParseRange(from, to, by string, now time.Time) (Range, error) {
	r := Range{To: midnight(now), By: by}
	var err error
	if to != "" {
		if r.To, err = parseDay("to", to); err != nil {
			return r, err
		}
	}
	r.From = r.To.AddDate(0, 0, -89)
	if from != "" {
		if r.From, err = parseDay("from", from); err != nil {
			return r, err
		}
	}
	if r.From.After(r.To) {
		return r, haven.Invalidf("from", "the start of the range is after its end")
	}
	days := int(r.To.Sub(r.From).Hours()/24) + 1
	if days > MaxRangeDays {
		return r, haven.Invalidf("from", "the range is longer than ten years")
	}
	switch by {
	case "day", "week", "month":
	case "":
		r.By = "day"
		if days > 92 {
			r.By = "week"
		}
		if days > 730 {
			r.By = "month"
		}
	default:
		return r, haven.Invalidf("by", "group by day, week or month")
	}
	return r, nil
}

// Chart is one dashboard chart: its data table (Columns, Rows), the same
// figures as series for the picture, and what to say when it is empty.
type Chart struct {
	ID      string
	Title   string
	Program string
	Kind    string // bar or line
	Columns []string
	Rows    [][]string
	Labels  []string
	Series  []chart.Series
	// NoProgram is true when the program has recorded nothing yet (or its
	// records cannot be read): the chart says so instead of drawing.
	NoProgram bool
}

// SVG draws the chart.
func (c *Chart) SVG() string {
	if c.Kind == "line" {
		return chart.Line(c.Title, c.Labels, c.Series)
	}
	return chart.Bar(c.Title, c.Labels, c.Series)
}

// WriteCSV writes exactly the chart's data table.
func (c *Chart) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(c.Columns); err != nil {
		return err
	}
	for _, r := range c.Rows {
		if err := cw.Write(csvSafe(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses cells a spreadsheet would run as a formula (names of
// agencies, banks and ESPs come from people).
func csvSafe(r []string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				v = "'" + v
			}
		}
		out[i] = v
	}
	return out
}

type chartDef struct {
	ID, Title, Program, Metric string
	build                      func(ctx context.Context, tx *store.Tx, d chartDef, r Range) (*Chart, error)
}

// charts lists the dashboard charts in page order.
var charts = []chartDef{
	{"reports-over-time", "Reports received, by source", "Reports (CyberTipline)", "reports.source", overTime},
	{"reports-by-source", "Reports by source", "Reports (CyberTipline)", "reports.source", byDimension("Source")},
	{"reports-by-incident-type", "Reports by incident type", "Reports (CyberTipline)", "reports.incident_type", byDimension("Incident type")},
	{"reports-by-priority", "Reports by priority", "Reports (CyberTipline)", "reports.priority", byDimension("Priority")},
	{"reports-by-esp", "Reports by ESP", "Reports (CyberTipline)", "reports.esp", byDimension("ESP")},
	{"reports-by-country", "Reports by country", "Reports (CyberTipline)", "reports.country", byDimension("Country")},
	{"first-review", "Time to first review against the SLA", "Reports (CyberTipline)", "review.first", firstReview},
	{"referrals-by-agency", "Referrals by agency", "Referrals", "referrals.agency", byDimension("Agency")},
	{"outcomes-by-agency", "Referral outcomes by agency", "Referrals", "outcomes.agency", byPair("Agency", "Outcome")},
	{"matches-by-bank", "Hash matches by bank", "Hash banks", "matches.bank", byDimension("Bank")},
	{"identification-requests", "Identification requests by status", "Victim identification", "idrequests.status", byDimension("Status")},
	{"self-reports", "Self-reports received", "Self-reports", "selfreports.cases", overTime},
	{"locate-requests", "Offender locate requests by status", "Offender tracking", "locate.status", byDimension("Status")},
	{"cases-by-type", "Cases by type and status", "Casework", "cases.type_status", byPair("Case type", "Status")},
	{"support-matches", "Family-support matches by status", "Family support", "support.matches", byDimension("Status")},
}

// ChartIDs lists the dashboard charts' identifiers in page order.
func ChartIDs() []string {
	out := make([]string, len(charts))
	for i, c := range charts {
		out[i] = c.ID
	}
	return out
}

func byDimension(label string) func(context.Context, *store.Tx, chartDef, Range) (*Chart, error) {
	return func(ctx context.Context, tx *store.Tx, d chartDef, r Range) (*Chart, error) {
		rows, err := tx.RollupTotals(ctx, d.Metric, day(r.From), day(r.To))
		if err != nil {
			return nil, err
		}
		c := &Chart{Kind: "bar", Columns: []string{label, "Count"}}
		s := chart.Series{Name: "Count"}
		for _, row := range rows {
			c.Rows = append(c.Rows, []string{row.Dimension, strconv.FormatInt(row.Value, 10)})
			c.Labels = append(c.Labels, row.Dimension)
			s.Values = append(s.Values, float64(row.Value))
		}
		c.Series = []chart.Series{s}
		return c, nil
	}
}

// byPair breaks down a metric whose dimension is "a | b".
func byPair(a, b string) func(context.Context, *store.Tx, chartDef, Range) (*Chart, error) {
	return func(ctx context.Context, tx *store.Tx, d chartDef, r Range) (*Chart, error) {
		rows, err := tx.RollupTotals(ctx, d.Metric, day(r.From), day(r.To))
		if err != nil {
			return nil, err
		}
		c := &Chart{Kind: "bar", Columns: []string{a, b, "Count"}}
		s := chart.Series{Name: "Count"}
		for _, row := range rows {
			x, y, _ := strings.Cut(row.Dimension, " | ")
			c.Rows = append(c.Rows, []string{x, y, strconv.FormatInt(row.Value, 10)})
			c.Labels = append(c.Labels, x+" · "+y)
			s.Values = append(s.Values, float64(row.Value))
		}
		c.Series = []chart.Series{s}
		return c, nil
	}
}

// bucket returns the period a day falls in.
func bucket(d time.Time, by string) string {
	switch by {
	case "week":
		wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
		return "week of " + day(d.AddDate(0, 0, -wd))
	case "month":
		return d.Format("2006-01")
	}
	return day(d)
}

// overTime counts a metric per period of the range, one line per
// dimension (the sources of reports, say) and their total.
func overTime(ctx context.Context, tx *store.Tx, d chartDef, r Range) (*Chart, error) {
	cells, err := tx.RollupCells(ctx, d.Metric, day(r.From), day(r.To))
	if err != nil {
		return nil, err
	}
	per := map[string]map[string]int64{}
	dims := map[string]int64{}
	for _, x := range cells {
		t, err := time.Parse(store.RollupDayFormat, x.Day)
		if err != nil {
			return nil, fmt.Errorf("rollup day %q: %w", x.Day, err)
		}
		b := bucket(t, r.By)
		if per[b] == nil {
			per[b] = map[string]int64{}
		}
		per[b][x.Dimension] += x.Value
		dims[x.Dimension] += x.Value
	}
	names := sortedKeys(dims)
	if len(names) == 1 && names[0] == "cases" {
		names = nil // one unnamed count: just the total
	}
	c := &Chart{Kind: "line", Columns: append(append([]string{"Period"}, names...), "Total")}
	series := make([]chart.Series, len(names)+1)
	for i, n := range names {
		series[i].Name = n
	}
	series[len(names)].Name = "Total"
	// Every period of the range, empty ones included, in order.
	for t, last := r.From, ""; !t.After(r.To); t = t.AddDate(0, 0, 1) {
		b := bucket(t, r.By)
		if b == last {
			continue
		}
		last = b
		row := []string{b}
		var total int64
		for i, n := range names {
			v := per[b][n]
			row = append(row, strconv.FormatInt(v, 10))
			series[i].Values = append(series[i].Values, float64(v))
			total += v
		}
		if len(names) == 0 {
			for _, v := range per[b] {
				total += v
			}
		}
		row = append(row, strconv.FormatInt(total, 10))
		series[len(names)].Values = append(series[len(names)].Values, float64(total))
		c.Rows = append(c.Rows, row)
		c.Labels = append(c.Labels, b)
	}
	c.Series = series
	return c, nil
}

var priorities = []string{"P1", "P2", "P3", "INFO"}

func firstReview(ctx context.Context, tx *store.Tx, d chartDef, r Range) (*Chart, error) {
	rows, err := tx.RollupTotals(ctx, d.Metric, day(r.From), day(r.To))
	if err != nil {
		return nil, err
	}
	mins, err := tx.RollupTotals(ctx, "review.minutes", day(r.From), day(r.To))
	if err != nil {
		return nil, err
	}
	counts := map[string]map[string]int64{}
	seen := map[string]bool{}
	for _, row := range rows {
		p, outcome, _ := strings.Cut(row.Dimension, "|")
		if counts[p] == nil {
			counts[p] = map[string]int64{}
		}
		counts[p][outcome] += row.Value
		seen[p] = true
	}
	total := map[string]int64{}
	for _, m := range mins {
		total[m.Dimension] = m.Value
	}
	order := append([]string{}, priorities...)
	for _, p := range sortedKeys(seen) {
		if !contains(order, p) {
			order = append(order, p)
		}
	}
	c := &Chart{Kind: "bar", Columns: []string{"Priority", "Reviewed within SLA", "Reviewed late", "Not yet reviewed", "Average minutes to first review"}}
	within, late := chart.Series{Name: "Within SLA"}, chart.Series{Name: "Late"}
	for _, p := range order {
		if !seen[p] {
			continue
		}
		k := counts[p]
		avg := ""
		if n := k["within"] + k["late"]; n > 0 {
			avg = strconv.FormatFloat(float64(total[p])/float64(n), 'f', 1, 64)
		}
		c.Rows = append(c.Rows, []string{p, strconv.FormatInt(k["within"], 10), strconv.FormatInt(k["late"], 10),
			strconv.FormatInt(k["pending"], 10), avg})
		c.Labels = append(c.Labels, p)
		within.Values = append(within.Values, float64(k["within"]))
		late.Values = append(late.Values, float64(k["late"]))
	}
	c.Series = []chart.Series{within, late}
	return c, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Service) build(ctx context.Context, tx *store.Tx, d chartDef, r Range, present map[string]bool) (*Chart, error) {
	c, err := d.build(ctx, tx, d, r)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", d.ID, err)
	}
	c.ID, c.Title, c.Program = d.ID, d.Title, d.Program
	c.NoProgram = !present[d.Metric]
	return c, nil
}

// Dashboard returns every chart over a range.
func (s *Service) Dashboard(ctx context.Context, a haven.Actor, r Range) ([]*Chart, error) {
	if !a.Can(haven.PermDashboards) {
		return nil, haven.ErrForbidden
	}
	var out []*Chart
	err := s.store.View(ctx, func(tx *store.Tx) error {
		present, err := tx.RollupMetricsWithData(ctx)
		if err != nil {
			return err
		}
		for _, d := range charts {
			c, err := s.build(ctx, tx, d, r, present)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Chart returns one chart over a range.
func (s *Service) Chart(ctx context.Context, a haven.Actor, id string, r Range) (*Chart, error) {
	if !a.Can(haven.PermDashboards) {
		return nil, haven.ErrForbidden
	}
	for _, d := range charts {
		if d.ID != id {
			continue
		}
		var c *Chart
		err := s.store.View(ctx, func(tx *store.Tx) error {
			present, err := tx.RollupMetricsWithData(ctx)
			if err != nil {
				return err
			}
			c, err = s.build(ctx, tx, d, r, present)
			return err
		})
		return c, err
	}
	return nil, haven.ErrNotFound
}
