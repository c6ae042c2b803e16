package support

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Request statuses.
const (
	StatusOpen    = "open"
	StatusMatched = "matched"
	StatusClosed  = "closed"
)

// Match statuses.
const (
	MatchActive   = "active"
	MatchReplaced = "replaced" // the family asked for a different volunteer
	MatchEnded    = "ended"
)

// Contact kinds.
const (
	ContactIntroduction = "introduction"
	ContactFollowUp     = "follow_up"
)

// IntroductionWithin is when the introduction of an approved match is
// first scheduled.
const IntroductionWithin = 48 * time.Hour

// Service keeps volunteers, family support requests and matches, and the
// provider network with its referrals.
type Service struct {
	store *store.Store
	audit *audit.Log
	clock haven.Clock
	log   *slog.Logger
	rules Rules
}

// New returns the service with the default matching rules.
func New(s *store.Store, log *audit.Log, clock haven.Clock, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: log, clock: clock, log: logger, rules: DefaultRules()}
}

// Rules returns the matching rules in force.
func (s *Service) Rules() Rules { return s.rules }

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

// deny audits a refusal in its own transaction and returns err.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ, objType, objID string, err error) error {
	return s.audit.Denied(ctx, s.store, a, typ, objType, objID, err)
}

func (s *Service) record(ctx context.Context, tx *store.Tx, a haven.Actor, typ, objType, objID string, details map[string]string) error {
	return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: objType, ObjectID: objID, Details: details})
}

func clean(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", haven.Invalidf(field, "fill in this field")
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return "", haven.Invalidf(field, "the text is longer than %d characters or not valid UTF-8", max)
	}
	return v, nil
}

// oneOf checks that v is "" (when optional) or one of allowed.
func oneOf(field, v string, allowed []string, required bool) error {
	if v == "" && !required {
		return nil
	}
	if !slices.Contains(allowed, v) {
		return haven.Invalidf(field, "choose one of the listed values")
	}
	return nil
}

// subset checks every value of l against allowed and removes duplicates.
func subset(field string, l, allowed []string) ([]string, error) {
	var out []string
	for _, v := range l {
		v = strings.TrimSpace(v)
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if !slices.Contains(allowed, v) {
			return nil, haven.Invalidf(field, "choose among the listed values")
		}
		out = append(out, v)
	}
	return out, nil
}

var langCode = regexp.MustCompile(`^[a-z]{2,3}$`)

// cleanLanguages checks language codes (ISO 639: two or three lower-case
// letters).
func cleanLanguages(field string, l []string, required bool) ([]string, error) {
	var out []string
	for _, v := range l {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if !langCode.MatchString(v) {
			return nil, haven.Invalidf(field, "use ISO 639 language codes such as en or es")
		}
		out = append(out, v)
	}
	if required && len(out) == 0 {
		return nil, haven.Invalidf(field, "give at least one language")
	}
	if len(out) > 20 {
		return nil, haven.Invalidf(field, "give at most 20 languages")
	}
	return out, nil
}

func cleanZone(field, z string) (string, error) {
	z = strings.TrimSpace(z)
	if z == "" {
		return "", nil
	}
	if len(z) > 64 {
		return "", haven.Invalidf(field, "not a time zone name")
	}
	if _, err := time.LoadLocation(z); err != nil {
		return "", haven.Invalidf(field, "use a time zone name such as America/Chicago")
	}
	return z, nil
}

// Volunteers.

// Volunteers lists every volunteer with their load and pauses.
func (s *Service) Volunteers(ctx context.Context, a haven.Actor) ([]*store.Volunteer, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.volunteer.list", "volunteer", "", err)
	}
	var out []*store.Volunteer
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.Volunteers(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.volunteer.list", "volunteer", "", nil)
	})
	return out, err
}

// VolunteerFamilies lists the families a volunteer supports and
// supported; the read is audited, since it names families.
func (s *Service) VolunteerFamilies(ctx context.Context, a haven.Actor, id string) ([]*store.VolunteerFamily, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.volunteer.families", "volunteer", id, err)
	}
	if !haven.ValidID(id) {
		return nil, haven.ErrNotFound
	}
	var out []*store.VolunteerFamily
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.VolunteerFamilies(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.volunteer.families", "volunteer", id, map[string]string{"count": itoa(len(out))})
	})
	return out, err
}

