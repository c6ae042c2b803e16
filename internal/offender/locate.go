package offender

import (
	"context"
	"slices"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Locate-request statuses and outcomes.
const (
	LocateSubmitted = "submitted"
	LocateWorking   = "working"
	LocateDelivered = "delivered"

	OutcomeLocated    = "located"
	OutcomeNotLocated = "not_located"
)

// Candidate kinds and confidences of a locate request.
var (
	CandidateKinds = []string{"address", "employer", "travel", "vehicle"}
	Confidences    = []string{"high", "medium", "low"}
)

// LocateInput is what a law-enforcement user asks.
type LocateInput struct {
	CaseNumber string
	Subject    string // the person sought, as the agency describes them
	Details    string // why: missed verification, warrant…
}

// SubmitLocate records a locate request of the actor's agency.
func (s *Service) SubmitLocate(ctx context.Context, a haven.Actor, in LocateInput) (*store.LocateRequest, error) {
	if err := s.require(a, haven.PermLocateRequest); err != nil {
		return nil, err
	}
	if a.AgencyID == "" {
		return nil, haven.ErrForbidden
	}
	var err error
	if in.CaseNumber, err = haven.CleanText("case_number", in.CaseNumber, 100, true); err != nil {
		return nil, err
	}
	if in.Subject, err = haven.CleanText("subject", in.Subject, 300, true); err != nil {
		return nil, err
	}
	if in.Details, err = haven.CleanText("details", in.Details, 5000, false); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	r := &store.LocateRequest{ID: haven.NewID(), AgencyID: a.AgencyID, RequestedBy: a.UserID, CaseNumber: in.CaseNumber,
		Subject: in.Subject, Details: in.Details, Status: LocateSubmitted, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateLocateRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.locate_submit", ObjectType: "locate_request", ObjectID: r.ID,
			Details: map[string]string{"agency": a.AgencyID}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// AgencyLocateRequests lists the requests of the actor's agency.
func (s *Service) AgencyLocateRequests(ctx context.Context, a haven.Actor) ([]*store.LocateRequest, error) {
	if err := s.require(a, haven.PermLocateRequest); err != nil {
		return nil, err
	}
	if a.AgencyID == "" {
		return nil, haven.ErrForbidden
	}
	var out []*store.LocateRequest
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.LocateRequests(ctx, a.AgencyID)
		return err
	})
	return out, err
}

// LocateRequests lists every request, for analysts.
func (s *Service) LocateRequests(ctx context.Context, a haven.Actor) ([]*store.LocateRequest, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, err
	}
	var out []*store.LocateRequest
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.LocateRequests(ctx, "")
		return err
	})
	return out, err
}

// LocateReport is the analytical report of a locate request, and the
// analyst's working view of it.
type LocateReport struct {
	Request    *store.LocateRequest
	AgencyName string
	Offender   *store.Offender // nil until an analyst identifies the record
	Compliance Compliance
	Residences []*store.OffenderFact
	Employment []*store.OffenderFact
	Travel     []*store.OffenderFact
	Vehicles   []*store.OffenderFact
	Queries    []*store.LocateQuery
	Candidates []*store.LocateCandidate
	Timeline   *Timeline
	Places     []Place
	Generated  time.Time
}

// Delivered reports whether the report went to the agency.
func (r *LocateReport) Delivered() bool { return r.Request.Status == LocateDelivered }

