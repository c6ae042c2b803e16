package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math/bits"
	"regexp"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	const n = 2000
	seen := make(map[string]bool, n)
	ones := 0
	for range n {
		tok, hash := NewToken()
		if len(tok) != 43 {
			t.Fatalf("token length %d, want 43", len(tok))
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token decodes to %d bytes (%v), want 32", len(raw), err)
		}
		if want := sha256.Sum256([]byte(tok)); !bytes.Equal(hash, want[:]) {
			t.Fatalf("hash %x, want SHA-256 of the token %x", hash, want)
		}
		if !bytes.Equal(HashToken(tok), hash) {
			t.Fatalf("HashToken differs from NewToken's hash")
		}
		if seen[tok] {
			t.Fatalf("token repeated after %d tokens", len(seen))
		}
		seen[tok] = true
		for _, b := range raw {
			ones += bits.OnesCount8(b)
		}
	}
	// 512,000 random bits: the count of ones has a standard deviation of
	// about 358, so ±1% (5,120) is over 14 deviations from the mean.
	total := n * 256
	if lo, hi := total/2-total/100, total/2+total/100; ones < lo || ones > hi {
		t.Errorf("got %d one bits of %d, want between %d and %d", ones, total, lo, hi)
	}
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	// SHA-256("abc") from FIPS 180-2.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	got := HashToken("abc")
	if len(got) != 32 {
		t.Fatalf("hash length %d, want 32", len(got))
	}
	if hexGot := strings.ToLower(bytesToHex(got)); hexGot != want {
		t.Errorf("got %s, want %s", hexGot, want)
	}
}

func bytesToHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func TestNewAPIPassword(t *testing.T) {
	t.Parallel()
	a, b := NewAPIPassword(), NewAPIPassword()
	if a == b {
		t.Errorf("two API passwords are equal, want distinct")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(a)
	if len(a) != 32 || err != nil || len(raw) != 24 {
		t.Errorf("API password of %d characters decodes to %d bytes (%v), want 32 and 24", len(a), len(raw), err)
	}
}

func TestNewAPIUsername(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{6}$`)
	tests := []struct{ name, prefix string }{
		{"Example ESP, Inc.", "example-esp-inc-"},
		{"  Ünïcödé   Ñame ", "unicode-name-"},
		{"ＡＢＣ Corp", "abc-corp-"},
		{"---", "api-"},
		{"", "api-"},
		{"日本のプロバイダ", "api-"},
		{"A very long electronic service provider name that goes on", "a-very-long-electronic-service-pr-"},
		{"A very long electronic service provider-------name", "a-very-long-electronic-service-pr-"},
		{"x1234567890123456789012345678901-yz", "x1234567890123456789012345678901-"},
		{strings.Repeat("ab ", 10000), "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-"},
	}
	for _, tt := range tests {
		got := NewAPIUsername(tt.name)
		if !strings.HasPrefix(got, tt.prefix) || len(got) != len(tt.prefix)+6 {
			t.Errorf("NewAPIUsername(%.40q) = %q, want %q and 6 hex digits", tt.name, got, tt.prefix)
		}
		if len(got) > 40 || !valid.MatchString(got) {
			t.Errorf("NewAPIUsername(%.40q) = %q, want at most 40 characters of [a-z0-9-]", tt.name, got)
		}
	}
	if a, b := NewAPIUsername("ESP"), NewAPIUsername("ESP"); a == b {
		t.Errorf("two user names for one name are equal (%s), want distinct", a)
	}
}
