package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Entity is an identifier kept once: a kind (email, phone, ip…) and a
// canonical value, with when it was first and last seen and how many
// reports mention it.
type Entity struct {
	ID    int64
	Kind  string
	Value string
	// IP is the 16-byte form of an IP address entity, nil for the others.
	IP        []byte
	FirstSeen time.Time
	LastSeen  time.Time
	Reports   int64
}

// EntityKey names an entity by kind and canonical value.
type EntityKey struct{ Kind, Value string }

// EntityLink is an entity's appearance in one report in one role.
type EntityLink struct {
	ReportID int64
	// ReportAt is when the report was received.
	ReportAt time.Time
	// EntityID is set by ReplaceReportEntities and by every read.
	EntityID int64
	Kind     string
	Value    string
	IP       []byte // for ip entities, see Entity.IP
	Role     string
	// SeenFirst and SeenLast are the times the report gives (zero when
	// it gives none).
	SeenFirst time.Time
	SeenLast  time.Time
	Sightings int
	// Reports is the entity's report count; filled by ReportEntities.
	Reports int64
}

// LinkCursor is a position in an entity's reports, newest first: the
// links strictly older than it follow.
type LinkCursor struct {
	ReportAt time.Time
	ReportID int64
}

// entityChunk bounds the rows of one multi-row statement (7 parameters
// a row stays well under both engines' limits).
const entityChunk = 500

// placeholders writes rows of cols parameters, "(?, ?), (?, ?)" on
// SQLite, which binds anonymous parameters by position (naming thousands of
// "$n" costs a search per name), and "($1, $2), ($3, $4)" on PostgreSQL,
// which knows only those.
func (tx *Tx) placeholders(b *strings.Builder, rows, cols int) {
	anon := tx.d.Name() == "sqlite"
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if anon {
				b.WriteByte('?')
			} else {
				fmt.Fprintf(b, "$%d", r*cols+c+1)
			}
		}
		b.WriteByte(')')
	}
}

// inList returns "IN (…)" for n parameters.
func (tx *Tx) inList(n int) string {
	var b strings.Builder
	b.WriteString("IN ")
	tx.placeholders(&b, 1, n)
	return b.String()
}

// ReplaceReportEntities makes links the entity links of the reports
// reportIDs, whatever links they had before: entities are created as
// needed, their first and last sightings widened and their report counts
// kept exact, and entities no report mentions any more are deleted. Every
// link's EntityID is set. Links of reports not in reportIDs are refused.
//
// It writes many reports at once with multi-row statements, so bulk
// indexing costs a few statements per few hundred links. Entities are
// written in the order of their keys, so concurrent writers on PostgreSQL
// lock them in the same order.
func (tx *Tx) ReplaceReportEntities(ctx context.Context, reportIDs []int64, links []*EntityLink) error {
	if len(reportIDs) == 0 {
		return nil
	}
	want := make(map[int64]bool, len(reportIDs))
	for _, id := range reportIDs {
		want[id] = true
	}
	for _, l := range links {
		if !want[l.ReportID] {
			return fmt.Errorf("replace report entities: link of report %d, which is not being replaced", l.ReportID)
		}
	}
	// What the reports linked before: the counts to take back.
	old := map[int64]int64{} // entity → reports that linked it
	for chunk := range slices.Chunk(reportIDs, entityChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := tx.query(ctx, `SELECT DISTINCT report_id, entity_id FROM report_entities WHERE report_id `+tx.inList(len(chunk)), args...)
		if err != nil {
			return fmt.Errorf("replace report entities: %w", err)
		}
		for rows.Next() {
			var rid, eid int64
			if err := rows.Scan(&rid, &eid); err != nil {
				rows.Close()
				return fmt.Errorf("replace report entities: %w", err)
			}
			old[eid]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("replace report entities: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM report_entities WHERE report_id `+tx.inList(len(chunk)), args...); err != nil {
			return fmt.Errorf("replace report entities: %w", err)
		}
	}
	ids, err := tx.upsertEntities(ctx, links)
	if err != nil {
		return err
	}
	for _, l := range links {
		l.EntityID = ids[EntityKey{l.Kind, l.Value}]
	}
	if err := tx.insertLinks(ctx, links); err != nil {
		return err
	}
	// Take back the old links' counts, and drop what nothing mentions.
	gone := make([]int64, 0, len(old))
	for id := range old {
		gone = append(gone, id)
	}
	slices.Sort(gone)
	for _, id := range gone {
		if _, err := tx.exec(ctx, `UPDATE entities SET report_count = report_count - $2 WHERE id = $1`, id, old[id]); err != nil {
			return fmt.Errorf("replace report entities: %w", err)
		}
	}
	for chunk := range slices.Chunk(gone, entityChunk) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if _, err := tx.exec(ctx, `DELETE FROM entities WHERE report_count <= 0 AND id `+tx.inList(len(chunk)), args...); err != nil {
			return fmt.Errorf("replace report entities: %w", err)
		}
	}
	return nil
}

