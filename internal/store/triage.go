package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

// Work is a report's place in the analysts' queues (internal/triage).
type Work struct {
	ReportID   int64
	ReceivedAt time.Time
	Source     string
	ESPID      string
	Program    string
	Country    string
	// ComputedPriority is the rule table's answer; Priority is what the
	// queue uses: the override when there is one.
	ComputedPriority string
	Priority         string
	Reasons          string // JSON: the rules that fired
	RuleVersion      int
	EvaluatedAt      time.Time
	OverridePriority string
	OverrideReason   string
	OverrideBy       string
	OverrideAt       time.Time
	Status           string
	StatusReason     string
	Open             bool
	ClaimedBy        string
	ClaimedAt        time.Time
	AssignedBy       string
	SLADueAt         time.Time
	FirstReviewedAt  time.Time
	SLAAlertedAt     time.Time
	// IncidentGroup bundles reports of one incident: "v-…" groups reports
	// whose files are all the same known viral material, "b-<report>" is
	// a batched report. Incidents is how many incidents the report counts
	// for outside a viral group (a batched report: one per file).
	IncidentGroup string
	Incidents     int
	UpdatedAt     time.Time
}

const workColumns = `report_id, received_at, source, esp_id, program, country, computed_priority, priority, priority_rank,
	reasons, rule_version, evaluated_at, override_priority, override_reason, override_by, override_at, status, status_reason,
	open, claimed_by, claimed_at, assigned_by, sla_due_at, first_reviewed_at, sla_alerted_at, incident_group, incidents, updated_at`

// priorityRank orders priorities in the queue; it must agree with
// triage.Level.Rank.
func priorityRank(p string) int {
	switch p {
	case "P1":
		return 1
	case "P2":
		return 2
	case "P3":
		return 3
	case "INFO":
		return 4
	}
	return 5
}

func scanWork(row interface{ Scan(...any) error }, extra ...any) (*Work, error) {
	var w Work
	var rank int
	dest := []any{&w.ReportID, utcTime{&w.ReceivedAt}, &w.Source, &w.ESPID, &w.Program, &w.Country, &w.ComputedPriority,
		&w.Priority, &rank, &w.Reasons, &w.RuleVersion, utcTime{&w.EvaluatedAt}, &w.OverridePriority, &w.OverrideReason,
		&w.OverrideBy, nullTime{&w.OverrideAt}, &w.Status, &w.StatusReason, &w.Open, &w.ClaimedBy, nullTime{&w.ClaimedAt},
		&w.AssignedBy, nullTime{&w.SLADueAt}, nullTime{&w.FirstReviewedAt}, nullTime{&w.SLAAlertedAt}, &w.IncidentGroup,
		&w.Incidents, utcTime{&w.UpdatedAt}}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, notFound(err)
	}
	return &w, nil
}

