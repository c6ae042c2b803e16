package keys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/keys"
)

func generate(t *testing.T) *keys.Master {
	t.Helper()
	m, err := keys.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return m
}

func TestWrapUnwrapRoundTrip(t *testing.T) {
	t.Parallel()
	m := generate(t)
	for _, pt := range [][]byte{nil, {}, []byte("synthetic data key 0123456789abcdef"), bytes.Repeat([]byte{0xa5}, 4096)} {
		ct, err := m.Wrap(pt, []byte("item-1"))
		if err != nil {
			t.Fatalf("Wrap: %v", err)
		}
		if len(pt) > 0 && bytes.Contains(ct, pt) {
			t.Fatalf("ciphertext contains the plaintext")
		}
		got, err := m.Unwrap(ct, []byte("item-1"))
		if err != nil {
			t.Fatalf("Unwrap: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Unwrap = %x, want %x", got, pt)
		}
	}
}

func TestUnwrapFailures(t *testing.T) {
	t.Parallel()
	m := generate(t)
	other := generate(t)
	ct, err := m.Wrap([]byte("secret"), []byte("item-1"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name string
		m    *keys.Master
		ct   []byte
		ad   []byte
	}{
		{"wrong AD", m, ct, []byte("item-2")},
		{"empty AD", m, ct, nil},
		{"unknown key", other, ct, []byte("item-1")},
		{"flipped byte", m, flipped, []byte("item-1")},
		{"truncated", m, ct[:len(ct)-1], []byte("item-1")},
		{"empty", m, nil, []byte("item-1")},
		{"garbage", m, []byte("not a ciphertext at all"), []byte("item-1")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Unwrap(tc.ct, tc.ad)
			if !haven.IsKind(err, haven.KindIntegrity) {
				t.Fatalf("Unwrap error = %v (kind %v), want kind integrity", err, haven.ErrorKind(err))
			}
		})
	}
}

// keyIDOf returns the key ID in a Tink-prefixed ciphertext (0x01 + 4 bytes).
func keyIDOf(t *testing.T, ct []byte) uint32 {
	t.Helper()
	if len(ct) < 5 || ct[0] != 0x01 {
		t.Fatalf("ciphertext has no Tink prefix")
	}
	return binary.BigEndian.Uint32(ct[1:5])
}

func TestRotateAndRetire(t *testing.T) {
	t.Parallel()
	m1 := generate(t)
	ad := []byte("item-1")
	old, err := m1.Wrap([]byte("old secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := m1.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if m2.PrimaryKeyID() == m1.PrimaryKeyID() {
		t.Fatalf("Rotate kept the primary key %08x", m1.PrimaryKeyID())
	}
	if got := m2.KeyIDs(); len(got) != 2 || !slices.Contains(got, m1.PrimaryKeyID()) || !slices.Contains(got, m2.PrimaryKeyID()) {
		t.Fatalf("KeyIDs after rotate = %v, want old %08x and new %08x", got, m1.PrimaryKeyID(), m2.PrimaryKeyID())
	}
	if got := m1.KeyIDs(); len(got) != 1 {
		t.Fatalf("Rotate changed the original: KeyIDs = %v", got)
	}
	if pt, err := m2.Unwrap(old, ad); err != nil || string(pt) != "old secret" {
		t.Fatalf("Unwrap old ciphertext after rotate = %q, %v", pt, err)
	}
	fresh, err := m2.Wrap([]byte("new secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if got := keyIDOf(t, fresh); got != m2.PrimaryKeyID() {
		t.Fatalf("new ciphertext uses key %08x, want primary %08x", got, m2.PrimaryKeyID())
	}
	if _, err := m1.Unwrap(fresh, ad); !haven.IsKind(err, haven.KindIntegrity) {
		t.Fatalf("old master unwrapped a ciphertext of the new key: %v", err)
	}

	m3, err := m2.Retire()
	if err != nil {
		t.Fatalf("Retire: %v", err)
	}
	if got := m3.KeyIDs(); !slices.Equal(got, []uint32{m2.PrimaryKeyID()}) {
		t.Fatalf("KeyIDs after retire = %v, want [%08x]", got, m2.PrimaryKeyID())
	}
	if _, err := m3.Unwrap(old, ad); !haven.IsKind(err, haven.KindIntegrity) {
		t.Fatalf("Unwrap with a retired key: err = %v, want kind integrity", err)
	}
	if pt, err := m3.Unwrap(fresh, ad); err != nil || string(pt) != "new secret" {
		t.Fatalf("Unwrap after retire = %q, %v", pt, err)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	m := generate(t)
	m2, err := m.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	fp := m2.Fingerprint()
	parts := strings.Split(fp, "+")
	if len(parts) != 2 || len(parts[0]) != 8 || len(parts[1]) != 8 {
		t.Fatalf("Fingerprint = %q, want two 8-digit hex IDs", fp)
	}
	if want := strings.Split(m2.Fingerprint(), "+")[0]; want != parts[0] {
		t.Fatalf("Fingerprint not stable")
	}
	js, err := m2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), fp) {
		// Key IDs appear as decimal in the JSON; the hex fingerprint must not
		// be a substring of the key material encoding either way.
		t.Fatalf("fingerprint found verbatim in the keyset JSON")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	m := generate(t)
	js, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"json":            js,
		"json with space": append(append([]byte("\n  "), js...), "\n"...),
		"base64 std":      []byte(base64.StdEncoding.EncodeToString(js)),
		"base64 raw url":  []byte(base64.RawURLEncoding.EncodeToString(js)),
		"base64 newline":  []byte(base64.StdEncoding.EncodeToString(js) + "\n"),
	}
	ct, err := m.Wrap([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got, err := keys.Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.PrimaryKeyID() != m.PrimaryKeyID() {
				t.Fatalf("PrimaryKeyID = %08x, want %08x", got.PrimaryKeyID(), m.PrimaryKeyID())
			}
			if pt, err := got.Unwrap(ct, nil); err != nil || string(pt) != "x" {
				t.Fatalf("parsed key cannot unwrap: %q, %v", pt, err)
			}
		})
	}
}