// entityUpsert is one entity of a batch: its widest sighting and how many
// of the batch's reports link it.
type entityUpsert struct {
	key         EntityKey
	ip          []byte
	first, last time.Time
	reports     int64
}

// upsertEntities creates or widens the entities of links and returns
// their IDs by key.
func (tx *Tx) upsertEntities(ctx context.Context, links []*EntityLink) (map[EntityKey]int64, error) {
	byKey := map[EntityKey]*entityUpsert{}
	counted := map[struct {
		k EntityKey
		r int64
	}]bool{}
	for _, l := range links {
		k := EntityKey{l.Kind, l.Value}
		first, last := l.SeenFirst, l.SeenLast
		if first.IsZero() {
			first = l.ReportAt
		}
		if last.IsZero() {
			last = l.ReportAt
		}
		u := byKey[k]
		if u == nil {
			u = &entityUpsert{key: k, ip: l.IP, first: first, last: last}
			byKey[k] = u
		}
		if first.Before(u.first) {
			u.first = first
		}
		if last.After(u.last) {
			u.last = last
		}
		rk := struct {
			k EntityKey
			r int64
		}{k, l.ReportID}
		if !counted[rk] {
			counted[rk] = true
			u.reports++
		}
	}
	all := make([]*entityUpsert, 0, len(byKey))
	for _, u := range byKey {
		all = append(all, u)
	}
	slices.SortFunc(all, func(a, b *entityUpsert) int {
		return cmp.Or(strings.Compare(a.key.Kind, b.key.Kind), strings.Compare(a.key.Value, b.key.Value))
	})
	const cols = 6
	ids := make(map[EntityKey]int64, len(all))
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, cols*entityChunk)
	for chunk := range slices.Chunk(all, entityChunk) {
		st := stmts[len(chunk)]
		if st == nil {
			var q strings.Builder
			q.WriteString(`INSERT INTO entities (kind, value, ip, first_seen, last_seen, report_count) VALUES `)
			tx.placeholders(&q, len(chunk), cols)
			q.WriteString(` ON CONFLICT (kind, value) DO UPDATE SET
				first_seen = CASE WHEN excluded.first_seen < entities.first_seen THEN excluded.first_seen ELSE entities.first_seen END,
				last_seen = CASE WHEN excluded.last_seen > entities.last_seen THEN excluded.last_seen ELSE entities.last_seen END,
				report_count = entities.report_count + excluded.report_count
				RETURNING id, kind, value`)
			var err error
			if st, err = tx.tx.PrepareContext(ctx, q.String()); err != nil {
				return nil, fmt.Errorf("upsert entities: %w", err)
			}
			stmts[len(chunk)] = st
		}
		args = args[:0]
		for _, u := range chunk {
			args = append(args, u.key.Kind, u.key.Value, nullBytes(u.ip), ts(u.first), ts(u.last), u.reports)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("upsert entities: %w", tx.conflict(err))
		}
		for rows.Next() {
			var id int64
			var k EntityKey
			if err := rows.Scan(&id, &k.Kind, &k.Value); err != nil {
				rows.Close()
				return nil, fmt.Errorf("upsert entities: %w", err)
			}
			ids[k] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("upsert entities: %w", err)
		}
	}
	if len(ids) != len(all) {
		return nil, fmt.Errorf("upsert entities: got %d IDs for %d entities", len(ids), len(all))
	}
	return ids, nil
}

