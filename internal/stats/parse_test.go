package stats

import (
	"testing"
	"time"

	"github.com/haven-hotline/haven"
)

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string][3]string{
		"2025":    {"2025", "2025-01-01", "2025-12-31"},
		"2025-h1": {"2025-H1", "2025-01-01", "2025-06-30"},
		"2025-H2": {"2025-H2", "2025-07-01", "2025-12-31"},
	} {
		p, err := ParsePeriod(in)
		if err != nil || p.Name != want[0] || day(p.Start) != want[1] || day(p.End) != want[2] {
			t.Errorf("%q: %+v %v, want %v", in, p, err, want)
		}
	}
	for _, in := range []string{"", "25", "2025-H3", "1999", "2025-Q1", "2025-"} {
		if _, err := ParsePeriod(in); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("%q: %v, want invalid", in, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	r, err := ParseRange("", "", "", now)
	if err != nil || day(r.From) != "2026-02-04" || day(r.To) != "2026-05-04" || r.By != "day" {
		t.Fatalf("default range %+v %v", r, err)
	}
	if r, _ := ParseRange("2025-01-01", "2025-12-31", "", now); r.By != "week" {
		t.Errorf("a year groups by week: %s", r.By)
	}
	if r, _ := ParseRange("2020-01-01", "2025-12-31", "", now); r.By != "month" {
		t.Errorf("six years group by month: %s", r.By)
	}
	for _, c := range [][3]string{{"2025-02-01", "2025-01-01", ""}, {"x", "", ""}, {"", "", "year"}, {"2000-01-01", "2026-01-01", ""}} {
		if _, err := ParseRange(c[0], c[1], c[2], now); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("%v: %v, want invalid", c, err)
		}
	}
	if b := bucket(time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC), "week"); b != "week of 2026-04-27" {
		t.Errorf("Sunday 3 May 2026 is in the week of Monday 27 April: %s", b)
	}
}

// FuzzParseRange: the dashboard's range comes from the query string; it
// must never panic, and any accepted range is ordered, bounded and grouped.
func FuzzParseRange(f *testing.F) {
	f.Add("2025-01-01", "2025-12-31", "week")
	f.Add("", "", "")
	f.Add("2025-13-01", "0000-01-01", "day")
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to, by string) {
		r, err := ParseRange(from, to, by, now)
		if err != nil {
			return
		}
		if r.From.After(r.To) || r.To.Sub(r.From) > MaxRangeDays*24*time.Hour || (r.By != "day" && r.By != "week" && r.By != "month") {
			t.Fatalf("accepted %q %q %q as %+v", from, to, by, r)
		}
	})
}

// FuzzParsePeriod: a release period comes from a form.
func FuzzParsePeriod(f *testing.F) {
	f.Add("2025-H1")
	f.Add("2025")
	f.Fuzz(func(t *testing.T, v string) {
		p, err := ParsePeriod(v)
		if err != nil {
			return
		}
		if !p.Start.Before(p.End) || p.End.Sub(p.Start) > 366*24*time.Hour {
			t.Fatalf("accepted %q as %+v", v, p)
		}
	})
}