// Volunteer returns one volunteer; the read is audited.
func (s *Service) Volunteer(ctx context.Context, a haven.Actor, id string) (*store.Volunteer, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.volunteer.read", "volunteer", id, err)
	}
	if !haven.ValidID(id) {
		return nil, haven.ErrNotFound
	}
	var out *store.Volunteer
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.Volunteer(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.volunteer.read", "volunteer", id, nil)
	})
	return out, err
}

func (s *Service) cleanVolunteer(v *store.Volunteer) error {
	var err error
	if v.Name, err = clean("name", v.Name, 200, true); err != nil {
		return err
	}
	if err = oneOf("relation", v.Relation, Relations, true); err != nil {
		return err
	}
	if v.Experiences, err = subset("experiences", v.Experiences, CaseTypes); err != nil {
		return err
	}
	if len(v.Experiences) == 0 {
		return haven.Invalidf("experiences", "choose at least one lived experience")
	}
	if v.Languages, err = cleanLanguages("languages", v.Languages, true); err != nil {
		return err
	}
	if v.Region, err = clean("region", v.Region, 100, false); err != nil {
		return err
	}
	if v.TimeZone, err = cleanZone("time_zone", v.TimeZone); err != nil {
		return err
	}
	if v.Availability, err = subset("availability", v.Availability, Availability); err != nil {
		return err
	}
	if v.Capacity < 0 || v.Capacity > 20 {
		return haven.Invalidf("capacity", "give a number of families from 0 to 20")
	}
	if v.Notes, err = clean("notes", v.Notes, 2000, false); err != nil {
		return err
	}
	now := s.clock.Now()
	if v.TrainedOn.After(now) {
		return haven.Invalidf("trained_on", "training cannot be completed in the future")
	}
	if v.ExperienceSince.After(now) {
		return haven.Invalidf("experience_since", "the date cannot be in the future")
	}
	return nil
}

// SaveVolunteer creates a volunteer (in.ID empty) or updates one.
func (s *Service) SaveVolunteer(ctx context.Context, a haven.Actor, in store.Volunteer) (*store.Volunteer, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.volunteer.save", "volunteer", in.ID, err)
	}
	if err := s.cleanVolunteer(&in); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		typ := "support.volunteer.update"
		if in.ID == "" {
			typ = "support.volunteer.create"
			in.ID, in.CreatedAt, in.UpdatedAt = haven.NewID(), now, now
			if err := tx.CreateVolunteer(ctx, &in); err != nil {
				return err
			}
		} else {
			if !haven.ValidID(in.ID) {
				return haven.ErrNotFound
			}
			cur, err := tx.Volunteer(ctx, in.ID)
			if err != nil {
				return err
			}
			in.CreatedAt, in.UpdatedAt = cur.CreatedAt, now
			if err := tx.UpdateVolunteer(ctx, &in); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, typ, "volunteer", in.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// AddPause records a wellbeing pause of a volunteer from from until to
// (zero: until further notice). The volunteer is not proposed while
// paused; their current families stay with them.
func (s *Service) AddPause(ctx context.Context, a haven.Actor, volunteerID string, from, to time.Time, reason string) error {
	if err := s.require(a, haven.PermSupport); err != nil {
		return s.deny(ctx, a, "support.volunteer.pause", "volunteer", volunteerID, err)
	}
	if !haven.ValidID(volunteerID) {
		return haven.ErrNotFound
	}
	if from.IsZero() {
		return haven.Invalidf("from", "give the first day of the pause")
	}
	if !to.IsZero() && !to.After(from) {
		return haven.Invalidf("to", "the pause must end after it starts")
	}
	var err error
	if reason, err = clean("reason", reason, 500, false); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Volunteer(ctx, volunteerID); err != nil {
			return err
		}
		p := &store.VolunteerPause{ID: haven.NewID(), VolunteerID: volunteerID, From: from, To: to, Reason: reason,
			CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
		if err := tx.AddVolunteerPause(ctx, p); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.volunteer.pause", "volunteer", volunteerID, nil)
	})
}

