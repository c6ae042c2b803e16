package stats

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Release statuses.
const (
	ReleaseDraft     = "draft"
	ReleasePublished = "published"
)

// DefaultDefinitions is the definitions text a new draft starts with.
const DefaultDefinitions = `Reports: reports received in the period (the day Haven finished receiving them, UTC), from every source.
Incidents: reports count once each, a batched report once per file, and reports whose files are all the same known viral material once per group.
Incident type: the type the reporter chose.
Country of the uploader: the country Haven placed the report in (uploader IP address, phone number or the reporter's statement); "unknown" when it could not.
Reporting ESP: reports an online service sent through the ESP API, by service.
Referred: reports made available to at least one law-enforcement agency; informational: the others.
Registered offenders: the last survey of the state registries in the period.
Small counts: a count from 1 to one less than the threshold is shown as "fewer than" the threshold; a count shown as "suppressed" is at least the threshold and is hidden so that a small count cannot be worked out from the totals or from an earlier release.`

// Period is a release period: a year or a half-year.
type Period struct {
	Name       string // 2025, 2025-H1, 2025-H2
	Start, End time.Time
}

// ParsePeriod reads "2025", "2025-H1" or "2025-H2".
func ParsePeriod(v string) (Period, error) {
	v = strings.TrimSpace(strings.ToUpper(v))
	y, half, dash := strings.Cut(v, "-")
	year, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || (dash && half == "") || year < 2000 || year > 2100 {
		return Period{}, haven.Invalidf("period", "give a year (2025) or a half-year (2025-H1, 2025-H2)")
	}
	p := Period{Name: y, Start: time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)}
	switch half {
	case "":
	case "H1":
		p.Name, p.End = y+"-H1", time.Date(year, 6, 30, 0, 0, 0, 0, time.UTC)
	case "H2":
		p.Name, p.Start = y+"-H2", time.Date(year, 7, 1, 0, 0, 0, 0, time.UTC)
	default:
		return Period{}, haven.Invalidf("period", "give a year (2025) or a half-year (2025-H1, 2025-H2)")
	}
	return p, nil
}

// Release is a release with its figures.
type Release struct {
	*store.StatRelease
	Sections []*Section
	// Superseded is the version that replaces this published one (0 if
	// it is the latest of its period).
	Superseded int
}

// figures reads the rollups of a period into a release's sections.
func figures(ctx context.Context, tx *store.Tx, p Period) ([]*Section, error) {
	from, to := day(p.Start), day(p.End)
	total := func(metric string) (int64, error) {
		rows, err := tx.RollupTotals(ctx, metric, from, to)
		var n int64
		for _, r := range rows {
			n += r.Value
		}
		return n, err
	}
	reports, err := total("reports.source")
	if err != nil {
		return nil, err
	}
	incidents, err := total("incidents.kind")
	if err != nil {
		return nil, err
	}
	rep := &Cell{Label: "Reports", Value: reports, Key: "reports"}
	out := []*Section{{ID: "summary", Title: "Reports and incidents", Cells: []*Cell{rep, {Label: "Incidents", Value: incidents}}}}
	breakdown := func(id, title, metric string, whole *Cell) error {
		rows, err := tx.RollupTotals(ctx, metric, from, to)
		if err != nil {
			return err
		}
		s := &Section{ID: id, Title: title, Total: whole}
		var sum int64
		for _, r := range rows {
			s.Cells = append(s.Cells, &Cell{Label: r.Dimension, Value: r.Value})
			sum += r.Value
		}
		if s.Total == nil {
			s.Total = &Cell{Label: "Total", Value: sum}
		}
		out = append(out, s)
		return nil
	}
	for _, b := range []struct {
		id, title, metric string
		whole             *Cell
	}{
		{"incident-type", "Reports by incident type", "reports.incident_type", rep},
		{"country", "Reports by country of the uploader", "reports.country", rep},
		{"esp", "Reports by reporting ESP", "reports.esp", nil},
		{"referral", "Referred and informational reports", "reports.referral", rep},
	} {
		if err := breakdown(b.id, b.title, b.metric, b.whole); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// offenderSection is the registered offenders per state from the last
// registry survey in the period, or nil with a note when there is none.
func (s *Service) offenderSection(ctx context.Context, p Period) (*Section, string) {
	var counts []*store.SurveyCount
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		counts, err = tx.SurveyCounts(ctx)
		return err
	})
	if err != nil {
		s.log.Warn("release: offender surveys unreadable", "err", err)
		return nil, "Registered offenders per state are left out: the registry surveys could not be read."
	}
	var latest time.Time
	for _, c := range counts {
		d := c.SurveyDate.UTC()
		if !d.Before(p.Start) && !d.After(p.End.AddDate(0, 0, 1).Add(-time.Nanosecond)) && d.After(latest) {
			latest = d
		}
	}
	if latest.IsZero() {
		return nil, "Registered offenders per state are left out: no registry survey was recorded in this period."
	}
	sec := &Section{ID: "offenders", Title: "Registered offenders per state (survey of " + day(latest) + ")"}
	var sum int64
	for _, c := range counts {
		if c.SurveyDate.UTC().Equal(latest) {
			sec.Cells = append(sec.Cells, &Cell{Label: c.Jurisdiction, Value: int64(c.Count)})
			sum += int64(c.Count)
		}
	}
	sec.Total = &Cell{Label: "Total", Value: sum}
	return sec, ""
}

