package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/store"
)

// Source is the deployment to back up.
type Source struct {
	// Engine is "sqlite" or "postgres".
	Engine string
	// SQLitePath is the database file (sqlite).
	SQLitePath string
	// PostgresDSN is the postgres:// URL (postgres).
	PostgresDSN string
	// Store is the open store of the deployment: it lists the evidence
	// items and the tombstones, and on PostgreSQL holds the snapshot that
	// pg_dump reads.
	Store *store.Store
	// Backend holds the evidence blobs.
	Backend evidence.Backend
	// Master wraps the backup's data key.
	Master interface {
		evidence.KeyWrapper
		Fingerprint() string
	}
	// Clock gives the backup's times (nil: the system clock).
	Clock haven.Clock
	// Log receives progress (nil: discarded). It never receives
	// identifying values.
	Log *slog.Logger
}

// Summary describes a finished backup.
type Summary struct {
	Dir        string
	ID         string
	Engine     string
	Database   int64 // plaintext bytes of the snapshot
	Tables     int
	Rows       int64
	Blobs      int
	BlobBytes  int64
	Tombstones int
	Missing    int
	Took       time.Duration
}

// Create writes a backup of src into dir, which must not exist or be
// empty. The database snapshot is taken first; the evidence of every item
// live in the store afterwards is then copied (a superset of the
// snapshot's items: blobs are immutable), and the tombstones are read last,
// so an item shredded while the backup ran is shredded again at restore.
func Create(ctx context.Context, src Source, dir string) (_ *Summary, err error) {
	start := time.Now()
	clock := src.Clock
	if clock == nil {
		clock = haven.SystemClock{}
	}
	log := src.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			// A half-made backup must not be mistaken for a good one.
			os.Remove(filepath.Join(dir, HeaderFile))
		}
	}()
	id := haven.NewID()
	sa, wrapped, err := newDataKey(src.Master, id)
	if err != nil {
		return nil, err
	}
	m := &Manifest{ID: id, CreatedAt: clock.Now().UTC(), Engine: src.Engine}

	// 1. The database snapshot, encrypted as it is produced.
	w, err := encryptFile(sa, filepath.Join(dir, DatabaseFile), partAD(id, DatabaseFile))
	if err != nil {
		return nil, fmt.Errorf("backup database: %w", err)
	}
	sum := &summer{h: sha256.New()}
	out := io.MultiWriter(w, sum)
	switch src.Engine {
	case "sqlite":
		m.Tables, err = snapshotSQLite(ctx, src.SQLitePath, out)
	case "postgres":
		m.Tables, err = snapshotPostgres(ctx, src.Store.DB(), src.PostgresDSN, out)
	default:
		err = fmt.Errorf("unknown engine %q", src.Engine)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup database: %w", err)
	}
	m.Database = FileSum{Size: sum.n, SHA256: sum.h.Sum(nil)}
	log.Info("backup: database snapshot taken", "engine", src.Engine, "bytes", sum.n, "tables", len(m.Tables))

	// 2. The evidence blobs, as the ciphertext they are.
	if err := os.Mkdir(filepath.Join(dir, EvidenceDir), 0o700); err != nil {
		return nil, fmt.Errorf("backup evidence: %w", err)
	}
	var items []*haven.EvidenceItem
	if err := src.Store.View(ctx, func(tx *store.Tx) error {
		return tx.EvidenceItems(ctx, "", 1<<62, func(it *haven.EvidenceItem) error {
			items = append(items, it)
			return nil
		})
	}); err != nil {
		return nil, fmt.Errorf("backup evidence: list items: %w", err)
	}
	for _, it := range items {
		if it.Shredded() {
			continue
		}
		b, err := copyBlob(ctx, src.Backend, it.ID, filepath.Join(dir, EvidenceDir, it.ID))
		if haven.IsKind(err, haven.KindNotFound) {
			// Shredded meanwhile (the tombstone below covers it), or lost.
			m.Missing = append(m.Missing, it.ID)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("backup evidence item %s: %w", it.ID, err)
		}
		m.Blobs = append(m.Blobs, b)
	}

	// 3. The tombstones, read last.
	if err := src.Store.View(ctx, func(tx *store.Tx) error {
		return tx.EvidenceItems(ctx, "", 1<<62, func(it *haven.EvidenceItem) error {
			if it.Shredded() {
				m.Tombstones = append(m.Tombstones, Tombstone{ItemID: it.ID, ShreddedAt: it.ShreddedAt.UTC(), Reason: it.ShredReason})
			}
			return nil
		})
	}); err != nil {
		return nil, fmt.Errorf("backup tombstones: %w", err)
	}
	shredded := map[string]bool{}
	for _, t := range m.Tombstones {
		shredded[t.ItemID] = true
	}
	var lost []string
	for _, id := range m.Missing {
		if !shredded[id] {
			lost = append(lost, id)
		}
	}
	m.Missing = lost
	if len(lost) > 0 {
		log.Error("backup: live evidence items have no blob in the evidence store; the backup records them as missing",
			"count", len(lost))
	}
	m.Finished = clock.Now().UTC()

	// 4. The manifest, then the header that makes the folder a backup.
	mw, err := encryptFile(sa, filepath.Join(dir, ManifestFile), partAD(id, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	if err := json.NewEncoder(mw).Encode(m); err != nil {
		mw.Close()
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	h := Header{Format: Format, ID: id, CreatedAt: m.CreatedAt, Engine: src.Engine,
		MasterKey: src.Master.Fingerprint(), WrappedKey: wrapped}
	hb, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, HeaderFile), append(hb, '\n')); err != nil {
		return nil, fmt.Errorf("backup header: %w", err)
	}
	s := &Summary{Dir: dir, ID: id, Engine: src.Engine, Database: m.Database.Size, Tables: len(m.Tables),
		Blobs: len(m.Blobs), Tombstones: len(m.Tombstones), Missing: len(m.Missing), Took: time.Since(start)}
	for _, n := range m.Tables {
		s.Rows += n
	}
	for _, b := range m.Blobs {
		s.BlobBytes += b.Size
	}
	return s, nil
}

