package victimid

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/store"
)

// Matcher finds bank entries for a query; *hashmatch.Service is one.
type Matcher interface {
	Match(ctx context.Context, q hashmatch.Query) (*hashmatch.Outcome, error)
}

// Series statuses.
const (
	StatusIdentified   = "identified"
	StatusPartially    = "partially"
	StatusUnidentified = "unidentified"
)

// Notification choices of a victim.
const (
	NotifyYes             = "notify"
	NotifyNo              = "do_not_notify"
	NotifyProsecutionOnly = "prosecution_only"
)

// PurposeProsecution is the request purpose that prosecution_only
// victims are notified of.
const PurposeProsecution = "prosecution"

// Purposes lists the purposes a request may give.
var Purposes = []string{PurposeProsecution, "investigation", "victim identification", "other"}

// Service is the victim-identification service.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	clock   haven.Clock
	log     *slog.Logger
	matcher Matcher
	// jobs queues big requests (nil: every request runs at once).
	jobs       jobs.Enqueuer
	asyncAbove int
}

// DefaultAsyncAbove is how many submitted items a request may hold and
// still be matched within the HTTP request.
const DefaultAsyncAbove = 5000

// SetJobs lets requests of more than asyncAbove items (0:
// DefaultAsyncAbove) run as jobs of j.
func (s *Service) SetJobs(j jobs.Enqueuer, asyncAbove int) {
	if asyncAbove <= 0 {
		asyncAbove = DefaultAsyncAbove
	}
	s.jobs, s.asyncAbove = j, asyncAbove
}

// New returns the service.
func New(s *store.Store, log *audit.Log, clock haven.Clock, logger *slog.Logger, m Matcher) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: log, clock: clock, log: logger, matcher: m}
}

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

// deny audits a refusal in its own transaction and returns err.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ, objType, objID string, err error) error {
	return s.audit.Denied(ctx, s.store, a, typ, objType, objID, err)
}

// SeriesView is a series as staff see it: its derived status and
// sightings, and its victims when the actor may read them.
type SeriesView struct {
	store.SeriesSummary
	Status  string // the set status, or the one derived from the victims
	Victims []*store.Victim
	// Entries are the first MaxSeriesRows hash entries of the series (of
	// any bank); EntryCount is how many there are.
	Entries    []*haven.HashEntry
	EntryCount int64
	// Sightings are the report files that matched the series, newest
	// first (at most MaxSeriesRows); SightingCount is how many there are.
	Sightings     []*store.Sighting
	SightingCount int
	// Cases are the identification requests (law-enforcement cases) in
	// which the series was found, newest first.
	Cases []CaseSighting
}

// MaxSeriesRows bounds the entries and sightings a series page lists.
const MaxSeriesRows = 200

// CaseSighting is an identification request in which a series was found.
type CaseSighting struct {
	RequestID  string
	CaseNumber string
	AgencyID   string
	Purpose    string
	Files      int
	At         time.Time
}

// DeriveStatus returns the status of a series with victims of which
// identified are identified, unless set.
func DeriveStatus(set string, victims, identified int) string {
	switch {
	case set != "":
		return set
	case victims > 0 && identified == victims:
		return StatusIdentified
	case identified > 0:
		return StatusPartially
	}
	return StatusUnidentified
}

func validStatus(s string) bool {
	return s == "" || s == StatusIdentified || s == StatusPartially || s == StatusUnidentified
}

// SaveSeries creates or updates a series.
func (s *Service) SaveSeries(ctx context.Context, a haven.Actor, in store.Series) (*store.Series, error) {
	if err := s.require(a, haven.PermSeriesManage); err != nil {
		return nil, err
	}
	var err error
	if in.Code, err = haven.CleanText("code", in.Code, 100, true); err != nil {
		return nil, err
	}
	if in.Name, err = haven.CleanText("name", in.Name, 200, true); err != nil {
		return nil, err
	}
	if in.Notes, err = haven.CleanText("notes", in.Notes, 5000, false); err != nil {
		return nil, err
	}
	if !validStatus(in.Status) {
		return nil, haven.Invalidf("status", "choose identified, partially, unidentified or derived")
	}
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.Series(ctx, in.Code)
		typ := "series.update"
		switch {
		case haven.IsKind(err, haven.KindNotFound):
			typ = "series.create"
			in.CreatedBy, in.CreatedAt, in.UpdatedAt = a.UserID, now, now
			err = tx.CreateSeries(ctx, &in)
		case err == nil:
			in.CreatedBy, in.CreatedAt, in.UpdatedAt = cur.CreatedBy, cur.CreatedAt, now
			err = tx.UpdateSeries(ctx, &in)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "series", ObjectID: in.Code})
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// ListSeries lists every series. LE users never list series.
func (s *Service) ListSeries(ctx context.Context, a haven.Actor) ([]*SeriesView, error) {
	if err := s.require(a, haven.PermSeriesRead); err != nil {
		return nil, s.deny(ctx, a, "series.list", "series", "", err)
	}
	var out []*SeriesView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.ListSeries(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, &SeriesView{SeriesSummary: *r, Status: DeriveStatus(r.Series.Status, r.Victims, r.Identified)})
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "series.list", ObjectType: "series"})
	})
	return out, err
}

