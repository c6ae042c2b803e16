package keys_test

import (
	"encoding/base64"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/keys"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and what it
// accepts must be a usable master key whose Marshal output parses back to the
// same keys.
func FuzzParse(f *testing.F) {
	// A fixed, synthetic test keyset (never used outside tests).
	const testKeyset = `{"primaryKeyId":1931667682,"key":[{"keyData":{"typeUrl":"type.googleapis.com/google.crypto.tink.AesGcmKey","value":"GiBWyUfGgYk3RTRhj/LIUzSudIWlyjCftCOypTr0jCNSLg==","keyMaterialType":"SYMMETRIC"},"status":"ENABLED","keyId":1931667682,"outputPrefixType":"TINK"}]}`
	f.Add([]byte(testKeyset))
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte(testKeyset))))
	f.Add([]byte(`{"primaryKeyId":1,"key":[]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte("not a keyset"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := keys.Parse(b)
		if err != nil {
			if !haven.IsKind(err, haven.KindInvalid) {
				t.Fatalf("Parse error of kind %v, want invalid: %v", haven.ErrorKind(err), err)
			}
			return
		}
		ct, err := m.Wrap([]byte("synthetic"), []byte("ad"))
		if err != nil {
			t.Fatalf("Wrap with a parsed key: %v", err)
		}
		if pt, err := m.Unwrap(ct, []byte("ad")); err != nil || string(pt) != "synthetic" {
			t.Fatalf("Unwrap with a parsed key = %q, %v", pt, err)
		}
		js, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		m2, err := keys.Parse(js)
		if err != nil {
			t.Fatalf("Parse(Marshal()) : %v", err)
		}
		if m2.Fingerprint() != m.Fingerprint() {
			t.Fatalf("round trip changed keys: %s, want %s", m2.Fingerprint(), m.Fingerprint())
		}
	})
}
