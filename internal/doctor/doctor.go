// Package doctor checks a Haven deployment's configuration without
// changing anything and reports each problem in plain words: settings that
// do not parse, a master key that is missing, unreadable or not the one
// the data was made with, a database that cannot be reached or has
// migrations pending, an evidence folder or bucket that is missing or
// does not hold the deployment's blobs, loose permissions, and a public
// address that would send session cookies without TLS.
//
// Unlike every other command, doctor never creates anything: not the
// master key, not the database, not the bucket.
package doctor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/pressly/goose/v3"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/sqlite"
)

// Severity grades a finding.
type Severity int

// The severities, mildest first.
const (
	OK Severity = iota
	Warn
	Fail
)

func (s Severity) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Finding is one result of a check.
type Finding struct {
	Severity Severity
	Area     string // "configuration", "master key", "database", "evidence", "public address"…
	Message  string
}

// Report is the outcome of Run.
type Report struct {
	Findings []Finding
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.count(Fail) > 0 }

// Problems counts failures and warnings.
func (r *Report) Problems() (fails, warns int) { return r.count(Fail), r.count(Warn) }

func (r *Report) count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

func (r *Report) add(s Severity, area, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Severity: s, Area: area, Message: fmt.Sprintf(format, args...)})
}

// Timeout bounds each network check.
const Timeout = 5 * time.Second

// Run checks the deployment cfg describes.
func Run(ctx context.Context, cfg config.Config) *Report {
	r := &Report{}
	if err := cfg.Validate(); err != nil {
		for _, line := range strings.Split(strings.TrimSpace(err.Error()), "\n") {
			r.add(Fail, "configuration", "%s", line)
		}
	} else {
		r.add(OK, "configuration", "every setting parses")
	}
	checkDataDir(r, cfg)
	master, noKeyFile := checkMasterKey(r, cfg)
	backend := checkEvidence(ctx, r, cfg)
	fresh := checkDatabase(ctx, r, cfg, master, backend)
	if noKeyFile {
		if fresh {
			r.add(Warn, "master key", "%s does not exist yet: the first start generates one there; in production supply your own "+
				"(HAVEN_MASTER_KEY_FILE) and back it up apart from the data", cfg.MasterKeyFile)
		} else {
			r.add(Fail, "master key", "the master key file %s does not exist: serve would generate a NEW key, which cannot open "+
				"evidence or secrets made with another; supply the deployment's key (HAVEN_MASTER_KEY_FILE or HAVEN_MASTER_KEY)", cfg.MasterKeyFile)
		}
	}
	checkPublicAddress(r, cfg)
	return r
}

// looseMode reports a directory or file others can read or enter.
func looseMode(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o077 != 0 }

func checkDataDir(r *Report, cfg config.Config) {
	if cfg.DataDir == "" {
		return
	}
	fi, err := os.Stat(cfg.DataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.add(Warn, "data folder", "%s does not exist yet; the first start creates it (mode 700)", cfg.DataDir)
	case err != nil:
		r.add(Fail, "data folder", "%s cannot be read: %v", cfg.DataDir, err)
	case !fi.IsDir():
		r.add(Fail, "data folder", "%s is not a folder", cfg.DataDir)
	case looseMode(fi):
		// The files in it are checked one by one below; a loose folder
		// still lets others see names and sizes, and anything a later
		// release adds.
		r.add(Warn, "data folder", "%s has mode %#o: other users can read or enter it; run chmod 700 %s", cfg.DataDir, fi.Mode().Perm(), cfg.DataDir)
	default:
		r.add(OK, "data folder", "%s exists and only its owner can use it", cfg.DataDir)
	}
}

