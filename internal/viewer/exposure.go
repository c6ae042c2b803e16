package viewer

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Exposure metering (SECURITY.md 32). A reveal starts an exposure
// interval; while the original is on screen and unblurred the page sends
// a heartbeat every HeartbeatEvery, and a stop when it blurs or closes. An
// interval lasts to its stop or, without one, to its last heartbeat — and
// at least FirstMinute, so that a page without JavaScript, which sends
// nothing, still counts. A heartbeat after more than HeartbeatGap of
// silence starts a new interval rather than counting the silence.
const (
	FirstMinute    = time.Minute
	HeartbeatEvery = 15 * time.Second
	HeartbeatGap   = 45 * time.Second
)

// The states a heartbeat reports.
const (
	BeatVisible = "visible" // the original is on screen, unblurred
	BeatStop    = "stop"    // it was blurred, hidden or closed
)

// ErrGrantExpired is returned by a heartbeat of a grant that has ended:
// the page blurs the original and asks for a new reveal.
var ErrGrantExpired = &haven.Error{Kind: haven.KindConflict, Message: "The reveal has expired: reveal the file again to see the original."}

// Meter is one person's exposure figures at a moment.
type Meter struct {
	Now time.Time
	// Today is the revealed-media time counted since midnight UTC.
	Today  time.Duration
	Budget time.Duration
	// Left is what remains of today's budget (never negative).
	Left time.Duration
	// SinceBreak is the revealed-media time since the last break.
	SinceBreak  time.Duration
	BreakAfter  time.Duration
	BreakLength time.Duration
	// BreakUntil, when set, is the end of the break that is due now.
	BreakUntil time.Time
	// DayEnd is the next midnight UTC, when the budget starts again.
	DayEnd time.Time
}

// Over reports whether no reveal is possible now.
func (m *Meter) Over() bool { return m.Left <= 0 || !m.BreakUntil.IsZero() }

// TodayText is today's exposure, written for pages.
func (m *Meter) TodayText() string { return HumanDuration(m.Today) }

// LeftText is what is left of the budget, written for pages.
func (m *Meter) LeftText() string { return HumanDuration(m.Left) }

// BudgetText is the daily budget, written for pages.
func (m *Meter) BudgetText() string { return HumanDuration(m.Budget) }

// BreakText describes the break rule.
func (m *Meter) BreakText() string {
	return fmt.Sprintf("a break of %s after %s of revealed media", HumanDuration(m.BreakLength), HumanDuration(m.BreakAfter))
}

// BreakLeftText is how long the due break still lasts.
func (m *Meter) BreakLeftText() string { return HumanDuration(m.BreakUntil.Sub(m.Now)) }

// UsedMinutes is today's exposure in whole minutes, for a <meter>.
func (m *Meter) UsedMinutes() int { return int(min(m.Today, m.Budget) / time.Minute) }

// BudgetMinutes is the daily budget in whole minutes, for a <meter>.
func (m *Meter) BudgetMinutes() int { return int(m.Budget / time.Minute) }

// HumanDuration writes a duration as "2 h 05 min", "12 min" or "40 s".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// span returns when an interval started and when it counts as ended.
func span(i *store.ExposureInterval) (time.Time, time.Time) {
	end := i.EndedAt
	if end.IsZero() {
		end = i.LastSeenAt
		if first := i.StartedAt.Add(FirstMinute); first.After(end) {
			end = first
		}
	}
	return i.StartedAt, end
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ComputeMeter works out a person's meter at now from their intervals
// (those started in the last day and a half are enough): the budget counts
// the intervals started today (UTC); a break is a gap of at least
// BreakLength with nothing on screen, and a break is due once BreakAfter
// of exposure has gathered since the last one.
func ComputeMeter(intervals []*store.ExposureInterval, now time.Time, opt Options) *Meter {
	opt = opt.withDefaults()
	today := dayStart(now)
	m := &Meter{Now: now, Budget: opt.DailyBudget, BreakAfter: opt.BreakAfter, BreakLength: opt.BreakLength, DayEnd: today.Add(24 * time.Hour)}
	ivs := slices.Clone(intervals)
	slices.SortFunc(ivs, func(a, b *store.ExposureInterval) int { return a.StartedAt.Compare(b.StartedAt) })
	var lastEnd time.Time
	for _, i := range ivs {
		st, en := span(i)
		if !st.Before(today) {
			m.Today += en.Sub(st)
		}
		if !lastEnd.IsZero() && st.Sub(lastEnd) >= opt.BreakLength {
			m.SinceBreak = 0
		}
		m.SinceBreak += en.Sub(st)
		if en.After(lastEnd) {
			lastEnd = en
		}
	}
	if !lastEnd.IsZero() && now.Sub(lastEnd) >= opt.BreakLength {
		m.SinceBreak = 0
	}
	if m.SinceBreak >= opt.BreakAfter {
		m.BreakUntil = lastEnd.Add(opt.BreakLength)
	}
	m.Left = max(0, m.Budget-m.Today)
	return m
}

// meter computes a user's meter inside tx.
func (s *Service) meter(ctx context.Context, tx *store.Tx, userID string, now time.Time) (*Meter, error) {
	from := now.Add(-36 * time.Hour) // covers today and the break before it
	ivs, err := tx.ExposureIntervals(ctx, userID, from, now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	return ComputeMeter(ivs, now, s.opt), nil
}

// Meter returns the actor's own meter.
func (s *Service) Meter(ctx context.Context, a haven.Actor) (*Meter, error) {
	if a.UserID == "" {
		return nil, haven.ErrNotFound
	}
	var m *Meter
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		m, err = s.meter(ctx, tx, a.UserID, s.clock.Now())
		return err
	})
	return m, err
}

