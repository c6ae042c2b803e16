package stats

import (
	"strconv"
)

// Small-count suppression (docs/decisions/0017-statistics.md).
//
// A count below the threshold T (default 10) could identify someone, so it
// is never published: it is shown as "fewer than T" (primary
// suppression). Hiding it is not enough when the section's total and the
// other cells are published, since the total minus the others gives it
// back, nor when an earlier release of an overlapping period lets a
// reader subtract one release from the other. So:
//
//  1. Within a section whose total is published, every hidden cell must
//     stay uncertain over at least T − 1 values, as a small count is
//     under primary suppression alone. A reader knows the hidden cells
//     sum to the total minus the published cells, that a cell shown as
//     "fewer than T" is 1 to T − 1 and that one shown as "suppressed"
//     (hidden only to protect another) is at least T; each hidden cell
//     lies between that sum minus the most the others can be and that
//     sum minus the least they can be. While some cell's range is too
//     narrow, the smallest published cell whose hiding is enough is
//     hidden too (or the largest, if none is enough alone); when no
//     published cell is left, the total is hidden as well, and a hidden
//     total is never the sum of published cells.
//  2. Against every published release whose period overlaps (the same
//     period in an earlier version, the year containing a half, the
//     half inside a year), a cell (or total) is hidden when the same cell
//     is hidden there, or when both are published and differ by 1 to
//     T − 1 (the difference is the count of the rest of the period, or
//     of a revision).
//
// Rules 1 and 2 run in turn until nothing changes; they only ever hide
// more, so they end.

// Cell is one published count and whether it is hidden.
type Cell struct {
	Label string `json:"label"`
	Value int64  `json:"value"`
	// Hidden cells are published as "fewer than T" when Value < T
	// (primary suppression) and as "suppressed" otherwise.
	Hidden bool `json:"hidden,omitempty"`
	// Key names a quantity that appears in several sections (the total
	// of reports, say): cells with the same key are one cell (see link).
	Key string `json:"key,omitempty"`
}

// Section is a table of a release or an export.
type Section struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Note  string  `json:"note,omitempty"`
	Cells []*Cell `json:"cells"`
	// Total is the sum of the cells when the section is a breakdown of a
	// whole (it may be shared with other sections that break down the
	// same whole); nil when the cells are separate figures.
	Total *Cell `json:"total,omitempty"`
}

// Display is how a cell is published with threshold t.
func (c *Cell) Display(t int) string {
	switch {
	case !c.Hidden:
		return strconv.FormatInt(c.Value, 10)
	case c.Value < int64(t):
		return "fewer than " + strconv.Itoa(t)
	}
	return "suppressed"
}

// low is the least a reader knows a hidden cell can be.
func (c *Cell) low(t int) int64 {
	if c.Value < int64(t) {
		return 1
	}
	return int64(t)
}

// primary hides every cell (and total) with a value from 1 to t − 1.
func primary(sections []*Section, t int) {
	for _, s := range sections {
		for _, c := range s.Cells {
			if c.Value > 0 && c.Value < int64(t) {
				c.Hidden = true
			}
		}
		if s.Total != nil && s.Total.Value > 0 && s.Total.Value < int64(t) {
			s.Total.Hidden = true
		}
	}
}

// ranges reports whether every hidden cell of s can still take at least
// t − 1 values, given the published total and cells and what a hidden
// cell's label says of it ("fewer than t": 1 to t − 1; "suppressed": at
// least t). The hidden cells sum to the total minus the published ones,
// so a cell lies between that sum minus the most the others can be and
// that sum minus the least they can be.
func ranges(s *Section, t int) bool {
	const inf = int64(1) << 60
	r := s.Total.Value
	var hidden []*Cell
	for _, c := range s.Cells {
		if c.Hidden {
			hidden = append(hidden, c)
		} else {
			r -= c.Value
		}
	}
	for _, c := range hidden {
		var othersLow, othersHigh int64
		for _, o := range hidden {
			if o != c {
				othersLow += o.low(t)
				othersHigh = min(inf, othersHigh+o.high(t))
			}
		}
		lo := max(c.low(t), r-othersHigh)
		hi := min(c.high(t), r-othersLow)
		if hi-lo+1 < int64(t-1) {
			return false
		}
	}
	return true
}

