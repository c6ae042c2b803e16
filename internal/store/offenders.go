package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Sex-offender tracking records (issue 7, program P6). A registry record
// keeps its slowly changing facts (names, residences, identifiers,
// offences, compliance events) as dated rows, so the record is a history.
// The rules that give these records their meaning live in
// internal/offender.

// Offender is a registry record: the person's current description,
// tier, status and registering jurisdiction. Everything that changes over
// time is an OffenderFact.
type Offender struct {
	ID           string
	Source       string // the registry source (saved mapping) or "manual"
	SourceKey    string // the source's own identifier of the person
	Name         string
	Sex          string
	HeightCM     int
	WeightKG     int
	Eyes         string
	Hair         string
	Marks        string
	Tier         int // 1, 2, 3; 0 when unknown
	Status       string
	Jurisdiction string
	RegisteredOn time.Time
	LastVerified time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OffenderFact is one dated fact of a record: a residence, an
// identifier, an offence, a compliance event… ValidTo is zero while the
// fact still holds. HasGeo reports whether Lat and Lon are set.
type OffenderFact struct {
	ID         string
	OffenderID string
	Kind       string
	Value      string
	Detail     string
	Norm       string
	HasGeo     bool
	Lat, Lon   float64
	ValidFrom  time.Time
	ValidTo    time.Time
	Source     string
	RecordedAt time.Time
}

// OffenderFilter narrows the offender list.
type OffenderFilter struct {
	Query        string // a substring of the name or the source key
	Jurisdiction string
	Status       string
	Limit        int // 0: 200; at most 100,000
}

// ImportMapping is the saved mapping of one registry source's export.
// Mapping is JSON: field name to column name (CSV header or JSON key).
type ImportMapping struct {
	Source       string
	Name         string
	Format       string
	Jurisdiction string
	Mapping      string
	UpdatedBy    string
	UpdatedAt    time.Time
}

// OffenderImport is one import of a registry export and its progress.
type OffenderImport struct {
	ID         string
	Source     string
	Filename   string
	Status     string
	Body       []byte
	Preview    string
	Records    int
	Added      int
	Updated    int
	Unchanged  int
	Rejected   int
	Problems   string
	CreatedBy  string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Incident is an attempted abduction or a missing-child incident recorded
// for linkage. Identifiers holds "kind:normalised" lines.
type Incident struct {
	ID           string
	Kind         string
	OccurredAt   time.Time
	Place        string
	HasGeo       bool
	Lat, Lon     float64
	Jurisdiction string
	Person       string
	Vehicle      string
	Outcome      string
	Identifiers  string
	CreatedBy    string
	CreatedAt    time.Time
}

// OffenderLink is a candidate, confirmed or dismissed link between an
// offender and an incident or a report.
type OffenderLink struct {
	ID         string
	OffenderID string
	TargetType string
	TargetID   string
	Score      int
	Reasons    string
	Status     string
	DecidedBy  string
	DecidedAt  time.Time
	Note       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// LocateRequest is a law-enforcement request for help locating an
// offender.
type LocateRequest struct {
	ID          string
	AgencyID    string
	RequestedBy string
	CaseNumber  string
	Subject     string
	Details     string
	OffenderID  string
	Status      string
	Outcome     string
	AssignedTo  string
	Summary     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeliveredAt time.Time
}

// LocateQuery is one query an analyst made of a public-record or open
// source for a locate request: what was asked and what was found.
type LocateQuery struct {
	ID         string
	RequestID  string
	Source     string
	QueriedOn  time.Time
	Asked      string
	Found      string
	RecordedBy string
	RecordedAt time.Time
}

// LocateCandidate is a candidate address, employer, travel or vehicle
// found for a locate request, with the analyst's confidence.
type LocateCandidate struct {
	ID         string
	RequestID  string
	Kind       string
	Value      string
	HasGeo     bool
	Lat, Lon   float64
	Confidence string
	ValidFrom  time.Time
	ValidTo    time.Time
	Note       string
	RecordedBy string
	RecordedAt time.Time
}

// SurveyCount is one jurisdiction's count in a registry survey.
type SurveyCount struct {
	SurveyDate   time.Time
	Jurisdiction string
	Count        int
	Method       string // entered or computed
	RecordedBy   string
	RecordedAt   time.Time
}

type offenderScanner interface{ Scan(...any) error }

// geo stores an optional coordinate pair.
func offGeo(has bool, v float64) any {
	if !has {
		return nil
	}
	return v
}

// offScanGeo scans an optional coordinate pair.
type offScanGeo struct {
	has      *bool
	lat, lon *float64
	la, lo   sql.NullFloat64
}

func (g *offScanGeo) done() {
	*g.has = g.la.Valid && g.lo.Valid
	*g.lat, *g.lon = g.la.Float64, g.lo.Float64
}

const offenderColumns = `id, source, source_key, name, sex, height_cm, weight_kg, eyes, hair, marks, tier, status,
	jurisdiction, registered_on, last_verified, created_at, updated_at`

func scanOffender(row offenderScanner) (*Offender, error) {
	var o Offender
	err := row.Scan(&o.ID, &o.Source, &o.SourceKey, &o.Name, &o.Sex, &o.HeightCM, &o.WeightKG, &o.Eyes, &o.Hair, &o.Marks,
		&o.Tier, &o.Status, &o.Jurisdiction, nullTime{&o.RegisteredOn}, nullTime{&o.LastVerified}, utcTime{&o.CreatedAt}, utcTime{&o.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &o, nil
}

// CreateOffender inserts a registry record; a used (source, source key)
// is ErrConflict.
func (tx *Tx) CreateOffender(ctx context.Context, o *Offender) error {
	_, err := tx.exec(ctx, `INSERT INTO offenders (`+offenderColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		o.ID, o.Source, o.SourceKey, o.Name, o.Sex, o.HeightCM, o.WeightKG, o.Eyes, o.Hair, o.Marks, o.Tier, o.Status,
		o.Jurisdiction, ts(o.RegisteredOn), ts(o.LastVerified), ts(o.CreatedAt), ts(o.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create offender: %w", err)
	}
	return nil
}

// UpdateOffender changes a record's current description, tier, status,
// jurisdiction and dates.
func (tx *Tx) UpdateOffender(ctx context.Context, o *Offender) error {
	err := mustAffect(tx.exec(ctx, `UPDATE offenders SET name = $2, sex = $3, height_cm = $4, weight_kg = $5, eyes = $6, hair = $7,
		marks = $8, tier = $9, status = $10, jurisdiction = $11, registered_on = $12, last_verified = $13, updated_at = $14 WHERE id = $1`,
		o.ID, o.Name, o.Sex, o.HeightCM, o.WeightKG, o.Eyes, o.Hair, o.Marks, o.Tier, o.Status, o.Jurisdiction,
		ts(o.RegisteredOn), ts(o.LastVerified), ts(o.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update offender: %w", err)
	}
	return nil
}

// Offender returns one registry record.
func (tx *Tx) Offender(ctx context.Context, id string) (*Offender, error) {
	o, err := scanOffender(tx.queryRow(ctx, `SELECT `+offenderColumns+` FROM offenders WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get offender: %w", err)
	}
	return o, nil
}

// OffenderBySourceKey returns the record a source knows by key.
func (tx *Tx) OffenderBySourceKey(ctx context.Context, source, key string) (*Offender, error) {
	o, err := scanOffender(tx.queryRow(ctx, `SELECT `+offenderColumns+` FROM offenders WHERE source = $1 AND source_key = $2`, source, key))
	if err != nil {
		return nil, fmt.Errorf("get offender by source key: %w", err)
	}
	return o, nil
}

// Offenders lists records by name.
func (tx *Tx) Offenders(ctx context.Context, f OffenderFilter) ([]*Offender, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 100000)
	q := "%" + strings.ToLower(f.Query) + "%"
	rows, err := tx.query(ctx, `SELECT `+offenderColumns+` FROM offenders
		WHERE ($1 = '' OR LOWER(name) LIKE $2 OR LOWER(source_key) LIKE $2) AND ($3 = '' OR jurisdiction = $3) AND ($4 = '' OR status = $4)
		ORDER BY name, id LIMIT $5`, f.Query, q, f.Jurisdiction, f.Status, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list offenders: %w", err)
	}
	defer rows.Close()
	var out []*Offender
	for rows.Next() {
		o, err := scanOffender(rows)
		if err != nil {
			return nil, fmt.Errorf("list offenders: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CountOffendersByJurisdiction counts the registered records (every
// status but deceased) of each jurisdiction.
func (tx *Tx) CountOffendersByJurisdiction(ctx context.Context) (map[string]int, error) {
	rows, err := tx.query(ctx, `SELECT jurisdiction, COUNT(*) FROM offenders WHERE status <> 'deceased' GROUP BY jurisdiction`)
	if err != nil {
		return nil, fmt.Errorf("count offenders: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var j string
		var n int
		if err := rows.Scan(&j, &n); err != nil {
			return nil, fmt.Errorf("count offenders: %w", err)
		}
		out[j] = n
	}
	return out, rows.Err()
}

const offFactColumns = `id, offender_id, kind, value, detail, norm, lat, lon, valid_from, valid_to, source, recorded_at`

func scanOffFact(row offenderScanner) (*OffenderFact, error) {
	var f OffenderFact
	g := offScanGeo{has: &f.HasGeo, lat: &f.Lat, lon: &f.Lon}
	err := row.Scan(&f.ID, &f.OffenderID, &f.Kind, &f.Value, &f.Detail, &f.Norm, &g.la, &g.lo, nullTime{&f.ValidFrom},
		nullTime{&f.ValidTo}, &f.Source, utcTime{&f.RecordedAt})
	if err != nil {
		return nil, notFound(err)
	}
	g.done()
	return &f, nil
}

// AddOffenderFact inserts a dated fact.
func (tx *Tx) AddOffenderFact(ctx context.Context, f *OffenderFact) error {
	_, err := tx.exec(ctx, `INSERT INTO offender_facts (`+offFactColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		f.ID, f.OffenderID, f.Kind, f.Value, f.Detail, f.Norm, offGeo(f.HasGeo, f.Lat), offGeo(f.HasGeo, f.Lon), ts(f.ValidFrom),
		ts(f.ValidTo), f.Source, ts(f.RecordedAt))
	if err != nil {
		return fmt.Errorf("add offender fact: %w", err)
	}
	return nil
}

// CloseOffenderFact ends a fact at validTo.
func (tx *Tx) CloseOffenderFact(ctx context.Context, id string, validTo time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE offender_facts SET valid_to = $2 WHERE id = $1`, id, ts(validTo)))
	if err != nil {
		return fmt.Errorf("close offender fact: %w", err)
	}
	return nil
}

func (tx *Tx) offenderFacts(ctx context.Context, q string, args ...any) ([]*OffenderFact, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list offender facts: %w", err)
	}
	defer rows.Close()
	var out []*OffenderFact
	for rows.Next() {
		f, err := scanOffFact(rows)
		if err != nil {
			return nil, fmt.Errorf("list offender facts: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// OffenderFacts lists the facts of a record, oldest first.
func (tx *Tx) OffenderFacts(ctx context.Context, offenderID string) ([]*OffenderFact, error) {
	return tx.offenderFacts(ctx, `SELECT `+offFactColumns+` FROM offender_facts WHERE offender_id = $1
		ORDER BY kind, valid_from, recorded_at, id`, offenderID)
}

// FactsByKind lists every fact of a kind across records, in pages after
// the fact ID after (limit 0: 10,000), for linkage.
func (tx *Tx) FactsByKind(ctx context.Context, kind, after string, limit int) ([]*OffenderFact, error) {
	if limit <= 0 {
		limit = 10000
	}
	return tx.offenderFacts(ctx, `SELECT `+offFactColumns+` FROM offender_facts WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`, kind, after, limit)
}

// FactsByNorm lists the facts of a kind with a normalised value.
func (tx *Tx) FactsByNorm(ctx context.Context, kind, norm string) ([]*OffenderFact, error) {
	return tx.offenderFacts(ctx, `SELECT `+offFactColumns+` FROM offender_facts WHERE kind = $1 AND norm = $2 ORDER BY id`, kind, norm)
}

// PutImportMapping creates or replaces a source's mapping.
func (tx *Tx) PutImportMapping(ctx context.Context, m *ImportMapping) error {
	_, err := tx.exec(ctx, `INSERT INTO offender_mappings (source, name, format, jurisdiction, mapping, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source) DO UPDATE SET name = excluded.name, format = excluded.format,
		jurisdiction = excluded.jurisdiction, mapping = excluded.mapping, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		m.Source, m.Name, m.Format, m.Jurisdiction, m.Mapping, m.UpdatedBy, ts(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put import mapping: %w", err)
	}
	return nil
}

const offMappingColumns = `source, name, format, jurisdiction, mapping, updated_by, updated_at`

func scanOffMapping(row offenderScanner) (*ImportMapping, error) {
	var m ImportMapping
	if err := row.Scan(&m.Source, &m.Name, &m.Format, &m.Jurisdiction, &m.Mapping, &m.UpdatedBy, utcTime{&m.UpdatedAt}); err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}

// ImportMapping returns a source's mapping.
func (tx *Tx) ImportMapping(ctx context.Context, source string) (*ImportMapping, error) {
	m, err := scanOffMapping(tx.queryRow(ctx, `SELECT `+offMappingColumns+` FROM offender_mappings WHERE source = $1`, source))
	if err != nil {
		return nil, fmt.Errorf("get import mapping: %w", err)
	}
	return m, nil
}

// ImportMappings lists every saved mapping by source.
func (tx *Tx) ImportMappings(ctx context.Context) ([]*ImportMapping, error) {
	rows, err := tx.query(ctx, `SELECT `+offMappingColumns+` FROM offender_mappings ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("list import mappings: %w", err)
	}
	defer rows.Close()
	var out []*ImportMapping
	for rows.Next() {
		m, err := scanOffMapping(rows)
		if err != nil {
			return nil, fmt.Errorf("list import mappings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const offImportColumns = `id, source, filename, status, preview, records, added, updated, unchanged, rejected, problems,
	created_by, created_at, started_at, finished_at`

func scanOffenderImport(row offenderScanner, body *[]byte) (*OffenderImport, error) {
	var im OffenderImport
	dest := []any{&im.ID, &im.Source, &im.Filename, &im.Status, &im.Preview, &im.Records, &im.Added, &im.Updated, &im.Unchanged,
		&im.Rejected, &im.Problems, &im.CreatedBy, utcTime{&im.CreatedAt}, nullTime{&im.StartedAt}, nullTime{&im.FinishedAt}}
	if body != nil {
		dest = append(dest, body)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, notFound(err)
	}
	if body != nil {
		im.Body = *body
	}
	return &im, nil
}

// CreateOffenderImport inserts an import with its file.
func (tx *Tx) CreateOffenderImport(ctx context.Context, im *OffenderImport) error {
	_, err := tx.exec(ctx, `INSERT INTO offender_imports (`+offImportColumns+`, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		im.ID, im.Source, im.Filename, im.Status, im.Preview, im.Records, im.Added, im.Updated, im.Unchanged, im.Rejected, im.Problems,
		im.CreatedBy, ts(im.CreatedAt), ts(im.StartedAt), ts(im.FinishedAt), im.Body)
	if err != nil {
		return fmt.Errorf("create offender import: %w", err)
	}
	return nil
}

// UpdateOffenderImport records an import's status and counts (never its
// file).
func (tx *Tx) UpdateOffenderImport(ctx context.Context, im *OffenderImport) error {
	err := mustAffect(tx.exec(ctx, `UPDATE offender_imports SET status = $2, preview = $3, records = $4, added = $5, updated = $6,
		unchanged = $7, rejected = $8, problems = $9, started_at = $10, finished_at = $11 WHERE id = $1`,
		im.ID, im.Status, im.Preview, im.Records, im.Added, im.Updated, im.Unchanged, im.Rejected, im.Problems, ts(im.StartedAt), ts(im.FinishedAt)))
	if err != nil {
		return fmt.Errorf("update offender import: %w", err)
	}
	return nil
}

// OffenderImport returns an import; withBody loads its file too.
func (tx *Tx) OffenderImport(ctx context.Context, id string, withBody bool) (*OffenderImport, error) {
	cols := offImportColumns
	var body *[]byte
	if withBody {
		cols += ", body"
		body = new([]byte)
	}
	im, err := scanOffenderImport(tx.queryRow(ctx, `SELECT `+cols+` FROM offender_imports WHERE id = $1`, id), body)
	if err != nil {
		return nil, fmt.Errorf("get offender import: %w", err)
	}
	return im, nil
}

// OffenderImports lists the latest imports, newest first.
func (tx *Tx) OffenderImports(ctx context.Context, limit int) ([]*OffenderImport, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := tx.query(ctx, `SELECT `+offImportColumns+` FROM offender_imports ORDER BY created_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list offender imports: %w", err)
	}
	defer rows.Close()
	var out []*OffenderImport
	for rows.Next() {
		im, err := scanOffenderImport(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("list offender imports: %w", err)
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

const offIncidentColumns = `id, kind, occurred_at, place, lat, lon, jurisdiction, person, vehicle, outcome, identifiers, created_by, created_at`

func scanOffIncident(row offenderScanner) (*Incident, error) {
	var in Incident
	g := offScanGeo{has: &in.HasGeo, lat: &in.Lat, lon: &in.Lon}
	err := row.Scan(&in.ID, &in.Kind, utcTime{&in.OccurredAt}, &in.Place, &g.la, &g.lo, &in.Jurisdiction, &in.Person, &in.Vehicle,
		&in.Outcome, &in.Identifiers, &in.CreatedBy, utcTime{&in.CreatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	g.done()
	return &in, nil
}

// CreateIncident inserts an incident.
func (tx *Tx) CreateIncident(ctx context.Context, in *Incident) error {
	_, err := tx.exec(ctx, `INSERT INTO offender_incidents (`+offIncidentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		in.ID, in.Kind, ts(in.OccurredAt), in.Place, offGeo(in.HasGeo, in.Lat), offGeo(in.HasGeo, in.Lon), in.Jurisdiction, in.Person,
		in.Vehicle, in.Outcome, in.Identifiers, in.CreatedBy, ts(in.CreatedAt))
	if err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	return nil
}

// Incident returns one incident.
func (tx *Tx) Incident(ctx context.Context, id string) (*Incident, error) {
	in, err := scanOffIncident(tx.queryRow(ctx, `SELECT `+offIncidentColumns+` FROM offender_incidents WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get incident: %w", err)
	}
	return in, nil
}

// Incidents lists incidents, newest first (limit 0: 100,000).
func (tx *Tx) Incidents(ctx context.Context, limit int) ([]*Incident, error) {
	if limit <= 0 {
		limit = 100000
	}
	rows, err := tx.query(ctx, `SELECT `+offIncidentColumns+` FROM offender_incidents ORDER BY occurred_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	var out []*Incident
	for rows.Next() {
		in, err := scanOffIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

const offLinkColumns = `id, offender_id, target_type, target_id, score, reasons, status, decided_by, decided_at, note, created_at, updated_at`

func scanOffLink(row offenderScanner) (*OffenderLink, error) {
	var l OffenderLink
	err := row.Scan(&l.ID, &l.OffenderID, &l.TargetType, &l.TargetID, &l.Score, &l.Reasons, &l.Status, &l.DecidedBy,
		nullTime{&l.DecidedAt}, &l.Note, utcTime{&l.CreatedAt}, utcTime{&l.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &l, nil
}

// PutLinkCandidate records a candidate link. A pair already linked keeps
// its decision; a pending candidate takes the new score and reasons. It
// reports whether the pair is new.
func (tx *Tx) PutLinkCandidate(ctx context.Context, l *OffenderLink) (bool, error) {
	cur, err := scanOffLink(tx.queryRow(ctx, `SELECT `+offLinkColumns+` FROM offender_links WHERE offender_id = $1 AND target_type = $2 AND target_id = $3`,
		l.OffenderID, l.TargetType, l.TargetID))
	switch {
	case err == ErrNotFound:
		if _, err := tx.exec(ctx, `INSERT INTO offender_links (`+offLinkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			l.ID, l.OffenderID, l.TargetType, l.TargetID, l.Score, l.Reasons, l.Status, l.DecidedBy, ts(l.DecidedAt), l.Note,
			ts(l.CreatedAt), ts(l.UpdatedAt)); err != nil {
			return false, fmt.Errorf("put link candidate: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("put link candidate: %w", err)
	}
	l.ID = cur.ID
	if cur.Status != "candidate" {
		*l = *cur
		return false, nil
	}
	if _, err := tx.exec(ctx, `UPDATE offender_links SET score = $2, reasons = $3, updated_at = $4 WHERE id = $1`,
		cur.ID, l.Score, l.Reasons, ts(l.UpdatedAt)); err != nil {
		return false, fmt.Errorf("put link candidate: %w", err)
	}
	return false, nil
}

// DecideLink confirms or dismisses a link.
func (tx *Tx) DecideLink(ctx context.Context, id, status, by, note string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE offender_links SET status = $2, decided_by = $3, note = $4, decided_at = $5, updated_at = $5 WHERE id = $1`,
		id, status, by, note, ts(at)))
	if err != nil {
		return fmt.Errorf("decide link: %w", err)
	}
	return nil
}

// OffenderLinkByID returns one link.
func (tx *Tx) OffenderLinkByID(ctx context.Context, id string) (*OffenderLink, error) {
	l, err := scanOffLink(tx.queryRow(ctx, `SELECT `+offLinkColumns+` FROM offender_links WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get link: %w", err)
	}
	return l, nil
}

func (tx *Tx) offenderLinks(ctx context.Context, q string, args ...any) ([]*OffenderLink, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list offender links: %w", err)
	}
	defer rows.Close()
	var out []*OffenderLink
	for rows.Next() {
		l, err := scanOffLink(rows)
		if err != nil {
			return nil, fmt.Errorf("list offender links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinksOfOffender lists an offender's links, best score first.
func (tx *Tx) LinksOfOffender(ctx context.Context, offenderID string) ([]*OffenderLink, error) {
	return tx.offenderLinks(ctx, `SELECT `+offLinkColumns+` FROM offender_links WHERE offender_id = $1 ORDER BY score DESC, id`, offenderID)
}

// LinksOfTarget lists the links of an incident or a report.
func (tx *Tx) LinksOfTarget(ctx context.Context, targetType, targetID string) ([]*OffenderLink, error) {
	return tx.offenderLinks(ctx, `SELECT `+offLinkColumns+` FROM offender_links WHERE target_type = $1 AND target_id = $2 ORDER BY score DESC, id`,
		targetType, targetID)
}

// LinksByStatus lists links of a status, best score first.
func (tx *Tx) LinksByStatus(ctx context.Context, status string, limit int) ([]*OffenderLink, error) {
	if limit <= 0 {
		limit = 200
	}
	return tx.offenderLinks(ctx, `SELECT `+offLinkColumns+` FROM offender_links WHERE status = $1 ORDER BY score DESC, id LIMIT $2`, status, limit)
}

const offLocateColumns = `id, agency_id, requested_by, case_number, subject, details, offender_id, status, outcome, assigned_to, summary,
	created_at, updated_at, delivered_at`

func scanOffLocate(row offenderScanner) (*LocateRequest, error) {
	var r LocateRequest
	err := row.Scan(&r.ID, &r.AgencyID, &r.RequestedBy, &r.CaseNumber, &r.Subject, &r.Details, scanNullString{&r.OffenderID}, &r.Status,
		&r.Outcome, &r.AssignedTo, &r.Summary, utcTime{&r.CreatedAt}, utcTime{&r.UpdatedAt}, nullTime{&r.DeliveredAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateLocateRequest inserts a locate request.
func (tx *Tx) CreateLocateRequest(ctx context.Context, r *LocateRequest) error {
	_, err := tx.exec(ctx, `INSERT INTO locate_requests (`+offLocateColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.AgencyID, r.RequestedBy, r.CaseNumber, r.Subject, r.Details, nullString(r.OffenderID), r.Status, r.Outcome, r.AssignedTo,
		r.Summary, ts(r.CreatedAt), ts(r.UpdatedAt), ts(r.DeliveredAt))
	if err != nil {
		return fmt.Errorf("create locate request: %w", err)
	}
	return nil
}

// UpdateLocateRequest records a request's offender, status, outcome,
// summary and delivery.
func (tx *Tx) UpdateLocateRequest(ctx context.Context, r *LocateRequest) error {
	err := mustAffect(tx.exec(ctx, `UPDATE locate_requests SET offender_id = $2, status = $3, outcome = $4, assigned_to = $5, summary = $6,
		updated_at = $7, delivered_at = $8 WHERE id = $1`,
		r.ID, nullString(r.OffenderID), r.Status, r.Outcome, r.AssignedTo, r.Summary, ts(r.UpdatedAt), ts(r.DeliveredAt)))
	if err != nil {
		return fmt.Errorf("update locate request: %w", err)
	}
	return nil
}

// LocateRequest returns one request.
func (tx *Tx) LocateRequest(ctx context.Context, id string) (*LocateRequest, error) {
	r, err := scanOffLocate(tx.queryRow(ctx, `SELECT `+offLocateColumns+` FROM locate_requests WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get locate request: %w", err)
	}
	return r, nil
}

// LocateRequests lists requests, newest first: an agency's, or every
// request when agencyID is "".
func (tx *Tx) LocateRequests(ctx context.Context, agencyID string) ([]*LocateRequest, error) {
	rows, err := tx.query(ctx, `SELECT `+offLocateColumns+` FROM locate_requests WHERE ($1 = '' OR agency_id = $1)
		ORDER BY created_at DESC, id`, agencyID)
	if err != nil {
		return nil, fmt.Errorf("list locate requests: %w", err)
	}
	defer rows.Close()
	var out []*LocateRequest
	for rows.Next() {
		r, err := scanOffLocate(rows)
		if err != nil {
			return nil, fmt.Errorf("list locate requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AddLocateQuery records a query of a source.
func (tx *Tx) AddLocateQuery(ctx context.Context, q *LocateQuery) error {
	_, err := tx.exec(ctx, `INSERT INTO locate_queries (id, request_id, source, queried_on, asked, found, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, q.ID, q.RequestID, q.Source, ts(q.QueriedOn), q.Asked, q.Found, q.RecordedBy, ts(q.RecordedAt))
	if err != nil {
		return fmt.Errorf("add locate query: %w", err)
	}
	return nil
}

// LocateQueries lists a request's queries in date order.
func (tx *Tx) LocateQueries(ctx context.Context, requestID string) ([]*LocateQuery, error) {
	rows, err := tx.query(ctx, `SELECT id, request_id, source, queried_on, asked, found, recorded_by, recorded_at FROM locate_queries
		WHERE request_id = $1 ORDER BY queried_on, recorded_at, id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("list locate queries: %w", err)
	}
	defer rows.Close()
	var out []*LocateQuery
	for rows.Next() {
		var q LocateQuery
		if err := rows.Scan(&q.ID, &q.RequestID, &q.Source, utcTime{&q.QueriedOn}, &q.Asked, &q.Found, &q.RecordedBy, utcTime{&q.RecordedAt}); err != nil {
			return nil, fmt.Errorf("list locate queries: %w", err)
		}
		out = append(out, &q)
	}
	return out, rows.Err()
}

// AddLocateCandidate records a candidate.
func (tx *Tx) AddLocateCandidate(ctx context.Context, c *LocateCandidate) error {
	_, err := tx.exec(ctx, `INSERT INTO locate_candidates (id, request_id, kind, value, lat, lon, confidence, valid_from, valid_to, note,
		recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.RequestID, c.Kind, c.Value, offGeo(c.HasGeo, c.Lat), offGeo(c.HasGeo, c.Lon), c.Confidence, ts(c.ValidFrom), ts(c.ValidTo),
		c.Note, c.RecordedBy, ts(c.RecordedAt))
	if err != nil {
		return fmt.Errorf("add locate candidate: %w", err)
	}
	return nil
}

// LocateCandidates lists a request's candidates by kind and date.
func (tx *Tx) LocateCandidates(ctx context.Context, requestID string) ([]*LocateCandidate, error) {
	rows, err := tx.query(ctx, `SELECT id, request_id, kind, value, lat, lon, confidence, valid_from, valid_to, note, recorded_by, recorded_at
		FROM locate_candidates WHERE request_id = $1 ORDER BY kind, valid_from, recorded_at, id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("list locate candidates: %w", err)
	}
	defer rows.Close()
	var out []*LocateCandidate
	for rows.Next() {
		var c LocateCandidate
		g := offScanGeo{has: &c.HasGeo, lat: &c.Lat, lon: &c.Lon}
		if err := rows.Scan(&c.ID, &c.RequestID, &c.Kind, &c.Value, &g.la, &g.lo, &c.Confidence, nullTime{&c.ValidFrom}, nullTime{&c.ValidTo},
			&c.Note, &c.RecordedBy, utcTime{&c.RecordedAt}); err != nil {
			return nil, fmt.Errorf("list locate candidates: %w", err)
		}
		g.done()
		out = append(out, &c)
	}
	return out, rows.Err()
}

// PutSurveyCount creates or replaces one jurisdiction's count of a survey.
func (tx *Tx) PutSurveyCount(ctx context.Context, c *SurveyCount) error {
	_, err := tx.exec(ctx, `INSERT INTO offender_surveys (survey_date, jurisdiction, count, method, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (survey_date, jurisdiction) DO UPDATE SET count = excluded.count,
		method = excluded.method, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at`,
		ts(c.SurveyDate), c.Jurisdiction, c.Count, c.Method, c.RecordedBy, ts(c.RecordedAt))
	if err != nil {
		return fmt.Errorf("put survey count: %w", err)
	}
	return nil
}

// SurveyCounts lists every survey count, newest survey first, then by
// jurisdiction.
func (tx *Tx) SurveyCounts(ctx context.Context) ([]*SurveyCount, error) {
	rows, err := tx.query(ctx, `SELECT survey_date, jurisdiction, count, method, recorded_by, recorded_at FROM offender_surveys
		ORDER BY survey_date DESC, jurisdiction`)
	if err != nil {
		return nil, fmt.Errorf("list survey counts: %w", err)
	}
	defer rows.Close()
	var out []*SurveyCount
	for rows.Next() {
		var c SurveyCount
		if err := rows.Scan(utcTime{&c.SurveyDate}, &c.Jurisdiction, &c.Count, &c.Method, &c.RecordedBy, utcTime{&c.RecordedAt}); err != nil {
			return nil, fmt.Errorf("list survey counts: %w", err)
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}