// encodeSections stores sections as JSON (raw values; only the
// suppressed form is ever published).
func encodeSections(secs []*Section) (string, error) {
	b, err := json.Marshal(secs)
	return string(b), err
}

// decodeSections reads stored sections; fresh clears their suppression
// (a draft's, to compute it again), else it is kept as published.
func decodeSections(v string, fresh bool) ([]*Section, error) {
	var secs []*Section
	if err := json.Unmarshal([]byte(v), &secs); err != nil {
		return nil, fmt.Errorf("release figures: %w", err)
	}
	link(secs, fresh)
	return secs, nil
}

func overlaps(a, b *store.StatRelease) bool {
	return a.PeriodStart <= b.PeriodEnd && b.PeriodStart <= a.PeriodEnd
}

// protect suppresses r's sections against the published releases that
// overlap its period (other than r itself).
func (s *Service) protect(ctx context.Context, tx *store.Tx, r *store.StatRelease, secs []*Section) error {
	published, err := tx.StatReleases(ctx, ReleasePublished)
	if err != nil {
		return err
	}
	var earlier [][]*Section
	for _, p := range published {
		if p.ID == r.ID || !overlaps(p, r) {
			continue
		}
		ps, err := decodeSections(p.Tables, false)
		if err != nil {
			return err
		}
		earlier = append(earlier, ps)
	}
	ProtectRelease(secs, r.Threshold, earlier)
	return nil
}

// CreateDraft computes a draft release of a period from the rollups.
func (s *Service) CreateDraft(ctx context.Context, a haven.Actor, period string, threshold int, definitions string) (*Release, error) {
	if !a.Can(haven.PermReleases) {
		return nil, haven.ErrForbidden
	}
	p, err := ParsePeriod(period)
	if err != nil {
		return nil, err
	}
	if threshold == 0 {
		threshold = s.opts.Threshold
	}
	if threshold < 2 || threshold > 1000 {
		return nil, haven.Invalidf("threshold", "the threshold must be from 2 to 1000")
	}
	definitions = strings.TrimSpace(definitions)
	if definitions == "" {
		definitions = DefaultDefinitions
	}
	if len(definitions) > 20000 {
		return nil, haven.Invalidf("definitions", "the definitions are longer than 20,000 characters")
	}
	if p.Start.After(s.clock.Now()) {
		return nil, haven.Invalidf("period", "the period has not started yet")
	}
	r := &store.StatRelease{ID: haven.NewID(), Period: p.Name, PeriodStart: day(p.Start), PeriodEnd: day(p.End), Threshold: threshold,
		Definitions: definitions, Status: ReleaseDraft, CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
	var secs []*Section
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		secs, err = figures(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	off, note := s.offenderSection(ctx, p)
	if off != nil {
		secs = append(secs, off)
	} else {
		secs[0].Note = note
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if r.Tables, err = encodeSections(secs); err != nil {
			return err
		}
		if err := tx.CreateStatRelease(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "stats.release.draft", ObjectType: "stat_release", ObjectID: r.ID,
			Details: map[string]string{"period": r.Period, "threshold": strconv.Itoa(threshold)}})
	})
	if err != nil {
		return nil, err
	}
	return s.Draft(ctx, a, r.ID)
}

