package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/haven-hotline/haven"
)

// testParams keep argon2 cheap in tests that are not about its cost.
var testParams = Argon2Params{Memory: 64, Time: 1, Threads: 1}

func mustHash(t testing.TB, pw string, p Argon2Params) string {
	t.Helper()
	enc, err := HashPassword(pw, p)
	if err != nil {
		t.Fatalf("HashPassword: got error %v, want nil", err)
	}
	return enc
}

func TestHashPasswordPHCRoundTrip(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	enc := mustHash(t, pw, DefaultArgon2)
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(enc, want) {
		t.Fatalf("encoded = %q, want prefix %q", enc, want)
	}
	p, salt, key, err := decodePHC(enc)
	if err != nil {
		t.Fatalf("decodePHC: got error %v, want nil", err)
	}
	if p != DefaultArgon2 || len(salt) != 16 || len(key) != 32 {
		t.Errorf("decoded params %+v salt %d key %d, want %+v 16 32", p, len(salt), len(key), DefaultArgon2)
	}
	ok, rehash, err := VerifyPassword(pw, enc)
	if err != nil || !ok || rehash {
		t.Errorf("VerifyPassword(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, _, err = VerifyPassword(pw+" ", enc)
	if err != nil || ok {
		t.Errorf("VerifyPassword(wrong) = %v, %v; want false, nil", ok, err)
	}
	if enc2 := mustHash(t, pw, DefaultArgon2); enc2 == enc {
		t.Errorf("two hashes of one password are equal, want distinct salts")
	}
}

func TestVerifyPasswordWrong(t *testing.T) {
	t.Parallel()
	enc := mustHash(t, "a long and unusual passphrase", testParams)
	for _, pw := range []string{"", "a long and unusual passphrasE", "a long and unusual passphras", strings.Repeat("x", 5000)} {
		ok, rehash, err := VerifyPassword(pw, enc)
		if ok || rehash || err != nil {
			t.Errorf("VerifyPassword(%d-byte wrong) = %v, %v, %v; want false, false, nil", len(pw), ok, rehash, err)
		}
	}
}

func TestVerifyPasswordNFC(t *testing.T) {
	t.Parallel()
	composed := "caf\u00e9 au lait, s'il vous pla\u00eet"
	decomposed := norm.NFD.String(composed)
	if composed == decomposed {
		t.Fatal("test strings are equal, want different byte forms")
	}
	enc := mustHash(t, decomposed, testParams)
	ok, _, err := VerifyPassword(composed, enc)
	if !ok || err != nil {
		t.Errorf("VerifyPassword(NFC of NFD-hashed) = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyPasswordNeedsRehash(t *testing.T) {
	t.Parallel()
	const pw = "rehash me when the defaults move"
	tests := []struct {
		name string
		enc  string
		want bool
	}{
		{"default params", mustHash(t, pw, DefaultArgon2), false},
		{"cheaper params", mustHash(t, pw, testParams), true},
		{"other threads", mustHash(t, pw, Argon2Params{Memory: 64, Time: 2, Threads: 2}), true},
		{"short salt and key", shortHash(pw), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(pw, tt.enc)
			if !ok || err != nil {
				t.Fatalf("got ok %v err %v, want true nil", ok, err)
			}
			if rehash != tt.want {
				t.Errorf("needsRehash = %v, want %v", rehash, tt.want)
			}
		})
	}
}

// shortHash is a valid hash of pw with DefaultArgon2 but an 8-byte salt and
// a 16-byte key, the least VerifyPassword accepts.
func shortHash(pw string) string {
	salt := []byte("12345678")
	p := DefaultArgon2
	return encodePHC(p, salt, argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 16))
}

func TestVerifyPasswordTampered(t *testing.T) {
	t.Parallel()
	const pw = "tamper-evident passphrase"
	good := mustHash(t, pw, testParams) // $argon2id$v=19$m=64,t=1,p=1$salt$hash
	parts := strings.Split(good, "$")
	salt, hash := parts[4], parts[5]
	build := func(head string) string { return head + "$" + salt + "$" + hash }
	tests := map[string]string{
		"empty":            "",
		"argon2i":          strings.Replace(good, "argon2id", "argon2i", 1),
		"bcrypt":           "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"version 16":       build("$argon2id$v=16$m=64,t=1,p=1"),
		"huge memory":      build("$argon2id$v=19$m=4194304,t=1,p=1"),
		"memory overflow":  build("$argon2id$v=19$m=4294967296,t=1,p=1"),
		"huge time":        build("$argon2id$v=19$m=64,t=1000,p=1"),
		"zero time":        build("$argon2id$v=19$m=64,t=0,p=1"),
		"zero threads":     build("$argon2id$v=19$m=64,t=1,p=0"),
		"many threads":     build("$argon2id$v=19$m=65536,t=1,p=255"),
		"threads overflow": build("$argon2id$v=19$m=64,t=1,p=256"),
		"memory < 8p":      build("$argon2id$v=19$m=8,t=1,p=2"),
		"negative":         build("$argon2id$v=19$m=-64,t=1,p=1"),
		"plus sign":        build("$argon2id$v=19$m=+64,t=1,p=1"),
		"reordered":        build("$argon2id$v=19$t=1,m=64,p=1"),
		"extra param":      build("$argon2id$v=19$m=64,t=1,p=1,keyid=x"),
		"missing version":  "$argon2id$m=64,t=1,p=1$" + salt + "$" + hash,
		"extra field":      good + "$AAAA",
		"short salt":       "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + hash,
		"padded salt":      "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash,
		"bad base64":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash[:len(hash)-1] + "*",
		"short hash":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAAAAAAA",
		"huge":             good + strings.Repeat("A", 10000),
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := VerifyPassword(pw, enc)
			if ok || rehash {
				t.Errorf("got ok %v rehash %v, want false false", ok, rehash)
			}
			if !haven.IsKind(err, haven.KindIntegrity) {
				t.Errorf("got error %v (kind %v), want kind %v", err, haven.ErrorKind(err), haven.KindIntegrity)
			}
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}

	t.Run("flipped hash byte", func(t *testing.T) {
		t.Parallel()
		b := []byte(good)
		i := len(b) - 3
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		ok, _, err := VerifyPassword(pw, string(b))
		if ok || err != nil {
			t.Errorf("got %v, %v; want false, nil", ok, err)
		}
	})
}

func TestHashPasswordRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		p    Argon2Params
		kind haven.Kind
	}{
		{"empty", "", testParams, haven.KindInvalid},
		{"over max bytes", strings.Repeat("ab", MaxPasswordBytes/2) + "c", testParams, haven.KindInvalid},
		{"far over max bytes", strings.Repeat("a", 1<<20), testParams, haven.KindInvalid},
		{"memory too high", "fine password", Argon2Params{Memory: 1 << 20, Time: 1, Threads: 1}, haven.KindInternal},
		{"zero time", "fine password", Argon2Params{Memory: 64, Time: 0, Threads: 1}, haven.KindInternal},
		{"zero threads", "fine password", Argon2Params{Memory: 64, Time: 1}, haven.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := HashPassword(tt.pw, tt.p)
			if err == nil || enc != "" {
				t.Fatalf("got %q, %v; want \"\" and an error", enc, err)
			}
			if got := haven.ErrorKind(err); got != tt.kind {
				t.Errorf("got kind %v, want %v", got, tt.kind)
			}
		})
	}
	enc, err := HashPassword(strings.Repeat("ab", MaxPasswordBytes/2), testParams)
	if err != nil || enc == "" {
		t.Errorf("HashPassword(exactly MaxPasswordBytes): got %v, want a hash", err)
	}
}