// insertLinks inserts links whose EntityID is set. Links repeating a
// report, entity and role are merged.
func (tx *Tx) insertLinks(ctx context.Context, links []*EntityLink) error {
	type pk struct {
		report, entity int64
		role           string
	}
	merged := make([]*EntityLink, 0, len(links))
	seen := make(map[pk]*EntityLink, len(links))
	for _, l := range links {
		k := pk{l.ReportID, l.EntityID, l.Role}
		m := seen[k]
		if m == nil {
			c := *l
			if c.Sightings < 1 {
				c.Sightings = 1
			}
			seen[k] = &c
			merged = append(merged, &c)
			continue
		}
		m.Sightings += max(l.Sightings, 1)
		if !l.SeenFirst.IsZero() && (m.SeenFirst.IsZero() || l.SeenFirst.Before(m.SeenFirst)) {
			m.SeenFirst = l.SeenFirst
		}
		if l.SeenLast.After(m.SeenLast) {
			m.SeenLast = l.SeenLast
		}
	}
	const cols = 7
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, cols*entityChunk)
	for chunk := range slices.Chunk(merged, entityChunk) {
		st := stmts[len(chunk)]
		if st == nil {
			var q strings.Builder
			q.WriteString(`INSERT INTO report_entities (report_id, entity_id, role, report_at, seen_first, seen_last, sightings) VALUES `)
			tx.placeholders(&q, len(chunk), cols)
			var err error
			if st, err = tx.tx.PrepareContext(ctx, q.String()); err != nil {
				return fmt.Errorf("insert report entities: %w", err)
			}
			stmts[len(chunk)] = st
		}
		args = args[:0]
		for _, l := range chunk {
			args = append(args, l.ReportID, l.EntityID, l.Role, ts(l.ReportAt), ts(l.SeenFirst), ts(l.SeenLast), l.Sightings)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert report entities: %w", tx.conflict(err))
		}
	}
	return nil
}

const entityColumns = `id, kind, value, ip, first_seen, last_seen, report_count`

func scanEntity(row interface{ Scan(...any) error }) (*Entity, error) {
	var e Entity
	if err := row.Scan(&e.ID, &e.Kind, &e.Value, &e.IP, utcTime{&e.FirstSeen}, utcTime{&e.LastSeen}, &e.Reports); err != nil {
		return nil, notFound(err)
	}
	return &e, nil
}