// Releases lists every release, drafts included (PermDashboards).
func (s *Service) Releases(ctx context.Context, a haven.Actor) ([]*store.StatRelease, error) {
	if !a.Can(haven.PermDashboards) {
		return nil, haven.ErrForbidden
	}
	var out []*store.StatRelease
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.StatReleases(ctx, "")
		return err
	})
	return out, err
}

// Draft returns a release, draft or published, for the staff page; a
// draft's suppression is computed as it would be if published now.
func (s *Service) Draft(ctx context.Context, a haven.Actor, id string) (*Release, error) {
	if !a.Can(haven.PermDashboards) {
		return nil, haven.ErrNotFound
	}
	var rel *Release
	err := s.store.View(ctx, func(tx *store.Tx) error {
		r, err := tx.StatRelease(ctx, id)
		if err != nil {
			return err
		}
		rel, err = s.load(ctx, tx, r)
		return err
	})
	return rel, err
}

// load reads a release's sections with their suppression: as published,
// or, for a draft, as it would be published now.
func (s *Service) load(ctx context.Context, tx *store.Tx, r *store.StatRelease) (*Release, error) {
	if r.Status == ReleasePublished {
		var secs []*Section
		if err := json.Unmarshal([]byte(r.Tables), &secs); err != nil {
			return nil, fmt.Errorf("release figures: %w", err)
		}
		return &Release{StatRelease: r, Sections: secs}, nil
	}
	secs, err := decodeSections(r.Tables, true)
	if err != nil {
		return nil, err
	}
	if err := s.protect(ctx, tx, r, secs); err != nil {
		return nil, err
	}
	return &Release{StatRelease: r, Sections: secs}, nil
}

// ErrReleasePublished is returned when publishing a published release.
var ErrReleasePublished = &haven.Error{Kind: haven.KindConflict, Message: "this release is already published"}

// Publish publishes a draft: its suppression is computed against every
// published release of an overlapping period and frozen; it gets the
// next version number of its period. A supervisor action that needs a
// recent sign-in; audited.
func (s *Service) Publish(ctx context.Context, a haven.Actor, id string) (*Release, error) {
	now := s.clock.Now()
	if err := a.Require(haven.PermReleases, now, haven.ReauthWindow); err != nil {
		return nil, err
	}
	if !a.System && (a.AuthAt.IsZero() || now.Sub(a.AuthAt) > haven.ReauthWindow) {
		return nil, haven.ErrReauth
	}
	var rel *Release
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.StatRelease(ctx, id)
		if err != nil {
			return err
		}
		if r.Status == ReleasePublished {
			return ErrReleasePublished
		}
		secs, err := decodeSections(r.Tables, true)
		if err != nil {
			return err
		}
		if err := s.protect(ctx, tx, r, secs); err != nil {
			return err
		}
		all, err := tx.StatReleases(ctx, ReleasePublished)
		if err != nil {
			return err
		}
		r.Version = 1
		for _, p := range all {
			if p.Period == r.Period && p.Version >= r.Version {
				r.Version = p.Version + 1
			}
		}
		if r.Tables, err = encodeSections(secs); err != nil {
			return err
		}
		r.Status, r.PublishedBy, r.PublishedAt = ReleasePublished, a.UserID, now
		if err := tx.UpdateStatRelease(ctx, r); err != nil {
			return err
		}
		hidden := 0
		for _, c := range cellsByKey(secs) {
			if c.Hidden {
				hidden++
			}
		}
		rel = &Release{StatRelease: r, Sections: secs}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "stats.release.publish", ObjectType: "stat_release", ObjectID: r.ID,
			Details: map[string]string{"period": r.Period, "version": strconv.Itoa(r.Version), "suppressed": strconv.Itoa(hidden)}})
	})
	return rel, err
}

