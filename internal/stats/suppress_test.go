package stats

import (
	"testing"
)

// section builds a breakdown with its total (the sum of values).
func section(id string, values map[string]int64) *Section {
	s := &Section{ID: id}
	var total int64
	for _, l := range sortedKeys(values) {
		s.Cells = append(s.Cells, &Cell{Label: l, Value: values[l]})
		total += values[l]
	}
	s.Total = &Cell{Label: "Total", Value: total}
	return s
}

func shown(s *Section, t int) map[string]string {
	m := map[string]string{}
	for _, c := range s.Cells {
		m[c.Label] = c.Display(t)
	}
	m["Total"] = s.Total.Display(t)
	return m
}

// canPin reports whether a reader who sees s as published can narrow a
// hidden cell down to fewer than t-1 values, by enumerating every
// assignment of the hidden cells that agrees with what is published: the
// total, the shown cells, and the labels ("fewer than t": 1..t-1;
// "suppressed": at least t).
func canPin(s *Section, t int) bool {
	if s.Total.Hidden {
		return false
	}
	r := s.Total.Value
	var hidden []*Cell
	for _, c := range s.Cells {
		if c.Hidden {
			hidden = append(hidden, c)
		} else {
			r -= c.Value
		}
	}
	if len(hidden) == 0 {
		return false
	}
	possible := make([]map[int64]bool, len(hidden))
	for i := range possible {
		possible[i] = map[int64]bool{}
	}
	vals := make([]int64, len(hidden))
	var walk func(i int, left int64)
	walk = func(i int, left int64) {
		if i == len(hidden)-1 {
			ok := left >= 1 && left < int64(t)
			if hidden[i].Value >= int64(t) {
				ok = left >= int64(t)
			}
			if ok {
				vals[i] = left
				for j, v := range vals {
					possible[j][v] = true
				}
			}
			return
		}
		lo, hi := int64(1), int64(t-1)
		if hidden[i].Value >= int64(t) {
			lo, hi = int64(t), left
		}
		for v := lo; v <= hi && v <= left; v++ {
			vals[i] = v
			walk(i+1, left-v)
		}
	}
	walk(0, r)
	for _, p := range possible {
		if len(p) < t-1 {
			return true
		}
	}
	return false
}

// TestSuppressSmallCells is the acceptance case: a release whose
// cells include 3 and 12 shows "fewer than 10" and 12.
func TestSuppressSmallCells(t *testing.T) {
	s := section("incident-type", map[string]int64{"a": 3, "b": 12, "c": 40})
	Protect([]*Section{s}, 10)
	got := shown(s, 10)
	if got["a"] != "fewer than 10" || got["b"] != "12" {
		t.Fatalf("got %v: want a as fewer than 10 and b as 12", got)
	}
	// 55 - 12 = 43 = a + c: c must be hidden too, or a = 3 is given back.
	if got["c"] != "suppressed" || got["Total"] != "55" {
		t.Fatalf("got %v: want c suppressed to protect a, total published", got)
	}
	if canPin(s, 10) {
		t.Fatalf("a hidden cell can be worked out: %v", got)
	}
}

func TestSuppressComplementChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]int64
		hidden []string
	}{
		{"two small cells need room", map[string]int64{"a": 4, "b": 7, "c": 30, "d": 50}, []string{"a", "b", "c"}},
		{"three small cells have room", map[string]int64{"a": 3, "b": 4, "c": 6, "d": 12, "e": 40}, []string{"a", "b", "c"}},
		{"two ones need a complement", map[string]int64{"a": 1, "b": 1, "c": 30, "d": 50}, []string{"a", "b", "c"}},
		{"no small cell", map[string]int64{"a": 10, "b": 11}, nil},
		{"all small: total small too", map[string]int64{"a": 2, "b": 3}, []string{"a", "b", "Total"}},
		{"one small, one other", map[string]int64{"a": 1, "b": 10}, []string{"a", "b", "Total"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := section("x", tc.values)
			Protect([]*Section{s}, 10)
			want := map[string]bool{}
			for _, h := range tc.hidden {
				want[h] = true
			}
			for _, c := range append(s.Cells, s.Total) {
				if c.Hidden != want[c.Label] {
					t.Errorf("%s (%d): hidden %v, want %v", c.Label, c.Value, c.Hidden, want[c.Label])
				}
			}
			if canPin(s, 10) {
				t.Errorf("a hidden cell can be worked out: %v", shown(s, 10))
			}
		})
	}
}

