package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, rest, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 0 {
		t.Errorf("got rest %v, want none", rest)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	checks := []struct{ name, got, want string }{
		{"addr", c.Addr, "127.0.0.1:8080"},
		{"database", c.DatabaseURL, "haven-data/haven.db"},
		{"evidence", c.EvidenceURL, "file://haven-data/evidence"},
		{"key", c.MasterKeyFile, "haven-data/master.key"},
		{"base", c.BaseURL, "http://127.0.0.1:8080"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.SessionIdle != 15*time.Minute || c.SessionAbsolute != 12*time.Hour {
		t.Errorf("got session %v/%v, want 15m/12h", c.SessionIdle, c.SessionAbsolute)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, rest, err := Load("serve", []string{"--addr", "127.0.0.1:9999", "extra"},
		env(map[string]string{"HAVEN_ADDR": "127.0.0.1:7777", "HAVEN_DATA_DIR": "/tmp/h", "HAVEN_MAX_UPLOAD": "2GiB"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" {
		t.Errorf("got addr %q, want the flag's", c.Addr)
	}
	if c.DatabaseURL != "/tmp/h/haven.db" {
		t.Errorf("got database %q, want it inside HAVEN_DATA_DIR", c.DatabaseURL)
	}
	if c.MaxUploadBytes != 2<<30 {
		t.Errorf("got max upload %d, want 2GiB", c.MaxUploadBytes)
	}
	if len(rest) != 1 || rest[0] != "extra" {
		t.Errorf("got rest %v, want [extra]", rest)
	}
}

func TestValidateNamesEverySetting(t *testing.T) {
	c, _, err := Load("serve", nil, env(map[string]string{
		"HAVEN_ADDR":         "nonsense",
		"HAVEN_DATABASE_URL": "mysql://x",
		"HAVEN_EVIDENCE_URL": "s3://Bad_Bucket",
		"HAVEN_BASE_URL":     "ftp://x",
		"HAVEN_LOG_LEVEL":    "loud",
		"HAVEN_SESSION_IDLE": "2h",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("got nil, want errors")
	}
	for _, want := range []string{"HAVEN_ADDR", "HAVEN_DATABASE_URL", "HAVEN_EVIDENCE_URL", "HAVEN_BASE_URL", "HAVEN_LOG_LEVEL", "HAVEN_SESSION_IDLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestBadEnvironmentValue(t *testing.T) {
	_, _, err := Load("serve", nil, env(map[string]string{"HAVEN_MAX_UPLOAD": "lots"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HAVEN_MAX_UPLOAD") {
		t.Fatalf("got %v, want an error naming HAVEN_MAX_UPLOAD", err)
	}
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		in, driver, path string
		bad              bool
	}{
		{in: "haven.db", driver: "sqlite", path: "haven.db"},
		{in: "sqlite:///var/lib/haven/haven.db", driver: "sqlite", path: "/var/lib/haven/haven.db"},
		{in: "file:data/x.db", driver: "sqlite", path: "data/x.db"},
		{in: "postgres://postgres@127.0.0.1:5432/haven?sslmode=disable", driver: "postgres"},
		{in: "postgres://127.0.0.1:5432/", bad: true},
		{in: "postgres:///db", bad: true},
		{in: "mysql://x/y", bad: true},
		{in: "x.db?_pragma=foo", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		d, err := ParseDatabaseURL(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: got nil error, want one", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if d.Driver != tt.driver || (tt.path != "" && d.Path != tt.path) {
			t.Errorf("%q: got %+v, want driver %s path %s", tt.in, d, tt.driver, tt.path)
		}
	}
}

func TestParseEvidenceURL(t *testing.T) {
	e, err := ParseEvidenceURL("s3://haven-evidence/prod/eu/")
	if err != nil || e.Bucket != "haven-evidence" || e.Prefix != "prod/eu" {
		t.Errorf("got %+v, %v", e, err)
	}
	for _, bad := range []string{"s3://", "s3://ab", "s3://bucket/../x", "http://x", "file://", ""} {
		if _, err := ParseEvidenceURL(bad); err == nil {
			t.Errorf("%q: got nil error, want one", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"512": 512, "64KiB": 64 << 10, "4 MiB": 4 << 20, "1GB": 1e9, "2GiB": 2 << 30}
	for in, want := range tests {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "0", "1XB", "99999999999TiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): got nil error", bad)
		}
	}
}

func FuzzParseDatabaseURL(f *testing.F) {
	for _, s := range []string{"haven.db", "postgres://u@h:5432/db", "sqlite://x", "file:y", "a://b", "x?y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDatabaseURL(s)
		if err == nil && d.Driver != "sqlite" && d.Driver != "postgres" {
			t.Fatalf("accepted %q with driver %q", s, d.Driver)
		}
	})
}

func FuzzParseEvidenceURL(f *testing.F) {
	for _, s := range []string{"file:///x", "s3://bucket/p", "s3://b..c", "s3://bucket/../.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEvidenceURL(s)
		if err != nil {
			return
		}
		if e.Backend == "s3" && (strings.Contains("/"+e.Prefix+"/", "/../") || !validBucket(e.Bucket)) {
			t.Fatalf("accepted unsafe %q: %+v", s, e)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "4MiB", "9223372036854775807", "1TB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n <= 0 {
			t.Fatalf("ParseSize(%q) = %d without error", s, n)
		}
	})
}

func FuzzLoad(f *testing.F) {
	f.Add("HAVEN_ADDR", "127.0.0.1:1", "--session-idle", "5m")
	f.Fuzz(func(t *testing.T, k, v, flagName, flagValue string) {
		c, _, err := Load("x", []string{flagName, flagValue}, env(map[string]string{k: v}), io.Discard)
		if err == nil {
			_ = c.Validate() // must not panic
		}
	})
}
