// Package config reads Haven's configuration from command-line flags and
// HAVEN_* environment variables, fills in the embedded defaults and checks
// the result.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of a Haven process. The zero value is
// not useful; use Load.
type Config struct {
	// Addr is the listen address of the HTTP server.
	Addr string
	// DataDir holds the SQLite database, the local evidence folder and the
	// generated master key when nothing else is configured.
	DataDir string
	// DatabaseURL is a SQLite path (or sqlite:// / file: URL) or a
	// postgres:// URL.
	DatabaseURL string
	// EvidenceURL is file://DIR or s3://bucket/prefix.
	EvidenceURL string
	// S3 holds the endpoint and credentials used when EvidenceURL is s3://.
	S3 S3
	// MasterKeyFile is the path of the master keyset. MasterKey, when set
	// (from HAVEN_MASTER_KEY), takes precedence and nothing is read from or
	// written to disk.
	MasterKeyFile string
	MasterKey     string
	// BaseURL is the public base URL, used to build enrolment links.
	BaseURL string
	// MaxUploadBytes caps one evidence upload.
	MaxUploadBytes int64
	// MaxBodyBytes caps every other request body.
	MaxBodyBytes int64
	// SessionIdle and SessionAbsolute bound a staff session.
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// MetricsToken, when set, is required as a bearer token on /metrics.
	MetricsToken string
	// TrustProxy makes the server take the client address from
	// X-Forwarded-For (only behind a proxy that sets it).
	TrustProxy bool
	// ISPWSPrefix is the path under which the CyberTipline-compatible ESP
	// API is served, so that clients with a base-URL option work unchanged.
	ISPWSPrefix string
	// ExposureDailyBudget is how much revealed-media time an analyst may
	// have in a day; ExposureBreakAfter how much exposure makes a break
	// due, and ExposureBreakLength how long that break is (SECURITY.md 32).
	ExposureDailyBudget time.Duration
	ExposureBreakAfter  time.Duration
	ExposureBreakLength time.Duration
	// LegalGate holds files the ESP did not view (and did not say were
	// public) until a legal authority is recorded. US deployments should
	// set it (HAVEN_LEGAL_GATE=true).
	LegalGate bool
	// GeoIPDB is the path of a MaxMind-format database of IP locations
	// (GeoLite2 City or compatible), supplied by the operator; empty turns
	// IP geolocation off.
	GeoIPDB string
	// DefaultCallingCode is the country calling code of national phone
	// numbers in reports that do not give theirs.
	DefaultCallingCode string
}

// S3 configures the S3-compatible evidence backend.
type S3 struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Region    string
	Insecure  bool // plain HTTP, for a test server on loopback
}

// Defaults of the embedded deployment.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultDataDir         = "./haven-data"
	DefaultMaxUploadBytes  = 4 << 30 // 4 GiB
	DefaultMaxBodyBytes    = 4 << 20 // 4 MiB
	DefaultSessionIdle     = 15 * time.Minute
	DefaultSessionAbsolute = 12 * time.Hour
	// Analyst wellness (SECURITY.md 32).
	DefaultExposureDailyBudget = 5 * time.Hour
	DefaultExposureBreakAfter  = 60 * time.Minute
	DefaultExposureBreakLength = 10 * time.Minute
)

// option binds one setting to its flag and environment variable.
type option struct {
	flag, env, usage string
	set              func(string) error
}

