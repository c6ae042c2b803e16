package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// tokenBytes is the size of a token: 256 random bits.
const tokenBytes = 32

// NewToken returns a new random token of 256 bits, encoded as unpadded
// base64url (43 characters), and its SHA-256 hash. The token goes to the
// client (session cookie, enrolment link, API token); only the hash is
// stored, so a copy of the database yields no usable token.
func NewToken() (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 of token, the value stored and looked up
// for it. A token has 256 bits of entropy, so a fast hash is enough.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewAPIPassword returns a new random password for HTTP Basic
// authentication of an API client: 192 bits, unpadded base64url
// (32 characters). Store it with HashPassword like any password.
func NewAPIPassword() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Sizes of an API user name.
const (
	maxAPIUsername = 40
	apiSuffixLen   = 7 // "-" and 6 hex digits
)

// NewAPIUsername returns a user name for an API client called name: a slug
// of name (lower-case ASCII letters and digits, other runs turned into "-",
// accents removed), "-" and 6 random hex digits, at most 40 characters of
// [a-z0-9-] in all. A name with nothing to slug gives "api-<hex>".
func NewAPIUsername(name string) string {
	slug := slugify(name, maxAPIUsername-apiSuffixLen)
	if slug == "" {
		slug = "api"
	}
	b := make([]byte, 3)
	rand.Read(b)
	return slug + "-" + hex.EncodeToString(b)
}

// slugify lower-cases s, strips accents, keeps ASCII letters and digits,
// turns every other run into one "-", and cuts the result to max bytes
// without leading or trailing "-".
func slugify(s string, max int) string {
	if len(s) > 4*max {
		s = s[:4*max] // plenty for max ASCII bytes; a cut rune is dropped below
	}
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent left by NFKD: drop it
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= max {
			break
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return strings.Trim(out, "-")
}
