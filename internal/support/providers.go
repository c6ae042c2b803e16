package support

import (
	"context"
	"io"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// Provider modes and fee terms.
const (
	ModeInPerson    = "in_person"
	ModeTelehealth  = "telehealth"
	FeeProBono      = "pro_bono"
	FeeSlidingScale = "sliding_scale"
)

// Modes and FeeTerms list the allowed values.
var (
	Modes    = []string{ModeInPerson, ModeTelehealth}
	FeeTerms = []string{FeeProBono, FeeSlidingScale}
)

// Specialities suggested in forms; others may be typed.
var Specialities = []string{"child sexual abuse", "trauma", "family therapy", "grief", "trafficking survivors", "adolescents"}

// Referral statuses: the closed loop of a referral.
const (
	RefReferred     = "referred"
	RefContacted    = "contacted"
	RefFirstSession = "first_session"
	RefDeclined     = "declined"
	RefNoCapacity   = "no_capacity"
	RefEnded        = "care_ended" // care ended after sessions began: the place is free again
)

// ReferralStatuses lists the statuses in order.
var ReferralStatuses = []string{RefReferred, RefContacted, RefFirstSession, RefDeclined, RefNoCapacity, RefEnded}

// nextStatuses is the closed loop: where a referral may go from each
// status. Declined, no capacity and ended are final; a family in care
// (first session held) holds one of the provider's places until care
// ends.
var nextStatuses = map[string][]string{
	RefReferred:     {RefContacted, RefFirstSession, RefDeclined, RefNoCapacity},
	RefContacted:    {RefFirstSession, RefDeclined, RefNoCapacity},
	RefFirstSession: {RefEnded},
}

// NextStatuses returns the statuses a referral in status may move to.
func NextStatuses(status string) []string { return nextStatuses[status] }

// Provider statuses.
const (
	ProviderActive   = "active"
	ProviderInactive = "inactive"
)

// Providers lists the provider network.
func (s *Service) Providers(ctx context.Context, a haven.Actor) ([]*store.Provider, error) {
	if err := s.require(a, haven.PermProvidersRead); err != nil {
		return nil, s.deny(ctx, a, "provider.list", "provider", "", err)
	}
	var out []*store.Provider
	err := s.store.View(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Providers(ctx)
		return err
	})
	return out, err
}

// ProviderView is a provider with its referrals, for actors who may
// refer families (the referrals are family records: their read is
// audited).
type ProviderView struct {
	*store.Provider
	Referrals []*store.ProviderReferral
}

