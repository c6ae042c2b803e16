package offender

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Linkage compares offenders' address-periods with dated places of
// incidents and tips, bucketed by grid cell so that each address-period
// is compared only with the points of its own and the eight neighbouring
// cells, and within a cell only with the points inside its time window
// (the points of a cell are sorted by time). The cost grows with the
// number of periods and nearby points, not with their product.

// Period is an address-period: a place an offender lived at from From
// to To (Unix seconds; To 0 while it holds, From 0 when unknown).
type Period struct {
	Owner    int32 // index of the offender, for the caller
	Fact     int32 // index of the fact, for the caller
	Lat, Lon float64
	From, To int64
}

// Point is a dated place of an incident or a tip.
type Point struct {
	Index    int32 // for the caller
	Lat, Lon float64
	At       int64 // Unix seconds
}

// Near is an address-period close to a point in place and time.
type Near struct {
	Period, Point int32 // indexes into the slices given to FindNear
	KM            float64
	// GapDays is how far the point lies outside the period (0 inside).
	GapDays float64
}

// NearParams are the distance and time limits of linkage.
type NearParams struct {
	RadiusKM float64       // default 5
	Window   time.Duration // how far before or after a period a point may lie; default 30 days
	Now      int64         // the end of ongoing periods (Unix seconds)
}

const earthKM = 6371.0088

// Distance returns the great-circle distance in kilometres.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dl := (lat2 - lat1) * rad
	do := (lon2 - lon1) * rad
	a := math.Sin(dl/2)*math.Sin(dl/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(do/2)*math.Sin(do/2)
	return 2 * earthKM * math.Asin(math.Min(1, math.Sqrt(a)))
}

// grid places points in cells at least RadiusKM wide.
type grid struct {
	dLat  float64   // cell height in degrees
	lonOf []float64 // cell width in degrees, per row
	cells map[int64][]int32
}

func newGrid(radiusKM float64) *grid {
	dLat := radiusKM / 111.19
	rows := int(180/dLat) + 3
	g := &grid{dLat: dLat, lonOf: make([]float64, rows), cells: map[int64][]int32{}}
	for r := range rows {
		lo, hi := -90+float64(r)*dLat, -90+float64(r+1)*dLat
		// The poleward edge is where the row is narrowest: cells are as
		// wide as the radius there, and wider elsewhere in the row.
		c := math.Cos(math.Min(math.Max(math.Abs(lo), math.Abs(hi)), 89.9) * math.Pi / 180)
		g.lonOf[r] = math.Min(dLat/math.Max(c, 1e-3), 360)
	}
	return g
}

func (g *grid) row(lat float64) int {
	r := int(math.Floor((lat + 90) / g.dLat))
	return max(0, min(r, len(g.lonOf)-1))
}

func (g *grid) key(row int, lon float64) int64 {
	col := int64(math.Floor((lon + 180) / g.lonOf[row]))
	return int64(row)<<32 | (col & 0xffffffff)
}

// FindNear calls yield for every address-period within p.RadiusKM of a
// point whose time lies within the period widened by p.Window.
func FindNear(periods []Period, points []Point, p NearParams, yield func(Near)) {
	if p.RadiusKM <= 0 {
		p.RadiusKM = 5
	}
	if p.Window <= 0 {
		p.Window = 30 * 24 * time.Hour
	}
	if p.Now == 0 {
		p.Now = time.Now().Unix()
	}
	g := newGrid(p.RadiusKM)
	for i, pt := range points {
		k := g.key(g.row(pt.Lat), pt.Lon)
		g.cells[k] = append(g.cells[k], int32(i))
	}
	for _, c := range g.cells {
		slices.SortFunc(c, func(a, b int32) int { return cmp.Compare(points[a].At, points[b].At) })
	}
	win := int64(p.Window / time.Second)
	for pi, pd := range periods {
		from, to := pd.From, pd.To
		if to == 0 {
			to = p.Now
		}
		lo, hi := from-win, to+win
		if from == 0 {
			lo = math.MinInt64 / 2
		}
		r0 := g.row(pd.Lat)
		for r := r0 - 1; r <= r0+1; r++ {
			if r < 0 || r >= len(g.lonOf) {
				continue
			}
			base := g.key(r, pd.Lon)
			for dc := int64(-1); dc <= 1; dc++ {
				k := base&^0xffffffff | ((base + dc) & 0xffffffff)
				cell := g.cells[k]
				if len(cell) == 0 {
					continue
				}
				j := sort.Search(len(cell), func(i int) bool { return points[cell[i]].At >= lo })
				for ; j < len(cell) && points[cell[j]].At <= hi; j++ {
					pt := &points[cell[j]]
					km := Distance(pd.Lat, pd.Lon, pt.Lat, pt.Lon)
					if km > p.RadiusKM {
						continue
					}
					var gap int64
					switch {
					case pt.At < from && pd.From != 0:
						gap = from - pt.At
					case pt.At > to:
						gap = pt.At - to
					}
					yield(Near{Period: int32(pi), Point: cell[j], KM: km, GapDays: float64(gap) / 86400})
				}
			}
		}
	}
}

