package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/haven-hotline/haven"
)

// MinPasswordLength is the least number of characters a password must have,
// counted as Unicode code points of its NFC form.
const MinPasswordLength = 8

// MaxPasswordBytes is the greatest length of a password in bytes of UTF-8,
// after NFC normalisation. Longer passwords are refused, never truncated.
// 1024 bytes is at least 256 characters in any script: room for any
// passphrase, while keeping hashing cost and request sizes bounded.
const MaxPasswordBytes = 1024

// Argon2Params are the cost parameters of argon2id.
type Argon2Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // number of passes
	Threads uint8  // degree of parallelism
}

// DefaultArgon2 are the parameters HashPassword is given for new hashes:
// OWASP's argon2id recommendation of 19 MiB, 2 passes, 1 thread. A stored
// hash made with other parameters is reported by VerifyPassword as needing a
// rehash. Treat it as a constant.
var DefaultArgon2 = Argon2Params{Memory: 19456, Time: 2, Threads: 1}

// Sizes of what HashPassword makes.
const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on the parameters accepted from a stored hash, so that a tampered
// row cannot make one login spend minutes or gigabytes.
const (
	maxArgon2Memory  = 256 * 1024 // KiB, 256 MiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minStoredSalt    = 8
	maxStoredSalt    = 64
	minStoredKey     = 16
	maxStoredKey     = 64
	maxEncodedLen    = 256
)

// maxVerifyInput bounds a raw password before NFC normalisation, so that
// normalising cannot be made expensive. Composition shrinks UTF-8 text at
// most three-fold (three Hangul jamo become one syllable), so a longer input
// cannot normalise to MaxPasswordBytes or less.
const maxVerifyInput = 4 * MaxPasswordBytes

const phcPrefix = "$argon2id$"

var b64 = base64.RawStdEncoding.Strict()

// validate reports whether p lies within the bounds accepted for hashing and
// verification.
func (p Argon2Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgon2Time:
		return fmt.Errorf("argon2 time %d out of range 1..%d", p.Time, maxArgon2Time)
	case p.Threads < 1 || p.Threads > maxArgon2Threads:
		return fmt.Errorf("argon2 threads %d out of range 1..%d", p.Threads, maxArgon2Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory:
		return fmt.Errorf("argon2 memory %d KiB out of range %d..%d", p.Memory, 8*uint32(p.Threads), maxArgon2Memory)
	}
	return nil
}

// HashPassword returns the argon2id hash of the NFC form of pw as a PHC
// string: $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash>, with
// a 16-byte random salt, a 32-byte key and unpadded standard base64.
//
// It does not apply the password policy: call CheckPassword first for a
// password a person chose. It refuses an empty password or one longer than
// MaxPasswordBytes (KindInvalid), and parameters outside the bounds that
// VerifyPassword accepts (KindInternal).
func HashPassword(pw string, p Argon2Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if len(pw) > maxVerifyInput {
		return "", tooLongError()
	}
	n := norm.NFC.String(pw)
	if n == "" {
		return "", haven.Invalidf("password", "enter a password")
	}
	if len(n) > MaxPasswordBytes {
		return "", tooLongError()
	}
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program instead
	key := argon2.IDKey([]byte(n), salt, p.Time, p.Memory, p.Threads, keyLen)
	return encodePHC(p, salt, key), nil
}