// PutWork writes a report's work record, creating it the first time.
func (tx *Tx) PutWork(ctx context.Context, w *Work) error {
	_, err := tx.exec(ctx, `INSERT INTO report_work (`+workColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
		ON CONFLICT (report_id) DO UPDATE SET received_at = excluded.received_at, source = excluded.source, esp_id = excluded.esp_id,
		program = excluded.program, country = excluded.country, computed_priority = excluded.computed_priority,
		priority = excluded.priority, priority_rank = excluded.priority_rank, reasons = excluded.reasons,
		rule_version = excluded.rule_version, evaluated_at = excluded.evaluated_at, override_priority = excluded.override_priority,
		override_reason = excluded.override_reason, override_by = excluded.override_by, override_at = excluded.override_at,
		status = excluded.status, status_reason = excluded.status_reason, open = excluded.open, claimed_by = excluded.claimed_by,
		claimed_at = excluded.claimed_at, assigned_by = excluded.assigned_by, sla_due_at = excluded.sla_due_at,
		first_reviewed_at = excluded.first_reviewed_at, sla_alerted_at = excluded.sla_alerted_at,
		incident_group = excluded.incident_group, incidents = excluded.incidents, updated_at = excluded.updated_at`,
		w.ReportID, ts(w.ReceivedAt), w.Source, w.ESPID, w.Program, w.Country, w.ComputedPriority, w.Priority,
		priorityRank(w.Priority), w.Reasons, w.RuleVersion, ts(w.EvaluatedAt), w.OverridePriority, w.OverrideReason,
		w.OverrideBy, ts(w.OverrideAt), w.Status, w.StatusReason, w.Open, w.ClaimedBy, ts(w.ClaimedAt), w.AssignedBy,
		ts(w.SLADueAt), ts(w.FirstReviewedAt), ts(w.SLAAlertedAt), w.IncidentGroup, w.Incidents, ts(w.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put work of report %d: %w", w.ReportID, err)
	}
	return nil
}

// Work returns a report's work record; lock holds it for the transaction.
func (tx *Tx) Work(ctx context.Context, reportID int64, lock bool) (*Work, error) {
	q := `SELECT ` + workColumns + ` FROM report_work WHERE report_id = $1`
	if lock {
		q += tx.d.ForUpdate()
	}
	w, err := scanWork(tx.queryRow(ctx, q, reportID))
	if err != nil {
		return nil, fmt.Errorf("work of report %d: %w", reportID, err)
	}
	return w, nil
}

// QueueFilter selects and pages a queue. Rows come P1 first, then oldest.
type QueueFilter struct {
	Closed    bool // the closed reports instead of the open ones
	Program   string
	Source    string
	ESPID     string
	Country   string
	Priority  string
	ClaimedBy string
	Group     string
	// After is the last row of the previous page.
	After *QueueRow
	Limit int
}

// QueueRow is one row of a queue: the work record and what the queue
// shows of the report.
type QueueRow struct {
	Work
	IncidentType haven.IncidentType
	Escalate     bool
}

// Queue lists work records for a queue page.
func (tx *Tx) Queue(ctx context.Context, f QueueFilter) ([]*QueueRow, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var where []string
	args := []any{!f.Closed}
	where = append(where, "w.open = $1")
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Program != "" {
		add("w.program = $%d", f.Program)
	}
	if f.Source != "" {
		add("w.source = $%d", f.Source)
	}
	if f.ESPID != "" {
		add("w.esp_id = $%d", f.ESPID)
	}
	if f.Country != "" {
		add("w.country = $%d", f.Country)
	}
	if f.Priority != "" {
		add("w.priority_rank = $%d", priorityRank(f.Priority))
	}
	if f.ClaimedBy != "" {
		add("w.claimed_by = $%d", f.ClaimedBy)
	}
	if f.Group != "" {
		add("w.incident_group = $%d", f.Group)
	}
	if a := f.After; a != nil {
		args = append(args, priorityRank(a.Priority), ts(a.ReceivedAt), a.ReportID)
		n := len(args)
		where = append(where, fmt.Sprintf(`(w.priority_rank > $%d OR (w.priority_rank = $%d AND (w.received_at > $%d OR
			(w.received_at = $%d AND w.report_id > $%d))))`, n-2, n-2, n-1, n-1, n))
	}
	args = append(args, f.Limit)
	cols := strings.FieldsFunc(workColumns, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	for i := range cols {
		cols[i] = "w." + cols[i]
	}
	q := `SELECT ` + strings.Join(cols, ", ") + `, r.incident_type, r.escalate FROM report_work w JOIN reports r ON r.id = w.report_id
		WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(` ORDER BY w.priority_rank, w.received_at, w.report_id LIMIT $%d`, len(args))
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	var out []*QueueRow
	for rows.Next() {
		var r QueueRow
		w, err := scanWork(rows, &r.IncidentType, &r.Escalate)
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		r.Work = *w
		out = append(out, &r)
	}
	return out, rows.Err()
}

// QueueCountCap is where QueueCounts stops counting a level: the page
// shows "10,000+" rather than scanning a backlog of hundreds of thousands
// (an exact count over 200,000 open reports took 335 ms on PostgreSQL).
const QueueCountCap = 10_000

// QueueCounts counts the open reports per priority, each up to
// QueueCountCap+1 (more than the cap means "over the cap").
func (tx *Tx) QueueCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for rank, name := range []string{"P1", "P2", "P3", "INFO"} {
		var n int
		err := tx.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM report_work WHERE open = $1 AND priority_rank = $2
			ORDER BY received_at LIMIT $3) c`,
			true, rank+1, QueueCountCap+1).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("queue counts: %w", err)
		}
		out[name] = n
	}
	return out, nil
}

// SLABreaches lists open reports not yet reviewed whose SLA fell due
// before now and that were not alerted yet.
func (tx *Tx) SLABreaches(ctx context.Context, now time.Time, limit int) ([]*Work, error) {
	rows, err := tx.query(ctx, `SELECT `+workColumns+` FROM report_work WHERE open = $1 AND sla_due_at < $2
		AND first_reviewed_at IS NULL AND sla_alerted_at IS NULL ORDER BY sla_due_at LIMIT $3`, true, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("SLA breaches: %w", err)
	}
	defer rows.Close()
	var out []*Work
	for rows.Next() {
		w, err := scanWork(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// OverdueWork lists open reports not yet reviewed whose SLA fell due
// before now, most overdue first: the supervisors' alert list.
func (tx *Tx) OverdueWork(ctx context.Context, now time.Time, limit int) ([]*Work, error) {
	rows, err := tx.query(ctx, `SELECT `+workColumns+` FROM report_work WHERE open = $1 AND sla_due_at < $2
		AND first_reviewed_at IS NULL ORDER BY sla_due_at LIMIT $3`, true, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("overdue work: %w", err)
	}
	defer rows.Close()
	var out []*Work
	for rows.Next() {
		w, err := scanWork(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Note is an analyst's note on a report.
type Note struct {
	ID        string
	ReportID  int64
	Author    string
	WrittenAt time.Time
	Body      string
}

// AddNote records a note.
func (tx *Tx) AddNote(ctx context.Context, n *Note) error {
	_, err := tx.exec(ctx, `INSERT INTO report_notes (id, report_id, author, written_at, body) VALUES ($1, $2, $3, $4, $5)`,
		n.ID, n.ReportID, n.Author, ts(n.WrittenAt), n.Body)
	if err != nil {
		return fmt.Errorf("add note: %w", err)
	}
	return nil
}

// Notes lists a report's notes, oldest first.
func (tx *Tx) Notes(ctx context.Context, reportID int64) ([]*Note, error) {
	rows, err := tx.query(ctx, `SELECT id, report_id, author, written_at, body FROM report_notes WHERE report_id = $1
		ORDER BY written_at, id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	defer rows.Close()
	var out []*Note
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.ReportID, &n.Author, utcTime{&n.WrittenAt}, &n.Body); err != nil {
			return nil, err
		}
		out = append(out, &n)
	}
	return out, rows.Err()
}

