package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Family-support records (issue 8, program P8): peer-support volunteers
// (who are not users: coordinators act for them), family support
// requests, the matches a coordinator approved with their introductions
// and follow-ups, and the provider network with its referrals. The rules
// that give these records their meaning (matching, HSDS) live in
// internal/support.

// Volunteer is a peer-support volunteer: a parent, sibling or relative of
// a child who was missing or exploited.
type Volunteer struct {
	ID       string
	Name     string
	Relation string // parent, sibling, extended_family
	// Experiences are the case types the volunteer lived: missing,
	// recovered, sexually_exploited.
	Experiences []string
	// ExperienceSince is when the volunteer's own case happened (the
	// "time since" of their lived experience).
	ExperienceSince time.Time
	Languages       []string // ISO 639 codes
	Region          string
	TimeZone        string // IANA name
	Availability    []string
	TrainedOn       time.Time // zero: training not completed
	Capacity        int       // families at once
	Active          bool
	Notes           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// Load is the number of families the volunteer supports now (active
	// matches); filled by the list and get queries.
	Load int
	// Pauses are the volunteer's wellbeing pauses, oldest first.
	Pauses []VolunteerPause
}

// VolunteerPause is a time a volunteer takes off for their own
// wellbeing. A zero To is open-ended.
type VolunteerPause struct {
	ID          string
	VolunteerID string
	From        time.Time
	To          time.Time
	Reason      string
	CreatedBy   string
	CreatedAt   time.Time
}

// SupportRequest is a family's request for peer support, entered by a
// coordinator from a call. Family is a pseudonymous label.
type SupportRequest struct {
	ID                 string
	Family             string
	CaseType           string // missing, recovered, sexually_exploited
	Needs              []string
	Language           string
	Region             string
	TimeZone           string
	PreferRelation     string
	PreferAvailability []string
	Notes              string
	CaseRef            string // a casework case, when there is one
	Status             string // open, matched, closed
	CreatedBy          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// SupportMatch is a volunteer approved for a family, with the score and
// reasons the proposal had.
type SupportMatch struct {
	ID          string
	RequestID   string
	VolunteerID string
	Score       int
	Reasons     []string
	Status      string // active, replaced, ended
	ApprovedBy  string
	ApprovedAt  time.Time
	EndedAt     time.Time
	EndReason   string
}

// SupportContact is an introduction or follow-up of a match, scheduled
// and then recorded as held.
type SupportContact struct {
	ID        string
	MatchID   string
	Kind      string // introduction, follow_up
	DueAt     time.Time
	DoneAt    time.Time
	Note      string
	CreatedBy string
	CreatedAt time.Time
	DoneBy    string
	// CancelledAt is set when the match ended before the contact was held.
	CancelledAt time.Time
}

// ProviderOrg is an organisation of the provider network (an HSDS
// organization).
type ProviderOrg struct {
	ID          string
	Name        string
	Description string
	Email       string
	Website     string
}

// Provider is a clinician (or an organisation's service) of the provider
// network who gives pro-bono or sliding-scale care to families.
type Provider struct {
	ID                string
	OrganizationID    string
	Name              string // the service's name
	Clinician         string
	Description       string
	LicenceType       string
	LicenceNumber     string
	LicenceState      string
	LicenceVerifiedOn time.Time
	Specialities      []string
	Languages         []string // ISO 639 codes
	Modes             []string // in_person, telehealth
	FeeTerms          []string // pro_bono, sliding_scale
	Areas             []string // areas served
	Capacity          int      // families at once
	Email             string
	Phone             string
	Status            string // active, inactive
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Locations         []ProviderLocation
	// Organization is filled by the get and list queries.
	Organization ProviderOrg
	// Open is the number of open referrals; filled by the queries.
	Open int
}

// ProviderLocation is a place where a provider sees families.
type ProviderLocation struct {
	ID         string
	Name       string
	Address1   string
	City       string
	State      string
	PostalCode string
	Country    string
}

// ProviderReferral is a family referred to a provider with consent, and
// where the referral stands.
type ProviderReferral struct {
	ID          string
	ProviderID  string
	RequestID   string // the family's support request, when there is one
	CaseRef     string // a casework case, when there is one
	ConsentBy   string // who gave consent (e.g. "parent")
	ConsentAt   time.Time
	ConsentNote string
	Status      string // referred, contacted, first_session, declined, no_capacity
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Events      []ReferralEvent
}

// ReferralEvent is one step of a referral's closed loop.
type ReferralEvent struct {
	Status string
	Note   string
	By     string
	At     time.Time
}

// supportJoin stores a list as lines; supportSplit reads it back.
func supportJoin(l []string) string { return strings.Join(l, "\n") }

func supportSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type supportRow interface{ Scan(...any) error }

// supportList scans a list stored by supportJoin.
type supportList struct{ l *[]string }

func (f supportList) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*f.l = supportSplit(ns.String)
	return nil
}

