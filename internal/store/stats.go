package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Statistics (issue 9): daily rollups in a generic (metric, day,
// dimension, value) table, rebuilt from the records by a job, so that
// dashboards, public releases and research exports never scan the
// records per request; the public data releases; researchers' exports.

// rollupSource is how one metric is computed from the records: a query
// returning (day, dimension, value) rows for the records whose time
// column lies in [$1, $2). {day:col} is replaced by the engine's
// expression for the UTC day of col; {minutes:a,b} by the whole minutes
// from a to b.
type rollupSource struct {
	Metric string
	Query  string
}

// rollupSources lists every rollup metric. Add a metric here (and a
// chart or release section that reads it) to cover a new program.
var rollupSources = []rollupSource{
	{"reports.source", `SELECT {day:w.received_at} AS day, w.source AS dimension, COUNT(*) AS value FROM report_work w
		WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"reports.incident_type", `SELECT {day:w.received_at} AS day, r.incident_type AS dimension, COUNT(*) AS value
		FROM report_work w JOIN reports r ON r.id = w.report_id
		WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"reports.priority", `SELECT {day:w.received_at} AS day, w.priority AS dimension, COUNT(*) AS value FROM report_work w
		WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"reports.esp", `SELECT {day:w.received_at} AS day, COALESCE(NULLIF(u.display_name, ''), u.login, w.esp_id) AS dimension,
		COUNT(*) AS value FROM report_work w LEFT JOIN users u ON u.id = w.esp_id
		WHERE w.esp_id <> '' AND w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"reports.country", `SELECT {day:w.received_at} AS day, CASE WHEN w.country = '' THEN 'unknown' ELSE w.country END AS dimension,
		COUNT(*) AS value FROM report_work w WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"reports.referral", `SELECT {day:w.received_at} AS day,
		CASE WHEN EXISTS (SELECT 1 FROM referrals f WHERE f.report_id = w.report_id AND f.revoked_at IS NULL)
		THEN 'referred' ELSE 'informational' END AS dimension, COUNT(*) AS value FROM report_work w
		WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"incidents.kind", `SELECT {day:w.received_at} AS day, 'separate' AS dimension, SUM(w.incidents) AS value FROM report_work w
		WHERE w.incident_group NOT LIKE 'v-%' AND w.received_at >= $1 AND w.received_at < $2 GROUP BY 1
		UNION ALL
		SELECT {day:g.first_at} AS day, 'viral group' AS dimension, COUNT(*) AS value FROM
		(SELECT MIN(received_at) AS first_at FROM report_work WHERE incident_group LIKE 'v-%' GROUP BY incident_group) g
		WHERE g.first_at >= $1 AND g.first_at < $2 GROUP BY 1`},
	{"review.first", `SELECT {day:w.received_at} AS day, w.priority || '|' || CASE WHEN w.first_reviewed_at IS NULL THEN 'pending'
		WHEN w.sla_due_at IS NULL OR w.first_reviewed_at <= w.sla_due_at THEN 'within' ELSE 'late' END AS dimension,
		COUNT(*) AS value FROM report_work w WHERE w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"review.minutes", `SELECT {day:w.received_at} AS day, w.priority AS dimension,
		SUM({minutes:w.received_at,w.first_reviewed_at}) AS value FROM report_work w
		WHERE w.first_reviewed_at IS NOT NULL AND w.received_at >= $1 AND w.received_at < $2 GROUP BY 1, 2`},
	{"referrals.agency", `SELECT {day:f.referred_at} AS day, a.name AS dimension, COUNT(*) AS value
		FROM referrals f JOIN agencies a ON a.id = f.agency_id
		WHERE f.referred_at >= $1 AND f.referred_at < $2 GROUP BY 1, 2`},
	{"outcomes.agency", `SELECT {day:o.recorded_at} AS day, a.name || ' | ' || o.code AS dimension, COUNT(*) AS value
		FROM referral_outcomes o JOIN referrals f ON f.id = o.referral_id JOIN agencies a ON a.id = f.agency_id
		WHERE o.recorded_at >= $1 AND o.recorded_at < $2 GROUP BY 1, 2`},
	{"matches.bank", `SELECT {day:m.matched_at} AS day, b.name AS dimension, COUNT(*) AS value
		FROM file_matches m JOIN hash_entries e ON e.id = m.entry_id JOIN hash_banks b ON b.id = e.bank_id
		WHERE m.matched_at >= $1 AND m.matched_at < $2 GROUP BY 1, 2`},
	{"idrequests.status", `SELECT {day:created_at} AS day, status AS dimension, COUNT(*) AS value FROM id_requests
		WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`},
	{"selfreports.cases", `SELECT {day:created_at} AS day, 'cases' AS dimension, COUNT(*) AS value FROM self_reports
		WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`},
	{"locate.status", `SELECT {day:created_at} AS day, status AS dimension, COUNT(*) AS value FROM locate_requests
		WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`},
	{"cases.type_status", `SELECT {day:opened_at} AS day, case_type || ' | ' || status AS dimension, COUNT(*) AS value FROM cases
		WHERE opened_at >= $1 AND opened_at < $2 GROUP BY 1, 2`},
	{"support.matches", `SELECT {day:approved_at} AS day, status AS dimension, COUNT(*) AS value FROM support_matches
		WHERE approved_at >= $1 AND approved_at < $2 GROUP BY 1, 2`},
}

// RollupMetrics lists the metrics the rollup job maintains.
func RollupMetrics() []string {
	out := make([]string, len(rollupSources))
	for i, r := range rollupSources {
		out[i] = r.Metric
	}
	return out
}

// RollupDayFormat is the layout of a rollup day.
const RollupDayFormat = "2006-01-02"

// rollupSQL expands the engine-specific parts of a rollup query.
func (tx *Tx) rollupSQL(q string) string {
	pg := tx.d.Name() == "postgres"
	for {
		i := strings.Index(q, "{")
		if i < 0 {
			return q
		}
		j := strings.Index(q[i:], "}") + i
		kind, arg, _ := strings.Cut(q[i+1:j], ":")
		var rep string
		switch kind {
		case "day":
			if pg {
				rep = "to_char(" + arg + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
			} else {
				rep = "substr(" + arg + ", 1, 10)"
			}
		case "minutes":
			a, b, _ := strings.Cut(arg, ",")
			if pg {
				rep = "CAST(ROUND(EXTRACT(EPOCH FROM (" + b + " - " + a + ")) / 60) AS BIGINT)"
			} else {
				rep = "CAST(ROUND((julianday(" + b + ") - julianday(" + a + ")) * 1440) AS INTEGER)"
			}
		}
		q = q[:i] + rep + q[j+1:]
	}
}

// RebuildRollup recomputes one metric for the records whose time lies in
// [from, to): it deletes the metric's rows for those days and inserts
// them again from the records. A zero from rebuilds the metric entirely.
// from and to should be midnights (UTC) so that whole days are replaced.
func (tx *Tx) RebuildRollup(ctx context.Context, metric string, from, to time.Time, now time.Time) (int64, error) {
	var src *rollupSource
	for i := range rollupSources {
		if rollupSources[i].Metric == metric {
			src = &rollupSources[i]
		}
	}
	if src == nil {
		return 0, fmt.Errorf("rebuild rollup: unknown metric %q", metric)
	}
	full := from.IsZero()
	if full {
		from = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := tx.exec(ctx, `DELETE FROM stat_rollups WHERE metric = $1`, metric); err != nil {
			return 0, fmt.Errorf("rebuild rollup %s: %w", metric, err)
		}
	} else if _, err := tx.exec(ctx, `DELETE FROM stat_rollups WHERE metric = $1 AND day >= $2 AND day < $3`,
		metric, from.UTC().Format(RollupDayFormat), to.UTC().Format(RollupDayFormat)); err != nil {
		return 0, fmt.Errorf("rebuild rollup %s: %w", metric, err)
	}
	// The metric name is one of the constants above, never outside input.
	res, err := tx.exec(ctx, `INSERT INTO stat_rollups (metric, day, dimension, value)
		SELECT '`+src.Metric+`', q.day, q.dimension, q.value FROM (`+tx.rollupSQL(src.Query)+`) q WHERE q.value <> 0`,
		ts(from), ts(to))
	if err != nil {
		return 0, fmt.Errorf("rebuild rollup %s: %w", metric, err)
	}
	n, _ := res.RowsAffected()
	var fullAt any
	if full {
		fullAt = ts(now)
	}
	fromDay := ""
	if !full {
		fromDay = from.UTC().Format(RollupDayFormat)
	}
	if _, err := tx.exec(ctx, `INSERT INTO stat_rollup_state (metric, built_at, full_at, from_day, error) VALUES ($1, $2, $3, $4, '')
		ON CONFLICT (metric) DO UPDATE SET built_at = excluded.built_at, from_day = excluded.from_day, error = '',
		full_at = COALESCE(excluded.full_at, stat_rollup_state.full_at)`, metric, ts(now), fullAt, fromDay); err != nil {
		return 0, fmt.Errorf("rebuild rollup %s: %w", metric, err)
	}
	return n, nil
}

// AnalyzeRollups refreshes the planner's statistics of the rollup table
// after a full rebuild, so that range reads keep using its key.
func (tx *Tx) AnalyzeRollups(ctx context.Context) error {
	if _, err := tx.exec(ctx, `ANALYZE stat_rollups`); err != nil {
		return fmt.Errorf("analyze rollups: %w", err)
	}
	return nil
}

// RollupState is when a metric was last rebuilt.
type RollupState struct {
	Metric  string
	BuiltAt time.Time
	FullAt  time.Time
	FromDay string
	Error   string
}

// RecordRollupError notes that rebuilding a metric failed (in its own
// transaction, after the failed one rolled back).
func (tx *Tx) RecordRollupError(ctx context.Context, metric, msg string, now time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO stat_rollup_state (metric, built_at, error) VALUES ($1, $2, $3)
		ON CONFLICT (metric) DO UPDATE SET error = excluded.error`, metric, ts(now), msg)
	return err
}

// RollupStates returns the state of every metric built at least once.
func (tx *Tx) RollupStates(ctx context.Context) (map[string]*RollupState, error) {
	rows, err := tx.query(ctx, `SELECT metric, built_at, full_at, from_day, error FROM stat_rollup_state`)
	if err != nil {
		return nil, fmt.Errorf("rollup states: %w", err)
	}
	defer rows.Close()
	out := map[string]*RollupState{}
	for rows.Next() {
		var s RollupState
		if err := rows.Scan(&s.Metric, utcTime{&s.BuiltAt}, nullTime{&s.FullAt}, &s.FromDay, &s.Error); err != nil {
			return nil, err
		}
		out[s.Metric] = &s
	}
	return out, rows.Err()
}

// RollupCount is a dimension's total over a range of days.
type RollupCount struct {
	Dimension string
	Value     int64
}

// RollupTotals sums a metric by dimension over the days [fromDay, toDay]
// (inclusive, YYYY-MM-DD), the largest first.
func (tx *Tx) RollupTotals(ctx context.Context, metric, fromDay, toDay string) ([]RollupCount, error) {
	rows, err := tx.query(ctx, `SELECT dimension, SUM(value) FROM stat_rollups WHERE metric = $1 AND day >= $2 AND day <= $3
		GROUP BY dimension`, metric, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("rollup totals %s: %w", metric, err)
	}
	defer rows.Close()
	var out []RollupCount
	for rows.Next() {
		var c RollupCount
		if err := rows.Scan(&c.Dimension, &c.Value); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Dimension < out[j].Dimension
	})
	return out, rows.Err()
}