// StatusChange is one entry of a report's status history.
type StatusChange struct {
	ID        string
	ReportID  int64
	Status    string
	Reason    string
	ChangedBy string
	ChangedAt time.Time
}

// AddStatusChange records a status change.
func (tx *Tx) AddStatusChange(ctx context.Context, c *StatusChange) error {
	_, err := tx.exec(ctx, `INSERT INTO report_status_history (id, report_id, status, reason, changed_by, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.ReportID, c.Status, c.Reason, c.ChangedBy, ts(c.ChangedAt))
	if err != nil {
		return fmt.Errorf("add status change: %w", err)
	}
	return nil
}

// StatusHistory lists a report's status changes, oldest first.
func (tx *Tx) StatusHistory(ctx context.Context, reportID int64) ([]*StatusChange, error) {
	rows, err := tx.query(ctx, `SELECT id, report_id, status, reason, changed_by, changed_at FROM report_status_history
		WHERE report_id = $1 ORDER BY changed_at, id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	defer rows.Close()
	var out []*StatusChange
	for rows.Next() {
		var c StatusChange
		if err := rows.Scan(&c.ID, &c.ReportID, &c.Status, &c.Reason, &c.ChangedBy, utcTime{&c.ChangedAt}); err != nil {
			return nil, err
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// IncidentGroup returns the ID of the incident group with the key,
// creating it with newID (which carries the kind's prefix, see Work).
func (tx *Tx) IncidentGroup(ctx context.Context, kind, key, newID string, now time.Time) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM incident_groups WHERE group_key = $1`, key).Scan(&id)
	if err == nil {
		return id, nil
	}
	if notFound(err) != ErrNotFound {
		return "", fmt.Errorf("incident group: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO incident_groups (id, kind, group_key, created_at) VALUES ($1, $2, $3, $4)`,
		newID, kind, key, ts(now)); err != nil {
		return "", fmt.Errorf("incident group: %w", err)
	}
	return newID, nil
}

// CountReportsAndIncidents counts reports with a work record and the
// incidents they hold: each incident group once, each other report once.
func (tx *Tx) CountReportsAndIncidents(ctx context.Context) (reports, incidents int, err error) {
	err = tx.queryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT CASE WHEN incident_group LIKE 'v-%' THEN incident_group END)
		+ COALESCE(SUM(CASE WHEN incident_group LIKE 'v-%' THEN 0 ELSE incidents END), 0) FROM report_work`).Scan(&reports, nullInt{&incidents})
	if err != nil {
		return 0, 0, fmt.Errorf("count incidents: %w", err)
	}
	return reports, incidents, nil
}

// nullInt scans a nullable integer as 0.
type nullInt struct{ n *int }

func (n nullInt) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n.n = 0
	case int64:
		*n.n = int(x)
	case float64:
		*n.n = int(x)
	case []byte:
		_, err := fmt.Sscan(string(x), n.n)
		return err
	case string:
		_, err := fmt.Sscan(x, n.n)
		return err
	default:
		return fmt.Errorf("cannot scan %T into an integer", v)
	}
	return nil
}

// RuleVersion is one version of the priority rule table.
type RuleVersion struct {
	Version   int
	Rules     string // JSON
	ChangedBy string
	ChangedAt time.Time
	Reason    string
}

// LatestRules returns the current rule table, or ErrNotFound before the
// first is stored.
func (tx *Tx) LatestRules(ctx context.Context) (*RuleVersion, error) {
	var v RuleVersion
	err := tx.queryRow(ctx, `SELECT version, rules, changed_by, changed_at, reason FROM triage_rule_versions
		ORDER BY version DESC LIMIT 1`).Scan(&v.Version, &v.Rules, &v.ChangedBy, utcTime{&v.ChangedAt}, &v.Reason)
	if err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// AddRules stores a new version of the rule table; its number must be the
// next one (a concurrent change fails with ErrConflict).
func (tx *Tx) AddRules(ctx context.Context, v *RuleVersion) error {
	_, err := tx.exec(ctx, `INSERT INTO triage_rule_versions (version, rules, changed_by, changed_at, reason) VALUES ($1, $2, $3, $4, $5)`,
		v.Version, v.Rules, v.ChangedBy, ts(v.ChangedAt), v.Reason)
	if err != nil {
		return fmt.Errorf("add rules version %d: %w", v.Version, err)
	}
	return nil
}

// RuleVersions lists the versions of the rule table, newest first.
func (tx *Tx) RuleVersions(ctx context.Context, limit int) ([]*RuleVersion, error) {
	rows, err := tx.query(ctx, `SELECT version, rules, changed_by, changed_at, reason FROM triage_rule_versions
		ORDER BY version DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("rule versions: %w", err)
	}
	defer rows.Close()
	var out []*RuleVersion
	for rows.Next() {
		var v RuleVersion
		if err := rows.Scan(&v.Version, &v.Rules, &v.ChangedBy, utcTime{&v.ChangedAt}, &v.Reason); err != nil {
			return nil, err
		}
		out = append(out, &v)
	}
	return out, rows.Err()
}