// LocateReport returns a request's report. A law-enforcement user gets
// it only for a request of their agency, and only once delivered; any
// other request is not found, as if it did not exist. Analysts get every
// request at any stage. The read is audited.
func (s *Service) LocateReport(ctx context.Context, a haven.Actor, id string) (*LocateReport, error) {
	staff := a.Can(haven.PermOffenderRead)
	if !staff && !a.Can(haven.PermLocateRequest) {
		return nil, s.deny(ctx, a, "offender.locate_read", "locate_request", id, haven.ErrForbidden)
	}
	var rep *LocateReport
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LocateRequest(ctx, id)
		if err != nil {
			return err
		}
		if !staff && (r.AgencyID != a.AgencyID || a.AgencyID == "") {
			return haven.ErrNotFound
		}
		rep = &LocateReport{Request: r, Generated: s.clock.Now()}
		if ag, err := tx.Agency(ctx, r.AgencyID); err == nil {
			rep.AgencyName = ag.Name
		}
		if !staff && r.Status != LocateDelivered {
			// The agency sees its request and its status, not the work.
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.locate_read", ObjectType: "locate_request", ObjectID: id})
		}
		if rep.Queries, err = tx.LocateQueries(ctx, id); err != nil {
			return err
		}
		if rep.Candidates, err = tx.LocateCandidates(ctx, id); err != nil {
			return err
		}
		var facts []*store.OffenderFact
		details := map[string]string{}
		if r.OffenderID != "" {
			if rep.Offender, err = tx.Offender(ctx, r.OffenderID); err != nil {
				return err
			}
			if facts, err = tx.OffenderFacts(ctx, r.OffenderID); err != nil {
				return err
			}
			rep.Compliance = Assess(rep.Offender, rep.Generated)
			details["offender"] = r.OffenderID
		}
		for _, f := range facts {
			switch f.Kind {
			case FactResidence:
				rep.Residences = append(rep.Residences, f)
			case FactEmployment:
				rep.Employment = append(rep.Employment, f)
			case FactTravel:
				rep.Travel = append(rep.Travel, f)
			case FactVehicle:
				rep.Vehicles = append(rep.Vehicles, f)
			}
		}
		rep.Timeline = BuildTimeline(slices.DeleteFunc(slices.Clone(facts), func(f *store.OffenderFact) bool {
			return f.Kind == FactStatus || f.Kind == FactVerification
		}), nil, rep.Candidates, rep.Generated)
		rep.Places = PlacesOf(facts, rep.Candidates)
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.locate_read", ObjectType: "locate_request", ObjectID: id, Details: details})
	})
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) && !staff {
			return nil, s.deny(ctx, a, "offender.locate_read", "locate_request", id, err)
		}
		return nil, err
	}
	return rep, nil
}

// work loads a request for an analyst's change and records it.
func (s *Service) work(ctx context.Context, a haven.Actor, id, event string, change func(tx *store.Tx, r *store.LocateRequest) (map[string]string, error)) error {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LocateRequest(ctx, id)
		if err != nil {
			return err
		}
		if r.Status == LocateDelivered && event != "offender.locate_deliver" {
			return haven.Errorf(haven.KindConflict, "the report was delivered: the request is closed")
		}
		details, err := change(tx, r)
		if err != nil {
			return err
		}
		if r.Status == LocateSubmitted {
			r.Status = LocateWorking
		}
		if r.AssignedTo == "" {
			r.AssignedTo = a.UserID
		}
		r.UpdatedAt = s.clock.Now()
		if err := tx.UpdateLocateRequest(ctx, r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: event, ObjectType: "locate_request", ObjectID: id, Details: details})
	})
}

// SetLocateOffender names the registry record a request is about.
func (s *Service) SetLocateOffender(ctx context.Context, a haven.Actor, id, offenderID string) error {
	return s.work(ctx, a, id, "offender.locate_offender", func(tx *store.Tx, r *store.LocateRequest) (map[string]string, error) {
		if _, err := tx.Offender(ctx, offenderID); err != nil {
			if haven.IsKind(err, haven.KindNotFound) {
				return nil, haven.Invalidf("offender", "no registry record has this ID")
			}
			return nil, err
		}
		r.OffenderID = offenderID
		return map[string]string{"offender": offenderID}, nil
	})
}

// QueryInput is a query an analyst made of a source.
type QueryInput struct {
	Source    string
	QueriedOn time.Time
	Asked     string
	Found     string
}