func (tx *Tx) entities(ctx context.Context, q string, args ...any) ([]*Entity, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list entities: %w", err)
	}
	defer rows.Close()
	var out []*Entity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, fmt.Errorf("list entities: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Entity returns an entity by ID.
func (tx *Tx) Entity(ctx context.Context, id int64) (*Entity, error) {
	e, err := scanEntity(tx.queryRow(ctx, `SELECT `+entityColumns+` FROM entities WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get entity: %w", err)
	}
	return e, nil
}

// EntityByKey returns the entity of a kind and canonical value.
func (tx *Tx) EntityByKey(ctx context.Context, kind, value string) (*Entity, error) {
	e, err := scanEntity(tx.queryRow(ctx, `SELECT `+entityColumns+` FROM entities WHERE kind = $1 AND value = $2`, kind, value))
	if err != nil {
		return nil, fmt.Errorf("get entity: %w", err)
	}
	return e, nil
}

// EntitiesInIPRange lists up to limit IP entities whose 16-byte form lies
// between lo and hi (inclusive), in address order.
func (tx *Tx) EntitiesInIPRange(ctx context.Context, lo, hi []byte, limit int) ([]*Entity, error) {
	return tx.entities(ctx, `SELECT `+entityColumns+` FROM entities WHERE ip IS NOT NULL AND ip >= $1 AND ip <= $2 ORDER BY ip LIMIT $3`,
		lo, hi, limit)
}

const linkColumns = `l.report_id, l.report_at, l.entity_id, e.kind, e.value, e.ip, l.role, l.seen_first, l.seen_last, l.sightings, e.report_count`

func (tx *Tx) links(ctx context.Context, q string, args ...any) ([]*EntityLink, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list entity links: %w", err)
	}
	defer rows.Close()
	var out []*EntityLink
	for rows.Next() {
		var l EntityLink
		if err := rows.Scan(&l.ReportID, utcTime{&l.ReportAt}, &l.EntityID, &l.Kind, &l.Value, &l.IP, &l.Role,
			nullTime{&l.SeenFirst}, nullTime{&l.SeenLast}, &l.Sightings, &l.Reports); err != nil {
			return nil, fmt.Errorf("list entity links: %w", err)
		}
		out = append(out, &l)
	}
	return out, rows.Err()
}

// ReportEntities lists a report's entity links with their entities, by
// kind, value and role.
func (tx *Tx) ReportEntities(ctx context.Context, reportID int64) ([]*EntityLink, error) {
	return tx.links(ctx, `SELECT `+linkColumns+` FROM report_entities l JOIN entities e ON e.id = l.entity_id
		WHERE l.report_id = $1 ORDER BY e.kind, e.value, l.role`, reportID)
}

// EntityReports lists up to limit links of an entity, newest report
// first, leaving out the report exceptReport (0 for none) and, with a
// cursor, everything not older than it.
func (tx *Tx) EntityReports(ctx context.Context, entityID, exceptReport int64, after *LinkCursor, limit int) ([]*EntityLink, error) {
	q := `SELECT ` + linkColumns + ` FROM report_entities l JOIN entities e ON e.id = l.entity_id
		WHERE l.entity_id = $1 AND l.report_id <> $2`
	args := []any{entityID, exceptReport, limit}
	if after != nil {
		q += ` AND (l.report_at < $4 OR (l.report_at = $4 AND l.report_id < $5))`
		args = append(args, ts(after.ReportAt), after.ReportID)
	}
	q += ` ORDER BY l.report_at DESC, l.report_id DESC LIMIT $3`
	return tx.links(ctx, q, args...)
}

// ReportLocation is where a report is placed: the location Haven computed
// from the report's evidence, and an analyst's correction.
type ReportLocation struct {
	ReportID   int64
	Country    string // ISO 3166-1 alpha-2, "" when unknown
	Region     string // ISO 3166-2 code, or a name where no code is known
	Confidence string // high, medium, low
	Evidence   []string
	ComputedAt time.Time

	CorrectedCountry string
	CorrectedRegion  string
	CorrectedBy      string // user ID
	CorrectedAt      time.Time
	CorrectionReason string
}

// PutReportLocation writes the computed part of a report's location,
// keeping any correction.
func (tx *Tx) PutReportLocation(ctx context.Context, l *ReportLocation) error {
	evidence := l.Evidence
	if evidence == nil {
		evidence = []string{}
	}
	ev, err := json.Marshal(evidence)
	if err != nil {
		return fmt.Errorf("put report location: %w", err)
	}
	_, err = tx.exec(ctx, `INSERT INTO report_locations (report_id, country, region, confidence, evidence, computed_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO UPDATE SET country = excluded.country,
		region = excluded.region, confidence = excluded.confidence, evidence = excluded.evidence, computed_at = excluded.computed_at`,
		l.ReportID, l.Country, l.Region, l.Confidence, string(ev), ts(l.ComputedAt))
	if err != nil {
		return fmt.Errorf("put report location: %w", err)
	}
	return nil
}

// CorrectReportLocation records an analyst's correction of a report's
// location (whether or not one was computed).
func (tx *Tx) CorrectReportLocation(ctx context.Context, l *ReportLocation) error {
	_, err := tx.exec(ctx, `INSERT INTO report_locations (report_id, corrected_country, corrected_region, corrected_by, corrected_at,
		correction_reason) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO UPDATE SET
		corrected_country = excluded.corrected_country, corrected_region = excluded.corrected_region,
		corrected_by = excluded.corrected_by, corrected_at = excluded.corrected_at, correction_reason = excluded.correction_reason`,
		l.ReportID, l.CorrectedCountry, l.CorrectedRegion, l.CorrectedBy, ts(l.CorrectedAt), l.CorrectionReason)
	if err != nil {
		return fmt.Errorf("correct report location: %w", err)
	}
	return nil
}

// ReportLocation returns a report's location.
func (tx *Tx) ReportLocation(ctx context.Context, reportID int64) (*ReportLocation, error) {
	var l ReportLocation
	var ev string
	err := tx.queryRow(ctx, `SELECT report_id, country, region, confidence, evidence, computed_at, corrected_country,
		corrected_region, corrected_by, corrected_at, correction_reason FROM report_locations WHERE report_id = $1`, reportID).Scan(
		&l.ReportID, &l.Country, &l.Region, &l.Confidence, &ev, nullTime{&l.ComputedAt}, &l.CorrectedCountry,
		&l.CorrectedRegion, &l.CorrectedBy, nullTime{&l.CorrectedAt}, &l.CorrectionReason)
	if err != nil {
		return nil, fmt.Errorf("get report location: %w", notFound(err))
	}
	if err := json.Unmarshal([]byte(ev), &l.Evidence); err != nil {
		return nil, fmt.Errorf("decode report location %d: %w", reportID, err)
	}
	return &l, nil
}