// VerifyPassword reports whether pw matches the PHC string encoded made by
// HashPassword, comparing in constant time. needsRehash is true when pw
// matches but the hash was made with parameters or sizes other than
// DefaultArgon2's, so the caller should store a new HashPassword result.
//
// A malformed encoded string, or one whose parameters are out of bounds (a
// tampered row must not buy a denial of service), gives an error of kind
// KindIntegrity that never contains pw.
func VerifyPassword(pw, encoded string) (ok bool, needsRehash bool, err error) {
	p, salt, key, err := decodePHC(encoded)
	if err != nil {
		return false, false, &haven.Error{Kind: haven.KindIntegrity, Message: "stored password hash is invalid", Err: err}
	}
	// An over-long password cannot match, but is still hashed (as the empty
	// string) so that the answer takes the usual time.
	tooLong := len(pw) > maxVerifyInput
	if tooLong {
		pw = ""
	}
	n := norm.NFC.String(pw)
	if len(n) > MaxPasswordBytes {
		tooLong, n = true, ""
	}
	got := argon2.IDKey([]byte(n), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1 && !tooLong
	needsRehash = ok && (p != DefaultArgon2 || len(salt) != saltLen || len(key) != keyLen)
	return ok, needsRehash, nil
}

// DummyVerify does the work of VerifyPassword against a hash made with
// DefaultArgon2 and discards the result. Call it when the account asked for
// does not exist, so that the answer takes as long as a wrong password for a
// real account and timing does not reveal which accounts exist. (Accounts
// whose hash predates a change of DefaultArgon2 take their own time until
// they are rehashed at their next login.)
func DummyVerify(pw string) {
	var salt [saltLen]byte
	var key [keyLen]byte
	_, _, _ = VerifyPassword(pw, encodePHC(DefaultArgon2, salt[:], key[:]))
}

func encodePHC(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses a PHC argon2id string strictly: fields in the order
// HashPassword writes them, no optional fields, bounded sizes.
func decodePHC(s string) (p Argon2Params, salt, key []byte, err error) {
	if len(s) > maxEncodedLen {
		return p, nil, nil, errors.New("too long")
	}
	rest, ok := strings.CutPrefix(s, phcPrefix)
	if !ok {
		return p, nil, nil, errors.New("not an argon2id PHC string")
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return p, nil, nil, errors.New("wrong number of fields")
	}
	if parts[0] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	params := strings.Split(parts[1], ",")
	if len(params) != 3 {
		return p, nil, nil, errors.New("wrong number of parameters")
	}
	m, err1 := parseParam(params[0], "m=", 32)
	t, err2 := parseParam(params[1], "t=", 32)
	th, err3 := parseParam(params[2], "p=", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, err
	}
	p = Argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}
	if err := p.validate(); err != nil {
		return p, nil, nil, err
	}
	salt, err = b64.DecodeString(parts[2])
	if err != nil || len(salt) < minStoredSalt || len(salt) > maxStoredSalt {
		return p, nil, nil, errors.New("bad salt")
	}
	key, err = b64.DecodeString(parts[3])
	if err != nil || len(key) < minStoredKey || len(key) > maxStoredKey {
		return p, nil, nil, errors.New("bad hash")
	}
	return p, salt, key, nil
}

// parseParam parses "<prefix><decimal>" into an unsigned integer of the given
// bit size. Signs, spaces and empty values are refused.
func parseParam(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok || v == "" || v[0] < '0' || v[0] > '9' {
		return 0, fmt.Errorf("bad parameter %q", prefix)
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("bad parameter %q", prefix)
	}
	return n, nil
}

// CheckPassword applies the password policy to pw, a password a person chose.
// context holds values the password must not be built from: the login e-mail
// address, the display name. It returns nil, or a KindInvalid error on the
// field "password" whose message tells the person what to change:
//
//   - at least MinPasswordLength characters (Unicode code points of the NFC
//     form), at most MaxPasswordBytes bytes; spaces and any Unicode allowed,
//     no rules on character classes;
//   - not one character repeated;
//   - not in the bundled list of common passwords (case-insensitive);
//   - not equal to, nor containing, a context value or the local part of an
//     e-mail address among them (case-insensitive; values shorter than 3
//     characters are only refused as the whole password).
//
// The messages never repeat the password.
func CheckPassword(pw string, context ...string) error {
	if len(pw) > maxVerifyInput {
		return tooLongError()
	}
	if !utf8.ValidString(pw) {
		return haven.Invalidf("password", "the password contains bytes that are not valid text; type it again")
	}
	n := norm.NFC.String(pw)
	if utf8.RuneCountInString(n) < MinPasswordLength {
		return haven.Invalidf("password", "use at least %d characters; a passphrase of a few unrelated words is long and easy to remember", MinPasswordLength)
	}
	if len(n) > MaxPasswordBytes {
		return tooLongError()
	}
	if oneRepeatedRune(n) {
		return haven.Invalidf("password", "the password is one character repeated; choose something harder to guess, such as a few unrelated words")
	}
	if isCommonPassword(n) {
		return haven.Invalidf("password", "this password is in a list of commonly used passwords; choose a different one, such as a few unrelated words")
	}
	if containsContext(strings.ToLower(n), context) {
		return haven.Invalidf("password", "the password contains your e-mail address or your name; choose one that does not")
	}
	return nil
}

func tooLongError() error {
	return haven.Invalidf("password", "use at most %d bytes (about %d letters, fewer in non-Latin scripts); a shorter passphrase is strong enough", MaxPasswordBytes, MaxPasswordBytes)
}

// oneRepeatedRune reports whether s is made of a single repeated code point.
func oneRepeatedRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// minContextContains is the least length, in code points, of a context value
// that is refused as a part of the password and not only as all of it: a
// shorter one ("al", "jo") would refuse too many unrelated passwords.
const minContextContains = 3

// containsContext reports whether lowerPW, the lower-cased NFC password,
// equals or contains one of the context values or the local part of an
// e-mail address among them.
func containsContext(lowerPW string, context []string) bool {
	for _, c := range context {
		v := strings.ToLower(norm.NFC.String(strings.TrimSpace(c)))
		candidates := []string{v}
		if i := strings.LastIndexByte(v, '@'); i > 0 {
			candidates = append(candidates, v[:i])
		}
		for _, w := range candidates {
			if w == "" {
				continue
			}
			if lowerPW == w || (utf8.RuneCountInString(w) >= minContextContains && strings.Contains(lowerPW, w)) {
				return true
			}
		}
	}
	return false
}