// OpenWorkIDs lists the reports still in a queue, by report number, after
// the given one.
func (tx *Tx) OpenWorkIDs(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := tx.query(ctx, `SELECT report_id FROM report_work WHERE open = $1 AND report_id > $2 ORDER BY report_id LIMIT $3`,
		true, after, limit)
	if err != nil {
		return nil, fmt.Errorf("open work: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// LinkedReportCount counts the other reports that share with a report an
// identifier of a kind that points at a person or account (not file
// hashes or URLs, which viral material shares by the thousand), looking
// at no more than limit links per identifier.
func (tx *Tx) LinkedReportCount(ctx context.Context, reportID int64, kinds []string, limit int) (int, error) {
	if len(kinds) == 0 {
		return 0, nil
	}
	args := []any{reportID, limit}
	var in strings.Builder
	for i, k := range kinds {
		if i > 0 {
			in.WriteString(", ")
		}
		args = append(args, k)
		fmt.Fprintf(&in, "$%d", len(args))
	}
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(DISTINCT o.report_id) FROM report_entities m
		JOIN entities e ON e.id = m.entity_id AND e.kind IN (`+in.String()+`) AND e.report_count <= $2
		JOIN report_entities o ON o.entity_id = m.entity_id AND o.report_id <> $1
		WHERE m.report_id = $1`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("linked reports of %d: %w", reportID, err)
	}
	return n, nil
}