// prepareDir creates dir (0700) or accepts it if it is an empty folder.
func prepareDir(dir string) error {
	if dir == "" {
		return errors.New("backup: no destination folder given")
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("backup: %s is not empty; give a new folder for each backup", dir)
	}
	return os.Chmod(dir, 0o700)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summer counts and hashes what passes through it.
type summer struct {
	h hash.Hash
	n int64
}

func (s *summer) Write(p []byte) (int, error) {
	s.h.Write(p)
	s.n += int64(len(p))
	return len(p), nil
}

// copyBlob copies the ciphertext of key into path and returns its size and
// SHA-256.
func copyBlob(ctx context.Context, b evidence.Backend, key, path string) (Blob, error) {
	if err := evidence.CheckKey(key); err != nil {
		return Blob{}, err
	}
	rc, err := b.Get(ctx, key)
	if err != nil {
		return Blob{}, err
	}
	defer rc.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Blob{}, err
	}
	sum := &summer{h: sha256.New()}
	if _, err := io.Copy(io.MultiWriter(f, sum), rc); err != nil {
		f.Close()
		os.Remove(path)
		return Blob{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return Blob{}, err
	}
	if err := f.Close(); err != nil {
		return Blob{}, err
	}
	return Blob{Key: key, Size: sum.n, SHA256: sum.h.Sum(nil)}, nil
}

// snapshotSQLite copies the database at path into memory with SQLite's
// online backup API (one step, so one consistent read transaction, while
// the server keeps writing through WAL), counts its rows and writes its
// image to w. The image never touches the disk in clear.
func snapshotSQLite(ctx context.Context, path string, w io.Writer) (map[string]int64, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite database: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var image []byte
	err = conn.Raw(func(dc any) error {
		src, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver has no online backup API")
		}
		bk, err := src.NewBackup(":memory:")
		if err != nil {
			return err
		}
		for more := true; more; {
			if more, err = bk.Step(-1); err != nil {
				bk.Finish()
				return err
			}
		}
		dst, err := bk.Commit()
		if err != nil {
			return err
		}
		defer dst.Close()
		ser, ok := dst.(interface{ Serialize() ([]byte, error) })
		if !ok {
			return errors.New("the SQLite driver cannot serialise a database")
		}
		image, err = ser.Serialize()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite online backup: %w", err)
	}
	if len(image) < 100 || string(image[:16]) != "SQLite format 3\x00" {
		return nil, errors.New("sqlite online backup: the snapshot is not a database image")
	}
	// The copy keeps the source's WAL marks (file format versions 2 at
	// offsets 18 and 19); an image to be loaded or restored as a single
	// file must say "rollback journal" (1). Haven switches the restored
	// file back to WAL when it opens it.
	image[18], image[19] = 1, 1
	counts, err := countSQLiteImage(ctx, image)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(image); err != nil {
		return nil, err
	}
	return counts, nil
}

// countSQLiteImage loads a database image into memory and counts its rows.
func countSQLiteImage(ctx context.Context, image []byte) (map[string]int64, error) {
	mem, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	mem.SetMaxOpenConns(1)
	conn, err := mem.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		d, ok := dc.(interface{ Deserialize([]byte) error })
		if !ok {
			return errors.New("the SQLite driver cannot load a database image")
		}
		return d.Deserialize(image)
	}); err != nil {
		return nil, fmt.Errorf("load snapshot: %w", err)
	}
	return countRows(ctx, conn, "sqlite")
}

// querier is what countRows needs: a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// countRows counts the rows of every table.
//
// NOTE: this is the one place outside internal/store that runs SQL. It is
// schema-agnostic on purpose, like a migration tool: it lists the tables
// from the catalogue and counts each, so a table added by a later issue is
// covered without anyone remembering to add it here.
func countRows(ctx context.Context, q querier, engine string) (map[string]int64, error) {
	list := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if engine == "postgres" {
		list = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := q.QueryContext(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(names)
	counts := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("count %s: %w", n, err)
		}
		counts[n] = c
	}
	return counts, nil
}

// snapshotPostgres exports a snapshot from a repeatable-read transaction,
// counts every table in it and runs pg_dump (custom format) on the same
// snapshot, piping its output to w.
func snapshotPostgres(ctx context.Context, db *sql.DB, dsn string, w io.Writer) (map[string]int64, error) {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		return nil, errors.New("pg_dump is not installed (Debian: apt-get install postgresql-client, of a version at least the server's)")
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var snap string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	counts, err := countRows(ctx, tx, "postgres")
	if err != nil {
		return nil, err
	}
	env, err := pgEnv(dsn)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-owner", "--no-privileges", "--snapshot="+snap)
	cmd.Env = env
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return counts, tx.Commit()
}

// pgEnv turns a postgres:// URL into libpq environment variables, so the
// password never appears on a command line (visible in ps).
func pgEnv(dsn string) ([]string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errors.New("the PostgreSQL URL cannot be parsed")
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LC_ALL=C"}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PGHOST", u.Hostname())
	add("PGPORT", u.Port())
	add("PGUSER", u.User.Username())
	if p, ok := u.User.Password(); ok {
		add("PGPASSWORD", p)
	}
	add("PGDATABASE", strings.TrimPrefix(u.Path, "/"))
	qv := u.Query()
	for param, name := range map[string]string{"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
		"sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"} {
		add(name, qv.Get(param))
	}
	return env, nil
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