// Series returns one series; its victims are included (and the read
// audited) only for actors with PermVictimRead.
func (s *Service) Series(ctx context.Context, a haven.Actor, code string) (*SeriesView, error) {
	if err := s.require(a, haven.PermSeriesRead); err != nil {
		return nil, s.deny(ctx, a, "series.read", "series", code, err)
	}
	var out *SeriesView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		sr, err := tx.Series(ctx, code)
		if err != nil {
			return err
		}
		vs, err := tx.SeriesVictims(ctx, code)
		if err != nil {
			return err
		}
		sum := store.SeriesSummary{Series: *sr, Victims: len(vs)}
		for _, v := range vs {
			if v.Identified {
				sum.Identified++
			}
		}
		if sum.FirstSeen, sum.LastSeen, err = tx.SeriesSeenSpan(ctx, code); err != nil {
			return err
		}
		out = &SeriesView{SeriesSummary: sum, Status: DeriveStatus(sr.Status, sum.Victims, sum.Identified)}
		if out.Entries, out.EntryCount, err = tx.SeriesEntries(ctx, code, MaxSeriesRows); err != nil {
			return err
		}
		sights, err := tx.SeriesSightings(ctx, code)
		if err != nil {
			return err
		}
		out.SightingCount, out.Sightings = len(sights), sights[:min(len(sights), MaxSeriesRows)]
		if out.Cases, err = seriesCases(ctx, tx, code); err != nil {
			return err
		}
		details := map[string]string{}
		if a.Can(haven.PermVictimRead) {
			out.Victims = redact(a, vs)
			details["victims"] = fmt.Sprint(len(vs))
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "series.read", ObjectType: "series", ObjectID: code, Details: details})
	})
	return out, err
}

// seriesCases finds the finished identification requests whose result
// holds the series, newest first.
func seriesCases(ctx context.Context, tx *store.Tx, code string) ([]CaseSighting, error) {
	reqs, err := tx.AllIDRequests(ctx)
	if err != nil {
		return nil, err
	}
	var out []CaseSighting
	for _, r := range reqs {
		if r.Status != RequestDone || !strings.Contains(r.Result, code) {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(r.Result), &res); err != nil {
			return nil, fmt.Errorf("read the result of request %s: %w", r.ID, err)
		}
		for _, f := range res.Series {
			if f.Code == code {
				out = append(out, CaseSighting{RequestID: r.ID, CaseNumber: r.CaseNumber, AgencyID: r.AgencyID, Purpose: r.Purpose,
					Files: f.Files, At: r.FinishedAt})
			}
		}
	}
	slices.SortFunc(out, func(a, b CaseSighting) int { return b.At.Compare(a.At) })
	return out, nil
}

// Promote records that a series' child was identified, from the
// workboard: the victim record (new or existing, by its pseudonymous ID)
// becomes identified with the identifying agency's details and is linked
// to the series, which is created if it has no record yet. The series'
// status then follows its victims. It is audited as series.promote.
func (s *Service) Promote(ctx context.Context, a haven.Actor, code string, v store.Victim) (*store.Victim, error) {
	if err := s.require(a, haven.PermSeriesManage); err != nil {
		return nil, err
	}
	if !a.Can(haven.PermVictimRead) {
		return nil, haven.ErrForbidden
	}
	code, err := haven.CleanText("code", code, 100, true)
	if err != nil {
		return nil, err
	}
	var exists bool
	err = s.store.View(ctx, func(tx *store.Tx) error {
		_, err := tx.Series(ctx, code)
		if haven.IsKind(err, haven.KindNotFound) {
			return nil
		}
		exists = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	if !exists {
		if _, err := s.SaveSeries(ctx, a, store.Series{Code: code, Name: code}); err != nil {
			return nil, err
		}
	}
	if v.ID, err = haven.CleanText("id", v.ID, 100, true); err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx *store.Tx) error {
		old, err := tx.Victim(ctx, v.ID)
		if haven.IsKind(err, haven.KindNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// Keep what the workboard form does not carry.
		v.ApproxAge, v.Notify, v.CounselName, v.CounselContact = old.ApproxAge, old.Notify, old.CounselName, old.CounselContact
		v.Series = old.Series
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.Series, code) {
		v.Series = append(v.Series, code)
	}
	v.Identified = true
	if v.IdentifiedOn.IsZero() {
		v.IdentifiedOn = s.clock.Now()
	}
	out, err := s.SaveVictim(ctx, a, v)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "series.promote", ObjectType: "series", ObjectID: code,
			Details: map[string]string{"victim": v.ID, "agency": v.AgencyID}})
	})
	return out, err
}