// AddLocateQuery records a query of a public-record or open source and
// what it found. Haven stores findings; it does not query sources.
func (s *Service) AddLocateQuery(ctx context.Context, a haven.Actor, id string, in QueryInput) error {
	var err error
	if in.Source, err = haven.CleanText("source", in.Source, 200, true); err != nil {
		return err
	}
	if in.Asked, err = haven.CleanText("asked", in.Asked, 2000, true); err != nil {
		return err
	}
	if in.Found, err = haven.CleanText("found", in.Found, 5000, false); err != nil {
		return err
	}
	if in.QueriedOn.IsZero() {
		in.QueriedOn = s.clock.Now()
	}
	return s.work(ctx, a, id, "offender.locate_query", func(tx *store.Tx, r *store.LocateRequest) (map[string]string, error) {
		q := &store.LocateQuery{ID: haven.NewID(), RequestID: id, Source: in.Source, QueriedOn: in.QueriedOn, Asked: in.Asked,
			Found: in.Found, RecordedBy: a.UserID, RecordedAt: s.clock.Now()}
		return map[string]string{"query": q.ID}, tx.AddLocateQuery(ctx, q)
	})
}

// CandidateInput is a candidate address, employer, travel or vehicle.
type CandidateInput struct {
	Kind, Value, Confidence, Note string
	Lat, Lon                      string
	ValidFrom, ValidTo            time.Time
}

// AddLocateCandidate records a candidate with the analyst's confidence.
func (s *Service) AddLocateCandidate(ctx context.Context, a haven.Actor, id string, in CandidateInput) error {
	if !slices.Contains(CandidateKinds, in.Kind) {
		return haven.Invalidf("kind", "choose address, employer, travel or vehicle")
	}
	if !slices.Contains(Confidences, in.Confidence) {
		return haven.Invalidf("confidence", "choose high, medium or low")
	}
	var err error
	if in.Value, err = haven.CleanText("value", in.Value, 500, true); err != nil {
		return err
	}
	if in.Note, err = haven.CleanText("note", in.Note, 2000, false); err != nil {
		return err
	}
	if !in.ValidTo.IsZero() && in.ValidTo.Before(in.ValidFrom) {
		return haven.Invalidf("valid_to", "the end date is before the start date")
	}
	c := &store.LocateCandidate{ID: haven.NewID(), RequestID: id, Kind: in.Kind, Value: in.Value, Confidence: in.Confidence,
		ValidFrom: in.ValidFrom, ValidTo: in.ValidTo, Note: in.Note, RecordedBy: a.UserID, RecordedAt: s.clock.Now()}
	if c.HasGeo, c.Lat, c.Lon, err = parseLatLon(in.Lat, in.Lon); err != nil {
		return err
	}
	return s.work(ctx, a, id, "offender.locate_candidate", func(tx *store.Tx, r *store.LocateRequest) (map[string]string, error) {
		return map[string]string{"candidate": c.ID, "kind": c.Kind}, tx.AddLocateCandidate(ctx, c)
	})
}

// DeliverLocate records the outcome and the analyst's summary and
// delivers the report to the agency's portal.
func (s *Service) DeliverLocate(ctx context.Context, a haven.Actor, id, outcome, summary string) error {
	if outcome != OutcomeLocated && outcome != OutcomeNotLocated {
		return haven.Invalidf("outcome", "choose located or not located")
	}
	summary, err := haven.CleanText("summary", summary, 10000, true)
	if err != nil {
		return err
	}
	return s.work(ctx, a, id, "offender.locate_deliver", func(tx *store.Tx, r *store.LocateRequest) (map[string]string, error) {
		if r.Status == LocateDelivered {
			return nil, haven.Errorf(haven.KindConflict, "the report was delivered already")
		}
		r.Status, r.Outcome, r.Summary, r.DeliveredAt = LocateDelivered, outcome, summary, s.clock.Now()
		return map[string]string{"outcome": outcome, "agency": r.AgencyID}, nil
	})
}