func options(c *Config) []option {
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	size := func(p *int64) func(string) error {
		return func(v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			*p = n
			return nil
		}
	}
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("not a duration such as 15m or 12h")
			}
			*p = d
			return nil
		}
	}
	boolean := func(p *bool) func(string) error {
		return func(v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("not true or false")
			}
			*p = b
			return nil
		}
	}
	return []option{
		{"addr", "HAVEN_ADDR", "listen address", str(&c.Addr)},
		{"data-dir", "HAVEN_DATA_DIR", "folder for the embedded database, evidence and key", str(&c.DataDir)},
		{"database-url", "HAVEN_DATABASE_URL", "SQLite path or postgres:// URL (default: SQLite in the data folder)", str(&c.DatabaseURL)},
		{"evidence-url", "HAVEN_EVIDENCE_URL", "file://DIR or s3://bucket/prefix (default: file:// in the data folder)", str(&c.EvidenceURL)},
		{"s3-endpoint", "HAVEN_S3_ENDPOINT", "S3 endpoint host:port", str(&c.S3.Endpoint)},
		{"s3-access-key", "HAVEN_S3_ACCESS_KEY", "S3 access key", str(&c.S3.AccessKey)},
		{"s3-secret-key", "HAVEN_S3_SECRET_KEY", "S3 secret key (prefer the environment variable)", str(&c.S3.SecretKey)},
		{"s3-region", "HAVEN_S3_REGION", "S3 region", str(&c.S3.Region)},
		{"s3-insecure", "HAVEN_S3_INSECURE", "talk plain HTTP to the S3 endpoint (test servers only)", boolean(&c.S3.Insecure)},
		{"master-key-file", "HAVEN_MASTER_KEY_FILE", "master keyset file (default: master.key in the data folder, generated on first start)", str(&c.MasterKeyFile)},
		{"master-key", "HAVEN_MASTER_KEY", "master keyset itself (JSON or base64); prefer the environment variable", str(&c.MasterKey)},
		{"base-url", "HAVEN_BASE_URL", "public base URL used in links (default: http://ADDR)", str(&c.BaseURL)},
		{"max-upload", "HAVEN_MAX_UPLOAD", "largest accepted evidence upload, e.g. 4GiB", size(&c.MaxUploadBytes)},
		{"max-body", "HAVEN_MAX_BODY", "largest accepted request body other than uploads, e.g. 4MiB", size(&c.MaxBodyBytes)},
		{"session-idle", "HAVEN_SESSION_IDLE", "idle time after which a session ends", dur(&c.SessionIdle)},
		{"session-absolute", "HAVEN_SESSION_ABSOLUTE", "longest life of a session", dur(&c.SessionAbsolute)},
		{"log-level", "HAVEN_LOG_LEVEL", "debug, info, warn or error", str(&c.LogLevel)},
		{"metrics-token", "HAVEN_METRICS_TOKEN", "bearer token required on /metrics (default: none)", str(&c.MetricsToken)},
		{"trust-proxy", "HAVEN_TRUST_PROXY", "take the client address from X-Forwarded-For", boolean(&c.TrustProxy)},
		{"ispws-prefix", "HAVEN_ISPWS_PREFIX", "path of the CyberTipline-compatible ESP API", str(&c.ISPWSPrefix)},
		{"exposure-daily-budget", "HAVEN_EXPOSURE_DAILY_BUDGET", "revealed-media time an analyst may have per day", dur(&c.ExposureDailyBudget)},
		{"exposure-break-after", "HAVEN_EXPOSURE_BREAK_AFTER", "revealed-media time after which a break is due", dur(&c.ExposureBreakAfter)},
		{"exposure-break-length", "HAVEN_EXPOSURE_BREAK_LENGTH", "length of the break due after exposure", dur(&c.ExposureBreakLength)},
		{"legal-gate", "HAVEN_LEGAL_GATE", "hold files the ESP did not view until a legal authority is recorded (US deployments: true)", boolean(&c.LegalGate)},
		{"geoip-db", "HAVEN_GEOIP_DB", "MaxMind-format IP location database (GeoLite2 City or compatible) for locating reports' IP addresses (default: none, IP geolocation off)", str(&c.GeoIPDB)},
		{"default-calling-code", "HAVEN_DEFAULT_CALLING_CODE", "country calling code of national phone numbers in reports, e.g. 1 or 44", str(&c.DefaultCallingCode)},
	}
}

// Load builds a Config from the defaults, then the environment (through
// getenv), then the flags in args, in that order of precedence. It returns
// the arguments left after the flags. extra, when not nil, registers a
// command's own flags on the same flag set. Load does not call Validate.
func Load(name string, args []string, getenv func(string) string, out io.Writer, extra ...func(*flag.FlagSet)) (Config, []string, error) {
	c := Config{
		Addr:               DefaultAddr,
		DataDir:            DefaultDataDir,
		MaxUploadBytes:     DefaultMaxUploadBytes,
		MaxBodyBytes:       DefaultMaxBodyBytes,
		SessionIdle:        DefaultSessionIdle,
		SessionAbsolute:    DefaultSessionAbsolute,
		LogLevel:           "info",
		ISPWSPrefix:        "/ispws",
		DefaultCallingCode: "1",
		S3:                 S3{Region: "us-east-1"},
	}
	c.ExposureDailyBudget, c.ExposureBreakAfter, c.ExposureBreakLength = DefaultExposureDailyBudget, DefaultExposureBreakAfter, DefaultExposureBreakLength
	opts := options(&c)
	var errs []error
	for _, o := range opts {
		if v := getenv(o.env); v != "" {
			if err := o.set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", o.env, err))
			}
		}
	}
	if len(errs) > 0 {
		return c, nil, errors.Join(errs...)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	for _, o := range opts {
		fs.Func(o.flag, o.usage+" ($"+o.env+")", o.set)
	}
	for _, f := range extra {
		f(fs)
	}
	// Flags may come before, between or after the positional arguments
	// (haven agency create NAME --json).
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return c, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	c.fillDefaults()
	return c, rest, nil
}