// Heartbeat records what the viewer page of a revealed original reports:
// BeatVisible while it is on screen and unblurred, BeatStop when it is
// blurred, hidden or closed. A grant that is not the actor's (in this
// session, for this file) answers ErrNotFound; an expired one
// ErrGrantExpired. It returns the actor's meter.
func (s *Service) Heartbeat(ctx context.Context, a haven.Actor, reportID int64, fileID, grantID, state string) (*Meter, error) {
	if err := s.mayReach(ctx, a, haven.PermReveal, reportID, fileID); err != nil {
		return nil, err
	}
	if state != BeatVisible && state != BeatStop {
		return nil, haven.Invalidf("state", "the state is %q or %q", BeatVisible, BeatStop)
	}
	now := s.clock.Now()
	var m *Meter
	expired := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		g, err := tx.RevealGrant(ctx, grantID)
		if haven.IsKind(err, haven.KindNotFound) || (err == nil && (g.UserID != a.UserID || g.SessionID != a.SessionID ||
			g.FileID != fileID || g.ReportID != reportID)) {
			return haven.ErrNotFound
		}
		if err != nil {
			return err
		}
		open, err := tx.OpenExposure(ctx, g.ID)
		if err != nil && !haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		// end closes the open interval: now if the page kept beating,
		// otherwise when its count stopped.
		end := func() error {
			at := now
			if now.Sub(open.LastSeenAt) > HeartbeatGap {
				_, counted := span(open)
				if at = counted; at.After(now) {
					at = now
				}
			}
			return tx.EndExposure(ctx, open.ID, at)
		}
		action := ""
		switch {
		case state == BeatStop && open != nil:
			if err := end(); err != nil {
				return err
			}
			action = "stop"
		case state == BeatStop:
		case !now.Before(g.ExpiresAt):
			expired = true
			if open != nil {
				if err := end(); err != nil {
					return err
				}
				action = "stop"
			}
		case open != nil && now.Sub(open.LastSeenAt) <= HeartbeatGap:
			if err := tx.TouchExposure(ctx, open.ID, now); err != nil {
				return err
			}
		default:
			if open != nil {
				if err := end(); err != nil {
					return err
				}
			}
			if err := tx.StartExposure(ctx, &store.ExposureInterval{ID: haven.NewID(), UserID: a.UserID, GrantID: g.ID,
				FileID: fileID, StartedAt: now, LastSeenAt: now}); err != nil {
				return err
			}
			action = "resume"
		}
		if m, err = s.meter(ctx, tx, a.UserID, now); err != nil {
			return err
		}
		if action == "" {
			return nil
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.exposure", ObjectType: "report_file", ObjectID: fileID,
			Details: map[string]string{"report": ref(reportID), "grant": g.ID, "action": action}})
	})
	if err != nil {
		if haven.IsKind(err, haven.KindConflict) {
			return nil, err
		}
		return nil, s.notFoundFor(ctx, a, reportID, fileID, err)
	}
	if expired {
		return m, ErrGrantExpired
	}
	return m, nil
}

// ExposureDay is one person's exposure on one day (UTC): figures only,
// never what was seen.
type ExposureDay struct {
	Day       time.Time
	UserID    string
	Name      string
	Role      haven.Role
	Exposure  time.Duration
	Reveals   int
	Intervals int
	Budget    time.Duration
}

// DayText is the day as YYYY-MM-DD.
func (d *ExposureDay) DayText() string { return d.Day.Format("2006-01-02") }