// Provider returns one provider; its referrals come with it (and the
// read is audited) for actors with PermProviders.
func (s *Service) Provider(ctx context.Context, a haven.Actor, id string) (*ProviderView, error) {
	if err := s.require(a, haven.PermProvidersRead); err != nil {
		return nil, s.deny(ctx, a, "provider.read", "provider", id, err)
	}
	if !haven.ValidID(id) {
		return nil, haven.ErrNotFound
	}
	var v ProviderView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if v.Provider, err = tx.Provider(ctx, id); err != nil {
			return err
		}
		if !a.Can(haven.PermProviders) {
			return nil
		}
		if v.Referrals, err = tx.ProviderReferrals(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "provider.referrals.read", "provider", id, map[string]string{"count": itoa(len(v.Referrals))})
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ProviderName returns a provider's display name (clinician, service and
// organisation) for the casework package. It reads no family record.
func (s *Service) ProviderName(ctx context.Context, id string) (string, error) {
	if !haven.ValidID(id) {
		return "", haven.ErrNotFound
	}
	var name string
	err := s.store.View(ctx, func(tx *store.Tx) error {
		p, err := tx.Provider(ctx, id)
		if err != nil {
			return err
		}
		name = DisplayName(p)
		return nil
	})
	return name, err
}

// DisplayName is how a provider is named on pages.
func DisplayName(p *store.Provider) string {
	parts := []string{}
	if p.Clinician != "" {
		parts = append(parts, p.Clinician)
	}
	parts = append(parts, p.Name)
	if p.Organization.Name != "" && p.Organization.Name != p.Name {
		parts = append(parts, p.Organization.Name)
	}
	return strings.Join(parts, ", ")
}

// ProviderInput is a provider as edited in the form; the organisation is
// named and found (or created) by its name.
type ProviderInput struct {
	store.Provider
	OrganizationName string
}

func cleanEmail(field, v string) (string, error) {
	v, err := clean(field, v, 254, false)
	if err != nil || v == "" {
		return v, err
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return "", haven.Invalidf(field, "give an address such as clinic@example.org")
	}
	return v, nil
}

func cleanURL(field, v string) (string, error) {
	v, err := clean(field, v, 500, false)
	if err != nil || v == "" {
		return v, err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", haven.Invalidf(field, "give a web address starting with https://")
	}
	return v, nil
}

func cleanFree(field string, l []string, max int) ([]string, error) {
	var out []string
	for _, v := range l {
		v, err := clean(field, v, 100, false)
		if err != nil {
			return nil, err
		}
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) > max {
		return nil, haven.Invalidf(field, "give at most %d values", max)
	}
	return out, nil
}

// cleanProvider checks a provider's fields (shared by the form and the
// HSDS import).
func cleanProvider(p *store.Provider) error {
	var err error
	if p.Name, err = clean("name", p.Name, 200, true); err != nil {
		return err
	}
	if p.Clinician, err = clean("clinician", p.Clinician, 200, false); err != nil {
		return err
	}
	if p.Description, err = clean("description", p.Description, 5000, false); err != nil {
		return err
	}
	if p.LicenceType, err = clean("licence_type", p.LicenceType, 100, false); err != nil {
		return err
	}
	if p.LicenceNumber, err = clean("licence_number", p.LicenceNumber, 100, false); err != nil {
		return err
	}
	if p.LicenceState, err = clean("licence_state", p.LicenceState, 50, false); err != nil {
		return err
	}
	if p.Specialities, err = cleanFree("specialities", p.Specialities, 30); err != nil {
		return err
	}
	if p.Languages, err = cleanLanguages("languages", p.Languages, false); err != nil {
		return err
	}
	if p.Modes, err = subset("modes", p.Modes, Modes); err != nil {
		return err
	}
	if p.FeeTerms, err = subset("fee_terms", p.FeeTerms, FeeTerms); err != nil {
		return err
	}
	if p.Areas, err = cleanFree("areas", p.Areas, 100); err != nil {
		return err
	}
	if p.Capacity < 0 || p.Capacity > 10000 {
		return haven.Invalidf("capacity", "give a number of families from 0 to 10000")
	}
	if p.Email, err = cleanEmail("email", p.Email); err != nil {
		return err
	}
	if p.Phone, err = clean("phone", p.Phone, 50, false); err != nil {
		return err
	}
	if p.Status == "" {
		p.Status = ProviderActive
	}
	if err = oneOf("status", p.Status, []string{ProviderActive, ProviderInactive}, true); err != nil {
		return err
	}
	if len(p.Locations) > 50 {
		return haven.Invalidf("locations", "give at most 50 locations")
	}
	for i := range p.Locations {
		l := &p.Locations[i]
		for _, f := range []*string{&l.Name, &l.Address1, &l.City, &l.State, &l.PostalCode, &l.Country} {
			if *f, err = clean("locations", *f, 200, false); err != nil {
				return err
			}
		}
		if l.ID == "" {
			l.ID = haven.NewID()
		} else if !haven.ValidID(l.ID) {
			return haven.Invalidf("locations", "a location has an invalid identifier")
		}
	}
	o := &p.Organization
	if o.Name, err = clean("organization", o.Name, 200, true); err != nil {
		return err
	}
	if o.Description, err = clean("organization_description", o.Description, 5000, false); err != nil {
		return err
	}
	if o.Email, err = cleanEmail("organization_email", o.Email); err != nil {
		return err
	}
	if o.Website, err = cleanURL("organization_website", o.Website); err != nil {
		return err
	}
	return nil
}

// SaveProvider creates (in.ID empty) or updates a provider. The
// organisation is found by its exact name or created.
func (s *Service) SaveProvider(ctx context.Context, a haven.Actor, in ProviderInput) (*store.Provider, error) {
	if err := s.require(a, haven.PermProviders); err != nil {
		return nil, s.deny(ctx, a, "provider.save", "provider", in.ID, err)
	}
	p := in.Provider
	p.Organization = store.ProviderOrg{Name: in.OrganizationName}
	if err := cleanProvider(&p); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		typ := "provider.update"
		if p.ID == "" {
			typ = "provider.create"
			p.ID, p.CreatedAt = haven.NewID(), now
		} else {
			if !haven.ValidID(p.ID) {
				return haven.ErrNotFound
			}
			cur, err := tx.Provider(ctx, p.ID)
			if err != nil {
				return err
			}
			p.CreatedAt = cur.CreatedAt
		}
		p.UpdatedAt = now
		org, err := tx.ProviderOrgByName(ctx, p.Organization.Name)
		switch {
		case haven.IsKind(err, haven.KindNotFound):
			org = &store.ProviderOrg{ID: haven.NewID(), Name: p.Organization.Name}
			if err := tx.PutProviderOrg(ctx, org); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		p.OrganizationID, p.Organization = org.ID, *org
		if err := tx.PutProvider(ctx, &p); err != nil {
			return err
		}
		return s.record(ctx, tx, a, typ, "provider", p.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ReferralInput is a family's referral to a provider. Consent must be
// given: who gave it is recorded with the time.
type ReferralInput struct {
	RequestID   string // a support request, or
	CaseRef     string // a casework case
	Consent     bool
	ConsentBy   string
	ConsentNote string
}

// Refer refers a family to a provider, with consent. A provider whose
// open referrals reach its capacity takes no more.
func (s *Service) Refer(ctx context.Context, a haven.Actor, providerID string, in ReferralInput) (*store.ProviderReferral, error) {
	if err := s.require(a, haven.PermProviders); err != nil {
		return nil, s.deny(ctx, a, "provider.referral.create", "provider", providerID, err)
	}
	if !haven.ValidID(providerID) {
		return nil, haven.ErrNotFound
	}
	var err error
	if !in.Consent {
		return nil, haven.Invalidf("consent", "a family is referred only with its consent: confirm it was given")
	}
	if in.ConsentBy, err = clean("consent_by", in.ConsentBy, 100, true); err != nil {
		return nil, err
	}
	if in.ConsentNote, err = clean("consent_note", in.ConsentNote, 2000, false); err != nil {
		return nil, err
	}
	if in.CaseRef, err = clean("case_ref", in.CaseRef, 100, false); err != nil {
		return nil, err
	}
	in.RequestID = strings.TrimSpace(in.RequestID)
	if in.RequestID == "" && in.CaseRef == "" {
		return nil, haven.Invalidf("request", "choose the family's support request or give its case")
	}
	if in.RequestID != "" && !haven.ValidID(in.RequestID) {
		return nil, haven.Invalidf("request", "no such support request")
	}
	now := s.clock.Now()
	r := &store.ProviderReferral{ID: haven.NewID(), ProviderID: providerID, RequestID: in.RequestID, CaseRef: in.CaseRef,
		ConsentBy: in.ConsentBy, ConsentAt: now, ConsentNote: in.ConsentNote, Status: RefReferred, CreatedBy: a.UserID,
		CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.Provider(ctx, providerID)
		if err != nil {
			return err
		}
		if p.Status != ProviderActive {
			return haven.Errorf(haven.KindConflict, "this provider is inactive")
		}
		if p.Open >= p.Capacity {
			return errNoCapacity
		}
		if in.RequestID != "" {
			if _, err := tx.SupportRequest(ctx, in.RequestID); haven.IsKind(err, haven.KindNotFound) {
				return haven.Invalidf("request", "no such support request")
			} else if err != nil {
				return err
			}
		}
		if err := tx.CreateProviderReferral(ctx, r); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "provider.referral.create", "provider_referral", r.ID,
			map[string]string{"provider": providerID, "request": in.RequestID, "case": in.CaseRef})
	})
	if err != nil {
		return nil, err
	}
	r.Events = []store.ReferralEvent{{Status: RefReferred, By: a.UserID, At: now}}
	return r, nil
}

// UpdateReferral moves a referral along its closed loop (contacted,
// first session held, declined, no capacity) with a note. It returns the
// referral.
func (s *Service) UpdateReferral(ctx context.Context, a haven.Actor, referralID, status, note string) (*store.ProviderReferral, error) {
	if err := s.require(a, haven.PermProviders); err != nil {
		return nil, s.deny(ctx, a, "provider.referral.update", "provider_referral", referralID, err)
	}
	if !haven.ValidID(referralID) {
		return nil, haven.ErrNotFound
	}
	var err error
	if note, err = clean("note", note, 2000, false); err != nil {
		return nil, err
	}
	if err := oneOf("status", status, ReferralStatuses, true); err != nil {
		return nil, err
	}
	var out *store.ProviderReferral
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.ProviderReferral(ctx, referralID)
		if err != nil {
			return err
		}
		if !slices.Contains(nextStatuses[r.Status], status) {
			return haven.Errorf(haven.KindConflict, "a referral %s cannot become %s", Label(r.Status), Label(status))
		}
		if err := tx.AddReferralEvent(ctx, referralID, store.ReferralEvent{Status: status, Note: note, By: a.UserID, At: s.clock.Now()}); err != nil {
			return err
		}
		if out, err = tx.ProviderReferral(ctx, referralID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "provider.referral.update", "provider_referral", referralID,
			map[string]string{"status": status, "provider": r.ProviderID})
	})
	return out, err
}

