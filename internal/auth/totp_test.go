package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B: the ASCII string
// "12345678901234567890".
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// rfc6238SHA1 are the SHA-1 rows of RFC 6238 Appendix B: Unix time and the
// 8-digit TOTP. A 6-digit code is the same truncated value modulo 10^6, that
// is the last 6 digits.
var rfc6238SHA1 = []struct {
	unix  int64
	step  int64
	code8 string
}{
	{59, 0x1, "94287082"},
	{1111111109, 0x23523EC, "07081804"},
	{1111111111, 0x23523ED, "14050471"},
	{1234567890, 0x273EF07, "89005924"},
	{2000000000, 0x3F940AA, "69279037"},
	{20000000000, 0x27BC86AA, "65353130"},
}

// refHOTP is an independent RFC 4226 HOTP (HMAC-SHA-1, dynamic truncation)
// used to check VerifyTOTP without trusting the library it wraps.
func refHOTP(key []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

func TestRefHOTPMatchesRFC(t *testing.T) {
	t.Parallel()
	for _, v := range rfc6238SHA1 {
		if got := refHOTP([]byte("12345678901234567890"), v.unix/30, 8); got != v.code8 {
			t.Errorf("refHOTP at %d: got %s, want %s", v.unix, got, v.code8)
		}
		// The library's HOTP, which VerifyTOTP wraps, agrees at 8 digits too.
		got, err := hotp.GenerateCodeCustom(rfcSecret, uint64(v.step), hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
		if err != nil || got != v.code8 {
			t.Errorf("hotp.GenerateCodeCustom at %d: got %s, %v; want %s", v.unix, got, err, v.code8)
		}
	}
}

func TestVerifyTOTPRFC6238(t *testing.T) {
	t.Parallel()
	for _, v := range rfc6238SHA1 {
		code6 := v.code8[len(v.code8)-6:]
		step, ok := VerifyTOTP(rfcSecret, code6, time.Unix(v.unix, 0).UTC(), 0)
		if !ok || step != v.step {
			t.Errorf("VerifyTOTP(%s at %d) = %d, %v; want %d, true", code6, v.unix, step, ok, v.step)
		}
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	t.Parallel()
	now := time.Unix(1234567890, 0)
	step, ok := VerifyTOTP(rfcSecret, "005924", now, 0)
	if !ok {
		t.Fatalf("first use: got refused, want accepted")
	}
	if s, ok := VerifyTOTP(rfcSecret, "005924", now, step); ok {
		t.Errorf("replay in the same step: got accepted at step %d, want refused", s)
	}
	if s, ok := VerifyTOTP(rfcSecret, "005924", now.Add(29*time.Second), step); ok {
		t.Errorf("replay 29 s later: got accepted at step %d, want refused", s)
	}
	// After a code of step+1 has been used, the code of step (still within
	// the skew window) is refused too.
	key := []byte("12345678901234567890")
	next := refHOTP(key, step+1, 6)
	s2, ok := VerifyTOTP(rfcSecret, next, now, step)
	if !ok || s2 != step+1 {
		t.Fatalf("next step's code: got %d, %v; want %d, true", s2, ok, step+1)
	}
	if s, ok := VerifyTOTP(rfcSecret, "005924", now, s2); ok {
		t.Errorf("older step after newer used: got accepted at step %d, want refused", s)
	}
}

func TestVerifyTOTPSkew(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	now := time.Unix(1700000015, 0)
	current := now.Unix() / 30
	tests := []struct {
		offset int64
		want   bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}}
	for _, tt := range tests {
		code := refHOTP(key, current+tt.offset, 6)
		step, ok := VerifyTOTP(rfcSecret, code, now, 0)
		if ok != tt.want {
			t.Errorf("offset %+d: got ok %v, want %v", tt.offset, ok, tt.want)
		}
		if ok && step != current+tt.offset {
			t.Errorf("offset %+d: got step %d, want %d", tt.offset, step, current+tt.offset)
		}
		if !ok && step != 0 {
			t.Errorf("offset %+d: got step %d on failure, want 0", tt.offset, step)
		}
	}
}

func TestVerifyTOTPInput(t *testing.T) {
	t.Parallel()
	now := time.Unix(59, 0) // code 287082
	tests := []struct {
		name, secret, code string
		want               bool
	}{
		{"plain", rfcSecret, "287082", true},
		{"spaces", rfcSecret, " 287 082 ", true},
		{"lower-case unpadded secret", strings.ToLower(strings.TrimRight(rfcSecret, "=")), "287082", true},
		{"secret with spaces", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", "287082", true},
		{"5 digits", rfcSecret, "28708", false},
		{"7 digits", rfcSecret, "2870820", false},
		{"8-digit RFC code", rfcSecret, "94287082", false},
		{"letter", rfcSecret, "28708a", false},
		{"sign", rfcSecret, "+87082", false},
		{"full-width digits", rfcSecret, "２８７０８２", false},
		{"empty code", rfcSecret, "", false},
		{"wrong code", rfcSecret, "287083", false},
		{"empty secret", "", "287082", false},
		{"not base32", "not base32!", "287082", false},
		{"secret under 128 bits", base32.StdEncoding.EncodeToString([]byte("1234567890")), "287082", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, ok := VerifyTOTP(tt.secret, tt.code, now, 0); ok != tt.want {
				t.Errorf("got ok %v, want %v", ok, tt.want)
			}
		})
	}
	if _, ok := VerifyTOTP(rfcSecret, "287082", time.Unix(-100, 0), -10); ok {
		t.Errorf("time before 1970: got accepted, want refused")
	}
}

func TestNewTOTP(t *testing.T) {
	t.Parallel()
	k, err := NewTOTP("Haven Hotline", "alice@example.org")
	if err != nil {
		t.Fatalf("NewTOTP: got error %v, want nil", err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(k.Secret)
	if err != nil || len(secret) != 20 {
		t.Fatalf("secret decodes to %d bytes (%v), want 20", len(secret), err)
	}
	key, err := otp.NewKeyFromURL(k.URI)
	if err != nil {
		t.Fatalf("URI %q does not parse: %v", k.URI, err)
	}
	if key.Type() != "totp" || key.Issuer() != "Haven Hotline" || key.AccountName() != "alice@example.org" ||
		key.Secret() != k.Secret || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("URI %q: got type %s issuer %q account %q period %d digits %v alg %v, want totp, the inputs, 30, 6, SHA1",
			k.URI, key.Type(), key.Issuer(), key.AccountName(), key.Period(), key.Digits(), key.Algorithm())
	}
	now := time.Now()
	code := refHOTP(secret, now.Unix()/30, 6)
	if step, ok := VerifyTOTP(k.Secret, code, now, 0); !ok || step != now.Unix()/30 {
		t.Errorf("VerifyTOTP of a fresh key's code: got %d, %v; want %d, true", step, ok, now.Unix()/30)
	}
	k2, err := NewTOTP("Haven Hotline", "alice@example.org")
	if err != nil || k2.Secret == k.Secret {
		t.Errorf("two keys: got equal secrets or error %v, want distinct", err)
	}

	for _, in := range [][2]string{{"", "a@example.org"}, {"Haven", ""}, {" ", " "}} {
		if _, err := NewTOTP(in[0], in[1]); err == nil {
			t.Errorf("NewTOTP(%q, %q): got nil error, want one", in[0], in[1])
		}
	}
}

func TestTOTPKeyQRPNG(t *testing.T) {
	t.Parallel()
	k, err := NewTOTP("Haven Hotline", "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.QRPNG(256)
	if err != nil {
		t.Fatalf("QRPNG: got error %v, want nil", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 256 || got.Y != 256 {
		t.Errorf("image size %v, want 256x256", got)
	}
	for _, size := range []int{0, -1, 10, 5000} {
		if _, err := k.QRPNG(size); err == nil {
			t.Errorf("QRPNG(%d): got nil error, want one", size)
		}
	}
	if _, err := (TOTPKey{}).QRPNG(256); err == nil {
		t.Errorf("QRPNG of a zero key: got nil error, want one")
	}
}

func BenchmarkVerifyTOTP(b *testing.B) {
	now := time.Unix(59, 0)
	for b.Loop() {
		VerifyTOTP(rfcSecret, "287082", now, 0)
	}
}