// checkMasterKey loads the key. A missing key file is judged once the
// database is known (noFile): expected on a new deployment, fatal on one
// with data.
func checkMasterKey(r *Report, cfg config.Config) (_ *keys.Master, noFile bool) {
	if cfg.MasterKey != "" {
		m, err := keys.Parse([]byte(cfg.MasterKey))
		if err != nil {
			r.add(Fail, "master key", "HAVEN_MASTER_KEY is not a usable key: %s", haven.ErrorMessageOrError(err))
			return nil, false
		}
		r.add(OK, "master key", "HAVEN_MASTER_KEY parses (keys %s)", m.Fingerprint())
		return m, false
	}
	if cfg.MasterKeyFile == "" {
		return nil, false
	}
	m, err := keys.LoadFile(cfg.MasterKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, true
	case err != nil:
		r.add(Fail, "master key", "%s", haven.ErrorMessageOrError(err))
		return nil, false
	}
	r.add(OK, "master key", "%s loads (keys %s) and only its owner can read it", cfg.MasterKeyFile, m.Fingerprint())
	return m, false
}

func checkEvidence(ctx context.Context, r *Report, cfg config.Config) any {
	ev, err := config.ParseEvidenceURL(cfg.EvidenceURL)
	if err != nil {
		return nil // reported by Validate
	}
	if ev.Backend == "file" {
		fi, err := os.Stat(ev.Dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.add(Warn, "evidence", "the evidence folder %s does not exist yet; the first start creates it", ev.Dir)
			return nil
		case err != nil:
			r.add(Fail, "evidence", "the evidence folder %s cannot be read: %v", ev.Dir, err)
			return nil
		case !fi.IsDir():
			r.add(Fail, "evidence", "the evidence location %s is not a folder", ev.Dir)
			return nil
		case looseMode(fi):
			r.add(Fail, "evidence", "the evidence folder %s has mode %#o: other users can read or enter it; run chmod 700 %s", ev.Dir, fi.Mode().Perm(), ev.Dir)
		}
		b, err := evidence.NewLocal(ev.Dir)
		if err == nil {
			err = b.Ping(ctx)
		}
		if err != nil {
			r.add(Fail, "evidence", "the evidence folder %s is not writable by this user: %s", ev.Dir, haven.ErrorMessageOrError(err))
			return nil
		}
		r.add(OK, "evidence", "the evidence folder %s is writable", ev.Dir)
		return b
	}
	if cfg.S3.Endpoint == "" {
		return nil // reported by Validate
	}
	client, err := minio.New(cfg.S3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.S3.AccessKey, cfg.S3.SecretKey, ""),
		Secure: !cfg.S3.Insecure, Region: cfg.S3.Region, MaxRetries: 1})
	if err != nil {
		r.add(Fail, "evidence", "the S3 endpoint %q is not usable: %v", cfg.S3.Endpoint, err)
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	ok, err := client.BucketExists(cctx, ev.Bucket)
	if err != nil {
		var er minio.ErrorResponse
		switch {
		case errors.As(err, &er) && (er.Code == "AccessDenied" || er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch"):
			r.add(Fail, "evidence", "the S3 endpoint %s refuses the credentials (%s): check HAVEN_S3_ACCESS_KEY and HAVEN_S3_SECRET_KEY", cfg.S3.Endpoint, er.Code)
		default:
			r.add(Fail, "evidence", "the S3 endpoint %s cannot be reached: %v (check HAVEN_S3_ENDPOINT, the network and HAVEN_S3_INSECURE)", cfg.S3.Endpoint, err)
		}
		return nil
	}
	if !ok {
		r.add(Fail, "evidence", "the evidence bucket %q does not exist on %s: check HAVEN_EVIDENCE_URL (a new deployment creates it at first start "+
			"if its credentials allow; an existing one whose bucket is gone has lost its evidence)", ev.Bucket, cfg.S3.Endpoint)
		return nil
	}
	r.add(OK, "evidence", "the bucket %q exists on %s and the credentials work", ev.Bucket, cfg.S3.Endpoint)
	if cfg.S3.Insecure && !loopback(hostOf(cfg.S3.Endpoint)) {
		r.add(Warn, "evidence", "HAVEN_S3_INSECURE sends the (encrypted) evidence and the S3 credentials over plain HTTP to %s; use TLS", cfg.S3.Endpoint)
	}
	return &bucketProbe{client: client, bucket: ev.Bucket, prefix: prefixOf(ev.Prefix)}
}

func prefixOf(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// bucketProbe is the read-only part of an S3 backend doctor needs.
type bucketProbe struct {
	client         *minio.Client
	bucket, prefix string
}

func (b *bucketProbe) has(ctx context.Context, key string) (bool, error) {
	_, err := b.client.StatObject(ctx, b.bucket, b.prefix+key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && (er.Code == "NoSuchKey" || er.StatusCode == 404) {
		return false, nil
	}
	return false, err
}

// checkDatabase checks the database and, with it, the master key and the
// evidence store's content. fresh reports a database known to hold no
// secrets yet (a new deployment).
func checkDatabase(ctx context.Context, r *Report, cfg config.Config, master *keys.Master, backend any) (fresh bool) {
	dbc, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return false // reported by Validate
	}
	var db *sql.DB
	var migrations fs.FS
	var dialect goose.Dialect
	var d store.Dialect
	var where string
	switch dbc.Driver {
	case "sqlite":
		where = "the SQLite database " + dbc.Path
		fi, err := os.Stat(dbc.Path)
		if errors.Is(err, fs.ErrNotExist) {
			r.add(Warn, "database", "%s does not exist yet; the first start creates it", dbc.Path)
			return true
		}
		if err != nil {
			r.add(Fail, "database", "%s cannot be read: %v", dbc.Path, err)
			return
		}
		if looseMode(fi) {
			r.add(Fail, "database", "%s has mode %#o: other users can read it; run chmod 600 %s", dbc.Path, fi.Mode().Perm(), dbc.Path)
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(5000)")
		q.Add("_pragma", "query_only(1)")
		db, err = sql.Open("sqlite", "file:"+dbc.Path+"?"+q.Encode())
		if err != nil {
			r.add(Fail, "database", "%s cannot be opened: %v", where, err)
			return
		}
		migrations, dialect, d = sqlite.Migrations(), goose.DialectSQLite3, sqlite.Dialect{}
	case "postgres":
		where = "the PostgreSQL database " + describe(dbc.DSN)
		db, err = sql.Open("pgx", dbc.DSN)
		if err != nil {
			r.add(Fail, "database", "%s cannot be opened: %v", where, err)
			return
		}
		migrations, dialect, d = postgres.Migrations(), goose.DialectPostgres, postgres.Dialect{}
		if _, err := exec.LookPath("pg_dump"); err != nil {
			r.add(Warn, "database", "pg_dump is not installed: `haven backup` needs it (Debian: postgresql-client)")
		}
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	pctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		r.add(Fail, "database", "%s cannot be reached: %s", where, plainDBError(err))
		return
	}
	r.add(OK, "database", "%s answers", where)

	p, err := goose.NewProvider(dialect, db, migrations, goose.WithDisableGlobalRegistry(true), goose.WithTableName("haven_schema_version"))
	if err != nil {
		r.add(Fail, "database", "cannot read the migrations: %v", err)
		return
	}
	current, target, err := p.GetVersions(pctx)
	switch {
	case err != nil && current <= 0:
		r.add(Warn, "database", "%s has no Haven schema yet; the first start applies all %d migrations", where, len(p.ListSources()))
		return true
	case err != nil:
		r.add(Fail, "database", "cannot read the schema version: %v", err)
		return
	case current > target:
		r.add(Fail, "database", "the schema is at version %d, newer than this binary knows (%d): this binary is older than the one "+
			"that last ran; Haven does not migrate down, so run the newer release", current, target)
	case current < target:
		r.add(Warn, "database", "%d migrations are pending (schema %d, this binary %d): the next start applies them; "+
			"take a backup first (docs/operations.md, Upgrades)", countPending(p, current), current, target)
	default:
		r.add(OK, "database", "the schema is up to date (version %d)", current)
	}

	s := store.New(db, db, d)
	var names []string
	var sample *haven.EvidenceItem
	err = s.View(pctx, func(tx *store.Tx) (err error) {
		if names, err = tx.SecretNames(pctx); err != nil {
			return err
		}
		return tx.EvidenceItems(pctx, "", 1000, func(it *haven.EvidenceItem) error {
			if sample == nil && !it.Shredded() {
				sample = it
			}
			return nil
		})
	})
	if err != nil {
		r.add(Fail, "database", "cannot read the deployment's records: %s", plainDBError(err))
		return
	}
	if len(names) == 0 {
		if master != nil {
			r.add(OK, "master key", "the database holds no secrets yet; the first start wraps new ones with this key")
		}
		return true
	}
	if master == nil {
		return false
	}
	if err := s.View(pctx, func(tx *store.Tx) error { return secret.Check(pctx, tx, master) }); err != nil {
		r.add(Fail, "master key", "WRONG MASTER KEY: it does not open the secrets stored in %s, so it is not the key this deployment "+
			"was made with (or its key was retired too early); nothing would start. Supply the right HAVEN_MASTER_KEY_FILE", where)
		return
	}
	r.add(OK, "master key", "it opens the deployment's %d stored secrets", len(names))
	if sample == nil {
		return
	}
	if _, err := evidence.NewVault(nil, master).Rewrap(sample.ID, sample.WrappedKey); err != nil {
		r.add(Fail, "master key", "it does not unwrap the data key of stored evidence (item %s): evidence would not decrypt", sample.ID)
	}
	// The blob of a recorded item must be in the configured store: a
	// wrong folder or bucket shows here.
	var has bool
	switch b := backend.(type) {
	case *bucketProbe:
		has, err = b.has(pctx, sample.ID)
	case evidence.Backend:
		var rc interface{ Close() error }
		rc, err = b.Get(pctx, sample.ID)
		if err == nil {
			rc.Close()
			has = true
		} else if haven.IsKind(err, haven.KindNotFound) {
			err = nil
		}
	default:
		return
	}
	switch {
	case err != nil:
		r.add(Fail, "evidence", "cannot read a stored blob: %v", err)
	case !has:
		r.add(Fail, "evidence", "the evidence store does not hold the blob of item %s that the database records: "+
			"HAVEN_EVIDENCE_URL probably points at the wrong folder or bucket", sample.ID)
	default:
		r.add(OK, "evidence", "the evidence store holds the blobs the database records (sampled)")
	}
	return false
}

func countPending(p *goose.Provider, current int64) int {
	n := 0
	for _, s := range p.ListSources() {
		if s.Version > current {
			n++
		}
	}
	return n
}

// plainDBError shortens driver errors without quoting connection strings.
func plainDBError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused (is PostgreSQL running there, and is HAVEN_DATABASE_URL's host:port right?)"
	case strings.Contains(msg, "no such host"):
		return "the host name does not resolve"
	case strings.Contains(msg, "password authentication failed"):
		return "the user name or password is wrong"
	case strings.Contains(msg, "does not exist"):
		return "the database does not exist (createdb it first)"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return fmt.Sprintf("no answer within %s (firewall, wrong host?)", Timeout)
	}
	return msg
}

// describe shows a database URL without its password.
func describe(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Host + u.Path
}

func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkPublicAddress(r *Report, cfg config.Config) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" {
		return // reported by Validate
	}
	local := loopback(u.Hostname())
	switch {
	case u.Scheme == "https":
		r.add(OK, "public address", "HAVEN_BASE_URL %s uses TLS", cfg.BaseURL)
	case local:
		r.add(Warn, "public address", "HAVEN_BASE_URL %s is plain HTTP on this machine only: fine to try Haven, not for production", cfg.BaseURL)
	default:
		r.add(Fail, "public address", "HAVEN_BASE_URL %s is plain HTTP on a network address: sign-ins, session cookies and enrolment "+
			"links would cross the network unencrypted. Terminate TLS in front of Haven and set an https:// base URL", cfg.BaseURL)
	}
	if h, _, err := net.SplitHostPort(cfg.Addr); err == nil && !loopback(h) {
		if cfg.MetricsToken == "" {
			r.add(Warn, "public address", "HAVEN_ADDR %s listens beyond this machine and /metrics has no HAVEN_METRICS_TOKEN", cfg.Addr)
		}
	}
	if cfg.TrustProxy && loopback(u.Hostname()) {
		r.add(Warn, "public address", "HAVEN_TRUST_PROXY is on without a public base URL: only trust X-Forwarded-For behind your own proxy")
	}
}
