package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// wellFormed parses the SVG as XML and counts elements by name.
func wellFormed(t *testing.T, svg string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
			for _, a := range se.Attr {
				if a.Name.Local == "style" {
					t.Fatalf("style attribute in %s: the CSP forbids it", se.Name.Local)
				}
			}
		}
	}
}

func TestBar(t *testing.T) {
	svg := Bar(`Reports <by> "source"`, []string{"esp", "public & phone"}, []Series{{Name: "Reports", Values: []float64{30, 10}}})
	n := wellFormed(t, svg)
	if n["rect"] != 2 || n["title"] != 1 {
		t.Fatalf("elements %v: want 2 bars and a title", n)
	}
	if !strings.Contains(svg, "public &amp; phone") || strings.Contains(svg, "<by>") {
		t.Fatal("labels and title must be escaped")
	}
	// The longest bar is the largest value: the full span.
	if !strings.Contains(svg, `width="370.0"`) || !strings.Contains(svg, `width="123.3"`) {
		t.Fatalf("bar widths not proportional:\n%s", svg)
	}
	g := Bar("Grouped", []string{"P1", "P2"}, []Series{{Name: "Within", Values: []float64{1, 2}}, {Name: "Late", Values: []float64{3, 0}}})
	if n := wellFormed(t, g); n["rect"] != 4+2 {
		t.Fatalf("grouped: %v, want 4 bars and 2 legend swatches", n)
	}
}

func TestLine(t *testing.T) {
	svg := Line("Per day", []string{"2025-01-01", "2025-01-02", "2025-01-03"}, []Series{{Name: "Reports", Values: []float64{0, 5, 10}}})
	n := wellFormed(t, svg)
	if n["polyline"] != 1 {
		t.Fatalf("elements %v: want one line", n)
	}
	// First point at the bottom-left, last at the top-right of the plot.
	if !strings.Contains(svg, `points="56.0,212.0 340.0,110.0 624.0,8.0"`) {
		t.Fatalf("line points wrong:\n%s", svg)
	}
	if n := wellFormed(t, Line("One", []string{"2025-01"}, []Series{{Name: "R", Values: []float64{4}}})); n["circle"] != 1 {
		t.Fatalf("a single period is a dot: %v", n)
	}
	wellFormed(t, Line("None", nil, nil))
}
