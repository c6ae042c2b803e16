package server

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/triage"
)

// triageRoutes lists the routes of the queues, the triage actions on a
// report and the rule table.
func (s *Server) triageRoutes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	return []Route{
		staffRoute(get, "/app/queue", haven.PermReportRead, s.queuePage),
		staffRoute(post, "/app/reports/{id}/triage/{action}", haven.PermReportRead, s.triageAction),
		staffRoute(get, "/app/triage/rules", haven.PermReportRead, s.rulesPage),
		staffRoute(post, "/app/triage/rules", haven.PermManageRules, s.rulesUpdate),
	}
}

type queueData struct {
	Items    []*triage.Item
	Rows     []*store.QueueRow
	Counts   map[string]int
	Overdue  []*triage.Item
	Filter   url.Values
	Next     template.URL // the next page: a URL built by url.Values.Encode
	Names    map[string]string
	Labels   map[haven.IncidentType]string
	Levels   []triage.Level
	Reports  int
	Incident int
	Now      time.Time
}

// userNames maps account IDs to display names for the queue pages.
func (s *Server) userNames(ctx context.Context, a haven.Actor) map[string]string {
	names := map[string]string{}
	_ = s.app.Store.View(ctx, func(tx *store.Tx) error {
		us, err := tx.Users(ctx, store.UserFilter{})
		for _, u := range us {
			names[u.ID] = u.DisplayName
			if names[u.ID] == "" {
				names[u.ID] = u.Login
			}
		}
		return err
	})
	return names
}

func (s *Server) queuePage(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	f := triage.QueueFilter{Program: q.Get("program"), Source: q.Get("source"), ESPID: q.Get("esp"), Country: strings.ToUpper(q.Get("country")),
		Priority: q.Get("priority"), Closed: q.Get("closed") == "1", Group: q.Get("group"), Limit: 50}
	if q.Get("mine") == "1" {
		f.ClaimedBy = r.actor.UserID
	}
	if f.Priority != "" && !triage.Level(f.Priority).Valid() {
		return haven.Invalidf("priority", "choose P1, P2, P3 or INFO")
	}
	if after := q.Get("after"); after != "" {
		// after=<rank>.<unix ms>.<report>: the last row of the previous page.
		parts := strings.Split(after, ".")
		if len(parts) != 3 {
			return haven.Invalidf("after", "bad page reference")
		}
		ms, err1 := strconv.ParseInt(parts[1], 10, 64)
		id, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || !triage.Level(parts[0]).Valid() {
			return haven.Invalidf("after", "bad page reference")
		}
		f.After = &store.QueueRow{Work: store.Work{Priority: parts[0], ReceivedAt: time.UnixMilli(ms).UTC(), ReportID: id}}
	}
	items, rows, err := s.app.Triage.Queue(r.Context(), r.actor, f)
	if err != nil {
		return err
	}
	d := &queueData{Items: items, Rows: rows, Filter: q, Names: s.userNames(r.Context(), r.actor), Labels: incidentLabels,
		Levels: triage.Levels, Now: s.app.Clock.Now()}
	if d.Counts, err = s.app.Triage.Counts(r.Context(), r.actor); err != nil {
		return err
	}
	if d.Overdue, err = s.app.Triage.Overdue(r.Context(), r.actor); err != nil {
		return err
	}
	if len(rows) == f.Limit {
		last := rows[len(rows)-1]
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", fmt.Sprintf("%s.%d.%d", last.Priority, last.ReceivedAt.UnixMilli(), last.ReportID))
		d.Next = template.URL("/app/queue?" + next.Encode())
	}
	return s.render(w, http.StatusOK, "queue", s.newPage(r, "Queue", d))
}