// ScoreNear scores a place-and-time match from 0 to 70: closer and
// within the period score higher.
func ScoreNear(n Near, p NearParams) int {
	if p.RadiusKM <= 0 {
		p.RadiusKM = 5
	}
	if p.Window <= 0 {
		p.Window = 30 * 24 * time.Hour
	}
	s := 10 + 30*(1-n.KM/p.RadiusKM)
	if n.GapDays == 0 {
		s += 30
	} else {
		s += 20 * math.Max(0, 1-n.GapDays/(p.Window.Hours()/24))
	}
	return int(math.Round(s))
}

// Identifier-match scores: a shared phone number or e-mail address is
// strong evidence, a username or a vehicle plate a little less.
var identifierScore = map[string]int{FactPhone: 60, FactEmail: 60, FactInternet: 50, FactVehicle: 50}

var identifierLabel = map[string]string{FactPhone: "phone number", FactEmail: "e-mail address", FactInternet: "username",
	FactVehicle: "vehicle plate"}

// Incident kinds.
const (
	IncidentAttemptedAbduction = "attempted_abduction"
	IncidentMissingChild       = "missing_child"
)

// IncidentKinds lists the incident kinds.
var IncidentKinds = []string{IncidentAttemptedAbduction, IncidentMissingChild}

func incidentLabel(k string) string {
	switch k {
	case IncidentAttemptedAbduction:
		return "attempted abduction"
	case IncidentMissingChild:
		return "missing-child incident"
	}
	return k
}

// ReportEvent is a CyberTipline report with a place and a time.
type ReportEvent struct {
	ReportID int64
	At       time.Time
	Lat, Lon float64
}

// ReportSource gives linkage the tips to compare with: reports with
// coordinates, and the reports carrying an identifier.
type ReportSource interface {
	ReportEvents(ctx context.Context) ([]ReportEvent, error)
	ReportsWithIdentifier(ctx context.Context, kind, value string) ([]int64, error)
}

// storeReports reads tips from the store.
type storeReports struct{ s *store.Store }

// maxReportScan is how many of the latest reports linkage reads for
// coordinates.
const maxReportScan = 5000

// ReportEvents reads the coordinates of the latest reports.
func (r storeReports) ReportEvents(ctx context.Context) ([]ReportEvent, error) {
	var out []ReportEvent
	err := r.s.View(ctx, func(tx *store.Tx) error {
		var before int64
		for seen := 0; seen < maxReportScan; {
			rows, err := tx.Reports(ctx, store.ReportFilter{BeforeID: before, Limit: 500})
			if err != nil {
				return err
			}
			for _, sum := range rows {
				before = sum.ID
				rep, err := tx.Report(ctx, sum.ID, false)
				if err != nil {
					return err
				}
				at := rep.Incident.DateTime
				if at.IsZero() {
					at = rep.OpenedAt
				}
				for _, d := range rep.Internet {
					if d.Latitude != nil && d.Longitude != nil {
						out = append(out, ReportEvent{ReportID: rep.ID, At: at, Lat: *d.Latitude, Lon: *d.Longitude})
					}
				}
			}
			seen += len(rows)
			if len(rows) < 500 {
				break
			}
		}
		return nil
	})
	return out, err
}