// redact drops the counsel details from records for actors without
// PermNotifications.
func redact(a haven.Actor, vs []*store.Victim) []*store.Victim {
	if a.Can(haven.PermNotifications) {
		return vs
	}
	out := make([]*store.Victim, len(vs))
	for i, v := range vs {
		c := *v
		c.CounselName, c.CounselContact = "", ""
		out[i] = &c
	}
	return out
}

func validNotify(c string) bool { return c == NotifyYes || c == NotifyNo || c == NotifyProsecutionOnly }

// SaveVictim creates or updates a victim record. A change of the
// notification choice is audited as its own event.
func (s *Service) SaveVictim(ctx context.Context, a haven.Actor, in store.Victim) (*store.Victim, error) {
	if err := s.require(a, haven.PermSeriesManage); err != nil {
		return nil, err
	}
	var err error
	if in.ID, err = haven.CleanText("id", in.ID, 100, true); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"officer_name", &in.OfficerName}, {"officer_email", &in.OfficerEmail}, {"officer_phone", &in.OfficerPhone},
		{"counsel_name", &in.CounselName}, {"counsel_contact", &in.CounselContact}} {
		if *f.v, err = haven.CleanText(f.name, *f.v, 300, false); err != nil {
			return nil, err
		}
	}
	if in.Notify == "" {
		in.Notify = NotifyNo
	}
	if !validNotify(in.Notify) {
		return nil, haven.Invalidf("notify", "choose notify, do_not_notify or prosecution_only")
	}
	if in.ApproxAge < 0 || in.ApproxAge > 25 {
		return nil, haven.Invalidf("approx_age", "give an approximate age between 0 and 25")
	}
	if in.Identified && (in.AgencyID == "" || in.IdentifiedOn.IsZero()) {
		return nil, haven.Invalidf("agency", "an identified victim needs the identifying agency and the date")
	}
	slices.Sort(in.Series)
	in.Series = slices.Compact(in.Series)
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range in.Series {
			if _, err := tx.Series(ctx, c); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("series", "no series has the code %s", c)
				}
				return err
			}
		}
		if in.AgencyID != "" {
			if _, err := tx.Agency(ctx, in.AgencyID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "no such agency")
				}
				return err
			}
		}
		cur, err := tx.Victim(ctx, in.ID)
		typ := "victim.update"
		switch {
		case haven.IsKind(err, haven.KindNotFound):
			typ = "victim.create"
			in.CreatedAt, in.UpdatedAt = now, now
			err = tx.CreateVictim(ctx, &in)
		case err == nil:
			in.CreatedAt, in.UpdatedAt = cur.CreatedAt, now
			err = tx.UpdateVictim(ctx, &in)
		}
		if err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "victim", ObjectID: in.ID}); err != nil {
			return err
		}
		if cur == nil || cur.Notify != in.Notify {
			from := ""
			if cur != nil {
				from = cur.Notify
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "victim.notify_choice", ObjectType: "victim", ObjectID: in.ID,
				Details: map[string]string{"from": from, "to": in.Notify}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// Victim returns a victim record; the read is audited.
func (s *Service) Victim(ctx context.Context, a haven.Actor, id string) (*store.Victim, error) {
	if err := s.require(a, haven.PermVictimRead); err != nil {
		return nil, s.deny(ctx, a, "victim.read", "victim", id, err)
	}
	var v *store.Victim
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if v, err = tx.Victim(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "victim.read", ObjectType: "victim", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	return redact(a, []*store.Victim{v})[0], nil
}

// Victims lists every victim record; the read is audited.
func (s *Service) Victims(ctx context.Context, a haven.Actor) ([]*store.Victim, error) {
	if err := s.require(a, haven.PermVictimRead); err != nil {
		return nil, s.deny(ctx, a, "victim.list", "victim", "", err)
	}
	var vs []*store.Victim
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if vs, err = tx.Victims(ctx); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "victim.list", ObjectType: "victim",
			Details: map[string]string{"count": fmt.Sprint(len(vs))}})
	})
	if err != nil {
		return nil, err
	}
	return redact(a, vs), nil
}