// RollupCell is one stored rollup row.
type RollupCell struct {
	Day       string
	Dimension string
	Value     int64
}

// RollupCells returns a metric's rows over [fromDay, toDay], by day and
// dimension.
func (tx *Tx) RollupCells(ctx context.Context, metric, fromDay, toDay string) ([]RollupCell, error) {
	rows, err := tx.query(ctx, `SELECT day, dimension, value FROM stat_rollups WHERE metric = $1 AND day >= $2 AND day <= $3
		ORDER BY day, dimension`, metric, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("rollup cells %s: %w", metric, err)
	}
	defer rows.Close()
	var out []RollupCell
	for rows.Next() {
		var c RollupCell
		if err := rows.Scan(&c.Day, &c.Dimension, &c.Value); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RollupDays sums a metric over its dimensions, by day, over [fromDay,
// toDay].
func (tx *Tx) RollupDays(ctx context.Context, metric, fromDay, toDay string) ([]RollupCell, error) {
	rows, err := tx.query(ctx, `SELECT day, SUM(value) FROM stat_rollups WHERE metric = $1 AND day >= $2 AND day <= $3
		GROUP BY day ORDER BY day`, metric, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("rollup days %s: %w", metric, err)
	}
	defer rows.Close()
	var out []RollupCell
	for rows.Next() {
		var c RollupCell
		if err := rows.Scan(&c.Day, &c.Value); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RollupMetricsWithData reports which metrics have at least one row.
func (tx *Tx) RollupMetricsWithData(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	for _, m := range RollupMetrics() {
		var one int
		err := tx.queryRow(ctx, `SELECT 1 FROM stat_rollups WHERE metric = $1 LIMIT 1`, m).Scan(&one)
		if err == nil {
			out[m] = true
		} else if notFound(err) != ErrNotFound {
			return nil, fmt.Errorf("rollup metrics: %w", err)
		}
	}
	return out, nil
}

// StatRelease is a public data release, draft or published.
type StatRelease struct {
	ID          string
	Period      string // 2025, 2025-H1, 2025-H2
	PeriodStart string // first day
	PeriodEnd   string // last day
	Version     int    // 0 while a draft
	Threshold   int
	Definitions string
	Tables      string // JSON (internal/stats)
	Status      string // draft, published
	CreatedBy   string
	CreatedAt   time.Time
	PublishedBy string
	PublishedAt time.Time
}

const releaseColumns = `id, period, period_start, period_end, version, threshold, definitions, tables, status, created_by,
	created_at, published_by, published_at`

func scanRelease(row interface{ Scan(...any) error }) (*StatRelease, error) {
	var r StatRelease
	err := row.Scan(&r.ID, &r.Period, &r.PeriodStart, &r.PeriodEnd, &r.Version, &r.Threshold, &r.Definitions, &r.Tables,
		&r.Status, &r.CreatedBy, utcTime{&r.CreatedAt}, &r.PublishedBy, nullTime{&r.PublishedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateStatRelease stores a new release.
func (tx *Tx) CreateStatRelease(ctx context.Context, r *StatRelease) error {
	_, err := tx.exec(ctx, `INSERT INTO stat_releases (`+releaseColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.Period, r.PeriodStart, r.PeriodEnd, r.Version, r.Threshold, r.Definitions, r.Tables, r.Status, r.CreatedBy,
		ts(r.CreatedAt), r.PublishedBy, ts(r.PublishedAt))
	if err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	return nil
}

// UpdateStatRelease saves a release's figures, status and publication.
func (tx *Tx) UpdateStatRelease(ctx context.Context, r *StatRelease) error {
	err := mustAffect(tx.exec(ctx, `UPDATE stat_releases SET version = $2, threshold = $3, definitions = $4, tables = $5,
		status = $6, published_by = $7, published_at = $8 WHERE id = $1`,
		r.ID, r.Version, r.Threshold, r.Definitions, r.Tables, r.Status, r.PublishedBy, ts(r.PublishedAt)))
	if err != nil {
		return fmt.Errorf("update release: %w", err)
	}
	return nil
}

// StatRelease returns a release.
func (tx *Tx) StatRelease(ctx context.Context, id string) (*StatRelease, error) {
	return scanRelease(tx.queryRow(ctx, `SELECT `+releaseColumns+` FROM stat_releases WHERE id = $1`, id))
}

// StatReleases lists releases with a status ("" for all), the newest
// period first, then the newest version.
func (tx *Tx) StatReleases(ctx context.Context, status string) ([]*StatRelease, error) {
	rows, err := tx.query(ctx, `SELECT `+releaseColumns+` FROM stat_releases WHERE $1 = '' OR status = $1
		ORDER BY period_start DESC, period_end DESC, version DESC, created_at DESC`, status)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []*StatRelease
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// StatExport is a researcher's aggregate export.
type StatExport struct {
	ID          string
	RequestedBy string
	Table       string
	FromDay     string
	ToDay       string
	Threshold   int
	Status      string // queued, done, failed
	Rows        int
	Body        []byte // sealed CSV
	Error       string
	CreatedAt   time.Time
	FinishedAt  time.Time
	ExpiresAt   time.Time
}

const exportColumns = `id, requested_by, table_name, from_day, to_day, threshold, status, rows_written, body, error, created_at,
	finished_at, expires_at`

func scanExport(row interface{ Scan(...any) error }) (*StatExport, error) {
	var e StatExport
	err := row.Scan(&e.ID, &e.RequestedBy, &e.Table, &e.FromDay, &e.ToDay, &e.Threshold, &e.Status, &e.Rows, &e.Body, &e.Error,
		utcTime{&e.CreatedAt}, nullTime{&e.FinishedAt}, nullTime{&e.ExpiresAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &e, nil
}

// CreateStatExport stores a queued export.
func (tx *Tx) CreateStatExport(ctx context.Context, e *StatExport) error {
	_, err := tx.exec(ctx, `INSERT INTO stat_exports (`+exportColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		e.ID, e.RequestedBy, e.Table, e.FromDay, e.ToDay, e.Threshold, e.Status, e.Rows, e.Body, e.Error, ts(e.CreatedAt),
		ts(e.FinishedAt), ts(e.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create export: %w", err)
	}
	return nil
}

// FinishStatExport records an export's result.
func (tx *Tx) FinishStatExport(ctx context.Context, e *StatExport) error {
	err := mustAffect(tx.exec(ctx, `UPDATE stat_exports SET status = $2, rows_written = $3, body = $4, error = $5,
		finished_at = $6, expires_at = $7 WHERE id = $1`, e.ID, e.Status, e.Rows, e.Body, e.Error, ts(e.FinishedAt), ts(e.ExpiresAt)))
	if err != nil {
		return fmt.Errorf("finish export: %w", err)
	}
	return nil
}

// StatExport returns an export.
func (tx *Tx) StatExport(ctx context.Context, id string) (*StatExport, error) {
	return scanExport(tx.queryRow(ctx, `SELECT `+exportColumns+` FROM stat_exports WHERE id = $1`, id))
}

// StatExports lists a researcher's exports, the newest first.
func (tx *Tx) StatExports(ctx context.Context, requestedBy string, limit int) ([]*StatExport, error) {
	rows, err := tx.query(ctx, `SELECT `+exportColumns+` FROM stat_exports WHERE requested_by = $1 ORDER BY created_at DESC, id DESC
		LIMIT $2`, requestedBy, limit)
	if err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	defer rows.Close()
	var out []*StatExport
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
