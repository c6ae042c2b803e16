package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: RFC 6238 with SHA-1, 6 digits and 30-second steps, what
// every authenticator app supports.
const (
	totpPeriod     = 30
	totpDigits     = 6
	totpSecretSize = 20 // bytes: 160 bits, as RFC 4226 recommends
	totpMinSecret  = 16 // bytes accepted by VerifyTOTP: RFC 4226's 128-bit floor
	totpSkew       = 1  // steps accepted either side of the current one
)

// Bounds on the side of the QR code image, in pixels.
const (
	minQRSize = 64
	maxQRSize = 1024
)

// TOTPKey is a newly generated TOTP secret with the means to enrol it in an
// authenticator app. Secret is what the caller stores (encrypted); URI and
// the QR code are shown once, during enrolment.
type TOTPKey struct {
	Secret string // base32, unpadded
	URI    string // otpauth://totp/… for authenticator apps
}

// NewTOTP generates a 160-bit TOTP secret for account (the login e-mail) at
// issuer (the hotline's name as shown in the app). Both must be non-empty.
func NewTOTP(issuer, account string) (TOTPKey, error) {
	if strings.TrimSpace(issuer) == "" || strings.TrimSpace(account) == "" {
		return TOTPKey{}, fmt.Errorf("new totp: issuer and account are required")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  totpSecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("new totp: %w", err)
	}
	return TOTPKey{Secret: key.Secret(), URI: key.URL()}, nil
}

// QRPNG returns k.URI as a PNG image of a QR code, size pixels square
// (64 to 1024).
func (k TOTPKey) QRPNG(size int) ([]byte, error) {
	if size < minQRSize || size > maxQRSize {
		return nil, fmt.Errorf("totp qr code: size %d out of range %d..%d", size, minQRSize, maxQRSize)
	}
	key, err := otp.NewKeyFromURL(k.URI)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	if key.Type() != "totp" || key.Secret() == "" {
		return nil, fmt.Errorf("totp qr code: not a TOTP key URI")
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	return buf.Bytes(), nil
}

// VerifyTOTP reports whether code is the TOTP of secret (base32, as in
// TOTPKey.Secret) at now, allowing one 30-second step of clock skew either
// way, and returns the time step it matched.
//
// code must be exactly 6 ASCII digits once spaces are removed ("123 456" is
// accepted, as apps show it). Steps at or before lastStep are refused, so a
// code is accepted once only: the caller stores the returned step as the new
// lastStep (0 for a user who has never used a code). Comparisons are constant
// time. On failure step is 0.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	canon, ok := canonicalSecret(secret)
	if !ok {
		return 0, false
	}
	current := now.Unix() / totpPeriod
	opts := hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	matched := int64(0)
	// Every candidate is computed and compared, matched or not, so the time
	// taken does not depend on which step matched.
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(canon, uint64(s), opts)
		if err != nil {
			return 0, false
		}
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		if eq && s > lastStep && s > matched {
			matched = s
		}
	}
	if matched == 0 {
		return 0, false
	}
	return matched, true
}

// canonicalSecret decodes a base32 secret written in either case, with or
// without padding or spaces, and returns it unpadded in upper case. Secrets
// shorter than 128 bits are refused.
func canonicalSecret(secret string) (string, bool) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(secret), " ", ""))
	s = strings.TrimRight(s, "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(raw) < totpMinSecret {
		return "", false
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw), true
}