// NotificationView is a notification with the counsel to tell.
type NotificationView struct {
	*store.VictimNotification
	CounselName    string
	CounselContact string
	AgencyName     string
}

// Notifications lists the notification queue, unsent first.
func (s *Service) Notifications(ctx context.Context, a haven.Actor) ([]*NotificationView, error) {
	if err := s.require(a, haven.PermNotifications); err != nil {
		return nil, s.deny(ctx, a, "notification.list", "notification", "", err)
	}
	var out []*NotificationView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ns, err := tx.VictimNotifications(ctx)
		if err != nil {
			return err
		}
		for _, n := range ns {
			v, err := tx.Victim(ctx, n.VictimID)
			if err != nil {
				return err
			}
			nv := &NotificationView{VictimNotification: n, CounselName: v.CounselName, CounselContact: v.CounselContact}
			if ag, err := tx.Agency(ctx, n.AgencyID); err == nil {
				nv.AgencyName = ag.Name
			}
			out = append(out, nv)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "notification.list", ObjectType: "notification"})
	})
	return out, err
}

// MarkSent records that a notification was sent to counsel.
func (s *Service) MarkSent(ctx context.Context, a haven.Actor, id, note string) error {
	if err := s.require(a, haven.PermNotifications); err != nil {
		return err
	}
	note, err := haven.CleanText("note", note, 2000, false)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkVictimNotificationSent(ctx, id, a.UserID, note, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "notification.sent", ObjectType: "notification", ObjectID: id})
	})
}

// Stats are the victim-identification counts.
type Stats struct {
	SeriesByStatus  map[string]int
	VictimsByStatus map[string]int // identified, unidentified
	// MedianDaysToIdentification is the median, over identified victims
	// whose series were sighted before, of the days from the first
	// sighting to the identification; -1 when there is none.
	MedianDaysToIdentification float64
	RequestsPerMonth           []MonthCount
}

// MonthCount is a count for one month ("2026-05").
type MonthCount struct {
	Month string
	Count int
}

// Stats returns the counts.
func (s *Service) Stats(ctx context.Context, a haven.Actor) (*Stats, error) {
	if err := s.require(a, haven.PermVictimIDStats); err != nil {
		return nil, err
	}
	st := &Stats{SeriesByStatus: map[string]int{}, VictimsByStatus: map[string]int{}, MedianDaysToIdentification: -1}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		series, err := tx.ListSeries(ctx)
		if err != nil {
			return err
		}
		first := map[string]time.Time{}
		for _, r := range series {
			st.SeriesByStatus[DeriveStatus(r.Series.Status, r.Victims, r.Identified)]++
			first[r.Code] = r.FirstSeen
		}
		vs, err := tx.Victims(ctx)
		if err != nil {
			return err
		}
		var days []float64
		for _, v := range vs {
			if !v.Identified {
				st.VictimsByStatus[StatusUnidentified]++
				continue
			}
			st.VictimsByStatus[StatusIdentified]++
			var f time.Time
			for _, c := range v.Series {
				if t := first[c]; !t.IsZero() && (f.IsZero() || t.Before(f)) {
					f = t
				}
			}
			if !f.IsZero() && !v.IdentifiedOn.Before(f) {
				days = append(days, v.IdentifiedOn.Sub(f).Hours()/24)
			}
		}
		if len(days) > 0 {
			slices.Sort(days)
			m := len(days) / 2
			st.MedianDaysToIdentification = days[m]
			if len(days)%2 == 0 {
				st.MedianDaysToIdentification = (days[m-1] + days[m]) / 2
			}
		}
		reqs, err := tx.AllIDRequests(ctx)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			m := r.CreatedAt.Format("2006-01")
			if n := len(st.RequestsPerMonth); n > 0 && st.RequestsPerMonth[n-1].Month == m {
				st.RequestsPerMonth[n-1].Count++
			} else {
				st.RequestsPerMonth = append(st.RequestsPerMonth, MonthCount{Month: m, Count: 1})
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "victimid.stats", ObjectType: "stats"})
	})
	return st, err
}

// SeriesIdentified reports, for triage, whether every victim of a series
// is identified. A code without a series record counts as unidentified:
// a child who may still be abused, the safe side.
func (s *Service) SeriesIdentified(ctx context.Context, tx *store.Tx, code string) (bool, error) {
	status, victims, identified, found, err := tx.SeriesVictimCounts(ctx, code)
	if err != nil || !found {
		return false, err
	}
	return DeriveStatus(status, victims, identified) == StatusIdentified, nil
}