// ExportHSDS writes the whole provider directory as an HSDS 3 document
// (see hsds.go).
func (s *Service) ExportHSDS(ctx context.Context, a haven.Actor, w io.Writer) error {
	if err := s.require(a, haven.PermProviders); err != nil {
		return s.deny(ctx, a, "provider.hsds.export", "provider", "", err)
	}
	var ps []*store.Provider
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ps, err = tx.Providers(ctx); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "provider.hsds.export", "provider", "", map[string]string{"count": itoa(len(ps))})
	})
	if err != nil {
		return err
	}
	return EncodeHSDS(w, ps, s.clock.Now())
}

// ImportResult counts what an HSDS import did.
type ImportResult struct {
	Created, Updated int
}

// ImportHSDS reads an HSDS 3 document (see DecodeHSDS) and creates or
// updates its providers and organisations, keeping their identifiers.
// Nothing is written unless the whole document is valid.
func (s *Service) ImportHSDS(ctx context.Context, a haven.Actor, r io.Reader) (*ImportResult, error) {
	if err := s.require(a, haven.PermProviders); err != nil {
		return nil, s.deny(ctx, a, "provider.hsds.import", "provider", "", err)
	}
	ps, err := DecodeHSDS(r, DefaultLimits())
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if err := cleanProvider(p); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	var res ImportResult
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, p := range ps {
			cur, err := tx.Provider(ctx, p.ID)
			switch {
			case err == nil:
				p.CreatedAt = cur.CreatedAt
				res.Updated++
			case haven.IsKind(err, haven.KindNotFound):
				p.CreatedAt = now
				res.Created++
			default:
				return err
			}
			p.UpdatedAt = now
			if err := tx.PutProviderOrg(ctx, &p.Organization); err != nil {
				return err
			}
			if err := tx.PutProvider(ctx, p); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, "provider.hsds.import", "provider", "",
			map[string]string{"created": itoa(res.Created), "updated": itoa(res.Updated)})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// dateOnly parses a yyyy-mm-dd date.
func dateOnly(v string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, v)
	return t, err == nil
}

// ProviderFilter narrows the directory to what a family needs; empty
// fields match everything.
type ProviderFilter struct {
	Language   string // an ISO 639 code
	Mode       string
	Fee        string
	Speciality string // any part of a speciality, any case
	Area       string // an area served, any case
	Available  bool   // active and below capacity
}

// Filter returns the providers that match f, in their order.
func (f ProviderFilter) Filter(ps []*store.Provider) []*store.Provider {
	var out []*store.Provider
	for _, p := range ps {
		if f.Language != "" && !slices.Contains(p.Languages, f.Language) ||
			f.Mode != "" && !slices.Contains(p.Modes, f.Mode) ||
			f.Fee != "" && !slices.Contains(p.FeeTerms, f.Fee) ||
			f.Available && (p.Status != ProviderActive || p.Open >= p.Capacity) {
			continue
		}
		if f.Speciality != "" && !slices.ContainsFunc(p.Specialities, func(s string) bool {
			return strings.Contains(strings.ToLower(s), strings.ToLower(f.Speciality))
		}) {
			continue
		}
		if f.Area != "" && !slices.ContainsFunc(p.Areas, func(a string) bool { return strings.EqualFold(a, f.Area) }) {
			continue
		}
		out = append(out, p)
	}
	return out
}