// fillDefaults derives the settings that depend on others.
func (c *Config) fillDefaults() {
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "haven.db")
	}
	if c.EvidenceURL == "" {
		c.EvidenceURL = "file://" + filepath.Join(c.DataDir, "evidence")
	}
	if c.MasterKeyFile == "" && c.MasterKey == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
}

// Database describes a parsed DatabaseURL.
type Database struct {
	Driver string // "sqlite" or "postgres"
	// Path is the SQLite file; DSN is the PostgreSQL connection string.
	Path, DSN string
}

// ParseDatabaseURL interprets a database setting: a postgres:// or
// postgresql:// URL, a sqlite:// or file: URL, or a plain file path.
func ParseDatabaseURL(s string) (Database, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Database{}, errors.New("no database given")
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return Database{}, errors.New("the PostgreSQL URL cannot be parsed")
		}
		if u.Host == "" {
			return Database{}, errors.New("the PostgreSQL URL has no host")
		}
		if strings.Trim(u.Path, "/") == "" {
			return Database{}, errors.New("the PostgreSQL URL names no database (postgres://user@host:5432/DBNAME)")
		}
		return Database{Driver: "postgres", DSN: s}, nil
	case strings.HasPrefix(s, "sqlite://"):
		p := strings.TrimPrefix(s, "sqlite://")
		if p == "" {
			return Database{}, errors.New("the sqlite:// URL has no path")
		}
		return sqlitePath(p)
	case strings.HasPrefix(s, "file:"):
		return sqlitePath(strings.TrimPrefix(strings.TrimPrefix(s, "file:"), "//"))
	case strings.Contains(s, "://"):
		return Database{}, fmt.Errorf("unsupported database scheme %q: use a file path or postgres://", s[:strings.Index(s, "://")])
	default:
		return sqlitePath(s)
	}
}

func sqlitePath(p string) (Database, error) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return Database{}, errors.New("SQLite options are set by Haven: give the file path alone")
	}
	if strings.ContainsRune(p, 0) {
		return Database{}, errors.New("the SQLite path contains a NUL byte")
	}
	return Database{Driver: "sqlite", Path: filepath.Clean(p)}, nil
}

// Evidence describes a parsed EvidenceURL.
type Evidence struct {
	Backend string // "file" or "s3"
	Dir     string // for file
	Bucket  string // for s3
	Prefix  string // for s3, without leading or trailing slash
}

// ParseEvidenceURL interprets an evidence setting: file://DIR or
// s3://bucket/prefix.
func ParseEvidenceURL(s string) (Evidence, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "file://"):
		dir := strings.TrimPrefix(s, "file://")
		if dir == "" {
			return Evidence{}, errors.New("file:// needs a folder, e.g. file:///var/lib/haven/evidence")
		}
		if strings.ContainsRune(dir, 0) {
			return Evidence{}, errors.New("the evidence folder contains a NUL byte")
		}
		return Evidence{Backend: "file", Dir: filepath.Clean(dir)}, nil
	case strings.HasPrefix(s, "s3://"):
		rest := strings.TrimPrefix(s, "s3://")
		bucket, prefix, _ := strings.Cut(rest, "/")
		if !validBucket(bucket) {
			return Evidence{}, errors.New("the S3 bucket name must be 3–63 lower-case letters, digits, dots or hyphens")
		}
		prefix = strings.Trim(prefix, "/")
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "." || seg == ".." {
				return Evidence{}, errors.New("the S3 prefix may not contain . or .. segments")
			}
		}
		return Evidence{Backend: "s3", Bucket: bucket, Prefix: prefix}, nil
	case s == "":
		return Evidence{}, errors.New("no evidence location given")
	default:
		return Evidence{}, errors.New("the evidence location must start with file:// or s3://")
	}
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, r := range b {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '.') && i > 0 && i < len(b)-1:
		default:
			return false
		}
	}
	return true
}

