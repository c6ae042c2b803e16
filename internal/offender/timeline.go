package offender

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/haven-hotline/haven/internal/store"
)

// Timeline is a record's history laid out for drawing: one lane per kind
// of fact, each entry a bar (a period) or a mark (an event), with
// positions already scaled to a drawing Width wide, so that a template
// draws it as SVG without script or inline style.
type Timeline struct {
	Start, End time.Time
	Width      float64
	Height     float64
	Lanes      []*Lane
	Ticks      []Tick
}

// Lane is one row of the timeline.
type Lane struct {
	Name    string
	Y       float64
	Entries []TimelineEntry
}

// TimelineEntry is a period or an event.
type TimelineEntry struct {
	Label    string
	Detail   string
	From, To time.Time // To zero: still holds (a period) or equal to From (an event)
	Ongoing  bool
	Event    bool
	X, W     float64
	Colour   string
}

// Tick is a year mark on the axis.
type Tick struct {
	X     float64
	Label string
}

// Event is a dated item of the timeline that is not a fact of the record:
// a linked case or incident.
type Event struct {
	At     time.Time
	Label  string
	Detail string
}

// The lanes of a timeline, in drawing order.
var laneOrder = []struct{ name, colour string }{
	{"Residences", "#2f6f9f"}, {"Employment", "#6a8f3a"}, {"School", "#8f6a3a"}, {"Travel", "#9f5f2f"},
	{"Compliance", "#7a4f9f"}, {"Linked cases", "#b03030"}, {"Locate findings", "#3a8f8f"},
}

const (
	timelineWidth = 1000.0
	laneHeight    = 34.0
	axisHeight    = 24.0
)

// BuildTimeline lays out facts (residences, employment, school, travel,
// compliance events), linked events and locate candidates between the
// earliest date and now.
func BuildTimeline(facts []*store.OffenderFact, events []Event, cands []*store.LocateCandidate, now time.Time) *Timeline {
	lanes := map[string][]TimelineEntry{}
	add := func(lane string, e TimelineEntry) { lanes[lane] = append(lanes[lane], e) }
	for _, f := range facts {
		e := TimelineEntry{Label: f.Value, Detail: f.Detail, From: f.ValidFrom, To: f.ValidTo, Ongoing: f.ValidTo.IsZero()}
		switch f.Kind {
		case FactResidence:
			add("Residences", e)
		case FactEmployment:
			add("Employment", e)
		case FactSchool:
			add("School", e)
		case FactTravel:
			add("Travel", e)
		case FactStatus:
			e.Label, e.Event, e.To, e.Ongoing = "status: "+f.Value, true, f.ValidFrom, false
			add("Compliance", e)
		case FactVerification:
			e.Label, e.Event, e.To, e.Ongoing = "verified", true, f.ValidFrom, false
			add("Compliance", e)
		}
	}
	for _, ev := range events {
		add("Linked cases", TimelineEntry{Label: ev.Label, Detail: ev.Detail, From: ev.At, To: ev.At, Event: true})
	}
	for _, c := range cands {
		add("Locate findings", TimelineEntry{Label: c.Kind + ": " + c.Value, Detail: "confidence " + c.Confidence, From: c.ValidFrom,
			To: c.ValidTo, Ongoing: c.ValidTo.IsZero()})
	}
	tl := &Timeline{Width: timelineWidth, End: now}
	for _, es := range lanes {
		for _, e := range es {
			for _, t := range []time.Time{e.From, e.To} {
				if !t.IsZero() && (tl.Start.IsZero() || t.Before(tl.Start)) {
					tl.Start = t
				}
				if t.After(tl.End) {
					tl.End = t
				}
			}
		}
	}
	if tl.Start.IsZero() || !tl.Start.Before(tl.End) {
		tl.Start = tl.End.AddDate(-1, 0, 0)
	}
	span := tl.End.Sub(tl.Start).Seconds()
	x := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return timelineWidth * t.Sub(tl.Start).Seconds() / span
	}
	y := axisHeight
	for _, l := range laneOrder {
		es, ok := lanes[l.name]
		if !ok {
			continue
		}
		slices.SortStableFunc(es, func(a, b TimelineEntry) int { return a.From.Compare(b.From) })
		for i := range es {
			e := &es[i]
			e.Colour = l.colour
			e.X = x(e.From)
			end := tl.End
			if !e.To.IsZero() {
				end = e.To
			}
			e.W = max(x(end)-e.X, 3)
			if e.Event {
				e.W = 3
			}
		}
		tl.Lanes = append(tl.Lanes, &Lane{Name: l.name, Y: y, Entries: es})
		y += laneHeight
	}
	tl.Height = y + 8
	for yr := tl.Start.Year() + 1; yr <= tl.End.Year(); yr++ {
		t := time.Date(yr, 1, 1, 0, 0, 0, 0, time.UTC)
		tl.Ticks = append(tl.Ticks, Tick{X: x(t), Label: strconv.Itoa(yr)})
	}
	return tl
}

// Place is a dated place of a record, for the place list: coordinates
// are numbers, with a link the analyst may open elsewhere.
type Place struct {
	Kind     string
	Label    string
	Detail   string
	From, To time.Time
	HasGeo   bool
	Lat, Lon float64
}

// Coordinates writes the place's coordinates as numbers.
func (p Place) Coordinates() string {
	if !p.HasGeo {
		return ""
	}
	return fmt.Sprintf("%.5f, %.5f", p.Lat, p.Lon)
}

// MapURL is an OpenStreetMap link to the coordinates.
func (p Place) MapURL() string {
	if !p.HasGeo {
		return ""
	}
	return fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.5f&mlon=%.5f#map=16/%.5f/%.5f", p.Lat, p.Lon, p.Lat, p.Lon)
}

// PlacesOf lists the residences, employers, schools and travel of a
// record and the address candidates of a locate request, newest first.
func PlacesOf(facts []*store.OffenderFact, cands []*store.LocateCandidate) []Place {
	var out []Place
	for _, f := range facts {
		switch f.Kind {
		case FactResidence, FactEmployment, FactSchool, FactTravel:
			out = append(out, Place{Kind: f.Kind, Label: f.Value, Detail: f.Detail, From: f.ValidFrom, To: f.ValidTo,
				HasGeo: f.HasGeo, Lat: f.Lat, Lon: f.Lon})
		}
	}
	for _, c := range cands {
		if c.Kind == "address" || c.Kind == "employer" || c.Kind == "travel" {
			out = append(out, Place{Kind: "candidate " + c.Kind, Label: c.Value, Detail: "confidence " + c.Confidence,
				From: c.ValidFrom, To: c.ValidTo, HasGeo: c.HasGeo, Lat: c.Lat, Lon: c.Lon})
		}
	}
	slices.SortStableFunc(out, func(a, b Place) int { return b.From.Compare(a.From) })
	return out
}