func TestDummyVerify(t *testing.T) {
	t.Parallel()
	// DummyVerify must do a real verification with DefaultArgon2 and never
	// panic, whatever it is given.
	for _, pw := range []string{"", "password", strings.Repeat("é", 10000), "\xff\xfe"} {
		DummyVerify(pw)
	}
	var salt [saltLen]byte
	var key [keyLen]byte
	if _, _, _, err := decodePHC(encodePHC(DefaultArgon2, salt[:], key[:])); err != nil {
		t.Errorf("dummy hash does not parse: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	const (
		reasonShort  = "at least 8 characters"
		reasonLong   = "at most 1024 bytes"
		reasonCommon = "this password is in a list of commonly used passwords"
		reasonRepeat = "one character repeated"
		reasonSelf   = "your e-mail address or your name"
		reasonBytes  = "not valid text"
	)
	ctx := []string{"Alice.Smith@example.org", "Alice Smith"}
	tests := []struct {
		name    string
		pw      string
		context []string
		reason  string // "" means accepted
	}{
		{"long unicode passphrase with spaces", "mon chat s'appelle Ωmega 🐈 und liebt Käse", ctx, ""},
		{"spaces only around words", "  tree lamp river  ", ctx, ""},
		{"8 ascii", "tqbfjotl", nil, ""},
		{"7 ascii", "tqbfjot", nil, reasonShort},
		{"7 with spaces", "a b c d", nil, reasonShort},
		{"empty", "", nil, reasonShort},
		{"8 code points of multi-byte chars", "日本語パスワード", nil, ""},
		{"8 emoji", "🐈🐕🐇🐢🦉🦊🐝🐙", nil, ""},
		{"7 code points of multi-byte chars", "日本語パスワー", nil, reasonShort},
		{"8 code points NFD but 4 NFC", strings.Repeat("e\u0301", 2) + strings.Repeat("a\u0308", 2), nil, reasonShort},
		{"exactly max bytes", strings.Repeat("Zq7 ", MaxPasswordBytes/4), nil, ""},
		{"one byte over max", strings.Repeat("Zq7 ", MaxPasswordBytes/4) + "x", nil, reasonLong},
		{"far over max", strings.Repeat("Zq7 ", 1<<18), nil, reasonLong},
		{"all same", "aaaaaaaaaaaa", nil, reasonRepeat},
		{"all same multi-byte", "ééééééééé", nil, reasonRepeat},
		{"all same spaces", "         ", nil, reasonRepeat},
		{"common", "password1", nil, reasonCommon},
		{"common mixed case", "PassWord1", nil, reasonCommon},
		{"common upper", "ILOVEYOU1", nil, reasonCommon},
		{"common digits", "12345678", nil, reasonCommon},
		{"equals e-mail", "alice.smith@example.org", ctx, reasonSelf},
		{"contains e-mail", "my alice.smith@example.org!", ctx, reasonSelf},
		{"contains local part", "xxALICE.SMITHxx", ctx, reasonSelf},
		{"equals display name", "ALICE SMITH", ctx, reasonSelf},
		{"contains display name", "I am alice smith 2024", ctx, reasonSelf},
		{"unrelated", "alice in wonderland smithy", ctx, ""},
		{"short local part only as substring", "jolly good fellow", []string{"jo@example.org"}, ""},
		{"empty context", "jolly good fellow", []string{"", "  ", "@"}, ""},
		{"invalid utf-8", "abc\xffdefgh", nil, reasonBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPassword(tt.pw, tt.context...)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("got error %q, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil, want an error with %q", tt.reason)
			}
			var he *haven.Error
			if !errors.As(err, &he) || he.Kind != haven.KindInvalid || he.Field != "password" {
				t.Fatalf("got %#v, want a KindInvalid *haven.Error on field password", err)
			}
			if !strings.Contains(he.Message, tt.reason) {
				t.Errorf("got message %q, want it to contain %q", he.Message, tt.reason)
			}
			if len(tt.pw) >= 4 && strings.Contains(he.Message, tt.pw) {
				t.Errorf("message %q repeats the password", he.Message)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	set := commonPasswords()
	if len(set) < 10000 {
		t.Errorf("list has %d entries, want at least 10000", len(set))
	}
	lines := strings.Count(commonPasswordsData, "\n")
	if lines != len(set) {
		t.Errorf("list has %d lines and %d distinct entries, want equal", lines, len(set))
	}
	for pw := range set {
		if utf8.RuneCountInString(pw) < MinPasswordLength || pw != strings.ToLower(pw) ||
			!norm.NFC.IsNormalString(pw) || oneRepeatedRune(pw) {
			t.Errorf("entry %q could never pass the other rules or is not canonical", pw)
		}
	}
	if !isCommonPassword("Password") || isCommonPassword("tree lamp river") {
		t.Errorf("isCommonPassword: got wrong answers for a known entry or a non-entry")
	}
}

func FuzzVerifyPassword(f *testing.F) {
	good := mustHash(f, "fuzzing is fun", testParams)
	f.Add("fuzzing is fun", good)
	f.Add("x", good)
	f.Add("", "")
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$$")
	f.Add("pw", "$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("pw", "$argon2id$$$$$$$")
	f.Fuzz(func(t *testing.T, pw, encoded string) {
		ok, rehash, err := VerifyPassword(pw, encoded)
		if err != nil {
			if ok || rehash {
				t.Fatalf("got ok %v rehash %v with error %v, want false false", ok, rehash, err)
			}
			if !haven.IsKind(err, haven.KindIntegrity) {
				t.Fatalf("got error kind %v, want %v", haven.ErrorKind(err), haven.KindIntegrity)
			}
		}
		if rehash && !ok {
			t.Fatalf("got rehash without ok")
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	for _, s := range []string{"", "password1", "日本語パスワード", "correct horse battery staple", "e\u0301e\u0301e\u0301e\u0301", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "aaaaaaaa"} {
		f.Add(s, "alice@example.org")
	}
	f.Fuzz(func(t *testing.T, pw, context string) {
		err := CheckPassword(pw, context)
		if err == nil {
			n := norm.NFC.String(pw)
			if !utf8.ValidString(pw) || utf8.RuneCountInString(n) < MinPasswordLength || len(n) > MaxPasswordBytes {
				t.Fatalf("accepted a password of %d code points, %d bytes, valid %v", utf8.RuneCountInString(n), len(n), utf8.ValidString(pw))
			}
			return
		}
		var he *haven.Error
		if !errors.As(err, &he) || he.Kind != haven.KindInvalid || he.Field != "password" || he.Message == "" {
			t.Fatalf("got %#v, want a KindInvalid *haven.Error on field password", err)
		}
	})
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", DefaultArgon2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc := mustHash(b, "correct horse battery staple", DefaultArgon2)
	for b.Loop() {
		_, _, _ = VerifyPassword("correct horse battery stapler", enc)
	}
}

func BenchmarkDummyVerify(b *testing.B) {
	for b.Loop() {
		DummyVerify("correct horse battery stapler")
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	commonPasswords() // build the set outside the timed loop
	for b.Loop() {
		_ = CheckPassword("correct horse battery staple", "alice@example.org", "Alice Smith")
	}
}