// ParseSize reads a byte size such as 512, 64KiB, 4MiB, 2GiB or 1GB.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult, s = u.mult, strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a positive size such as 4MiB")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("the size is too large")
	}
	return n * mult, nil
}

// Validate checks the configuration and returns every problem found, each
// naming the setting and what is expected.
func (c Config) Validate() error {
	var errs []error
	bad := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", env, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("HAVEN_ADDR", "%q is not host:port (for example 127.0.0.1:8080)", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("HAVEN_ADDR", "port %q is not a number from 0 to 65535", port)
	}
	if c.DataDir == "" {
		bad("HAVEN_DATA_DIR", "must not be empty")
	}
	if _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
		bad("HAVEN_DATABASE_URL", "%v", err)
	}
	ev, err := ParseEvidenceURL(c.EvidenceURL)
	if err != nil {
		bad("HAVEN_EVIDENCE_URL", "%v", err)
	} else if ev.Backend == "s3" {
		if c.S3.Endpoint == "" {
			bad("HAVEN_S3_ENDPOINT", "required with an s3:// evidence location (host:port)")
		} else if strings.Contains(c.S3.Endpoint, "://") {
			bad("HAVEN_S3_ENDPOINT", "give host:port without a scheme; use HAVEN_S3_INSECURE=true for plain HTTP")
		}
		if c.S3.AccessKey == "" || c.S3.SecretKey == "" {
			bad("HAVEN_S3_ACCESS_KEY", "an access key and a secret key (HAVEN_S3_SECRET_KEY) are required with s3://")
		}
	}
	if c.MasterKey == "" && c.MasterKeyFile == "" {
		bad("HAVEN_MASTER_KEY_FILE", "a master key file or HAVEN_MASTER_KEY is required")
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("HAVEN_BASE_URL", "%q is not an http:// or https:// URL", c.BaseURL)
	}
	if c.MaxUploadBytes <= 0 {
		bad("HAVEN_MAX_UPLOAD", "must be positive")
	}
	if c.MaxBodyBytes <= 0 {
		bad("HAVEN_MAX_BODY", "must be positive")
	}
	if c.SessionIdle < time.Minute || c.SessionIdle > time.Hour {
		bad("HAVEN_SESSION_IDLE", "must be between 1m and 1h (the policy default is 15m)")
	}
	if c.SessionAbsolute < c.SessionIdle || c.SessionAbsolute > 24*time.Hour {
		bad("HAVEN_SESSION_ABSOLUTE", "must be at least the idle timeout and at most 24h")
	}
	if !strings.HasPrefix(c.ISPWSPrefix, "/") || strings.HasSuffix(c.ISPWSPrefix, "/") || strings.ContainsAny(c.ISPWSPrefix, "{}? #") ||
		strings.HasPrefix(c.ISPWSPrefix, "/app") || strings.HasPrefix(c.ISPWSPrefix, "/le") || strings.HasPrefix(c.ISPWSPrefix, "/api") {
		bad("HAVEN_ISPWS_PREFIX", "%q must be a path such as /ispws (a leading slash, no trailing slash, not under /app, /le or /api)", c.ISPWSPrefix)
	}
	if c.ExposureDailyBudget < time.Minute || c.ExposureDailyBudget > 24*time.Hour {
		bad("HAVEN_EXPOSURE_DAILY_BUDGET", "must be between 1m and 24h (the policy default is 5h)")
	}
	if c.ExposureBreakAfter < time.Minute || c.ExposureBreakAfter > 24*time.Hour {
		bad("HAVEN_EXPOSURE_BREAK_AFTER", "must be between 1m and 24h (the policy default is 60m)")
	}
	if c.ExposureBreakLength < time.Minute || c.ExposureBreakLength > 4*time.Hour {
		bad("HAVEN_EXPOSURE_BREAK_LENGTH", "must be between 1m and 4h (the default is 10m)")
	}
	if cc := strings.TrimPrefix(c.DefaultCallingCode, "+"); len(cc) < 1 || len(cc) > 3 || cc[0] == '0' || strings.Trim(cc, "0123456789") != "" {
		bad("HAVEN_DEFAULT_CALLING_CODE", "%q is not a country calling code of 1 to 3 digits, such as 1 or 44", c.DefaultCallingCode)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("HAVEN_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	return errors.Join(errs...)
}
