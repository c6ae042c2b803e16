package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/store"
)

// Backup is an opened backup: its header checked, its key unwrapped and
// its manifest decrypted.
type Backup struct {
	Dir      string
	Header   *Header
	Manifest *Manifest
	sa       tink.StreamingAEAD
}

// Open reads the backup in dir with the master key w.
func Open(dir string, w evidence.KeyWrapper) (*Backup, error) {
	h, err := readHeader(dir)
	if err != nil {
		return nil, err
	}
	sa, err := openDataKey(w, h.ID, h.WrappedKey)
	if err != nil {
		return nil, err
	}
	r, err := decryptFile(sa, filepath.Join(dir, ManifestFile), partAD(h.ID, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("open backup manifest: %w", err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxManifest))
	if err != nil {
		return nil, fmt.Errorf("open backup manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("open backup manifest: %w", err)
	}
	if m.ID != h.ID || m.Engine != h.Engine {
		return nil, &haven.Error{Kind: haven.KindIntegrity, Message: "the backup header does not match its manifest"}
	}
	return &Backup{Dir: dir, Header: h, Manifest: &m, sa: sa}, nil
}

// Target is the empty location a backup is restored into.
type Target struct {
	Engine      string
	SQLitePath  string
	PostgresDSN string
}

// RestoreDatabase writes the database snapshot into the empty target and
// returns the row counts that differ from the manifest's (none on a good
// restore). On SQLite the file must not exist; on PostgreSQL the database
// must exist and have no tables.
func (b *Backup) RestoreDatabase(ctx context.Context, t Target) ([]string, error) {
	if t.Engine != b.Header.Engine {
		return nil, fmt.Errorf("the backup is of a %s database; the target is %s (restore into the same engine)", b.Header.Engine, t.Engine)
	}
	r, err := decryptFile(b.sa, filepath.Join(b.Dir, DatabaseFile), partAD(b.Header.ID, DatabaseFile))
	if err != nil {
		return nil, fmt.Errorf("restore database: %w", err)
	}
	defer r.Close()
	sum := &summer{h: sha256.New()}
	src := io.TeeReader(r, sum)
	var db *sql.DB
	switch t.Engine {
	case "sqlite":
		if err := restoreSQLite(src, t.SQLitePath); err != nil {
			return nil, fmt.Errorf("restore database: %w", err)
		}
		q := url.Values{}
		q.Add("_pragma", "query_only(1)")
		db, err = sql.Open("sqlite", "file:"+t.SQLitePath+"?"+q.Encode())
	case "postgres":
		if err := restorePostgres(ctx, src, t.PostgresDSN); err != nil {
			return nil, fmt.Errorf("restore database: %w", err)
		}
		db, err = sql.Open("pgx", t.PostgresDSN)
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if sum.n != b.Manifest.Database.Size || !bytes.Equal(sum.h.Sum(nil), b.Manifest.Database.SHA256) {
		return nil, &haven.Error{Kind: haven.KindIntegrity, Message: "the restored database differs from the one backed up"}
	}
	counts, err := countRows(ctx, db, t.Engine)
	if err != nil {
		return nil, fmt.Errorf("count restored rows: %w", err)
	}
	return diffCounts(b.Manifest.Tables, counts), nil
}

func diffCounts(want, got map[string]int64) []string {
	var out []string
	for name, n := range want {
		if g, ok := got[name]; !ok {
			out = append(out, fmt.Sprintf("table %s is missing (backed up with %d rows)", name, n))
		} else if g != n {
			out = append(out, fmt.Sprintf("table %s has %d rows; the backup recorded %d", name, g, n))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			out = append(out, fmt.Sprintf("table %s is not in the backup", name))
		}
	}
	sort.Strings(out)
	return out
}

// restoreSQLite writes the image to path, which must not exist, through a
// temporary file in the same folder renamed into place once complete and
// authenticated.
func restoreSQLite(r io.Reader, path string) (err error) {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: restore only into an empty location", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".restore-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Link(f.Name(), path); err != nil {
		return err
	}
	return os.Remove(f.Name())
}

// restorePostgres feeds the archive to pg_restore in one transaction, so a
// failure (including an authentication failure halfway) leaves nothing.
func restorePostgres(ctx context.Context, r io.Reader, dsn string) error {
	pgRestore, err := exec.LookPath("pg_restore")
	if err != nil {
		return errors.New("pg_restore is not installed (Debian: apt-get install postgresql-client)")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	counts, err := countRows(ctx, db, "postgres")
	db.Close()
	if err != nil {
		return fmt.Errorf("inspect the target database: %w", err)
	}
	if len(counts) > 0 {
		return errors.New("the target PostgreSQL database has tables: restore only into an empty database (createdb a new one)")
	}
	env, err := pgEnv(dsn)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, pgRestore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
		"--dbname="+envDB(env))
	cmd.Env = env
	var readErr error
	cmd.Stdin = &errReader{r: r, err: &readErr}
	var stderr strings.Builder
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	err = cmd.Run()
	if readErr != nil {
		return readErr // the archive failed authentication: pg_restore rolled back
	}
	if err != nil {
		return fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// envDB returns the PGDATABASE of env (pg_restore needs --dbname to
// restore into a database rather than print SQL).
func envDB(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PGDATABASE="); ok {
			return v
		}
	}
	return ""
}

// errReader remembers the first error of r other than io.EOF.
type errReader struct {
	r   io.Reader
	err *error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && *e.err == nil {
		*e.err = err
	}
	return n, err
}

// Problem is one thing the restore or the drill found wrong.
type Problem struct {
	ItemID string // the evidence item concerned, if any
	What   string
}

func (p Problem) String() string {
	if p.ItemID != "" {
		return "evidence item " + p.ItemID + ": " + p.What
	}
	return p.What
}

// RestoreEvidence copies into backend the blobs of the items that are live
// in the restored store s. Each blob is checked against the SHA-256 the
// manifest recorded before it is stored; an altered or absent blob is
// reported (and not stored). Blobs of items created after the snapshot are
// skipped. It returns how many blobs it stored.
func (b *Backup) RestoreEvidence(ctx context.Context, s *store.Store, backend evidence.Backend) (int, []Problem, error) {
	live := map[string]bool{}
	err := s.View(ctx, func(tx *store.Tx) error {
		return tx.EvidenceItems(ctx, "", 1<<62, func(it *haven.EvidenceItem) error {
			if !it.Shredded() {
				live[it.ID] = true
			}
			return nil
		})
	})
	if err != nil {
		return 0, nil, fmt.Errorf("restore evidence: %w", err)
	}
	var problems []Problem
	inBackup := map[string]bool{}
	n := 0
	for _, bl := range b.Manifest.Blobs {
		inBackup[bl.Key] = true
		if !live[bl.Key] {
			continue
		}
		if err := evidence.CheckKey(bl.Key); err != nil {
			problems = append(problems, Problem{What: "the manifest names an invalid blob key"})
			continue
		}
		data, err := readBlob(filepath.Join(b.Dir, EvidenceDir, bl.Key), bl)
		if err != nil {
			problems = append(problems, Problem{ItemID: bl.Key, What: err.Error()})
			continue
		}
		if err := backend.Put(ctx, bl.Key, data); err != nil {
			data.Close()
			return n, problems, fmt.Errorf("restore evidence item %s: %w", bl.Key, err)
		}
		data.Close()
		n++
	}
	for _, id := range b.Manifest.Missing {
		problems = append(problems, Problem{ItemID: id, What: "its blob was already missing from the evidence store when the backup was made"})
	}
	var absent []string
	for id := range live {
		if !inBackup[id] && !contains(b.Manifest.Missing, id) && !tombstoned(b.Manifest.Tombstones, id) {
			absent = append(absent, id)
		}
	}
	sort.Strings(absent)
	for _, id := range absent {
		problems = append(problems, Problem{ItemID: id, What: "the backup holds no blob for this live item"})
	}
	return n, problems, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tombstoned(ts []Tombstone, id string) bool {
	for _, t := range ts {
		if t.ItemID == id {
			return true
		}
	}
	return false
}

// readBlob checks the backup copy of a blob against the manifest and
// returns a reader of it. The file is hashed before anything is stored,
// so a blob altered in the backup never reaches the evidence store.
func readBlob(path string, bl Blob) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("its blob is missing from the backup folder")
		}
		return nil, err
	}
	sum := &summer{h: sha256.New()}
	if _, err := io.Copy(sum, f); err != nil {
		f.Close()
		return nil, err
	}
	if sum.n != bl.Size || !bytes.Equal(sum.h.Sum(nil), bl.SHA256) {
		f.Close()
		return nil, errors.New("its blob in the backup was altered (size or SHA-256 differs from the manifest)")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ApplyTombstones shreds, in the restored store, every item that the
// tombstones say was shredded and that the restored database still holds
// live (it was shredded after the snapshot, or after this backup when the
// tombstones come from a newer one). Each is audited as evidence.shred by
// the system actor "restore". It returns how many it applied.
func ApplyTombstones(ctx context.Context, tombs []Tombstone, s *store.Store, l *audit.Log, v *evidence.Vault, clock haven.Clock) (int, error) {
	if clock == nil {
		clock = haven.SystemClock{}
	}
	n := 0
	for _, t := range tombs {
		applied := false
		err := s.InTx(ctx, func(tx *store.Tx) error {
			it, err := tx.EvidenceItem(ctx, t.ItemID)
			if haven.IsKind(err, haven.KindNotFound) {
				return nil // created after this backup's snapshot
			}
			if err != nil || it.Shredded() {
				return err
			}
			reason := "tombstone applied at restore"
			if t.Reason != "" {
				reason += ": " + t.Reason
			}
			if len(reason) > 500 {
				reason = reason[:500]
			}
			if err := tx.ShredEvidenceItem(ctx, t.ItemID, t.ShreddedAt, reason); err != nil {
				return err
			}
			applied = true
			return l.Record(ctx, tx, haven.SystemActor("restore"), audit.Entry{Type: "evidence.shred", ObjectType: "evidence",
				ObjectID: t.ItemID, Details: map[string]string{"reason": reason}})
		})
		if err != nil {
			return n, fmt.Errorf("apply tombstone of %s: %w", t.ItemID, err)
		}
		if applied {
			n++
		}
		// Whether applied now or already shredded, no blob may remain.
		if err := v.Delete(ctx, t.ItemID); err != nil {
			return n, fmt.Errorf("apply tombstone of %s: %w", t.ItemID, err)
		}
	}
	return n, nil
}