// Family support requests.

// CreateRequest records a family's support request.
func (s *Service) CreateRequest(ctx context.Context, a haven.Actor, in store.SupportRequest) (*store.SupportRequest, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.request.create", "support_request", "", err)
	}
	var err error
	if in.Family, err = clean("family", in.Family, 200, true); err != nil {
		return nil, err
	}
	if err = oneOf("case_type", in.CaseType, CaseTypes, true); err != nil {
		return nil, err
	}
	if in.Needs, err = subset("needs", in.Needs, Needs); err != nil {
		return nil, err
	}
	langs, err := cleanLanguages("language", []string{in.Language}, true)
	if err != nil {
		return nil, err
	}
	in.Language = langs[0]
	if in.Region, err = clean("region", in.Region, 100, false); err != nil {
		return nil, err
	}
	if in.TimeZone, err = cleanZone("time_zone", in.TimeZone); err != nil {
		return nil, err
	}
	if err = oneOf("prefer_relation", in.PreferRelation, Relations, false); err != nil {
		return nil, err
	}
	if in.PreferAvailability, err = subset("prefer_availability", in.PreferAvailability, Availability); err != nil {
		return nil, err
	}
	if in.Notes, err = clean("notes", in.Notes, 5000, false); err != nil {
		return nil, err
	}
	if in.CaseRef, err = clean("case_ref", in.CaseRef, 100, false); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	in.ID, in.Status, in.CreatedBy, in.CreatedAt, in.UpdatedAt = haven.NewID(), StatusOpen, a.UserID, now, now
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSupportRequest(ctx, &in); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.request.create", "support_request", in.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// Requests lists family support requests (status "" for all); the read
// is audited.
func (s *Service) Requests(ctx context.Context, a haven.Actor, status string) ([]*store.SupportRequest, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.request.list", "support_request", "", err)
	}
	var out []*store.SupportRequest
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.SupportRequests(ctx, status); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.request.list", "support_request", "", map[string]string{"count": itoa(len(out))})
	})
	return out, err
}

// MatchView is a match with its volunteer.
type MatchView struct {
	*store.SupportMatch
	Volunteer *store.Volunteer
}

// RequestView is a family's request with its matches, contacts and
// referrals, and, while the request is open, the current proposals.
type RequestView struct {
	Request   *store.SupportRequest
	Matches   []MatchView
	Active    *MatchView
	Contacts  []*store.SupportContact
	Referrals []*store.ProviderReferral
	Result    *Result // proposals, when the request is open
}

// Request returns a family's request with everything about it; the read
// is audited.
func (s *Service) Request(ctx context.Context, a haven.Actor, id string) (*RequestView, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.request.read", "support_request", id, err)
	}
	if !haven.ValidID(id) {
		return nil, haven.ErrNotFound
	}
	var v RequestView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if v.Request, err = tx.SupportRequest(ctx, id); err != nil {
			return err
		}
		ms, err := tx.SupportMatches(ctx, id)
		if err != nil {
			return err
		}
		for _, m := range ms {
			vol, err := tx.Volunteer(ctx, m.VolunteerID)
			if err != nil {
				return err
			}
			v.Matches = append(v.Matches, MatchView{SupportMatch: m, Volunteer: vol})
			if m.Status == MatchActive {
				v.Active = &v.Matches[len(v.Matches)-1]
			}
		}
		if v.Contacts, err = tx.SupportContacts(ctx, id); err != nil {
			return err
		}
		if v.Referrals, err = tx.RequestReferrals(ctx, id); err != nil {
			return err
		}
		if v.Request.Status == StatusOpen {
			vols, err := tx.Volunteers(ctx)
			if err != nil {
				return err
			}
			r := Match(FamilyOf(v.Request, previous(ms)), vols, s.clock.Now(), s.rules)
			v.Result = &r
		}
		return s.record(ctx, tx, a, "support.request.read", "support_request", id, nil)
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// previous returns the volunteers a family had before: they are not
// proposed again.
func previous(ms []*store.SupportMatch) []string {
	var out []string
	for _, m := range ms {
		if m.Status == MatchReplaced {
			out = append(out, m.VolunteerID)
		}
	}
	return out
}

