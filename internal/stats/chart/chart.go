// Package chart draws small bar and line charts as SVG, on the server, so
// that the dashboards work without JavaScript and under the strict content
// security policy: the markup uses presentation attributes (fill=,
// stroke=, font-size=) and never a style attribute or element.
//
// It is deliberately small: horizontal bars for counts by category
// (grouped when there are several series) and lines for counts over time.
// Every chart has a data table beside it on the page; the SVG is a picture
// of that table and is marked role="img" with a title for screen readers.
package chart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Series is one named set of values, one per label.
type Series struct {
	Name   string
	Values []float64
}

// Palette is the fill of each series in order; it has enough contrast on
// white for the thin bars and lines.
var Palette = []string{"#1f5f8b", "#c0504d", "#4f8a3c", "#8064a2", "#d08a1e", "#2c7f7f"}

const (
	width      = 640
	labelWidth = 200
	valueWidth = 70
	barHeight  = 16
	barGap     = 6
	fontSize   = 12
)

func esc(s string) string { return html.EscapeString(s) }

func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func maxOf(series []Series) float64 {
	m := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			m = max(m, v)
		}
	}
	return m
}

func legend(b *strings.Builder, series []Series, y int) int {
	if len(series) < 2 {
		return y
	}
	x := 0
	for i, s := range series {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/>`, x, y, Palette[i%len(Palette)])
		fmt.Fprintf(b, `<text x="%d" y="%d" font-size="%d" fill="#222">%s</text>`, x+16, y+10, fontSize, esc(clip(s.Name, 24)))
		x += 24 + 8*len([]rune(clip(s.Name, 24)))
	}
	return y + 20
}

// Bar draws horizontal bars, one group per label, one bar per series.
func Bar(title string, labels []string, series []Series) string {
	var b strings.Builder
	group := len(series)*(barHeight+2) + barGap
	top := 0
	if len(series) > 1 {
		top = 20
	}
	height := top + len(labels)*group + 4
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif">`,
		width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	legend(&b, series, 0)
	m := maxOf(series)
	span := float64(width - labelWidth - valueWidth)
	for i, l := range labels {
		y := top + i*group
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" fill="#222" text-anchor="end">%s</text>`,
			labelWidth-6, y+barHeight-3, fontSize, esc(clip(l, 28)))
		for j, s := range series {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			w := 0.0
			if m > 0 {
				w = v / m * span
			}
			by := y + j*(barHeight+2)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelWidth, by, w, barHeight, Palette[j%len(Palette)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="%d" fill="#222">%s</text>`, float64(labelWidth)+w+4, by+barHeight-3, fontSize, num(v))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Line draws one line per series over labels (periods, in order).
func Line(title string, labels []string, series []Series) string {
	const height, left, right, bottom = 240, 56, 16, 28
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" font-family="sans-serif">`,
		width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(title))
	top := legend(&b, series, 0) + 8
	m := maxOf(series)
	if m == 0 {
		m = 1
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-width="1"/>`, left, height-bottom, width-right, height-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-width="1"/>`, left, top, left, height-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" fill="#222" text-anchor="end">%s</text>`, left-4, top+4, fontSize, num(m))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" fill="#222" text-anchor="end">0</text>`, left-4, height-bottom, fontSize)
	x := func(i int) float64 {
		if len(labels) < 2 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/m) }
	for _, i := range []int{0, len(labels) / 2, len(labels) - 1} {
		if i < 0 || i >= len(labels) || (i == len(labels)/2 && (i == 0 || i == len(labels)-1)) {
			continue
		}
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == len(labels)-1 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="%d" fill="#222" text-anchor="%s">%s</text>`, x(i), height-8, fontSize, anchor, esc(clip(labels[i], 16)))
	}
	for j, s := range series {
		c := Palette[j%len(Palette)]
		var pts []string
		for i := range labels {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		if len(pts) == 1 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(0), y(s.Values[0]), c)
			continue
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), c)
	}
	b.WriteString(`</svg>`)
	return b.String()
}