func TestParseGarbage(t *testing.T) {
	t.Parallel()
	m := generate(t)
	js, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// A keyset of a non-AEAD type must be refused even though Tink reads it.
	hmacKeyset := []byte(`{"primaryKeyId":1,"key":[{"keyData":{"typeUrl":"type.googleapis.com/google.crypto.tink.HmacKey","value":"EgQIAxAgGiAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==","keyMaterialType":"SYMMETRIC"},"status":"ENABLED","keyId":1,"outputPrefixType":"TINK"}]}`)
	inputs := map[string][]byte{
		"empty":            nil,
		"spaces":           []byte("  \n\t"),
		"not json":         []byte("hello world"),
		"truncated json":   js[:len(js)/2],
		"json array":       []byte("[1,2,3]"),
		"empty object":     []byte("{}"),
		"no keys":          []byte(`{"primaryKeyId":1,"key":[]}`),
		"base64 of junk":   []byte(base64.StdEncoding.EncodeToString([]byte("junk junk junk"))),
		"binary":           {0, 1, 2, 3, 0xff, 0xfe},
		"hmac keyset":      hmacKeyset,
		"huge":             bytes.Repeat([]byte("A"), 2<<20),
		"wrong key length": []byte(`{"primaryKeyId":7,"key":[{"keyData":{"typeUrl":"type.googleapis.com/google.crypto.tink.AesGcmKey","value":"GhAAAAAAAAAAAAAAAAAAAAAA","keyMaterialType":"SYMMETRIC"},"status":"ENABLED","keyId":7,"outputPrefixType":"TINK"}]}`),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			got, err := keys.Parse(in)
			if err == nil {
				t.Fatalf("Parse accepted %s input (primary %08x)", name, got.PrimaryKeyID())
			}
			if !haven.IsKind(err, haven.KindInvalid) {
				t.Fatalf("Parse error kind = %v, want invalid: %v", haven.ErrorKind(err), err)
			}
			if !strings.HasPrefix(err.Error(), "master key:") {
				t.Fatalf("Parse error %q does not say what failed", err)
			}
		})
	}
}

// TestParseErrorDoesNotQuoteInput checks that a broken keyset's error
// message never echoes its content (which would be key material).
func TestParseErrorDoesNotQuoteInput(t *testing.T) {
	t.Parallel()
	m := generate(t)
	js, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(js, []byte(`"value"`))
	if i < 0 {
		t.Fatalf("no value field in %d-byte keyset", len(js))
	}
	broken := bytes.Clone(js)
	copy(broken[i+10:], "!!!!") // corrupt inside the base64 key value
	_, err = keys.Parse(broken)
	if err == nil {
		t.Fatal("Parse accepted a corrupted keyset")
	}
	val := js[i+9 : i+30]
	if strings.Contains(err.Error(), string(val[:8])) {
		t.Fatalf("error %q quotes the key material", err)
	}
}

func TestWriteAndLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "master.json")
	m := generate(t)
	if err := keys.WriteFile(path, m); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("keyset file mode = %#o, want 0600", got)
	}
	got, err := keys.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if got.Fingerprint() != m.Fingerprint() {
		t.Fatalf("loaded %s, want %s", got.Fingerprint(), m.Fingerprint())
	}

	// Replacing (rotation) keeps the mode and leaves no temp file behind.
	m2, err := m.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteFile(path, m2); err != nil {
		t.Fatalf("WriteFile (replace): %v", err)
	}
	got, err = keys.LoadFile(path)
	if err != nil || got.Fingerprint() != m2.Fingerprint() {
		t.Fatalf("after replace: LoadFile = %v, %v; want %s", got, err, m2.Fingerprint())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the keyset file", len(entries))
	}
}

func TestLoadFileRefusesLoosePermissions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.json")
	m := generate(t)
	if err := keys.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.LoadFile(path); !haven.IsKind(err, haven.KindInvalid) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("LoadFile of a 0644 file: err = %v, want an invalid-kind error telling to chmod 600", err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	t.Parallel()
	_, err := keys.LoadFile(filepath.Join(t.TempDir(), "nope.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadFile of a missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets", "haven")
	path := filepath.Join(dir, "master.json")
	m, created, err := keys.LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateFile (first) = created %v, err %v; want created", created, err)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Fatalf("mode of %s = %#o, want %#o", filepath.Base(p), got, want)
		}
	}
	m2, created, err := keys.LoadOrCreateFile(path)
	if err != nil || created {
		t.Fatalf("LoadOrCreateFile (second) = created %v, err %v; want loaded", created, err)
	}
	if m2.Fingerprint() != m.Fingerprint() {
		t.Fatalf("second call loaded %s, want %s", m2.Fingerprint(), m.Fingerprint())
	}
}

func TestLoadOrCreateFileRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.json")
	const n = 8
	fps := make([]string, n)
	var createdCount int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m, created, err := keys.LoadOrCreateFile(path)
			if err != nil {
				t.Errorf("LoadOrCreateFile: %v", err)
				return
			}
			fps[i] = m.Fingerprint()
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d callers created a key, want 1", createdCount)
	}
	for _, fp := range fps {
		if fp != fps[0] {
			t.Fatalf("callers got different keys: %v", fps)
		}
	}
}
