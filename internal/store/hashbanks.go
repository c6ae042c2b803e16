package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

const bankColumns = `id, name, source, description, negative, pdq_threshold, enabled, created_at, updated_at`

func scanBank(row interface{ Scan(...any) error }) (*haven.HashBank, error) {
	var b haven.HashBank
	err := row.Scan(&b.ID, &b.Name, &b.Source, &b.Description, &b.Negative, &b.PDQThreshold, &b.Enabled,
		utcTime{&b.CreatedAt}, utcTime{&b.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &b, nil
}

// CreateHashBank inserts a bank. A name in use (ignoring case) gives
// ErrConflict.
func (tx *Tx) CreateHashBank(ctx context.Context, b *haven.HashBank) error {
	_, err := tx.exec(ctx, `INSERT INTO hash_banks (id, name, name_key, source, description, negative, pdq_threshold,
		enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		b.ID, b.Name, strings.ToLower(b.Name), b.Source, b.Description, b.Negative, b.PDQThreshold, b.Enabled,
		ts(b.CreatedAt), ts(b.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create hash bank: %w", err)
	}
	return nil
}

// UpdateHashBank writes a bank's settings. Its entries' change sequence
// moves too, so that followers rebuild their view of the bank.
func (tx *Tx) UpdateHashBank(ctx context.Context, b *haven.HashBank) error {
	err := mustAffect(tx.exec(ctx, `UPDATE hash_banks SET name = $2, name_key = $3, source = $4, description = $5,
		negative = $6, pdq_threshold = $7, enabled = $8, updated_at = $9 WHERE id = $1`,
		b.ID, b.Name, strings.ToLower(b.Name), b.Source, b.Description, b.Negative, b.PDQThreshold, b.Enabled, ts(b.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update hash bank: %w", err)
	}
	return nil
}

// HashBank returns a bank by ID.
func (tx *Tx) HashBank(ctx context.Context, id string) (*haven.HashBank, error) {
	b, err := scanBank(tx.queryRow(ctx, `SELECT `+bankColumns+` FROM hash_banks WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get hash bank: %w", err)
	}
	return b, nil
}

// HashBanks lists every bank by name.
func (tx *Tx) HashBanks(ctx context.Context) ([]*haven.HashBank, error) {
	rows, err := tx.query(ctx, `SELECT `+bankColumns+` FROM hash_banks ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list hash banks: %w", err)
	}
	defer rows.Close()
	var out []*haven.HashBank
	for rows.Next() {
		b, err := scanBank(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// nextCounter takes the next value of a counter row. The row stays locked
// until the transaction ends, which is what makes change sequence numbers
// commit in order: a follower that has seen change N has seen every
// change below N.
func (tx *Tx) nextCounter(ctx context.Context, name string) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next %s: %w", name, notFound(err))
	}
	return n, nil
}

const entryColumns = `id, bank_id, algo, value, class_scheme, class_code, series_id, viral, potential_meme, provenance,
	external_id, added_by, added_at, enabled, removed_at, change_seq`

func scanEntry(row interface{ Scan(...any) error }) (*haven.HashEntry, error) {
	var e haven.HashEntry
	var algo string
	err := row.Scan(&e.ID, &e.BankID, &algo, &e.Value, &e.Classification.Scheme, &e.Classification.Code, &e.SeriesID,
		&e.Viral, &e.PotentialMeme, &e.Provenance, &e.ExternalID, &e.AddedBy, utcTime{&e.AddedAt}, &e.Enabled,
		nullTime{&e.RemovedAt}, &e.ChangeSeq)
	if err != nil {
		return nil, notFound(err)
	}
	e.Algo = haven.HashAlgo(algo)
	return &e, nil
}

// PutHashEntry inserts an entry, or — when the bank already holds the same
// algorithm and value — updates that entry's attributes and revives it if
// it was removed. It sets e.ID and e.ChangeSeq and reports whether the
// entry is new.
func (tx *Tx) PutHashEntry(ctx context.Context, e *haven.HashEntry) (bool, error) {
	seq, err := tx.nextCounter(ctx, "hash_change")
	if err != nil {
		return false, err
	}
	e.ChangeSeq = seq
	var id int64
	err = tx.queryRow(ctx, `SELECT id FROM hash_entries WHERE bank_id = $1 AND algo = $2 AND value = $3`+tx.d.ForUpdate(),
		e.BankID, string(e.Algo), e.Value).Scan(&id)
	switch {
	case err == nil: // the bank holds this value already
		e.ID = id
		err = mustAffect(tx.exec(ctx, `UPDATE hash_entries SET class_scheme = $2, class_code = $3, series_id = $4, viral = $5,
			potential_meme = $6, provenance = $7, external_id = $8, enabled = $9, removed_at = NULL, change_seq = $10 WHERE id = $1`,
			id, e.Classification.Scheme, e.Classification.Code, e.SeriesID, e.Viral, e.PotentialMeme, e.Provenance,
			e.ExternalID, e.Enabled, seq))
		if err != nil {
			return false, fmt.Errorf("update hash entry: %w", err)
		}
		e.RemovedAt = time.Time{}
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("find hash entry: %w", err)
	}
	if e.ID, err = tx.nextCounter(ctx, "hash_entry"); err != nil {
		return false, err
	}
	_, err = tx.exec(ctx, `INSERT INTO hash_entries (`+entryColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		e.ID, e.BankID, string(e.Algo), e.Value, e.Classification.Scheme, e.Classification.Code, e.SeriesID, e.Viral,
		e.PotentialMeme, e.Provenance, e.ExternalID, e.AddedBy, ts(e.AddedAt), e.Enabled, ts(e.RemovedAt), seq)
	if err != nil {
		return false, fmt.Errorf("insert hash entry: %w", err)
	}
	return true, nil
}

// reserveCounter advances a counter by n and returns the first of the n
// values reserved.
func (tx *Tx) reserveCounter(ctx context.Context, name string, n int) (int64, error) {
	var last int64
	err := tx.queryRow(ctx, `UPDATE counters SET value = value + $2 WHERE name = $1 RETURNING value`, name, n).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserve %d %s: %w", n, name, notFound(err))
	}
	return last - int64(n) + 1, nil
}

// putChunk bounds the rows of one multi-row statement (16 parameters a
// row stays well under both engines' limits).
const putChunk = 200

// PutHashEntries is PutHashEntry for many entries of one bank at once, as
// imports write them: one multi-row statement per putChunk new entries
// instead of four statements per entry. Entries are applied in order (a
// value given twice ends as the later one); each gets its ID and change
// sequence. It returns how many were new. New entries take IDs reserved in
// advance, so an entry that turns out to exist leaves a gap in the IDs.
func (tx *Tx) PutHashEntries(ctx context.Context, bankID string, entries []*haven.HashEntry) (added int, err error) {
	if len(entries) == 0 {
		return 0, nil
	}
	seq, err := tx.reserveCounter(ctx, "hash_change", len(entries))
	if err != nil {
		return 0, err
	}
	key := func(e *haven.HashEntry) string { return string(e.Algo) + ":" + string(e.Value) }
	var first []*haven.HashEntry
	firstOf := map[string]*haven.HashEntry{}
	for i, e := range entries {
		e.BankID, e.ChangeSeq, e.RemovedAt = bankID, seq+int64(i), time.Time{}
		if _, ok := firstOf[key(e)]; !ok {
			firstOf[key(e)] = e
			first = append(first, e)
		}
	}
	id, err := tx.reserveCounter(ctx, "hash_entry", len(first))
	if err != nil {
		return 0, err
	}
	for i, e := range first {
		e.ID = id + int64(i)
	}
	inserted, err := tx.insertEntries(ctx, first)
	if err != nil {
		return 0, err
	}
	// The others update the existing row (or the one just inserted), in order.
	for _, e := range entries {
		if firstOf[key(e)] == e && inserted[e.ID] {
			continue
		}
		err := tx.queryRow(ctx, `UPDATE hash_entries SET class_scheme = $4, class_code = $5, series_id = $6, viral = $7,
			potential_meme = $8, provenance = $9, external_id = $10, enabled = $11, removed_at = NULL, change_seq = $12
			WHERE bank_id = $1 AND algo = $2 AND value = $3 RETURNING id`,
			bankID, string(e.Algo), e.Value, e.Classification.Scheme, e.Classification.Code, e.SeriesID, e.Viral, e.PotentialMeme,
			e.Provenance, e.ExternalID, e.Enabled, e.ChangeSeq).Scan(&e.ID)
		if err != nil {
			return 0, fmt.Errorf("update hash entry: %w", notFound(err))
		}
	}
	return len(inserted), nil
}

// insertEntries inserts the entries whose value the bank does not hold
// yet and returns the IDs of those inserted. Full chunks of putChunk rows
// go through one prepared statement, parsed once; the rest through a
// prepared single-row one.
func (tx *Tx) insertEntries(ctx context.Context, entries []*haven.HashEntry) (map[int64]bool, error) {
	const cols = 16
	// SQLite binds anonymous "?" parameters by position; naming 3,200
	// parameters "$n" costs a search per name, quadratic in the count.
	anon := tx.d.Name() == "sqlite"
	stmt := func(rows int) (*sql.Stmt, error) {
		var q strings.Builder
		q.WriteString(`INSERT INTO hash_entries (` + entryColumns + `) VALUES `)
		for r := range rows {
			if r > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for c := range cols {
				if c > 0 {
					q.WriteString(", ")
				}
				if anon {
					q.WriteString("?")
				} else {
					fmt.Fprintf(&q, "$%d", r*cols+c+1)
				}
			}
			q.WriteString(")")
		}
		q.WriteString(` ON CONFLICT (bank_id, algo, value) DO NOTHING RETURNING id`)
		return tx.tx.PrepareContext(ctx, q.String())
	}
	inserted := make(map[int64]bool, len(entries))
	args := make([]any, 0, cols*putChunk)
	run := func(st *sql.Stmt, chunk []*haven.HashEntry) error {
		args = args[:0]
		for _, e := range chunk {
			args = append(args, e.ID, e.BankID, string(e.Algo), e.Value, e.Classification.Scheme, e.Classification.Code, e.SeriesID,
				e.Viral, e.PotentialMeme, e.Provenance, e.ExternalID, e.AddedBy, ts(e.AddedAt), e.Enabled, ts(e.RemovedAt), e.ChangeSeq)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert hash entries: %w", tx.conflict(err))
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			inserted[id] = true
		}
		return rows.Err()
	}
	full := len(entries) / putChunk * putChunk
	if full > 0 {
		st, err := stmt(putChunk)
		if err != nil {
			return nil, fmt.Errorf("insert hash entries: %w", err)
		}
		defer st.Close()
		for chunk := range slices.Chunk(entries[:full], putChunk) {
			if err := run(st, chunk); err != nil {
				return nil, err
			}
		}
	}
	if full < len(entries) {
		st, err := stmt(1)
		if err != nil {
			return nil, fmt.Errorf("insert hash entry: %w", err)
		}
		defer st.Close()
		for _, e := range entries[full:] {
			if err := run(st, []*haven.HashEntry{e}); err != nil {
				return nil, err
			}
		}
	}
	return inserted, nil
}

// SetHashEntryState enables, disables or removes an entry, moving it in
// the change sequence.
func (tx *Tx) SetHashEntryState(ctx context.Context, id int64, enabled bool, removedAt time.Time) (int64, error) {
	seq, err := tx.nextCounter(ctx, "hash_change")
	if err != nil {
		return 0, err
	}
	err = mustAffect(tx.exec(ctx, `UPDATE hash_entries SET enabled = $2, removed_at = $3, change_seq = $4 WHERE id = $1`,
		id, enabled, ts(removedAt), seq))
	if err != nil {
		return 0, fmt.Errorf("set hash entry state: %w", err)
	}
	return seq, nil
}

// HashEntry returns an entry by ID.
func (tx *Tx) HashEntry(ctx context.Context, id int64) (*haven.HashEntry, error) {
	e, err := scanEntry(tx.queryRow(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get hash entry: %w", err)
	}
	return e, nil
}

// HashEntriesByExternalID finds the entries a supplier's identifier
// names in a bank.
func (tx *Tx) HashEntriesByExternalID(ctx context.Context, bankID, externalID string) ([]*haven.HashEntry, error) {
	return tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE bank_id = $1 AND external_id = $2 ORDER BY id`, bankID, externalID)
}

// HashEntriesByValue lists the entries (live or not) of every bank with
// this algorithm and value.
func (tx *Tx) HashEntriesByValue(ctx context.Context, algo haven.HashAlgo, value []byte) ([]*haven.HashEntry, error) {
	return tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE algo = $1 AND value = $2 ORDER BY id`, string(algo), value)
}

// HashEntriesChangedSince returns up to limit entries whose change
// sequence is above seq, in change order: the follow feed of the match
// index.
func (tx *Tx) HashEntriesChangedSince(ctx context.Context, seq int64, limit int) ([]*haven.HashEntry, error) {
	return tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE change_seq > $1 ORDER BY change_seq LIMIT $2`, seq, limit)
}

// HashEntriesOfBank lists a bank's entries by ID, after an ID, at most
// limit.
func (tx *Tx) HashEntriesOfBank(ctx context.Context, bankID string, afterID int64, limit int) ([]*haven.HashEntry, error) {
	return tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE bank_id = $1 AND id > $2 ORDER BY id LIMIT $3`, bankID, afterID, limit)
}

// HashChangeSeq returns the last change sequence number.
func (tx *Tx) HashChangeSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := tx.queryRow(ctx, `SELECT value FROM counters WHERE name = 'hash_change'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("hash change sequence: %w", notFound(err))
	}
	return n, nil
}

// CountHashEntries returns the number of live entries of a bank ("" for
// all banks).
func (tx *Tx) CountHashEntries(ctx context.Context, bankID string) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM hash_entries WHERE ($1 = '' OR bank_id = $1) AND enabled AND removed_at IS NULL`, bankID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count hash entries: %w", err)
	}
	return n, nil
}

func (tx *Tx) hashEntries(ctx context.Context, q string, args ...any) ([]*haven.HashEntry, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list hash entries: %w", err)
	}
	defer rows.Close()
	var out []*haven.HashEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddFileMatch records a match on a report file; a repeated match of the
// same file and entry updates the distance.
func (tx *Tx) AddFileMatch(ctx context.Context, m *haven.FileMatch) error {
	qp, tp := permille(m.QueryShare), permille(m.TargetShare)
	res, err := tx.exec(ctx, `UPDATE file_matches SET distance = $3, matched_at = $4, query_permille = $5, target_permille = $6
		WHERE file_id = $1 AND entry_id = $2`, m.FileID, m.EntryID, m.Distance, ts(m.At), qp, tp)
	if err != nil {
		return fmt.Errorf("add file match: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = tx.exec(ctx, `INSERT INTO file_matches (report_id, file_id, entry_id, algo, distance, matched_at, needs_confirmation,
		query_permille, target_permille) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.ReportID, m.FileID, m.EntryID, string(m.Algo), m.Distance, ts(m.At), m.NeedsConfirmation, qp, tp)
	if err != nil {
		return fmt.Errorf("add file match: %w", err)
	}
	return nil
}