// ReportsWithIdentifier asks the identifier index of issue 5.
func (r storeReports) ReportsWithIdentifier(ctx context.Context, kind, value string) ([]int64, error) {
	var out []int64
	err := r.s.View(ctx, func(tx *store.Tx) error {
		e, err := tx.EntityByKey(ctx, kind, value)
		if haven.IsKind(err, haven.KindNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		links, err := tx.EntityReports(ctx, e.ID, 0, nil, 100)
		if err != nil {
			return err
		}
		for _, l := range links {
			if !slices.Contains(out, l.ReportID) {
				out = append(out, l.ReportID)
			}
		}
		return nil
	})
	return out, err
}

// SetReportSource replaces where linkage reads tips (tests).
func (s *Service) SetReportSource(r ReportSource) { s.reports = r }

// LinkageResult counts what a linkage run found.
type LinkageResult struct {
	Periods    int
	Points     int
	Candidates int
	New        int
}

type candKey struct {
	offender, targetType, target string
}

type cand struct {
	place   int // best place-and-time score
	ids     int // sum of identifier scores
	reasons []string
}

func (c *cand) reason(r string) {
	if !slices.Contains(c.reasons, r) && len(c.reasons) < 8 {
		c.reasons = append(c.reasons, r)
	}
}

// RunLinkage compares every offender's address-periods and identifiers
// with the incidents and the tips, and records a candidate link, with
// its score and reasons, for each pair found. Decided links keep their
// decision.
func (s *Service) RunLinkage(ctx context.Context, a haven.Actor) (*LinkageResult, error) {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var res LinkageResult
	var residences []*store.OffenderFact
	var idFacts []*store.OffenderFact
	var incidents []*store.Incident
	err := s.store.View(ctx, func(tx *store.Tx) error {
		for _, kind := range []string{FactResidence, FactPhone, FactEmail, FactInternet, FactVehicle} {
			after := ""
			for {
				fs, err := tx.FactsByKind(ctx, kind, after, 10000)
				if err != nil {
					return err
				}
				for _, f := range fs {
					if kind == FactResidence && f.HasGeo {
						residences = append(residences, f)
					} else if kind != FactResidence && f.Norm != "" {
						idFacts = append(idFacts, f)
					}
				}
				if len(fs) < 10000 {
					break
				}
				after = fs[len(fs)-1].ID
			}
		}
		var err error
		incidents, err = tx.Incidents(ctx, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	var tips []ReportEvent
	if s.reports != nil {
		if tips, err = s.reports.ReportEvents(ctx); err != nil {
			return nil, err
		}
	}
	cands := map[candKey]*cand{}
	get := func(k candKey) *cand {
		c := cands[k]
		if c == nil {
			c = &cand{}
			cands[k] = c
		}
		return c
	}
	// Place and time.
	periods := make([]Period, len(residences))
	for i, f := range residences {
		periods[i] = Period{Owner: int32(i), Fact: int32(i), Lat: f.Lat, Lon: f.Lon, From: unix(f.ValidFrom), To: unix(f.ValidTo)}
	}
	type target struct {
		typ, id, label string
		at             time.Time
	}
	var targets []target
	var points []Point
	for _, in := range incidents {
		if in.HasGeo {
			points = append(points, Point{Index: int32(len(targets)), Lat: in.Lat, Lon: in.Lon, At: in.OccurredAt.Unix()})
			targets = append(targets, target{"incident", in.ID, incidentLabel(in.Kind), in.OccurredAt})
		}
	}
	for _, t := range tips {
		points = append(points, Point{Index: int32(len(targets)), Lat: t.Lat, Lon: t.Lon, At: t.At.Unix()})
		targets = append(targets, target{"report", strconv.FormatInt(t.ReportID, 10), "tip (report " + strconv.FormatInt(t.ReportID, 10) + ")", t.At})
	}
	res.Periods, res.Points = len(periods), len(points)
	params := NearParams{Now: now.Unix()}
	FindNear(periods, points, params, func(n Near) {
		f := residences[periods[n.Period].Fact]
		t := targets[points[n.Point].Index]
		c := get(candKey{f.OffenderID, t.typ, t.id})
		c.place = max(c.place, ScoreNear(n, params))
		when := "at the time"
		if n.GapDays > 0 {
			when = fmt.Sprintf("within %.0f days of it", math.Ceil(n.GapDays))
		}
		c.reason(fmt.Sprintf("residence (%s, %s to %s) %.1f km from the %s of %s; lived there %s", f.Detail, day(f.ValidFrom),
			dayOrNow(f.ValidTo), n.KM, t.label, t.at.Format("2006-01-02"), when))
	})
	// Shared identifiers.
	byID := map[string][]*store.Incident{}
	for _, in := range incidents {
		for _, line := range strings.Split(in.Identifiers, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				byID[line] = append(byID[line], in)
			}
		}
	}
	for _, f := range idFacts {
		label := identifierLabel[f.Kind]
		for _, in := range byID[f.Kind+":"+f.Norm] {
			c := get(candKey{f.OffenderID, "incident", in.ID})
			c.ids += identifierScore[f.Kind]
			c.reason(fmt.Sprintf("shares the %s %s with the %s of %s", label, f.Norm, incidentLabel(in.Kind), in.OccurredAt.Format("2006-01-02")))
		}
		if k := identifierKind(f.Kind); k != "" && s.reports != nil {
			ids, err := s.reports.ReportsWithIdentifier(ctx, string(k), f.Norm)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				c := get(candKey{f.OffenderID, "report", strconv.FormatInt(id, 10)})
				c.ids += identifierScore[f.Kind]
				c.reason(fmt.Sprintf("shares the %s %s with tip (report %d)", label, f.Norm, id))
			}
		}
	}
	keys := make([]candKey, 0, len(cands))
	for k := range cands {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b candKey) int {
		return strings.Compare(a.offender+a.targetType+a.target, b.offender+b.targetType+b.target)
	})
	res.Candidates = len(keys)
	for start := 0; start < len(keys); start += 500 {
		end := min(start+500, len(keys))
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			for _, k := range keys[start:end] {
				c := cands[k]
				l := &store.OffenderLink{ID: haven.NewID(), OffenderID: k.offender, TargetType: k.targetType, TargetID: k.target,
					Score: min(100, c.place+c.ids), Reasons: strings.Join(c.reasons, "\n"), Status: LinkCandidate, CreatedAt: now, UpdatedAt: now}
				fresh, err := tx.PutLinkCandidate(ctx, l)
				if err != nil {
					return err
				}
				if fresh {
					res.New++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.linkage_run", ObjectType: "offender_link",
			Details: map[string]string{"periods": strconv.Itoa(res.Periods), "points": strconv.Itoa(res.Points),
				"candidates": strconv.Itoa(res.Candidates), "new": strconv.Itoa(res.New)}})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func day(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Format("2006-01-02")
}

func dayOrNow(t time.Time) string {
	if t.IsZero() {
		return "present"
	}
	return t.Format("2006-01-02")
}

// Link statuses.
const (
	LinkCandidate = "candidate"
	LinkConfirmed = "confirmed"
	LinkDismissed = "dismissed"
)

// LinkView is a link with what it links, for the pages.
type LinkView struct {
	*store.OffenderLink
	OffenderName string
	TargetLabel  string
	Reasons      []string
}

func (s *Service) view(ctx context.Context, tx *store.Tx, l *store.OffenderLink) (*LinkView, error) {
	v := &LinkView{OffenderLink: l, Reasons: strings.Split(l.Reasons, "\n")}
	o, err := tx.Offender(ctx, l.OffenderID)
	if err != nil {
		return nil, err
	}
	v.OffenderName = o.Name
	switch l.TargetType {
	case "incident":
		in, err := tx.Incident(ctx, l.TargetID)
		if err != nil {
			return nil, err
		}
		v.TargetLabel = incidentLabel(in.Kind) + " of " + in.OccurredAt.Format("2006-01-02")
		if in.Place != "" {
			v.TargetLabel += ", " + in.Place
		}
	case "report":
		v.TargetLabel = "tip (report " + l.TargetID + ")"
	}
	return v, nil
}

// Links lists links of a status (candidate by default), best first. The
// read is audited.
func (s *Service) Links(ctx context.Context, a haven.Actor, status string) ([]*LinkView, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, s.deny(ctx, a, "offender.link_list", "offender_link", "", err)
	}
	if status == "" {
		status = LinkCandidate
	}
	if status != LinkCandidate && status != LinkConfirmed && status != LinkDismissed {
		return nil, haven.Invalidf("status", "choose candidate, confirmed or dismissed")
	}
	var out []*LinkView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ls, err := tx.LinksByStatus(ctx, status, 500)
		if err != nil {
			return err
		}
		for _, l := range ls {
			v, err := s.view(ctx, tx, l)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.link_list", ObjectType: "offender_link",
			Details: map[string]string{"status": status, "results": strconv.Itoa(len(out))}})
	})
	return out, err
}

