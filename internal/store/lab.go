package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The unidentified-series workboard and the redacted lab (PRODUCT.md P5):
// series activity from the file matches, analysts' findings and leads,
// and sanitised renditions with their masks. Everything is keyed by the
// series code, the SeriesID of hash entries.

// SeriesActivity is what the workboard lists of a series code.
type SeriesActivity struct {
	Code      string
	Sightings int       // report files matched to an entry of the series
	Reports   int       // distinct reports among them
	Newest    time.Time // when the newest of those reports was received
}

// SeriesActivity lists every series code found on the hash entries of a
// positive bank that matched a report file, the most recently sighted
// first.
//
// NOTE: the counting is done here rather than with GROUP BY because
// SQLite returns an aggregate of a timestamp column as text, untyped; the
// rows read are one per match of a series entry, which stays small next
// to the reports themselves.
func (tx *Tx) SeriesActivity(ctx context.Context) ([]*SeriesActivity, error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT e.series_id, m.report_id, m.file_id, r.opened_at
		FROM file_matches m JOIN hash_entries e ON e.id = m.entry_id JOIN hash_banks b ON b.id = e.bank_id
		JOIN reports r ON r.id = m.report_id
		WHERE e.series_id <> '' AND b.negative = FALSE`)
	if err != nil {
		return nil, fmt.Errorf("list series activity: %w", err)
	}
	defer rows.Close()
	bySeries := map[string]*SeriesActivity{}
	reports := map[string]map[int64]bool{}
	for rows.Next() {
		var code, fileID string
		var reportID int64
		var at time.Time
		if err := rows.Scan(&code, &reportID, &fileID, utcTime{&at}); err != nil {
			return nil, fmt.Errorf("list series activity: %w", err)
		}
		a := bySeries[code]
		if a == nil {
			a = &SeriesActivity{Code: code}
			bySeries[code], reports[code] = a, map[int64]bool{}
		}
		a.Sightings++
		reports[code][reportID] = true
		if at.After(a.Newest) {
			a.Newest = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list series activity: %w", err)
	}
	out := make([]*SeriesActivity, 0, len(bySeries))
	for code, a := range bySeries {
		a.Reports = len(reports[code])
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *SeriesActivity) int {
		if c := b.Newest.Compare(a.Newest); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out, nil
}

// Sighting is one report file matched to an entry of a series.
type Sighting struct {
	ReportID   int64
	FileID     string
	ReceivedAt time.Time // when the report was received
}

// SeriesSightings lists the report files matched to entries of a series
// (of positive banks), the newest report first.
func (tx *Tx) SeriesSightings(ctx context.Context, code string) ([]*Sighting, error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT m.report_id, m.file_id, r.opened_at
		FROM file_matches m JOIN hash_entries e ON e.id = m.entry_id JOIN hash_banks b ON b.id = e.bank_id
		JOIN reports r ON r.id = m.report_id
		WHERE e.series_id = $1 AND b.negative = FALSE
		ORDER BY r.opened_at DESC, m.report_id DESC, m.file_id`, code)
	if err != nil {
		return nil, fmt.Errorf("list series sightings: %w", err)
	}
	defer rows.Close()
	var out []*Sighting
	for rows.Next() {
		var s Sighting
		if err := rows.Scan(&s.ReportID, &s.FileID, utcTime{&s.ReceivedAt}); err != nil {
			return nil, fmt.Errorf("list series sightings: %w", err)
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// FileInSeries reports whether a report file matched an entry of a
// series (of a positive bank).
func (tx *Tx) FileInSeries(ctx context.Context, code string, reportID int64, fileID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM file_matches m JOIN hash_entries e ON e.id = m.entry_id
		JOIN hash_banks b ON b.id = e.bank_id
		WHERE e.series_id = $1 AND b.negative = FALSE AND m.report_id = $2 AND m.file_id = $3`, code, reportID, fileID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check file in series: %w", err)
	}
	return n > 0, nil
}

// LabFinding is what an analyst learnt about a series.
type LabFinding struct {
	ID         string
	SeriesCode string
	Body       string
	AuthorID   string
	CreatedAt  time.Time
}

// AddLabFinding stores a finding.
func (tx *Tx) AddLabFinding(ctx context.Context, f *LabFinding) error {
	_, err := tx.exec(ctx, `INSERT INTO lab_findings (id, series_code, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
		f.ID, f.SeriesCode, f.Body, f.AuthorID, ts(f.CreatedAt))
	if err != nil {
		return fmt.Errorf("add lab finding: %w", err)
	}
	return nil
}

// LabFindings lists a series' findings, newest first.
func (tx *Tx) LabFindings(ctx context.Context, code string) ([]*LabFinding, error) {
	rows, err := tx.query(ctx, `SELECT id, series_code, body, author_id, created_at FROM lab_findings
		WHERE series_code = $1 ORDER BY created_at DESC, id`, code)
	if err != nil {
		return nil, fmt.Errorf("list lab findings: %w", err)
	}
	defer rows.Close()
	var out []*LabFinding
	for rows.Next() {
		var f LabFinding
		if err := rows.Scan(&f.ID, &f.SeriesCode, &f.Body, &f.AuthorID, utcTime{&f.CreatedAt}); err != nil {
			return nil, fmt.Errorf("list lab findings: %w", err)
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}

// LabLead is a sighting, or one clue of it, marked as a lead.
type LabLead struct {
	ID         string
	SeriesCode string
	ReportID   int64
	FileID     string
	Clue       string // "" for the whole sighting
	Note       string
	MarkedBy   string
	MarkedAt   time.Time
}

// AddLabLead stores a lead.
func (tx *Tx) AddLabLead(ctx context.Context, l *LabLead) error {
	_, err := tx.exec(ctx, `INSERT INTO lab_leads (id, series_code, report_id, file_id, clue, note, marked_by, marked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, l.ID, l.SeriesCode, l.ReportID, l.FileID, l.Clue, l.Note, l.MarkedBy, ts(l.MarkedAt))
	if err != nil {
		return fmt.Errorf("add lab lead: %w", err)
	}
	return nil
}

// LabLeads lists a series' leads, newest first.
func (tx *Tx) LabLeads(ctx context.Context, code string) ([]*LabLead, error) {
	rows, err := tx.query(ctx, `SELECT id, series_code, report_id, file_id, clue, note, marked_by, marked_at FROM lab_leads
		WHERE series_code = $1 ORDER BY marked_at DESC, id`, code)
	if err != nil {
		return nil, fmt.Errorf("list lab leads: %w", err)
	}
	defer rows.Close()
	var out []*LabLead
	for rows.Next() {
		var l LabLead
		if err := rows.Scan(&l.ID, &l.SeriesCode, &l.ReportID, &l.FileID, &l.Clue, &l.Note, &l.MarkedBy, utcTime{&l.MarkedAt}); err != nil {
			return nil, fmt.Errorf("list lab leads: %w", err)
		}
		out = append(out, &l)
	}
	return out, rows.Err()
}

// Mask is a rectangle filled on a sanitised rendition, in its pixels.
type Mask struct{ X, Y, W, H int }

// LabRendition is a sanitised rendition of a series file: reduced, with
// masks applied, held encrypted as a custody item.
type LabRendition struct {
	ID          string
	SeriesCode  string
	ReportID    int64
	FileID      string
	ItemID      string
	ContentType string
	Width       int
	Height      int
	MadeBy      string
	MadeAt      time.Time
	PublishedBy string
	PublishedAt time.Time // zero until published
	Masks       []Mask
}

// Published reports whether partners may see the rendition.
func (r *LabRendition) Published() bool { return !r.PublishedAt.IsZero() }

const labRenditionColumns = `id, series_code, report_id, file_id, item_id, content_type, width, height, made_by, made_at,
	published_by, published_at`

// CreateLabRendition stores a sanitised rendition and its masks.
func (tx *Tx) CreateLabRendition(ctx context.Context, r *LabRendition) error {
	_, err := tx.exec(ctx, `INSERT INTO lab_renditions (`+labRenditionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, r.SeriesCode, r.ReportID, r.FileID, r.ItemID, r.ContentType, r.Width, r.Height, r.MadeBy, ts(r.MadeAt),
		r.PublishedBy, ts(r.PublishedAt))
	if err != nil {
		return fmt.Errorf("create lab rendition: %w", tx.conflict(err))
	}
	for i, m := range r.Masks {
		_, err := tx.exec(ctx, `INSERT INTO lab_masks (rendition_id, seq, x, y, w, h) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, i, m.X, m.Y, m.W, m.H)
		if err != nil {
			return fmt.Errorf("create lab mask: %w", err)
		}
	}
	return nil
}

func (tx *Tx) labRenditions(ctx context.Context, q string, args ...any) ([]*LabRendition, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list lab renditions: %w", err)
	}
	defer rows.Close()
	var out []*LabRendition
	for rows.Next() {
		var r LabRendition
		if err := rows.Scan(&r.ID, &r.SeriesCode, &r.ReportID, &r.FileID, &r.ItemID, &r.ContentType, &r.Width, &r.Height,
			&r.MadeBy, utcTime{&r.MadeAt}, &r.PublishedBy, nullTime{&r.PublishedAt}); err != nil {
			return nil, fmt.Errorf("list lab renditions: %w", err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// LabRendition returns a sanitised rendition with its masks.
func (tx *Tx) LabRendition(ctx context.Context, id string) (*LabRendition, error) {
	rs, err := tx.labRenditions(ctx, `SELECT `+labRenditionColumns+` FROM lab_renditions WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get lab rendition: %w", err)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("get lab rendition: %w", ErrNotFound)
	}
	r := rs[0]
	rows, err := tx.query(ctx, `SELECT x, y, w, h FROM lab_masks WHERE rendition_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("get lab masks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Mask
		if err := rows.Scan(&m.X, &m.Y, &m.W, &m.H); err != nil {
			return nil, fmt.Errorf("get lab masks: %w", err)
		}
		r.Masks = append(r.Masks, m)
	}
	return r, rows.Err()
}

// LabRenditionsOfSeries lists a series' sanitised renditions, published
// or not, newest first (masks not loaded).
func (tx *Tx) LabRenditionsOfSeries(ctx context.Context, code string) ([]*LabRendition, error) {
	return tx.labRenditions(ctx, `SELECT `+labRenditionColumns+` FROM lab_renditions WHERE series_code = $1
		ORDER BY made_at DESC, id`, code)
}

// PublishedLabRenditions lists the published sanitised renditions, by
// series code and then newest first (masks not loaded).
func (tx *Tx) PublishedLabRenditions(ctx context.Context) ([]*LabRendition, error) {
	return tx.labRenditions(ctx, `SELECT `+labRenditionColumns+` FROM lab_renditions WHERE published_at IS NOT NULL
		ORDER BY series_code, published_at DESC, id`)
}

// PublishLabRendition marks a sanitised rendition published. A rendition
// already published, or missing, gives ErrNotFound.
func (tx *Tx) PublishLabRendition(ctx context.Context, id, by string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE lab_renditions SET published_by = $2, published_at = $3
		WHERE id = $1 AND published_at IS NULL`, id, by, ts(at)))
	if err != nil {
		return fmt.Errorf("publish lab rendition: %w", err)
	}
	return nil
}