// Approve matches a volunteer with an open request. The volunteer must
// still pass every rule at this moment (the proposals are recomputed in
// the transaction, so two coordinators cannot push a volunteer over
// capacity); the introduction is scheduled IntroductionWithin from now.
func (s *Service) Approve(ctx context.Context, a haven.Actor, requestID, volunteerID string) (*store.SupportMatch, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.match.approve", "support_request", requestID, err)
	}
	if !haven.ValidID(requestID) || !haven.ValidID(volunteerID) {
		return nil, haven.ErrNotFound
	}
	now := s.clock.Now()
	var m *store.SupportMatch
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		req, err := tx.SupportRequest(ctx, requestID)
		if err != nil {
			return err
		}
		if req.Status != StatusOpen {
			return haven.Errorf(haven.KindConflict, "this request is not waiting for a volunteer")
		}
		ms, err := tx.SupportMatches(ctx, requestID)
		if err != nil {
			return err
		}
		vols, err := tx.Volunteers(ctx)
		if err != nil {
			return err
		}
		rules := s.rules
		rules.Limit = 0
		res := Match(FamilyOf(req, previous(ms)), vols, now, rules)
		i := slices.IndexFunc(res.Proposals, func(p Proposal) bool { return p.Volunteer.ID == volunteerID })
		if i < 0 {
			return haven.Errorf(haven.KindConflict, "this volunteer cannot be matched now (paused, full, or no longer fitting)")
		}
		p := res.Proposals[i]
		m = &store.SupportMatch{ID: haven.NewID(), RequestID: requestID, VolunteerID: volunteerID, Score: p.Score, Reasons: p.Reasons,
			Status: MatchActive, ApprovedBy: a.UserID, ApprovedAt: now}
		if err := tx.CreateSupportMatch(ctx, m); err != nil {
			return err
		}
		if err := tx.SetSupportRequestStatus(ctx, requestID, StatusMatched, now); err != nil {
			return err
		}
		if err := tx.AddSupportContact(ctx, &store.SupportContact{ID: haven.NewID(), MatchID: m.ID, Kind: ContactIntroduction,
			DueAt: now.Add(IntroductionWithin), CreatedBy: a.UserID, CreatedAt: now}); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.match.approve", "support_request", requestID,
			map[string]string{"volunteer": volunteerID, "match": m.ID, "score": itoa(p.Score), "rank": itoa(i + 1)})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// endActive ends the request's active match with status, and sets the
// request's status.
func (s *Service) endActive(ctx context.Context, a haven.Actor, requestID, matchStatus, reqStatus, reason, event string) error {
	if !haven.ValidID(requestID) {
		return haven.ErrNotFound
	}
	var err error
	if reason, err = clean("reason", reason, 1000, false); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		req, err := tx.SupportRequest(ctx, requestID)
		if err != nil {
			return err
		}
		ms, err := tx.SupportMatches(ctx, requestID)
		if err != nil {
			return err
		}
		ended := ""
		for _, m := range ms {
			if m.Status == MatchActive {
				if err := tx.EndSupportMatch(ctx, m.ID, matchStatus, reason, now); err != nil {
					return err
				}
				if err := tx.CancelSupportContacts(ctx, m.ID, now); err != nil {
					return err
				}
				ended = m.VolunteerID
			}
		}
		if matchStatus == MatchReplaced && ended == "" {
			return haven.Errorf(haven.KindConflict, "the family has no volunteer to replace")
		}
		if req.Status == StatusClosed {
			return haven.Errorf(haven.KindConflict, "this request is closed")
		}
		if err := tx.SetSupportRequestStatus(ctx, requestID, reqStatus, now); err != nil {
			return err
		}
		return s.record(ctx, tx, a, event, "support_request", requestID, map[string]string{"volunteer": ended})
	})
}