// triageAction handles the forms of the triage panel on the report page.
func (s *Server) triageAction(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	// The report must exist and be visible to the actor.
	if _, err := s.app.Intake.Get(r.Context(), r.actor, id); err != nil {
		return err
	}
	ctx, t, action := r.Context(), s.app.Triage, r.PathValue("action")
	switch action {
	case "claim":
		err = t.Claim(ctx, r.actor, id)
	case "release":
		err = t.Release(ctx, r.actor, id)
	case "assign":
		err = t.Assign(ctx, r.actor, id, r.PostFormValue("assignee"))
	case "note":
		err = t.AddNote(ctx, r.actor, id, r.PostFormValue("note"))
	case "status":
		err = t.SetStatus(ctx, r.actor, id, triage.Status(r.PostFormValue("status")), r.PostFormValue("reason"))
	case "override":
		err = t.Override(ctx, r.actor, id, triage.Level(r.PostFormValue("priority")), r.PostFormValue("reason"))
	default:
		return haven.ErrNotFound
	}
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		return s.showReport(w, r, id, "", err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d?done=%s#triage", id, action), http.StatusSeeOther)
	return nil
}

// triagePanel is the data of the report page's triage panel.
type triagePanel struct {
	Item        *triage.Item
	CanWork     bool
	CanAssign   bool
	CanOverride bool
	Analysts    []*haven.User
	Names       map[string]string
	Levels      []triage.Level
	Statuses    []triage.Status
	Mine        bool
}

func (s *Server) triagePanelData(r *request, reportID int64) (*triagePanel, error) {
	it, err := s.app.Triage.Work(r.Context(), r.actor, reportID)
	if err != nil {
		return nil, err
	}
	p := &triagePanel{Item: it, CanWork: r.actor.Can(haven.PermTriage), CanAssign: r.actor.Can(haven.PermAssign),
		CanOverride: r.actor.Can(haven.PermOverride), Names: s.userNames(r.Context(), r.actor), Levels: triage.Levels,
		Statuses: triage.Statuses, Mine: it != nil && it.ClaimedBy == r.actor.UserID}
	if p.CanAssign {
		_ = s.app.Store.View(r.Context(), func(tx *store.Tx) error {
			us, err := tx.Users(r.Context(), store.UserFilter{})
			for _, u := range us {
				if !u.Disabled && u.Role.Can(haven.PermTriage) {
					p.Analysts = append(p.Analysts, u)
				}
			}
			return err
		})
	}
	return p, nil
}

type rulesData struct {
	Current   *triage.Ruleset
	History   []*triage.Ruleset
	Text      string
	Signals   []triage.Signal
	CanManage bool
}

func (s *Server) rulesPage(w http.ResponseWriter, r *request) error {
	cur, hist, err := s.app.Triage.Rules(r.Context(), r.actor)
	if err != nil {
		return err
	}
	d := &rulesData{Current: cur, History: hist, Text: triage.FormatRules(cur.Rules), Signals: triage.Signals,
		CanManage: r.actor.Can(haven.PermManageRules)}
	p := s.newPage(r, "Priority rules", d)
	p.Notice = r.URL.Query().Get("notice")
	return s.render(w, http.StatusOK, "rules", p)
}

func (s *Server) rulesUpdate(w http.ResponseWriter, r *request) error {
	rules, perr := triage.ParseRules(r.PostFormValue("rules"))
	var err error
	var rs *triage.Ruleset
	if perr != nil {
		err = haven.Invalidf("rules", "%s", perr.Error())
	} else {
		rs, err = s.app.Triage.UpdateRules(r.Context(), r.actor, rules, r.PostFormValue("reason"))
	}
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/triage/rules", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		cur, hist, lerr := s.app.Triage.Rules(r.Context(), r.actor)
		if lerr != nil {
			return lerr
		}
		d := &rulesData{Current: cur, History: hist, Text: r.PostFormValue("rules"), Signals: triage.Signals, CanManage: true}
		return s.formError(w, r, "rules", s.newPage(r, "Priority rules", d), err)
	}
	// Open reports are evaluated again under the new table, in the background.
	err = s.app.Store.InTx(r.Context(), func(tx *store.Tx) error {
		return s.app.Jobs.EnqueueTx(r.Context(), tx, triage.ReevaluateArgs{Version: rs.Version}, nil)
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/triage/rules?notice="+url.QueryEscape(fmt.Sprintf(
		"Version %d of the rules is in force; open reports are being evaluated again.", rs.Version)), http.StatusSeeOther)
	return nil
}

// countdown says how long is left to review a report, for the queue.
func countdown(d time.Duration) string {
	late := d < 0
	if late {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	if late {
		return "overdue by " + s
	}
	return "due in " + s
}