// Volunteers.

const volunteerColumns = `id, name, relation, experiences, experience_since, languages, region, time_zone, availability,
	trained_on, capacity, active, notes, created_at, updated_at`

// volunteerLoad counts a volunteer's active matches.
const volunteerLoad = `(SELECT COUNT(*) FROM support_matches m WHERE m.volunteer_id = support_volunteers.id AND m.status = 'active')`

func scanVolunteer(row supportRow) (*Volunteer, error) {
	var v Volunteer
	err := row.Scan(&v.ID, &v.Name, &v.Relation, supportList{&v.Experiences}, nullTime{&v.ExperienceSince}, supportList{&v.Languages},
		&v.Region, &v.TimeZone, supportList{&v.Availability}, nullTime{&v.TrainedOn}, &v.Capacity, &v.Active, &v.Notes,
		utcTime{&v.CreatedAt}, utcTime{&v.UpdatedAt}, &v.Load)
	if err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// CreateVolunteer inserts a volunteer (without pauses).
func (tx *Tx) CreateVolunteer(ctx context.Context, v *Volunteer) error {
	_, err := tx.exec(ctx, `INSERT INTO support_volunteers (`+volunteerColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		v.ID, v.Name, v.Relation, supportJoin(v.Experiences), ts(v.ExperienceSince), supportJoin(v.Languages), v.Region, v.TimeZone,
		supportJoin(v.Availability), ts(v.TrainedOn), v.Capacity, v.Active, v.Notes, ts(v.CreatedAt), ts(v.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create volunteer: %w", err)
	}
	return nil
}

// UpdateVolunteer changes a volunteer's profile.
func (tx *Tx) UpdateVolunteer(ctx context.Context, v *Volunteer) error {
	err := mustAffect(tx.exec(ctx, `UPDATE support_volunteers SET name = $2, relation = $3, experiences = $4, experience_since = $5,
		languages = $6, region = $7, time_zone = $8, availability = $9, trained_on = $10, capacity = $11, active = $12, notes = $13,
		updated_at = $14 WHERE id = $1`,
		v.ID, v.Name, v.Relation, supportJoin(v.Experiences), ts(v.ExperienceSince), supportJoin(v.Languages), v.Region, v.TimeZone,
		supportJoin(v.Availability), ts(v.TrainedOn), v.Capacity, v.Active, v.Notes, ts(v.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update volunteer: %w", err)
	}
	return nil
}

// Volunteer returns one volunteer with load and pauses.
func (tx *Tx) Volunteer(ctx context.Context, id string) (*Volunteer, error) {
	v, err := scanVolunteer(tx.queryRow(ctx, `SELECT `+volunteerColumns+`, `+volunteerLoad+` FROM support_volunteers WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get volunteer: %w", err)
	}
	ps, err := tx.pauses(ctx, `WHERE volunteer_id = $1`, id)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		v.Pauses = append(v.Pauses, *p)
	}
	return v, nil
}

// Volunteers lists every volunteer by name, with load and pauses.
func (tx *Tx) Volunteers(ctx context.Context) ([]*Volunteer, error) {
	rows, err := tx.query(ctx, `SELECT `+volunteerColumns+`, `+volunteerLoad+` FROM support_volunteers ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list volunteers: %w", err)
	}
	var out []*Volunteer
	byID := map[string]*Volunteer{}
	for rows.Next() {
		v, err := scanVolunteer(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list volunteers: %w", err)
		}
		out = append(out, v)
		byID[v.ID] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list volunteers: %w", err)
	}
	ps, err := tx.pauses(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if v := byID[p.VolunteerID]; v != nil {
			v.Pauses = append(v.Pauses, *p)
		}
	}
	return out, nil
}

// AddVolunteerPause records a wellbeing pause.
func (tx *Tx) AddVolunteerPause(ctx context.Context, p *VolunteerPause) error {
	_, err := tx.exec(ctx, `INSERT INTO support_volunteer_pauses (id, volunteer_id, from_at, to_at, reason, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.VolunteerID, ts(p.From), ts(p.To), p.Reason, p.CreatedBy, ts(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("add volunteer pause: %w", err)
	}
	return nil
}

func (tx *Tx) pauses(ctx context.Context, where string, args ...any) ([]*VolunteerPause, error) {
	rows, err := tx.query(ctx, `SELECT id, volunteer_id, from_at, to_at, reason, created_by, created_at
		FROM support_volunteer_pauses `+where+` ORDER BY from_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list volunteer pauses: %w", err)
	}
	defer rows.Close()
	var out []*VolunteerPause
	for rows.Next() {
		var p VolunteerPause
		if err := rows.Scan(&p.ID, &p.VolunteerID, utcTime{&p.From}, nullTime{&p.To}, &p.Reason, &p.CreatedBy, utcTime{&p.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list volunteer pauses: %w", err)
		}
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list volunteer pauses: %w", err)
	}
	return out, nil
}

// Support requests.

const supportRequestColumns = `id, family, case_type, needs, language, region, time_zone, prefer_relation, prefer_availability,
	notes, case_ref, status, created_by, created_at, updated_at`

func scanSupportRequest(row supportRow) (*SupportRequest, error) {
	var r SupportRequest
	err := row.Scan(&r.ID, &r.Family, &r.CaseType, supportList{&r.Needs}, &r.Language, &r.Region, &r.TimeZone, &r.PreferRelation,
		supportList{&r.PreferAvailability}, &r.Notes, &r.CaseRef, &r.Status, &r.CreatedBy, utcTime{&r.CreatedAt}, utcTime{&r.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateSupportRequest inserts a family support request.
func (tx *Tx) CreateSupportRequest(ctx context.Context, r *SupportRequest) error {
	_, err := tx.exec(ctx, `INSERT INTO support_requests (`+supportRequestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		r.ID, r.Family, r.CaseType, supportJoin(r.Needs), r.Language, r.Region, r.TimeZone, r.PreferRelation,
		supportJoin(r.PreferAvailability), r.Notes, r.CaseRef, r.Status, r.CreatedBy, ts(r.CreatedAt), ts(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create support request: %w", err)
	}
	return nil
}

// SetSupportRequestStatus changes a request's status.
func (tx *Tx) SetSupportRequestStatus(ctx context.Context, id, status string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE support_requests SET status = $2, updated_at = $3 WHERE id = $1`, id, status, ts(at)))
	if err != nil {
		return fmt.Errorf("set support request status: %w", err)
	}
	return nil
}

// SupportRequest returns one request.
func (tx *Tx) SupportRequest(ctx context.Context, id string) (*SupportRequest, error) {
	r, err := scanSupportRequest(tx.queryRow(ctx, `SELECT `+supportRequestColumns+` FROM support_requests WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get support request: %w", err)
	}
	return r, nil
}

// SupportRequests lists requests, newest first; status "" lists all.
func (tx *Tx) SupportRequests(ctx context.Context, status string) ([]*SupportRequest, error) {
	rows, err := tx.query(ctx, `SELECT `+supportRequestColumns+` FROM support_requests
		WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id`, status)
	if err != nil {
		return nil, fmt.Errorf("list support requests: %w", err)
	}
	defer rows.Close()
	var out []*SupportRequest
	for rows.Next() {
		r, err := scanSupportRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list support requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list support requests: %w", err)
	}
	return out, nil
}

// Matches and contacts.

const matchColumns = `id, request_id, volunteer_id, score, reasons, status, approved_by, approved_at, ended_at, end_reason`

// CreateSupportMatch inserts an approved match.
func (tx *Tx) CreateSupportMatch(ctx context.Context, m *SupportMatch) error {
	_, err := tx.exec(ctx, `INSERT INTO support_matches (`+matchColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, m.RequestID, m.VolunteerID, m.Score, supportJoin(m.Reasons), m.Status, m.ApprovedBy, ts(m.ApprovedAt), ts(m.EndedAt), m.EndReason)
	if err != nil {
		return fmt.Errorf("create support match: %w", err)
	}
	return nil
}

// EndSupportMatch sets an active match's final status (replaced or
// ended); a match that is not active is ErrNotFound.
func (tx *Tx) EndSupportMatch(ctx context.Context, id, status, reason string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE support_matches SET status = $2, end_reason = $3, ended_at = $4
		WHERE id = $1 AND status = 'active'`, id, status, reason, ts(at)))
	if err != nil {
		return fmt.Errorf("end support match: %w", err)
	}
	return nil
}

// SupportMatches lists the matches of a request, oldest first.
func (tx *Tx) SupportMatches(ctx context.Context, requestID string) ([]*SupportMatch, error) {
	rows, err := tx.query(ctx, `SELECT `+matchColumns+` FROM support_matches WHERE request_id = $1 ORDER BY approved_at, id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("list support matches: %w", err)
	}
	defer rows.Close()
	var out []*SupportMatch
	for rows.Next() {
		var m SupportMatch
		if err := rows.Scan(&m.ID, &m.RequestID, &m.VolunteerID, &m.Score, supportList{&m.Reasons}, &m.Status, &m.ApprovedBy,
			utcTime{&m.ApprovedAt}, nullTime{&m.EndedAt}, &m.EndReason); err != nil {
			return nil, fmt.Errorf("list support matches: %w", err)
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list support matches: %w", err)
	}
	return out, nil
}

// AddSupportContact schedules an introduction or follow-up.
func (tx *Tx) AddSupportContact(ctx context.Context, c *SupportContact) error {
	_, err := tx.exec(ctx, `INSERT INTO support_contacts (id, match_id, kind, due_at, done_at, note, created_by, created_at, done_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.ID, c.MatchID, c.Kind, ts(c.DueAt), ts(c.DoneAt), c.Note, c.CreatedBy,
		ts(c.CreatedAt), c.DoneBy)
	if err != nil {
		return fmt.Errorf("add support contact: %w", err)
	}
	return nil
}

// RecordSupportContact marks a scheduled contact as held, with a note;
// a contact already recorded is ErrNotFound.
func (tx *Tx) RecordSupportContact(ctx context.Context, id, note, by string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE support_contacts SET done_at = $2, note = $3, done_by = $4
		WHERE id = $1 AND done_at IS NULL AND cancelled_at IS NULL`,
		id, ts(at), note, by))
	if err != nil {
		return fmt.Errorf("record support contact: %w", err)
	}
	return nil
}

// CancelSupportContacts cancels the contacts of a match not held yet.
func (tx *Tx) CancelSupportContacts(ctx context.Context, matchID string, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE support_contacts SET cancelled_at = $2 WHERE match_id = $1 AND done_at IS NULL AND cancelled_at IS NULL`,
		matchID, ts(at))
	if err != nil {
		return fmt.Errorf("cancel support contacts: %w", err)
	}
	return nil
}

// SupportContact returns one contact.
func (tx *Tx) SupportContact(ctx context.Context, id string) (*SupportContact, error) {
	cs, err := tx.contacts(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("get support contact: %w", ErrNotFound)
	}
	return cs[0], nil
}

// SupportContacts lists the contacts of the matches of a request, by due
// time.
func (tx *Tx) SupportContacts(ctx context.Context, requestID string) ([]*SupportContact, error) {
	return tx.contacts(ctx, `WHERE match_id IN (SELECT id FROM support_matches WHERE request_id = $1)`, requestID)
}

func (tx *Tx) contacts(ctx context.Context, where string, args ...any) ([]*SupportContact, error) {
	rows, err := tx.query(ctx, `SELECT id, match_id, kind, due_at, done_at, note, created_by, created_at, done_by, cancelled_at
		FROM support_contacts `+where+` ORDER BY due_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list support contacts: %w", err)
	}
	defer rows.Close()
	var out []*SupportContact
	for rows.Next() {
		var c SupportContact
		if err := rows.Scan(&c.ID, &c.MatchID, &c.Kind, utcTime{&c.DueAt}, nullTime{&c.DoneAt}, &c.Note, &c.CreatedBy,
			utcTime{&c.CreatedAt}, &c.DoneBy, nullTime{&c.CancelledAt}); err != nil {
			return nil, fmt.Errorf("list support contacts: %w", err)
		}
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list support contacts: %w", err)
	}
	return out, nil
}

// Provider network.

// PutProviderOrg inserts or updates an organisation.
func (tx *Tx) PutProviderOrg(ctx context.Context, o *ProviderOrg) error {
	_, err := tx.exec(ctx, `INSERT INTO provider_orgs (id, name, description, email, website) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, email = excluded.email,
		website = excluded.website`, o.ID, o.Name, o.Description, o.Email, o.Website)
	if err != nil {
		return fmt.Errorf("put provider organization: %w", err)
	}
	return nil
}

// ProviderOrgByName returns the organisation of that exact name.
func (tx *Tx) ProviderOrgByName(ctx context.Context, name string) (*ProviderOrg, error) {
	var o ProviderOrg
	err := tx.queryRow(ctx, `SELECT id, name, description, email, website FROM provider_orgs WHERE name = $1 ORDER BY id LIMIT 1`, name).
		Scan(&o.ID, &o.Name, &o.Description, &o.Email, &o.Website)
	if err != nil {
		return nil, fmt.Errorf("get provider organization: %w", notFound(err))
	}
	return &o, nil
}

const providerColumns = `p.id, p.organization_id, p.name, p.clinician, p.description, p.licence_type, p.licence_number, p.licence_state,
	p.licence_verified_on, p.specialities, p.languages, p.modes, p.fee_terms, p.areas, p.capacity, p.email, p.phone, p.status,
	p.created_at, p.updated_at, o.name, o.description, o.email, o.website,
	(SELECT COUNT(*) FROM provider_referrals r WHERE r.provider_id = p.id AND r.status IN ('referred', 'contacted', 'first_session'))`

func scanProvider(row supportRow) (*Provider, error) {
	var p Provider
	err := row.Scan(&p.ID, &p.OrganizationID, &p.Name, &p.Clinician, &p.Description, &p.LicenceType, &p.LicenceNumber, &p.LicenceState,
		nullTime{&p.LicenceVerifiedOn}, supportList{&p.Specialities}, supportList{&p.Languages}, supportList{&p.Modes}, supportList{&p.FeeTerms},
		supportList{&p.Areas}, &p.Capacity, &p.Email, &p.Phone, &p.Status, utcTime{&p.CreatedAt}, utcTime{&p.UpdatedAt},
		&p.Organization.Name, &p.Organization.Description, &p.Organization.Email, &p.Organization.Website, &p.Open)
	if err != nil {
		return nil, notFound(err)
	}
	p.Organization.ID = p.OrganizationID
	return &p, nil
}

// PutProvider inserts or updates a provider and replaces its locations.
func (tx *Tx) PutProvider(ctx context.Context, p *Provider) error {
	_, err := tx.exec(ctx, `INSERT INTO providers (id, organization_id, name, clinician, description, licence_type, licence_number,
		licence_state, licence_verified_on, specialities, languages, modes, fee_terms, areas, capacity, email, phone, status,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, name = excluded.name, clinician = excluded.clinician,
		description = excluded.description, licence_type = excluded.licence_type, licence_number = excluded.licence_number,
		licence_state = excluded.licence_state, licence_verified_on = excluded.licence_verified_on,
		specialities = excluded.specialities, languages = excluded.languages, modes = excluded.modes, fee_terms = excluded.fee_terms,
		areas = excluded.areas, capacity = excluded.capacity, email = excluded.email, phone = excluded.phone, status = excluded.status,
		updated_at = excluded.updated_at`,
		p.ID, p.OrganizationID, p.Name, p.Clinician, p.Description, p.LicenceType, p.LicenceNumber, p.LicenceState,
		ts(p.LicenceVerifiedOn), supportJoin(p.Specialities), supportJoin(p.Languages), supportJoin(p.Modes), supportJoin(p.FeeTerms),
		supportJoin(p.Areas), p.Capacity, p.Email, p.Phone, p.Status, ts(p.CreatedAt), ts(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put provider: %w", err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM provider_locations WHERE provider_id = $1`, p.ID); err != nil {
		return fmt.Errorf("put provider locations: %w", err)
	}
	for i, l := range p.Locations {
		_, err := tx.exec(ctx, `INSERT INTO provider_locations (id, provider_id, seq, name, address_1, city, state, postal_code, country)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, l.ID, p.ID, i, l.Name, l.Address1, l.City, l.State, l.PostalCode, l.Country)
		if err != nil {
			return fmt.Errorf("put provider locations: %w", err)
		}
	}
	return nil
}

// Provider returns one provider with its organisation and locations.
func (tx *Tx) Provider(ctx context.Context, id string) (*Provider, error) {
	ps, err := tx.providers(ctx, `WHERE p.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("get provider: %w", ErrNotFound)
	}
	return ps[0], nil
}

// Providers lists every provider by organisation and name.
func (tx *Tx) Providers(ctx context.Context) ([]*Provider, error) {
	return tx.providers(ctx, "")
}

func (tx *Tx) providers(ctx context.Context, where string, args ...any) ([]*Provider, error) {
	rows, err := tx.query(ctx, `SELECT `+providerColumns+` FROM providers p JOIN provider_orgs o ON o.id = p.organization_id `+
		where+` ORDER BY o.name, p.name, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	var out []*Provider
	byID := map[string]*Provider{}
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list providers: %w", err)
		}
		out = append(out, p)
		byID[p.ID] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list providers: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	q := `SELECT provider_id, id, name, address_1, city, state, postal_code, country FROM provider_locations ORDER BY provider_id, seq`
	var largs []any
	if len(out) == 1 {
		q = `SELECT provider_id, id, name, address_1, city, state, postal_code, country FROM provider_locations
			WHERE provider_id = $1 ORDER BY seq`
		largs = []any{out[0].ID}
	}
	lrows, err := tx.query(ctx, q, largs...)
	if err != nil {
		return nil, fmt.Errorf("list provider locations: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var pid string
		var l ProviderLocation
		if err := lrows.Scan(&pid, &l.ID, &l.Name, &l.Address1, &l.City, &l.State, &l.PostalCode, &l.Country); err != nil {
			return nil, fmt.Errorf("list provider locations: %w", err)
		}
		if p := byID[pid]; p != nil {
			p.Locations = append(p.Locations, l)
		}
	}
	if err := lrows.Err(); err != nil {
		return nil, fmt.Errorf("list provider locations: %w", err)
	}
	return out, nil
}

// Referrals.

const providerReferralColumns = `id, provider_id, request_id, case_ref, consent_by, consent_at, consent_note, status, created_by, created_at, updated_at`

// CreateProviderReferral inserts a referral and its first event.
func (tx *Tx) CreateProviderReferral(ctx context.Context, r *ProviderReferral) error {
	_, err := tx.exec(ctx, `INSERT INTO provider_referrals (`+providerReferralColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.ProviderID, r.RequestID, r.CaseRef, r.ConsentBy, ts(r.ConsentAt), r.ConsentNote, r.Status, r.CreatedBy,
		ts(r.CreatedAt), ts(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create provider referral: %w", err)
	}
	return tx.AddReferralEvent(ctx, r.ID, ReferralEvent{Status: r.Status, By: r.CreatedBy, At: r.CreatedAt})
}

// AddReferralEvent records a step of a referral and sets its status.
func (tx *Tx) AddReferralEvent(ctx context.Context, referralID string, e ReferralEvent) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE provider_referrals SET status = $2, updated_at = $3 WHERE id = $1`,
		referralID, e.Status, ts(e.At))); err != nil {
		return fmt.Errorf("update provider referral: %w", err)
	}
	_, err := tx.exec(ctx, `INSERT INTO provider_referral_events (referral_id, status, note, by_user, at) VALUES ($1, $2, $3, $4, $5)`,
		referralID, e.Status, e.Note, e.By, ts(e.At))
	if err != nil {
		return fmt.Errorf("add provider referral event: %w", err)
	}
	return nil
}

// ProviderReferral returns one referral with its events.
func (tx *Tx) ProviderReferral(ctx context.Context, id string) (*ProviderReferral, error) {
	rs, err := tx.referrals(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("get provider referral: %w", ErrNotFound)
	}
	return rs[0], nil
}

// ProviderReferrals lists the referrals to a provider, newest first.
func (tx *Tx) ProviderReferrals(ctx context.Context, providerID string) ([]*ProviderReferral, error) {
	return tx.referrals(ctx, `WHERE provider_id = $1`, providerID)
}

// RequestReferrals lists the referrals of a family's support request.
func (tx *Tx) RequestReferrals(ctx context.Context, requestID string) ([]*ProviderReferral, error) {
	return tx.referrals(ctx, `WHERE request_id = $1`, requestID)
}

func (tx *Tx) referrals(ctx context.Context, where string, args ...any) ([]*ProviderReferral, error) {
	rows, err := tx.query(ctx, `SELECT `+providerReferralColumns+` FROM provider_referrals `+where+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list provider referrals: %w", err)
	}
	var out []*ProviderReferral
	for rows.Next() {
		var r ProviderReferral
		if err := rows.Scan(&r.ID, &r.ProviderID, &r.RequestID, &r.CaseRef, &r.ConsentBy, utcTime{&r.ConsentAt}, &r.ConsentNote,
			&r.Status, &r.CreatedBy, utcTime{&r.CreatedAt}, utcTime{&r.UpdatedAt}); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list provider referrals: %w", err)
		}
		out = append(out, &r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list provider referrals: %w", err)
	}
	for _, r := range out {
		erows, err := tx.query(ctx, `SELECT status, note, by_user, at FROM provider_referral_events WHERE referral_id = $1 ORDER BY seq`, r.ID)
		if err != nil {
			return nil, fmt.Errorf("list provider referral events: %w", err)
		}
		for erows.Next() {
			var e ReferralEvent
			if err := erows.Scan(&e.Status, &e.Note, &e.By, utcTime{&e.At}); err != nil {
				erows.Close()
				return nil, fmt.Errorf("list provider referral events: %w", err)
			}
			r.Events = append(r.Events, e)
		}
		erows.Close()
		if err := erows.Err(); err != nil {
			return nil, fmt.Errorf("list provider referral events: %w", err)
		}
	}
	return out, nil
}

// SupportContactRequest returns the ID of the request a contact belongs
// to.
func (tx *Tx) SupportContactRequest(ctx context.Context, contactID string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT m.request_id FROM support_contacts c JOIN support_matches m ON m.id = c.match_id WHERE c.id = $1`,
		contactID).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("get support contact request: %w", notFound(err))
	}
	return id, nil
}

// DueContact is a scheduled contact not yet held, with its family and
// volunteer.
type DueContact struct {
	SupportContact
	RequestID     string
	Family        string
	VolunteerID   string
	VolunteerName string
}

// DueSupportContacts lists the contacts not held nor cancelled that are
// due before a time, soonest first.
func (tx *Tx) DueSupportContacts(ctx context.Context, before time.Time, limit int) ([]*DueContact, error) {
	rows, err := tx.query(ctx, `SELECT c.id, c.match_id, c.kind, c.due_at, c.created_by, c.created_at, r.id, r.family, v.id, v.name
		FROM support_contacts c JOIN support_matches m ON m.id = c.match_id JOIN support_requests r ON r.id = m.request_id
		JOIN support_volunteers v ON v.id = m.volunteer_id
		WHERE c.done_at IS NULL AND c.cancelled_at IS NULL AND c.due_at < $1 ORDER BY c.due_at, c.id LIMIT $2`, ts(before), limit)
	if err != nil {
		return nil, fmt.Errorf("list due support contacts: %w", err)
	}
	defer rows.Close()
	var out []*DueContact
	for rows.Next() {
		var d DueContact
		if err := rows.Scan(&d.ID, &d.MatchID, &d.Kind, utcTime{&d.DueAt}, &d.CreatedBy, utcTime{&d.CreatedAt}, &d.RequestID, &d.Family,
			&d.VolunteerID, &d.VolunteerName); err != nil {
			return nil, fmt.Errorf("list due support contacts: %w", err)
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due support contacts: %w", err)
	}
	return out, nil
}

// VolunteerFamily is a family a volunteer supports or supported.
type VolunteerFamily struct {
	MatchID    string
	RequestID  string
	Family     string
	Status     string // the match's status
	ApprovedAt time.Time
	EndedAt    time.Time
}

// VolunteerFamilies lists the matches of a volunteer, newest first.
func (tx *Tx) VolunteerFamilies(ctx context.Context, volunteerID string) ([]*VolunteerFamily, error) {
	rows, err := tx.query(ctx, `SELECT m.id, r.id, r.family, m.status, m.approved_at, m.ended_at
		FROM support_matches m JOIN support_requests r ON r.id = m.request_id
		WHERE m.volunteer_id = $1 ORDER BY m.approved_at DESC, m.id`, volunteerID)
	if err != nil {
		return nil, fmt.Errorf("list volunteer families: %w", err)
	}
	defer rows.Close()
	var out []*VolunteerFamily
	for rows.Next() {
		var f VolunteerFamily
		if err := rows.Scan(&f.MatchID, &f.RequestID, &f.Family, &f.Status, utcTime{&f.ApprovedAt}, nullTime{&f.EndedAt}); err != nil {
			return nil, fmt.Errorf("list volunteer families: %w", err)
		}
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list volunteer families: %w", err)
	}
	return out, nil
}