// ExposureText is the day's exposure, written for pages.
func (d *ExposureDay) ExposureText() string { return HumanDuration(d.Exposure) }

// RoleText is the person's role, written for pages.
func (d *ExposureDay) RoleText() string { return d.Role.Label() }

// OverBudget reports whether the day's exposure reached the budget.
func (d *ExposureDay) OverBudget() bool { return d.Exposure >= d.Budget }

// Percent is the share of the budget used, in whole percent.
func (d *ExposureDay) Percent() int { return int(d.Exposure * 100 / max(d.Budget, 1)) }

// MaxReportDays is the longest period the exposure report covers.
const MaxReportDays = 92

// ExposureReport returns every person's exposure per day over the last
// days days (today included), newest day first: time, reveals and
// intervals, never files or content. It is for supervisors and is
// audited.
func (s *Service) ExposureReport(ctx context.Context, a haven.Actor, days int) ([]*ExposureDay, error) {
	if !a.Can(haven.PermExposureReport) {
		return nil, haven.ErrForbidden
	}
	days = min(max(days, 1), MaxReportDays)
	now := s.clock.Now()
	from := dayStart(now).Add(-time.Duration(days-1) * 24 * time.Hour)
	to := dayStart(now).Add(24 * time.Hour)
	type key struct {
		user string
		day  time.Time
	}
	rows := map[key]*ExposureDay{}
	row := func(user string, at time.Time) *ExposureDay {
		k := key{user, dayStart(at)}
		if rows[k] == nil {
			rows[k] = &ExposureDay{Day: k.day, UserID: user, Budget: s.opt.DailyBudget}
		}
		return rows[k]
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ivs, err := tx.ExposureIntervals(ctx, "", from, to)
		if err != nil {
			return err
		}
		for _, i := range ivs {
			st, en := span(i)
			r := row(i.UserID, st)
			r.Exposure += en.Sub(st)
			r.Intervals++
		}
		gs, err := tx.RevealGrantsBetween(ctx, from, to)
		if err != nil {
			return err
		}
		for _, g := range gs {
			row(g.UserID, g.GrantedAt).Reveals++
		}
		names := map[string]*haven.User{}
		for _, r := range rows {
			u, ok := names[r.UserID]
			if !ok {
				if u, err = tx.User(ctx, r.UserID); err != nil && !haven.IsKind(err, haven.KindNotFound) {
					return err
				}
				names[r.UserID] = u
			}
			r.Name = r.UserID
			if u != nil {
				r.Name, r.Role = u.DisplayName, u.Role
				if r.Name == "" {
					r.Name = u.Login
				}
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.exposure_report", ObjectType: "exposure",
			Details: map[string]string{"days": fmt.Sprint(days), "rows": fmt.Sprint(len(rows))}})
	})
	if err != nil {
		return nil, err
	}
	out := make([]*ExposureDay, 0, len(rows))
	for _, r := range rows {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *ExposureDay) int {
		if c := b.Day.Compare(a.Day); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.UserID, b.UserID))
	})
	return out, nil
}

// WorkView is how long one view of an unblurred working picture outside
// the viewer (the redacted lab's masking page) counts against a person's
// exposure: the page draws one still picture and sends no heartbeat, so
// it counts as the first minute of a reveal does.
const WorkView = FirstMinute

// ChargeWorkView counts one view of an unblurred working picture of a
// file against the actor's exposure, in the caller's transaction: an
// interval of WorkView starting now, under a grant ID of its own ("work:"
// and a new ID) so that it is never confused with a reveal. When the daily
// budget is spent or a break is due it refuses, as a reveal would, with a
// *Refusal, and counts nothing.
func (s *Service) ChargeWorkView(ctx context.Context, tx *store.Tx, a haven.Actor, fileID string) (*Meter, error) {
	now := s.clock.Now()
	m, err := s.meter(ctx, tx, a.UserID, now)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Left <= 0:
		return m, &Refusal{Why: "budget", Until: m.DayEnd, Meter: m}
	case !m.BreakUntil.IsZero():
		return m, &Refusal{Why: "break", Until: m.BreakUntil, Meter: m}
	}
	if err := tx.StartExposure(ctx, &store.ExposureInterval{ID: haven.NewID(), UserID: a.UserID, GrantID: "work:" + haven.NewID(),
		FileID: fileID, StartedAt: now, LastSeenAt: now, EndedAt: now.Add(WorkView)}); err != nil {
		return nil, err
	}
	return s.meter(ctx, tx, a.UserID, now)
}