// TestSuppressDifferenceAttack: two releases of overlapping periods that
// differ by one small cell must not give it away.
func TestSuppressDifferenceAttack(t *testing.T) {
	// H1 published: country GB 40, US 200. The year adds 3 reports from
	// GB in H2 and 60 from the US.
	h1 := section("country", map[string]int64{"GB": 40, "US": 200})
	ProtectRelease([]*Section{h1}, 10, nil)
	if shown(h1, 10)["GB"] != "40" {
		t.Fatal("H1 suppressed without reason")
	}
	year := section("country", map[string]int64{"GB": 43, "US": 260})
	ProtectRelease([]*Section{year}, 10, [][]*Section{{h1}})
	got := shown(year, 10)
	if got["GB"] == "43" {
		t.Fatalf("year shows GB 43 beside H1's 40: the difference 3 is revealed (%v)", got)
	}
	// With GB hidden in the year, the year's total minus US must not
	// give GB back either.
	if got["Total"] != "suppressed" && got["US"] != "suppressed" {
		t.Fatalf("GB recoverable from the year's total: %v", got)
	}
	if canPin(year, 10) {
		t.Fatalf("a hidden cell can be worked out: %v", got)
	}

	// A cell hidden in an earlier overlapping release stays hidden: H1
	// hid FR 4; the year's FR 14 would give H2's 10 and H1's 4 away.
	h1b := section("country", map[string]int64{"FR": 4, "GB": 40, "US": 200})
	ProtectRelease([]*Section{h1b}, 10, nil)
	yb := section("country", map[string]int64{"FR": 14, "GB": 60, "US": 400})
	ProtectRelease([]*Section{yb}, 10, [][]*Section{{h1b}})
	if !yb.Cells[0].Hidden {
		t.Fatalf("FR published in the year while hidden in H1: %v", shown(yb, 10))
	}
	// A second version of the same period with one more small report.
	v1 := section("esp", map[string]int64{"esp-a": 120, "esp-b": 80})
	ProtectRelease([]*Section{v1}, 10, nil)
	v2 := section("esp", map[string]int64{"esp-a": 121, "esp-b": 80})
	ProtectRelease([]*Section{v2}, 10, [][]*Section{{v1}})
	if g := shown(v2, 10); g["esp-a"] == "121" || g["Total"] == "201" {
		t.Fatalf("the revision reveals one report by difference: %v", g)
	}
}

// TestSuppressSharedTotal: one quantity published in several sections is
// hidden everywhere at once.
func TestSuppressSharedTotal(t *testing.T) {
	total := &Cell{Label: "Reports", Value: 11, Key: "reports"}
	a := &Section{ID: "a", Cells: []*Cell{{Label: "x", Value: 1}, {Label: "y", Value: 10}}, Total: total}
	b := &Section{ID: "b", Cells: []*Cell{{Label: "GB", Value: 11}}, Total: total}
	sum := &Section{ID: "summary", Cells: []*Cell{total}}
	Protect([]*Section{sum, a, b}, 10)
	if !total.Hidden || sum.Cells[0].Display(10) != "suppressed" || !b.Cells[0].Hidden {
		t.Fatalf("shared total: %v %v", total, b.Cells[0])
	}
}

func TestLinkRestoresSharing(t *testing.T) {
	secs := []*Section{
		{ID: "summary", Cells: []*Cell{{Label: "Reports", Value: 5, Key: "reports", Hidden: true}}},
		{ID: "a", Cells: []*Cell{{Label: "x", Value: 5}}, Total: &Cell{Label: "Total", Value: 5, Key: "reports"}},
	}
	link(secs, true)
	if secs[0].Cells[0] != secs[1].Total || secs[0].Cells[0].Hidden {
		t.Fatal("link must share cells by key and clear suppression")
	}
}