// LinksOfTarget lists the links of an incident or a report (the
// confirmed ones appear on the incident's or the report's record).
func (s *Service) LinksOfTarget(ctx context.Context, a haven.Actor, targetType, targetID string) ([]*LinkView, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, err
	}
	var out []*LinkView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ls, err := tx.LinksOfTarget(ctx, targetType, targetID)
		if err != nil {
			return err
		}
		for _, l := range ls {
			v, err := s.view(ctx, tx, l)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.link_read", ObjectType: targetType, ObjectID: targetID})
	})
	return out, err
}

// DecideLink confirms or dismisses a candidate link, with a note; the
// decision is audited.
func (s *Service) DecideLink(ctx context.Context, a haven.Actor, id string, confirm bool, note string) error {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return err
	}
	note, err := haven.CleanText("note", note, 2000, false)
	if err != nil {
		return err
	}
	status := LinkDismissed
	if confirm {
		status = LinkConfirmed
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.OffenderLinkByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DecideLink(ctx, id, status, a.UserID, note, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.link_" + status, ObjectType: "offender_link", ObjectID: id,
			Details: map[string]string{"offender": l.OffenderID, "target_type": l.TargetType, "target": l.TargetID,
				"from": l.Status, "score": strconv.Itoa(l.Score)}})
	})
}
