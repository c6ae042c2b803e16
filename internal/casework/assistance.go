package casework

import (
	"context"
	"strconv"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// AssistanceInput is an assistance request as entered: by staff for a
// civil attorney or a child-welfare agency, or by a law-enforcement user
// in the portal (the source and agency then come from the actor).
type AssistanceInput struct {
	Source           string
	RequesterName    string
	RequesterOrg     string
	RequesterContact string
	TheirReference   string
	CaseID           string // optional: a case of ours the request is about (staff only)
	Question         string
}

// AssistanceView is a request with the names it refers to.
type AssistanceView struct {
	*store.AssistanceRequest
	SourceLabel   string
	PriorityLabel string
	AgencyName    string
	AssigneeName  string
	DelivererName string
}

// SubmitAssistance records a new assistance request.
func (s *Service) SubmitAssistance(ctx context.Context, a haven.Actor, in AssistanceInput) (*store.AssistanceRequest, error) {
	r := &store.AssistanceRequest{Status: RequestNew}
	switch {
	case a.Can(haven.PermAssistanceWork):
		if err := s.require(a, haven.PermAssistanceWork); err != nil {
			return nil, err
		}
		if in.Source != SourceAttorney && in.Source != SourceChildWelfare {
			return nil, haven.Invalidf("source", "choose a civil attorney or a child-welfare agency (agencies use their portal)")
		}
		r.Source, r.CaseID = in.Source, in.CaseID
	case a.Can(haven.PermLECases) && a.AgencyID != "":
		r.Source, r.AgencyID = SourceLE, a.AgencyID
	default:
		return nil, haven.ErrForbidden
	}
	var err error
	if r.RequesterName, err = haven.CleanText("requester_name", in.RequesterName, 200, true); err != nil {
		return nil, err
	}
	if r.RequesterOrg, err = haven.CleanText("requester_org", in.RequesterOrg, 200, r.Source != SourceLE); err != nil {
		return nil, err
	}
	if r.RequesterContact, err = haven.CleanText("requester_contact", in.RequesterContact, 300, true); err != nil {
		return nil, err
	}
	if r.TheirReference, err = haven.CleanText("their_reference", in.TheirReference, 100, false); err != nil {
		return nil, err
	}
	if r.Question, err = haven.CleanText("question", in.Question, 10000, true); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	r.ID, r.CreatedBy, r.CreatedAt, r.UpdatedAt = haven.NewID(), a.UserID, now, now
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if r.CaseID != "" {
			if _, err := tx.Case(ctx, r.CaseID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("case", "no case has this ID")
				}
				return err
			}
		}
		if err := tx.CreateAssistanceRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "assistance.create", ObjectType: "assistance_request", ObjectID: r.ID,
			Details: map[string]string{"source": r.Source}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// AssistanceRequests lists requests: every request for staff who work
// them, the agency's own for law-enforcement users.
func (s *Service) AssistanceRequests(ctx context.Context, a haven.Actor) ([]*AssistanceView, error) {
	agency := ""
	switch {
	case a.Can(haven.PermAssistanceWork):
	case a.Can(haven.PermLECases) && a.AgencyID != "":
		agency = a.AgencyID
	default:
		return nil, s.deny(ctx, a, "assistance.list", "assistance_request", "", haven.ErrForbidden)
	}
	var out []*AssistanceView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		rs, err := tx.AssistanceRequests(ctx, agency, ListLimit)
		if err != nil {
			return err
		}
		for _, r := range rs {
			v, err := assistanceView(ctx, tx, r)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "assistance.list", ObjectType: "assistance_request",
			Details: map[string]string{"count": strconv.Itoa(len(out))}})
	})
	return out, err
}