// AskDifferent records that the family asked for a different volunteer:
// the current match ends as replaced, the request is open again and the
// previous volunteer is never proposed to this family again.
func (s *Service) AskDifferent(ctx context.Context, a haven.Actor, requestID, reason string) error {
	if err := s.require(a, haven.PermSupport); err != nil {
		return s.deny(ctx, a, "support.match.replace", "support_request", requestID, err)
	}
	return s.endActive(ctx, a, requestID, MatchReplaced, StatusOpen, reason, "support.match.replace")
}

// CloseRequest closes a request, ending its active match.
func (s *Service) CloseRequest(ctx context.Context, a haven.Actor, requestID, reason string) error {
	if err := s.require(a, haven.PermSupport); err != nil {
		return s.deny(ctx, a, "support.request.close", "support_request", requestID, err)
	}
	return s.endActive(ctx, a, requestID, MatchEnded, StatusClosed, reason, "support.request.close")
}

// ScheduleContact schedules an introduction or a follow-up of the
// request's active match.
func (s *Service) ScheduleContact(ctx context.Context, a haven.Actor, requestID, kind string, due time.Time) (*store.SupportContact, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.contact.schedule", "support_request", requestID, err)
	}
	if !haven.ValidID(requestID) {
		return nil, haven.ErrNotFound
	}
	if err := oneOf("kind", kind, []string{ContactIntroduction, ContactFollowUp}, true); err != nil {
		return nil, err
	}
	if due.IsZero() {
		return nil, haven.Invalidf("due", "give the date and time")
	}
	var c *store.SupportContact
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ms, err := tx.SupportMatches(ctx, requestID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ms, func(m *store.SupportMatch) bool { return m.Status == MatchActive })
		if i < 0 {
			if _, err := tx.SupportRequest(ctx, requestID); err != nil {
				return err
			}
			return haven.Errorf(haven.KindConflict, "the family has no volunteer yet")
		}
		c = &store.SupportContact{ID: haven.NewID(), MatchID: ms[i].ID, Kind: kind, DueAt: due, CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
		if err := tx.AddSupportContact(ctx, c); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.contact.schedule", "support_request", requestID, map[string]string{"kind": kind})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// RecordContact records that a scheduled contact took place, with a
// note. It returns the request's ID.
func (s *Service) RecordContact(ctx context.Context, a haven.Actor, contactID, note string) (string, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return "", s.deny(ctx, a, "support.contact.record", "support_contact", contactID, err)
	}
	if !haven.ValidID(contactID) {
		return "", haven.ErrNotFound
	}
	var err error
	if note, err = clean("note", note, 5000, false); err != nil {
		return "", err
	}
	var requestID string
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.SupportContact(ctx, contactID)
		if err != nil {
			return err
		}
		if !c.DoneAt.IsZero() || !c.CancelledAt.IsZero() {
			return haven.Errorf(haven.KindConflict, "this contact is already recorded or was cancelled")
		}
		if err := tx.RecordSupportContact(ctx, contactID, note, a.UserID, s.clock.Now()); err != nil {
			return err
		}
		if requestID, err = tx.SupportContactRequest(ctx, contactID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.contact.record", "support_request", requestID, map[string]string{"contact": contactID})
	})
	if err != nil {
		return "", err
	}
	return requestID, nil
}

// DueContacts lists the introductions and follow-ups not yet held that
// are due within the given time (overdue ones first); the read is
// audited, since it names families.
func (s *Service) DueContacts(ctx context.Context, a haven.Actor, within time.Duration) ([]*store.DueContact, error) {
	if err := s.require(a, haven.PermSupport); err != nil {
		return nil, s.deny(ctx, a, "support.contact.list", "support_contact", "", err)
	}
	var out []*store.DueContact
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if out, err = tx.DueSupportContacts(ctx, s.clock.Now().Add(within), 200); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "support.contact.list", "support_contact", "", map[string]string{"count": itoa(len(out))})
	})
	return out, err
}

// errNoCapacity is returned when a provider takes no more families.
var errNoCapacity = haven.Errorf(haven.KindConflict, "this provider has no capacity for another family")

// IsNoCapacity reports whether err says a provider is full.
func IsNoCapacity(err error) bool { return errors.Is(err, errNoCapacity) }