// high is the most a reader knows a hidden cell can be (unbounded for a
// cell shown as "suppressed").
func (c *Cell) high(t int) int64 {
	if c.Value < int64(t) {
		return int64(t - 1)
	}
	return int64(1) << 60
}

// complement applies rule 1 to every section once; it reports whether it
// hid anything.
func complement(sections []*Section, t int) bool {
	changed := false
	for _, s := range sections {
		if s.Total == nil {
			continue
		}
		if s.Total.Hidden {
			// A hidden total must not be the sum of published cells.
			var largest *Cell
			for _, c := range s.Cells {
				if c.Hidden {
					largest = nil
					break
				}
				if largest == nil || c.Value > largest.Value {
					largest = c
				}
			}
			if largest != nil {
				largest.Hidden, changed = true, true
			}
			continue
		}
		for !s.Total.Hidden && !ranges(s, t) {
			// The smallest published cell that is enough alone; else the
			// largest, and look again.
			var pick, largest *Cell
			for _, c := range s.Cells {
				if c.Hidden {
					continue
				}
				if largest == nil || c.Value > largest.Value {
					largest = c
				}
				c.Hidden = true
				if ranges(s, t) && (pick == nil || c.Value < pick.Value) {
					pick = c
				}
				c.Hidden = false
			}
			if pick == nil {
				pick = largest
			}
			if pick == nil {
				pick = s.Total
			}
			pick.Hidden = true
			changed = true
		}
	}
	return changed
}

// Protect applies primary suppression and rule 1 to sections that share
// no earlier release (research exports, a release's own tables).
func Protect(sections []*Section, t int) {
	primary(sections, t)
	for complement(sections, t) {
	}
}

// link makes the cells that share a key one cell again (after reading
// sections from JSON) and, when clear, clears every suppression so that
// it can be computed afresh from the values.
func link(sections []*Section, clear bool) {
	byKey := map[string]*Cell{}
	one := func(c *Cell) *Cell {
		if c == nil {
			return nil
		}
		if clear {
			c.Hidden = false
		}
		if c.Key == "" {
			return c
		}
		if k, ok := byKey[c.Key]; ok {
			return k
		}
		byKey[c.Key] = c
		return c
	}
	for _, s := range sections {
		for i, c := range s.Cells {
			s.Cells[i] = one(c)
		}
		s.Total = one(s.Total)
	}
}

// cellsByKey indexes a release's cells (and totals) by section and label.
func cellsByKey(sections []*Section) map[string]*Cell {
	m := map[string]*Cell{}
	for _, s := range sections {
		for _, c := range s.Cells {
			m[s.ID+"\x00"+c.Label] = c
		}
		if s.Total != nil {
			m[s.ID+"\x00\x00total"] = s.Total
		}
	}
	return m
}

// against applies rule 2 against one earlier published release; it
// reports whether it hid anything.
func against(cur, earlier map[string]*Cell, t int) bool {
	changed := false
	for k, c := range cur {
		if c.Hidden {
			continue
		}
		e, ok := earlier[k]
		if !ok {
			continue
		}
		d := c.Value - e.Value
		if d < 0 {
			d = -d
		}
		if e.Hidden || (d > 0 && d < int64(t)) {
			c.Hidden = true
			changed = true
		}
	}
	return changed
}

// ProtectRelease suppresses a release's sections with threshold t, given
// the tables of the published releases whose periods overlap its own.
func ProtectRelease(sections []*Section, t int, overlapping [][]*Section) {
	primary(sections, t)
	cur := cellsByKey(sections)
	var earlier []map[string]*Cell
	for _, o := range overlapping {
		earlier = append(earlier, cellsByKey(o))
	}
	for {
		changed := complement(sections, t)
		for _, e := range earlier {
			if against(cur, e, t) {
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}