// Assistance returns one request; a law-enforcement user gets only the
// agency's own, and ErrNotFound for any other.
func (s *Service) Assistance(ctx context.Context, a haven.Actor, id string) (*AssistanceView, error) {
	staff := a.Can(haven.PermAssistanceWork)
	if !staff && !a.Can(haven.PermLECases) {
		return nil, s.deny(ctx, a, "assistance.read", "assistance_request", id, haven.ErrForbidden)
	}
	var v *AssistanceView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.AssistanceRequest(ctx, id)
		if err != nil {
			return err
		}
		if !staff && (a.AgencyID == "" || r.AgencyID != a.AgencyID) {
			return haven.ErrNotFound
		}
		if v, err = assistanceView(ctx, tx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "assistance.read", ObjectType: "assistance_request", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	if !staff {
		v.AssignedTo, v.AssigneeName = "", ""
	}
	return v, nil
}

func assistanceView(ctx context.Context, tx *store.Tx, r *store.AssistanceRequest) (*AssistanceView, error) {
	v := &AssistanceView{AssistanceRequest: r, SourceLabel: Label(Sources, r.Source), PriorityLabel: Label(Priorities, r.Priority)}
	if r.AgencyID != "" {
		ag, err := tx.Agency(ctx, r.AgencyID)
		if err != nil {
			return nil, err
		}
		v.AgencyName = ag.Name
	}
	for _, x := range []struct {
		id   string
		name *string
	}{{r.AssignedTo, &v.AssigneeName}, {r.DeliveredBy, &v.DelivererName}} {
		if x.id == "" {
			continue
		}
		if u, err := tx.User(ctx, x.id); err == nil {
			*x.name = u.DisplayName
		} else if !haven.IsKind(err, haven.KindNotFound) {
			return nil, err
		}
	}
	return v, nil
}

// Assignees lists the accounts a request may be assigned to: casework
// specialists and supervisors.
func (s *Service) Assignees(ctx context.Context, a haven.Actor) ([]*haven.User, error) {
	if err := s.require(a, haven.PermAssistanceWork); err != nil {
		return nil, err
	}
	var out []*haven.User
	err := s.store.View(ctx, func(tx *store.Tx) error {
		for _, role := range []haven.Role{haven.RoleCasework, haven.RoleSupervisor} {
			us, err := tx.Users(ctx, store.UserFilter{Role: role})
			if err != nil {
				return err
			}
			for _, u := range us {
				if !u.Disabled {
					out = append(out, u)
				}
			}
		}
		return nil
	})
	return out, err
}

// work changes a request as staff work it, with its audit event.
func (s *Service) work(ctx context.Context, a haven.Actor, id, typ string, details map[string]string, fn func(tx *store.Tx, r *store.AssistanceRequest) error) error {
	if err := s.require(a, haven.PermAssistanceWork); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.AssistanceRequest(ctx, id)
		if err != nil {
			return err
		}
		if r.Status == RequestClosed {
			return haven.Errorf(haven.KindConflict, "the request is closed")
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		r.UpdatedAt = s.clock.Now()
		if err := tx.UpdateAssistanceRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "assistance_request", ObjectID: id, Details: details})
	})
}

// Triage sets a request's priority.
func (s *Service) Triage(ctx context.Context, a haven.Actor, id, priority string) error {
	if !valid(Priorities, priority) {
		return haven.Invalidf("priority", "choose a priority")
	}
	return s.work(ctx, a, id, "assistance.triage", map[string]string{"priority": priority}, func(_ *store.Tx, r *store.AssistanceRequest) error {
		r.Priority = priority
		if r.Status == RequestNew {
			r.Status = RequestTriaged
		}
		return nil
	})
}

// Assign gives a request to a casework specialist or supervisor.
func (s *Service) Assign(ctx context.Context, a haven.Actor, id, userID string) error {
	return s.work(ctx, a, id, "assistance.assign", map[string]string{"assignee": userID}, func(tx *store.Tx, r *store.AssistanceRequest) error {
		u, err := tx.User(ctx, userID)
		if err != nil || !u.Role.Can(haven.PermAssistanceWork) || u.Disabled {
			if err == nil || haven.IsKind(err, haven.KindNotFound) {
				return haven.Invalidf("assignee", "choose a casework specialist or supervisor")
			}
			return err
		}
		if r.Priority == "" {
			return haven.Invalidf("priority", "triage the request before assigning it")
		}
		r.AssignedTo = userID
		if r.Status == RequestNew || r.Status == RequestTriaged {
			r.Status = RequestAssigned
		}
		return nil
	})
}

// Deliver records the analysis delivered to the requester, who reads it
// on a page and as a PDF.
func (s *Service) Deliver(ctx context.Context, a haven.Actor, id, analysis string) error {
	analysis, err := haven.CleanText("analysis", analysis, 50000, true)
	if err != nil {
		return err
	}
	return s.work(ctx, a, id, "assistance.deliver", nil, func(_ *store.Tx, r *store.AssistanceRequest) error {
		if r.AssignedTo == "" {
			return haven.Invalidf("analysis", "assign the request before delivering the analysis")
		}
		r.Analysis, r.DeliveredBy, r.DeliveredAt, r.Status = analysis, a.UserID, s.clock.Now(), RequestDelivered
		return nil
	})
}

// Close records a request's outcome and closes it.
func (s *Service) Close(ctx context.Context, a haven.Actor, id, outcome string) error {
	outcome, err := haven.CleanText("outcome", outcome, 5000, true)
	if err != nil {
		return err
	}
	return s.work(ctx, a, id, "assistance.close", nil, func(_ *store.Tx, r *store.AssistanceRequest) error {
		r.Outcome, r.ClosedAt, r.Status = outcome, s.clock.Now(), RequestClosed
		return nil
	})
}
