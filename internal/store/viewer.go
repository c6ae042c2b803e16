package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// The safe viewer's records (SECURITY.md 31–33): renditions, reveal
// grants, exposure intervals and legal authorities.

// FileOfReport returns one file of a report. A file of another report
// gives ErrNotFound, as a file that does not exist does.
func (tx *Tx) FileOfReport(ctx context.Context, reportID int64, fileID string) (*haven.ReportFile, error) {
	f, err := scanReportFile(tx.queryRow(ctx, `SELECT `+fileColumns+` FROM report_files WHERE report_id = $1 AND id = $2`, reportID, fileID))
	if err != nil {
		return nil, fmt.Errorf("get report file: %w", err)
	}
	return f, nil
}

// RenditionKind says what a rendition shows.
type RenditionKind string

// The kinds of rendition.
const (
	RenditionImage RenditionKind = "image" // one reduced, blurred, greyscale picture
	RenditionVideo RenditionKind = "video" // a strip of reduced, blurred, greyscale frames
	RenditionNone  RenditionKind = "none"  // nothing could be made; Note says why
)

// Rendition is the server-made safe picture of a report file, held
// encrypted in the evidence vault as a custody item.
type Rendition struct {
	FileID      string
	Kind        RenditionKind
	ItemID      string // the custody item; empty for RenditionNone
	ContentType string
	Width       int
	Height      int
	Frames      int // for videos: how many frames the strip shows
	Note        string
	MadeAt      time.Time
}

const renditionColumns = `file_id, kind, item_id, content_type, width, height, frames, note, made_at`

