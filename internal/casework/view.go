package casework

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// View is a case with everything linked to it and its timeline.
type View struct {
	Case        *store.Case
	TypeLabel   string
	StatusLabel string
	Statuses    []*store.CaseStatusChange
	People      []*store.CasePerson
	Agencies    []*store.CaseAgency
	Reports     []*store.CaseReport
	Offenders   []*store.CaseOffender
	Tasks       []*store.CaseTask
	Notes       []*store.CaseNote
	Indicators  []*IndicatorView
	Photos      []*store.CasePhoto
	Plan        *PlanHistory
	HopeBags    []*store.HopeBagMovement
	Assistance  []*store.AssistanceRequest
	Timeline    []*Event
	// Names maps the user IDs of the records to display names.
	Names map[string]string
}

// IndicatorView is a recorded indicator with its label.
type IndicatorView struct {
	*store.CaseIndicator
	Label string
	Group string
}

// Event is one entry of a case's timeline.
type Event struct {
	At    time.Time
	Kind  string // status, report, person, agency, offender, task, note, indicator, photo, plan, hopebag, assistance
	Text  string
	Actor string // display name of who did it
}

// Name returns the display name of a user ID.
func (v *View) Name(id string) string {
	if n, ok := v.Names[id]; ok {
		return n
	}
	if id == "" || id == "system" {
		return "Haven"
	}
	return "a former user"
}

// Cases lists cases, most recently updated first.
func (s *Service) Cases(ctx context.Context, a haven.Actor) ([]*store.Case, error) {
	if err := s.require(a, haven.PermCaseRead); err != nil {
		return nil, s.deny(ctx, a, "case.list", "case", "", err)
	}
	var out []*store.Case
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if out, err = tx.Cases(ctx, ListLimit); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "case.list", ObjectType: "case",
			Details: map[string]string{"count": fmt.Sprint(len(out))}})
	})
	return out, err
}

// Case returns a case with its timeline. It holds the child's record, so
// the read is audited.
func (s *Service) Case(ctx context.Context, a haven.Actor, id string) (*View, error) {
	if err := s.require(a, haven.PermCaseRead); err != nil {
		return nil, s.deny(ctx, a, "case.child.read", "case", id, err)
	}
	return s.view(ctx, a, id, func(*store.Tx) error { return nil })
}

// AgencyCases lists the cases shared with the law-enforcement user's
// agency.
func (s *Service) AgencyCases(ctx context.Context, a haven.Actor) ([]*store.Case, error) {
	if err := s.require(a, haven.PermLECases); err != nil {
		return nil, s.deny(ctx, a, "case.list", "case", "", err)
	}
	if a.AgencyID == "" {
		return nil, nil
	}
	var out []*store.Case
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if out, err = tx.CasesSharedWith(ctx, a.AgencyID, ListLimit); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "case.list", ObjectType: "case",
			Details: map[string]string{"count": fmt.Sprint(len(out)), "agency": a.AgencyID}})
	})
	return out, err
}

// AgencyCase returns a case shared with the law-enforcement user's
// agency, read-only and without internal notes and photos. Any other case
// is ErrNotFound, exactly like a missing one.
func (s *Service) AgencyCase(ctx context.Context, a haven.Actor, id string) (*View, error) {
	if err := s.require(a, haven.PermLECases); err != nil {
		return nil, s.deny(ctx, a, "case.child.read", "case", id, err)
	}
	v, err := s.view(ctx, a, id, func(tx *store.Tx) error {
		ok, err := tx.CaseSharedWith(ctx, id, a.AgencyID)
		if err != nil {
			return err
		}
		if !ok || a.AgencyID == "" {
			return haven.ErrNotFound
		}
		return nil
	})
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) {
			return nil, s.deny(ctx, a, "case.child.read", "case", id, haven.ErrNotFound)
		}
		return nil, err
	}
	v.Notes, v.Photos, v.Assistance = nil, nil, nil
	for _, p := range v.People {
		p.Contact = ""
	}
	v.Timeline = slices.DeleteFunc(v.Timeline, func(e *Event) bool {
		return e.Kind == "note" || e.Kind == "photo" || e.Kind == "assistance"
	})
	return v, nil
}