const fileMatchColumns = `report_id, file_id, entry_id, algo, distance, matched_at, needs_confirmation, confirmed_by, confirmed_at,
	query_permille, target_permille`

// permille stores a share (0 to 1) in thousandths.
func permille(share float64) int { return int(math.Round(min(max(share, 0), 1) * 1000)) }

func (tx *Tx) fileMatches(ctx context.Context, q string, args ...any) ([]*haven.FileMatch, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list file matches: %w", err)
	}
	defer rows.Close()
	var out []*haven.FileMatch
	for rows.Next() {
		var m haven.FileMatch
		var algo string
		var qp, tp int
		if err := rows.Scan(&m.ReportID, &m.FileID, &m.EntryID, &algo, &m.Distance, utcTime{&m.At}, &m.NeedsConfirmation,
			&m.ConfirmedBy, nullTime{&m.ConfirmedAt}, &qp, &tp); err != nil {
			return nil, err
		}
		m.QueryShare, m.TargetShare = float64(qp)/1000, float64(tp)/1000
		m.Algo = haven.HashAlgo(algo)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// FileMatches lists the matches of a report's files.
func (tx *Tx) FileMatches(ctx context.Context, reportID int64) ([]*haven.FileMatch, error) {
	return tx.fileMatches(ctx, `SELECT `+fileMatchColumns+` FROM file_matches WHERE report_id = $1 ORDER BY file_id, distance, entry_id`, reportID)
}

// ConfirmFileMatch records that a person confirmed a perceptual match.
func (tx *Tx) ConfirmFileMatch(ctx context.Context, fileID string, entryID int64, by string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE file_matches SET confirmed_by = $3, confirmed_at = $4 WHERE file_id = $1 AND entry_id = $2`,
		fileID, entryID, by, ts(at)))
	if err != nil {
		return fmt.Errorf("confirm file match: %w", err)
	}
	return nil
}

const importColumns = `id, bank_id, format, item_id, filename, status, records, added, updated, removed, rejected, problems,
	created_by, created_at, started_at, finished_at`

func scanImport(row interface{ Scan(...any) error }) (*haven.BankImport, error) {
	var im haven.BankImport
	var status string
	err := row.Scan(&im.ID, &im.BankID, &im.Format, &im.ItemID, &im.Filename, &status, &im.Records, &im.Added, &im.Updated,
		&im.Removed, &im.Rejected, &im.Problems, &im.CreatedBy, utcTime{&im.CreatedAt}, nullTime{&im.StartedAt}, nullTime{&im.FinishedAt})
	if err != nil {
		return nil, notFound(err)
	}
	im.Status = haven.ImportStatus(status)
	return &im, nil
}

// CreateBankImport inserts an import.
func (tx *Tx) CreateBankImport(ctx context.Context, im *haven.BankImport) error {
	_, err := tx.exec(ctx, `INSERT INTO bank_imports (`+importColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		im.ID, im.BankID, im.Format, im.ItemID, im.Filename, string(im.Status), im.Records, im.Added, im.Updated, im.Removed,
		im.Rejected, im.Problems, im.CreatedBy, ts(im.CreatedAt), ts(im.StartedAt), ts(im.FinishedAt))
	if err != nil {
		return fmt.Errorf("create bank import: %w", err)
	}
	return nil
}

// UpdateBankImport writes an import's progress.
func (tx *Tx) UpdateBankImport(ctx context.Context, im *haven.BankImport) error {
	err := mustAffect(tx.exec(ctx, `UPDATE bank_imports SET status = $2, records = $3, added = $4, updated = $5, removed = $6,
		rejected = $7, problems = $8, started_at = $9, finished_at = $10 WHERE id = $1`,
		im.ID, string(im.Status), im.Records, im.Added, im.Updated, im.Removed, im.Rejected, im.Problems, ts(im.StartedAt), ts(im.FinishedAt)))
	if err != nil {
		return fmt.Errorf("update bank import: %w", err)
	}
	return nil
}

// BankImport returns an import by ID.
func (tx *Tx) BankImport(ctx context.Context, id string) (*haven.BankImport, error) {
	im, err := scanImport(tx.queryRow(ctx, `SELECT `+importColumns+` FROM bank_imports WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get bank import: %w", err)
	}
	return im, nil
}

// BankImports lists a bank's imports, newest first.
func (tx *Tx) BankImports(ctx context.Context, bankID string, limit int) ([]*haven.BankImport, error) {
	rows, err := tx.query(ctx, `SELECT `+importColumns+` FROM bank_imports WHERE bank_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, bankID, limit)
	if err != nil {
		return nil, fmt.Errorf("list bank imports: %w", err)
	}
	defer rows.Close()
	var out []*haven.BankImport
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// MatchesOfEntry lists where an entry matched report files, newest first.
func (tx *Tx) MatchesOfEntry(ctx context.Context, entryID int64, limit int) ([]*haven.FileMatch, error) {
	return tx.fileMatches(ctx, `SELECT `+fileMatchColumns+` FROM file_matches WHERE entry_id = $1 ORDER BY matched_at DESC LIMIT $2`, entryID, limit)
}

// ReportFilesByDigest lists report files with this MD5 or SHA-256.
func (tx *Tx) ReportFilesByDigest(ctx context.Context, algo haven.HashAlgo, digest []byte, limit int) ([]*haven.ReportFile, error) {
	col := ""
	switch algo {
	case haven.AlgoMD5:
		col = "md5"
	case haven.AlgoSHA256:
		col = "sha256"
	case haven.AlgoSHA1:
		col = "sha1"
	default:
		return nil, nil
	}
	rows, err := tx.query(ctx, `SELECT `+fileColumns+` FROM report_files WHERE `+col+` = $1 ORDER BY uploaded_at DESC LIMIT $2`, digest, limit)
	if err != nil {
		return nil, fmt.Errorf("list report files by digest: %w", err)
	}
	defer rows.Close()
	var out []*haven.ReportFile
	for rows.Next() {
		f, err := scanReportFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