// PutRendition stores a file's rendition, replacing an earlier one.
func (tx *Tx) PutRendition(ctx context.Context, r *Rendition) error {
	_, err := tx.exec(ctx, `INSERT INTO renditions (`+renditionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (file_id) DO UPDATE SET kind = excluded.kind, item_id = excluded.item_id, content_type = excluded.content_type,
		width = excluded.width, height = excluded.height, frames = excluded.frames, note = excluded.note, made_at = excluded.made_at`,
		r.FileID, string(r.Kind), r.ItemID, r.ContentType, r.Width, r.Height, r.Frames, r.Note, ts(r.MadeAt))
	if err != nil {
		return fmt.Errorf("put rendition: %w", err)
	}
	return nil
}

// Rendition returns a file's rendition.
func (tx *Tx) Rendition(ctx context.Context, fileID string) (*Rendition, error) {
	var r Rendition
	var kind string
	err := tx.queryRow(ctx, `SELECT `+renditionColumns+` FROM renditions WHERE file_id = $1`, fileID).Scan(
		&r.FileID, &kind, &r.ItemID, &r.ContentType, &r.Width, &r.Height, &r.Frames, &r.Note, utcTime{&r.MadeAt})
	if err != nil {
		return nil, fmt.Errorf("get rendition: %w", notFound(err))
	}
	r.Kind = RenditionKind(kind)
	return &r, nil
}

// RevealGrant lets one person see one original file, in one session,
// until it expires.
type RevealGrant struct {
	ID        string
	UserID    string
	SessionID string
	ReportID  int64
	FileID    string
	Reason    string
	GrantedAt time.Time
	ExpiresAt time.Time
}

const grantColumns = `id, user_id, session_id, report_id, file_id, reason, granted_at, expires_at`

func scanGrant(row interface{ Scan(...any) error }) (*RevealGrant, error) {
	var g RevealGrant
	err := row.Scan(&g.ID, &g.UserID, &g.SessionID, &g.ReportID, &g.FileID, &g.Reason, utcTime{&g.GrantedAt}, utcTime{&g.ExpiresAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &g, nil
}

// CreateRevealGrant stores a grant.
func (tx *Tx) CreateRevealGrant(ctx context.Context, g *RevealGrant) error {
	_, err := tx.exec(ctx, `INSERT INTO reveal_grants (`+grantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ID, g.UserID, g.SessionID, g.ReportID, g.FileID, g.Reason, ts(g.GrantedAt), ts(g.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create reveal grant: %w", err)
	}
	return nil
}

// RevealGrant returns a grant by ID.
func (tx *Tx) RevealGrant(ctx context.Context, id string) (*RevealGrant, error) {
	g, err := scanGrant(tx.queryRow(ctx, `SELECT `+grantColumns+` FROM reveal_grants WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get reveal grant: %w", err)
	}
	return g, nil
}

// LiveRevealGrant returns the latest grant of a user's session for a
// file that has not expired at now.
func (tx *Tx) LiveRevealGrant(ctx context.Context, userID, sessionID, fileID string, now time.Time) (*RevealGrant, error) {
	g, err := scanGrant(tx.queryRow(ctx, `SELECT `+grantColumns+` FROM reveal_grants
		WHERE user_id = $1 AND session_id = $2 AND file_id = $3 AND expires_at > $4
		ORDER BY expires_at DESC, id DESC LIMIT 1`, userID, sessionID, fileID, ts(now)))
	if err != nil {
		return nil, fmt.Errorf("get live reveal grant: %w", err)
	}
	return g, nil
}

// RevealGrantsBetween lists the grants given in [from, to), oldest first.
func (tx *Tx) RevealGrantsBetween(ctx context.Context, from, to time.Time) ([]*RevealGrant, error) {
	rows, err := tx.query(ctx, `SELECT `+grantColumns+` FROM reveal_grants WHERE granted_at >= $1 AND granted_at < $2
		ORDER BY granted_at, id`, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("list reveal grants: %w", err)
	}
	defer rows.Close()
	var out []*RevealGrant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list reveal grants: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ExposureInterval is a stretch of time an original was shown to a
// person: from a reveal (or a resumed view) to the last heartbeat of the
// page, or to an explicit stop.
type ExposureInterval struct {
	ID         string
	UserID     string
	GrantID    string
	FileID     string
	StartedAt  time.Time
	LastSeenAt time.Time
	EndedAt    time.Time // zero while the interval is open
}

const exposureColumns = `id, user_id, grant_id, file_id, started_at, last_seen_at, ended_at`

func scanExposure(row interface{ Scan(...any) error }) (*ExposureInterval, error) {
	var e ExposureInterval
	err := row.Scan(&e.ID, &e.UserID, &e.GrantID, &e.FileID, utcTime{&e.StartedAt}, utcTime{&e.LastSeenAt}, nullTime{&e.EndedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &e, nil
}

// StartExposure stores a new interval.
func (tx *Tx) StartExposure(ctx context.Context, e *ExposureInterval) error {
	_, err := tx.exec(ctx, `INSERT INTO exposure_intervals (`+exposureColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.ID, e.UserID, e.GrantID, e.FileID, ts(e.StartedAt), ts(e.LastSeenAt), ts(e.EndedAt))
	if err != nil {
		return fmt.Errorf("start exposure: %w", err)
	}
	return nil
}

// OpenExposure returns the latest interval of a grant that has not been
// ended.
func (tx *Tx) OpenExposure(ctx context.Context, grantID string) (*ExposureInterval, error) {
	e, err := scanExposure(tx.queryRow(ctx, `SELECT `+exposureColumns+` FROM exposure_intervals
		WHERE grant_id = $1 AND ended_at IS NULL ORDER BY started_at DESC, id DESC LIMIT 1`, grantID))
	if err != nil {
		return nil, fmt.Errorf("get open exposure: %w", err)
	}
	return e, nil
}

// TouchExposure records a heartbeat of an open interval.
func (tx *Tx) TouchExposure(ctx context.Context, id string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE exposure_intervals SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, ts(at)))
	if err != nil {
		return fmt.Errorf("touch exposure: %w", err)
	}
	return nil
}

// EndExposure closes an open interval at at.
func (tx *Tx) EndExposure(ctx context.Context, id string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE exposure_intervals SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL`, id, ts(at)))
	if err != nil {
		return fmt.Errorf("end exposure: %w", err)
	}
	return nil
}

// ExposureIntervals lists the intervals started in [from, to), of one
// user or ("" ) of everyone, by user and start.
func (tx *Tx) ExposureIntervals(ctx context.Context, userID string, from, to time.Time) ([]*ExposureInterval, error) {
	rows, err := tx.query(ctx, `SELECT `+exposureColumns+` FROM exposure_intervals
		WHERE ($1 = '' OR user_id = $1) AND started_at >= $2 AND started_at < $3
		ORDER BY user_id, started_at, id`, userID, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("list exposure intervals: %w", err)
	}
	defer rows.Close()
	var out []*ExposureInterval
	for rows.Next() {
		e, err := scanExposure(rows)
		if err != nil {
			return nil, fmt.Errorf("list exposure intervals: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LegalAuthority is the recorded legal basis (a warrant, say) that opens
// a file behind the legal gate.
type LegalAuthority struct {
	ID         string
	ReportID   int64
	FileID     string
	Kind       string // warrant, court order, subpoena, consent, other
	Reference  string // the document's number or reference
	Issuer     string // the court or authority that issued it
	IssuedOn   time.Time
	Notes      string
	RecordedBy string
	RecordedAt time.Time
}

const authorityColumns = `id, report_id, file_id, kind, reference, issuer, issued_on, notes, recorded_by, recorded_at`

// AddLegalAuthority stores a legal authority.
func (tx *Tx) AddLegalAuthority(ctx context.Context, l *LegalAuthority) error {
	_, err := tx.exec(ctx, `INSERT INTO legal_authorities (`+authorityColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		l.ID, l.ReportID, l.FileID, l.Kind, l.Reference, l.Issuer, ts(l.IssuedOn), l.Notes, l.RecordedBy, ts(l.RecordedAt))
	if err != nil {
		return fmt.Errorf("add legal authority: %w", err)
	}
	return nil
}

// LegalAuthorities lists the authorities recorded for a report's files
// (or, with fileID set, for one file), oldest first.
func (tx *Tx) LegalAuthorities(ctx context.Context, reportID int64, fileID string) ([]*LegalAuthority, error) {
	rows, err := tx.query(ctx, `SELECT `+authorityColumns+` FROM legal_authorities
		WHERE report_id = $1 AND ($2 = '' OR file_id = $2) ORDER BY recorded_at, id`, reportID, fileID)
	if err != nil {
		return nil, fmt.Errorf("list legal authorities: %w", err)
	}
	defer rows.Close()
	var out []*LegalAuthority
	for rows.Next() {
		var l LegalAuthority
		if err := rows.Scan(&l.ID, &l.ReportID, &l.FileID, &l.Kind, &l.Reference, &l.Issuer, utcTime{&l.IssuedOn}, &l.Notes,
			&l.RecordedBy, utcTime{&l.RecordedAt}); err != nil {
			return nil, fmt.Errorf("list legal authorities: %w", err)
		}
		out = append(out, &l)
	}
	return out, rows.Err()
}