func (s *Service) view(ctx context.Context, a haven.Actor, id string, check func(*store.Tx) error) (*View, error) {
	v := &View{Names: map[string]string{}}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(ctx, id)
		if err != nil {
			return err
		}
		if err := check(tx); err != nil {
			return err
		}
		v.Case, v.TypeLabel, v.StatusLabel = c, Label(CaseTypes, c.Type), Label(Statuses, c.Status)
		if v.Statuses, err = tx.CaseStatusHistory(ctx, id); err != nil {
			return err
		}
		if v.People, err = tx.CasePeople(ctx, id); err != nil {
			return err
		}
		if v.Agencies, err = tx.CaseAgencies(ctx, id); err != nil {
			return err
		}
		if v.Reports, err = tx.CaseReports(ctx, id); err != nil {
			return err
		}
		if v.Offenders, err = tx.CaseOffenders(ctx, id); err != nil {
			return err
		}
		if v.Tasks, err = tx.CaseTasks(ctx, id); err != nil {
			return err
		}
		if v.Notes, err = tx.CaseNotes(ctx, id); err != nil {
			return err
		}
		inds, err := tx.CaseIndicators(ctx, id)
		if err != nil {
			return err
		}
		for _, i := range inds {
			iv := &IndicatorView{CaseIndicator: i, Label: i.Code}
			for _, c := range Indicators {
				if c.Code == i.Code {
					iv.Label, iv.Group = c.Label, c.Group
				}
			}
			v.Indicators = append(v.Indicators, iv)
		}
		if v.Photos, err = tx.CasePhotos(ctx, id); err != nil {
			return err
		}
		versions, err := tx.PlanVersions(ctx, id)
		if err != nil {
			return err
		}
		if v.Plan, err = planHistory(versions); err != nil {
			return err
		}
		if v.HopeBags, err = tx.CaseHopeBagMovements(ctx, id); err != nil {
			return err
		}
		if v.Assistance, err = tx.CaseAssistanceRequests(ctx, id); err != nil {
			return err
		}
		if err := s.names(ctx, tx, v); err != nil {
			return err
		}
		v.Timeline = timeline(v)
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "case.child.read", ObjectType: "case", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// names looks up the display names of the users who wrote the records.
func (s *Service) names(ctx context.Context, tx *store.Tx, v *View) error {
	ids := []string{v.Case.OpenedBy}
	for _, x := range v.Statuses {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.People {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Agencies {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Reports {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Offenders {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Tasks {
		ids = append(ids, x.CreatedBy, x.DoneBy)
	}
	for _, x := range v.Notes {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Indicators {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Photos {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Plan.Versions {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.HopeBags {
		ids = append(ids, x.ActorID)
	}
	for _, x := range v.Assistance {
		ids = append(ids, x.CreatedBy, x.DeliveredBy)
	}
	for _, id := range ids {
		if _, done := v.Names[id]; done || id == "" || id == "system" {
			continue
		}
		u, err := tx.User(ctx, id)
		switch {
		case err == nil:
			v.Names[id] = u.DisplayName
		case haven.IsKind(err, haven.KindNotFound):
			v.Names[id] = "a former user"
		default:
			return err
		}
	}
	return nil
}

// timeline merges every dated record of a case, oldest first.
func timeline(v *View) []*Event {
	var ev []*Event
	add := func(at time.Time, kind, actor, format string, args ...any) {
		ev = append(ev, &Event{At: at, Kind: kind, Actor: v.Name(actor), Text: fmt.Sprintf(format, args...)})
	}
	for _, x := range v.Statuses {
		if x.Note != "" {
			add(x.At, "status", x.ActorID, "Status: %s (%s)", Label(Statuses, x.Status), x.Note)
		} else {
			add(x.At, "status", x.ActorID, "Status: %s", Label(Statuses, x.Status))
		}
	}
	for _, x := range v.Reports {
		add(x.At, "report", x.ActorID, "CyberTipline report %d linked", x.ReportID)
	}
	for _, x := range v.People {
		add(x.At, "person", x.ActorID, "Person added: %s (%s)", x.Name, x.Role)
	}
	for _, x := range v.Agencies {
		shared := ""
		if x.Shared {
			shared = ", case shared with the agency"
		}
		add(x.At, "agency", x.ActorID, "Agency: %s %s%s", x.AgencyName, x.Role, shared)
	}
	for _, x := range v.Offenders {
		add(x.At, "offender", x.ActorID, "Offender %s linked", x.OffenderID)
	}
	for _, x := range v.Tasks {
		add(x.CreatedAt, "task", x.CreatedBy, "Task: %s (owner %s)", x.Title, x.Owner)
		if !x.DoneAt.IsZero() {
			add(x.DoneAt, "task", x.DoneBy, "Task done: %s", x.Title)
		}
	}
	for _, x := range v.Notes {
		add(x.At, "note", x.ActorID, "Note: %s", x.Body)
	}
	for _, x := range v.Indicators {
		add(x.At, "indicator", x.ActorID, "Indicator recorded: %s", x.Label)
	}
	for _, x := range v.Photos {
		add(x.At, "photo", x.ActorID, "Photo added to the child's record")
	}
	for _, x := range v.Plan.Versions {
		add(x.At, "plan", x.ActorID, "Recovery plan version %d saved: %s", x.Version, x.Summary)
	}
	for _, x := range v.HopeBags {
		add(x.At, "hopebag", x.ActorID, "Hope Bags distributed: %d to %s on %s", x.Quantity, x.Recipient, x.OnDate.Format("2006-01-02"))
	}
	for _, x := range v.Assistance {
		add(x.CreatedAt, "assistance", x.CreatedBy, "Assistance request from %s", Label(Sources, x.Source))
		if !x.DeliveredAt.IsZero() {
			add(x.DeliveredAt, "assistance", x.DeliveredBy, "Assistance analysis delivered")
		}
	}
	slices.SortStableFunc(ev, func(a, b *Event) int { return a.At.Compare(b.At) })
	return ev
}

// ReportCases lists the cases a CyberTipline report is linked to, for the
// report page.
func (s *Service) ReportCases(ctx context.Context, a haven.Actor, reportID int64) ([]*store.Case, error) {
	if err := s.require(a, haven.PermCaseRead); err != nil {
		return nil, err
	}
	var out []*store.Case
	err := s.store.View(ctx, func(tx *store.Tx) error {
		ids, err := tx.CasesForReport(ctx, reportID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := tx.Case(ctx, id)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
