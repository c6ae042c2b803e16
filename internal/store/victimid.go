package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

// Victim-identification records (issue 6, program P5): series of known
// imagery, victims known only by pseudonymous IDs, identification
// requests from law enforcement and notifications through counsel. The
// rules that give these records their meaning live in internal/victimid.

// Series is a series of known imagery. Code is the SeriesID that hash
// entries of the series carry.
type Series struct {
	Code      string
	Name      string // pseudonymous
	Status    string // set by hand; "" when derived from the victims
	Notes     string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SeriesSummary is a series with its victim counts and sightings.
type SeriesSummary struct {
	Series
	Victims    int
	Identified int
	FirstSeen  time.Time // first match of one of its entries on a report file
	LastSeen   time.Time
}

// Victim is a victim record. ID is pseudonymous: Haven holds no name.
type Victim struct {
	ID           string
	Identified   bool
	AgencyID     string // the identifying agency
	OfficerName  string // its contact officer
	OfficerEmail string
	OfficerPhone string
	IdentifiedOn time.Time
	ApproxAge    int // approximate age at production, 0 when unknown
	// Notify is the notification choice: notify, do_not_notify or
	// prosecution_only.
	Notify         string
	CounselName    string // the counsel or designated contact
	CounselContact string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Series         []string // codes of the series the victim appears in
}

// IDRequest is an identification request of a law-enforcement agency.
// Result is the JSON summary of its result; the submitted hashes and
// files are never stored.
type IDRequest struct {
	ID          string
	AgencyID    string
	RequestedBy string
	CaseNumber  string
	Purpose     string
	Status      string
	Submitted   int
	Processed   int
	Matched     int
	Result      string
	CreatedAt   time.Time
	FinishedAt  time.Time
}

// VictimNotification tells a victim's counsel that the victim's imagery
// appeared in a case: which case number and which agency, never imagery.
type VictimNotification struct {
	ID         string
	VictimID   string
	RequestID  string
	CaseNumber string
	AgencyID   string
	CreatedAt  time.Time
	SentAt     time.Time
	SentBy     string
	SentNote   string
}

const seriesColumns = `code, name, status, notes, created_by, created_at, updated_at`

func scanSeries(row interface{ Scan(...any) error }) (*Series, error) {
	var s Series
	err := row.Scan(&s.Code, &s.Name, &s.Status, &s.Notes, &s.CreatedBy, utcTime{&s.CreatedAt}, utcTime{&s.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

// CreateSeries inserts a series; a used code is ErrConflict.
func (tx *Tx) CreateSeries(ctx context.Context, s *Series) error {
	_, err := tx.exec(ctx, `INSERT INTO victim_series (`+seriesColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.Code, s.Name, s.Status, s.Notes, s.CreatedBy, ts(s.CreatedAt), ts(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create series: %w", err)
	}
	return nil
}

// UpdateSeries changes a series' name, status and notes.
func (tx *Tx) UpdateSeries(ctx context.Context, s *Series) error {
	err := mustAffect(tx.exec(ctx, `UPDATE victim_series SET name = $2, status = $3, notes = $4, updated_at = $5 WHERE code = $1`,
		s.Code, s.Name, s.Status, s.Notes, ts(s.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update series: %w", err)
	}
	return nil
}

// Series returns one series.
func (tx *Tx) Series(ctx context.Context, code string) (*Series, error) {
	s, err := scanSeries(tx.queryRow(ctx, `SELECT `+seriesColumns+` FROM victim_series WHERE code = $1`, code))
	if err != nil {
		return nil, fmt.Errorf("get series: %w", err)
	}
	return s, nil
}

// SeriesSeenSpan returns the first and last time an entry of the series
// matched a report file (zero times when never).
func (tx *Tx) SeriesSeenSpan(ctx context.Context, code string) (first, last time.Time, err error) {
	for _, q := range []struct {
		order string
		t     *time.Time
	}{{"ASC", &first}, {"DESC", &last}} {
		err := tx.queryRow(ctx, `SELECT fm.matched_at FROM file_matches fm JOIN hash_entries he ON he.id = fm.entry_id
			WHERE he.series_id = $1 ORDER BY fm.matched_at `+q.order+` LIMIT 1`, code).Scan(utcTime{q.t})
		if err != nil && notFound(err) != ErrNotFound {
			return time.Time{}, time.Time{}, fmt.Errorf("series sightings: %w", err)
		}
	}
	return first, last, nil
}

// ListSeries lists every series by code, with victim counts and
// sightings.
func (tx *Tx) ListSeries(ctx context.Context) ([]*SeriesSummary, error) {
	rows, err := tx.query(ctx, `SELECT `+seriesColumns+`,
		(SELECT COUNT(*) FROM victim_series_links l WHERE l.series_code = victim_series.code),
		(SELECT COUNT(*) FROM victim_series_links l JOIN victims v ON v.id = l.victim_id
			WHERE l.series_code = victim_series.code AND v.identified)
		FROM victim_series ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	var out []*SeriesSummary
	for rows.Next() {
		var s SeriesSummary
		if err := rows.Scan(&s.Code, &s.Name, &s.Status, &s.Notes, &s.CreatedBy, utcTime{&s.CreatedAt}, utcTime{&s.UpdatedAt},
			&s.Victims, &s.Identified); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list series: %w", err)
		}
		out = append(out, &s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	for _, s := range out {
		if s.FirstSeen, s.LastSeen, err = tx.SeriesSeenSpan(ctx, s.Code); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const victimColumns = `id, identified, agency_id, officer_name, officer_email, officer_phone, identified_on, approx_age,
	notify_choice, counsel_name, counsel_contact, created_at, updated_at`

func scanVictim(row interface{ Scan(...any) error }) (*Victim, error) {
	var v Victim
	err := row.Scan(&v.ID, &v.Identified, scanNullString{&v.AgencyID}, &v.OfficerName, &v.OfficerEmail, &v.OfficerPhone,
		nullTime{&v.IdentifiedOn}, &v.ApproxAge, &v.Notify, &v.CounselName, &v.CounselContact, utcTime{&v.CreatedAt}, utcTime{&v.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// CreateVictim inserts a victim record and its series links.
func (tx *Tx) CreateVictim(ctx context.Context, v *Victim) error {
	_, err := tx.exec(ctx, `INSERT INTO victims (`+victimColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.ID, v.Identified, nullString(v.AgencyID), v.OfficerName, v.OfficerEmail, v.OfficerPhone, ts(v.IdentifiedOn), v.ApproxAge,
		v.Notify, v.CounselName, v.CounselContact, ts(v.CreatedAt), ts(v.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create victim: %w", err)
	}
	return tx.SetVictimSeries(ctx, v.ID, v.Series)
}

// UpdateVictim changes a victim record and replaces its series links.
func (tx *Tx) UpdateVictim(ctx context.Context, v *Victim) error {
	err := mustAffect(tx.exec(ctx, `UPDATE victims SET identified = $2, agency_id = $3, officer_name = $4, officer_email = $5,
		officer_phone = $6, identified_on = $7, approx_age = $8, notify_choice = $9, counsel_name = $10, counsel_contact = $11,
		updated_at = $12 WHERE id = $1`,
		v.ID, v.Identified, nullString(v.AgencyID), v.OfficerName, v.OfficerEmail, v.OfficerPhone, ts(v.IdentifiedOn), v.ApproxAge,
		v.Notify, v.CounselName, v.CounselContact, ts(v.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update victim: %w", err)
	}
	return tx.SetVictimSeries(ctx, v.ID, v.Series)
}

// SetVictimSeries replaces the series a victim appears in.
func (tx *Tx) SetVictimSeries(ctx context.Context, victimID string, codes []string) error {
	if _, err := tx.exec(ctx, `DELETE FROM victim_series_links WHERE victim_id = $1`, victimID); err != nil {
		return fmt.Errorf("set victim series: %w", err)
	}
	for _, c := range codes {
		if _, err := tx.exec(ctx, `INSERT INTO victim_series_links (victim_id, series_code) VALUES ($1, $2)`, victimID, c); err != nil {
			return fmt.Errorf("set victim series: %w", err)
		}
	}
	return nil
}

func (tx *Tx) victimSeries(ctx context.Context, v *Victim) error {
	rows, err := tx.query(ctx, `SELECT series_code FROM victim_series_links WHERE victim_id = $1 ORDER BY series_code`, v.ID)
	if err != nil {
		return fmt.Errorf("victim series: %w", err)
	}
	defer rows.Close()
	v.Series = nil
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return fmt.Errorf("victim series: %w", err)
		}
		v.Series = append(v.Series, c)
	}
	return rows.Err()
}

// Victim returns one victim record with its series.
func (tx *Tx) Victim(ctx context.Context, id string) (*Victim, error) {
	v, err := scanVictim(tx.queryRow(ctx, `SELECT `+victimColumns+` FROM victims WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get victim: %w", err)
	}
	return v, tx.victimSeries(ctx, v)
}

func (tx *Tx) victims(ctx context.Context, q string, args ...any) ([]*Victim, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list victims: %w", err)
	}
	var out []*Victim
	for rows.Next() {
		v, err := scanVictim(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list victims: %w", err)
		}
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list victims: %w", err)
	}
	for _, v := range out {
		if err := tx.victimSeries(ctx, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Victims lists every victim record by ID.
func (tx *Tx) Victims(ctx context.Context) ([]*Victim, error) {
	return tx.victims(ctx, `SELECT `+victimColumns+` FROM victims ORDER BY id`)
}

// SeriesVictims lists the victims that appear in a series, by ID.
func (tx *Tx) SeriesVictims(ctx context.Context, code string) ([]*Victim, error) {
	return tx.victims(ctx, `SELECT `+prefixed("v.", victimColumns)+` FROM victims v
		JOIN victim_series_links l ON l.victim_id = v.id WHERE l.series_code = $1 ORDER BY v.id`, code)
}

const idRequestColumns = `id, agency_id, requested_by, case_number, purpose, status, submitted, processed, matched, result,
	created_at, finished_at`

func scanIDRequest(row interface{ Scan(...any) error }) (*IDRequest, error) {
	var r IDRequest
	err := row.Scan(&r.ID, &r.AgencyID, &r.RequestedBy, &r.CaseNumber, &r.Purpose, &r.Status, &r.Submitted, &r.Processed,
		&r.Matched, &r.Result, utcTime{&r.CreatedAt}, nullTime{&r.FinishedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateIDRequest inserts an identification request.
func (tx *Tx) CreateIDRequest(ctx context.Context, r *IDRequest) error {
	_, err := tx.exec(ctx, `INSERT INTO id_requests (`+idRequestColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.AgencyID, r.RequestedBy, r.CaseNumber, r.Purpose, r.Status, r.Submitted, r.Processed, r.Matched, r.Result,
		ts(r.CreatedAt), ts(r.FinishedAt))
	if err != nil {
		return fmt.Errorf("create identification request: %w", err)
	}
	return nil
}

// UpdateIDRequest saves a request's status, progress and result.
func (tx *Tx) UpdateIDRequest(ctx context.Context, r *IDRequest) error {
	err := mustAffect(tx.exec(ctx, `UPDATE id_requests SET status = $2, submitted = $3, processed = $4, matched = $5,
		result = $6, finished_at = $7 WHERE id = $1`, r.ID, r.Status, r.Submitted, r.Processed, r.Matched, r.Result, ts(r.FinishedAt)))
	if err != nil {
		return fmt.Errorf("update identification request: %w", err)
	}
	return nil
}

// IDRequest returns one identification request.
func (tx *Tx) IDRequest(ctx context.Context, id string) (*IDRequest, error) {
	r, err := scanIDRequest(tx.queryRow(ctx, `SELECT `+idRequestColumns+` FROM id_requests WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get identification request: %w", err)
	}
	return r, nil
}

func (tx *Tx) idRequests(ctx context.Context, q string, args ...any) ([]*IDRequest, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list identification requests: %w", err)
	}
	defer rows.Close()
	var out []*IDRequest
	for rows.Next() {
		r, err := scanIDRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list identification requests: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AgencyIDRequests lists an agency's identification requests, newest
// first.
func (tx *Tx) AgencyIDRequests(ctx context.Context, agencyID string, limit int) ([]*IDRequest, error) {
	return tx.idRequests(ctx, `SELECT `+idRequestColumns+` FROM id_requests WHERE agency_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, agencyID, limit)
}

// AllIDRequests lists every identification request, oldest first.
func (tx *Tx) AllIDRequests(ctx context.Context) ([]*IDRequest, error) {
	return tx.idRequests(ctx, `SELECT `+idRequestColumns+` FROM id_requests ORDER BY created_at, id`)
}

const notificationColumns = `id, victim_id, request_id, case_number, agency_id, created_at, sent_at, sent_by, sent_note`

// CreateVictimNotification inserts a notification; a second one for the
// same victim and request is ErrConflict.
func (tx *Tx) CreateVictimNotification(ctx context.Context, n *VictimNotification) error {
	_, err := tx.exec(ctx, `INSERT INTO victim_notifications (`+notificationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		n.ID, n.VictimID, n.RequestID, n.CaseNumber, n.AgencyID, ts(n.CreatedAt), ts(n.SentAt), n.SentBy, n.SentNote)
	if err != nil {
		return fmt.Errorf("create victim notification: %w", err)
	}
	return nil
}

// MarkVictimNotificationSent records that counsel was notified; a
// notification already marked is ErrNotFound.
func (tx *Tx) MarkVictimNotificationSent(ctx context.Context, id, by, note string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE victim_notifications SET sent_at = $2, sent_by = $3, sent_note = $4
		WHERE id = $1 AND sent_at IS NULL`, id, ts(at), by, note))
	if err != nil {
		return fmt.Errorf("mark victim notification: %w", err)
	}
	return nil
}

// VictimNotifications lists notifications, unsent ones first, then by
// creation.
func (tx *Tx) VictimNotifications(ctx context.Context) ([]*VictimNotification, error) {
	rows, err := tx.query(ctx, `SELECT `+notificationColumns+` FROM victim_notifications
		ORDER BY CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list victim notifications: %w", err)
	}
	defer rows.Close()
	var out []*VictimNotification
	for rows.Next() {
		var n VictimNotification
		if err := rows.Scan(&n.ID, &n.VictimID, &n.RequestID, &n.CaseNumber, &n.AgencyID, utcTime{&n.CreatedAt},
			nullTime{&n.SentAt}, &n.SentBy, &n.SentNote); err != nil {
			return nil, fmt.Errorf("list victim notifications: %w", err)
		}
		out = append(out, &n)
	}
	return out, rows.Err()
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SeriesVictimCounts returns a series' set status and how many of its
// victims are identified; found is false for a code no series record has.
func (tx *Tx) SeriesVictimCounts(ctx context.Context, code string) (status string, victims, identified int, found bool, err error) {
	err = tx.queryRow(ctx, `SELECT status,
		(SELECT COUNT(*) FROM victim_series_links l WHERE l.series_code = $1),
		(SELECT COUNT(*) FROM victim_series_links l JOIN victims v ON v.id = l.victim_id WHERE l.series_code = $1 AND v.identified)
		FROM victim_series WHERE code = $1`, code).Scan(&status, &victims, &identified)
	if notFound(err) == ErrNotFound {
		return "", 0, 0, false, nil
	}
	if err != nil {
		return "", 0, 0, false, fmt.Errorf("series victim counts: %w", err)
	}
	return status, victims, identified, true, nil
}

// SeriesEntries lists the hash entries of a series (any bank), by ID, at
// most limit, and how many there are in all.
func (tx *Tx) SeriesEntries(ctx context.Context, code string, limit int) ([]*haven.HashEntry, int64, error) {
	var n int64
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM hash_entries WHERE series_id = $1`, code).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count series entries: %w", err)
	}
	es, err := tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE series_id = $1 ORDER BY id LIMIT $2`, code, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list series entries: %w", err)
	}
	return es, n, nil
}