// Published lists the published releases for /statistics, marking the
// versions replaced by a later one.
func (s *Service) Published(ctx context.Context) ([]*Release, error) {
	var out []*Release
	err := s.store.View(ctx, func(tx *store.Tx) error {
		list, err := tx.StatReleases(ctx, ReleasePublished)
		if err != nil {
			return err
		}
		latest := map[string]int{}
		for _, r := range list {
			latest[r.Period] = max(latest[r.Period], r.Version)
		}
		for _, r := range list {
			rel := &Release{StatRelease: r}
			if latest[r.Period] > r.Version {
				rel.Superseded = latest[r.Period]
			}
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// PublicRelease returns a published release; drafts do not exist for the
// public.
func (s *Service) PublicRelease(ctx context.Context, id string) (*Release, error) {
	var rel *Release
	err := s.store.View(ctx, func(tx *store.Tx) error {
		r, err := tx.StatRelease(ctx, id)
		if err != nil {
			return err
		}
		if r.Status != ReleasePublished {
			return haven.ErrNotFound
		}
		rel, err = s.load(ctx, tx, r)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, haven.ErrNotFound
	}
	return rel, err
}

// PublicRow is a published line of a release: a label and what is shown.
type PublicRow struct {
	Label string `json:"label"`
	// Count is the number, or nil when suppressed.
	Count *int64 `json:"count"`
	// Shown is what the release prints: the number, "fewer than 10" or
	// "suppressed".
	Shown string `json:"shown"`
}

// PublicSection is a published table.
type PublicSection struct {
	ID    string      `json:"id"`
	Title string      `json:"title"`
	Note  string      `json:"note,omitempty"`
	Rows  []PublicRow `json:"rows"`
	Total *PublicRow  `json:"total,omitempty"`
}

// PublicView is a release as published: no suppressed value is in it.
type PublicView struct {
	ID          string          `json:"id"`
	Period      string          `json:"period"`
	PeriodStart string          `json:"period_start"`
	PeriodEnd   string          `json:"period_end"`
	Version     int             `json:"version"`
	PublishedAt time.Time       `json:"published_at"`
	Threshold   int             `json:"threshold"`
	Definitions string          `json:"definitions"`
	Sections    []PublicSection `json:"sections"`
}

// DefinitionLines returns the definitions paragraph by paragraph.
func (v *PublicView) DefinitionLines() []string {
	var out []string
	for _, l := range strings.Split(v.Definitions, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func publicRow(c *Cell, t int) PublicRow {
	r := PublicRow{Label: c.Label, Shown: c.Display(t)}
	if !c.Hidden {
		v := c.Value
		r.Count = &v
	}
	return r
}

// Public returns the release as published (suppressed values left out).
func (r *Release) Public() *PublicView {
	v := &PublicView{ID: r.ID, Period: r.Period, PeriodStart: r.PeriodStart, PeriodEnd: r.PeriodEnd, Version: r.Version,
		PublishedAt: r.PublishedAt, Threshold: r.Threshold, Definitions: r.Definitions}
	for _, s := range r.Sections {
		ps := PublicSection{ID: s.ID, Title: s.Title, Note: s.Note}
		for _, c := range s.Cells {
			ps.Rows = append(ps.Rows, publicRow(c, r.Threshold))
		}
		if s.Total != nil {
			t := publicRow(s.Total, r.Threshold)
			t.Label = "Total"
			ps.Total = &t
		}
		v.Sections = append(v.Sections, ps)
	}
	return v
}

// WriteCSV writes the published figures: section, label, shown value.
func (v *PublicView) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"section", "label", "count"})
	for _, s := range v.Sections {
		for _, r := range s.Rows {
			_ = cw.Write(csvSafe([]string{s.ID, r.Label, r.Shown}))
		}
		if s.Total != nil {
			_ = cw.Write([]string{s.ID, "Total", s.Total.Shown})
		}
	}
	cw.Flush()
	return cw.Error()
}
