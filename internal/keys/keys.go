package keys

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/aead/aesgcm"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/haven-hotline/haven"
)

// maxKeysetSize bounds what Parse and LoadFile accept. A keyset of a few
// AES-256-GCM keys is well under 1 KiB; a large bound still keeps garbage
// input from costing much memory.
const maxKeysetSize = 1 << 20

// Master is the master key: a Tink AEAD keyset of AES-256-GCM keys held in
// memory. It is immutable and safe for concurrent use; Rotate and Retire
// return a new Master.
type Master struct {
	handle *keyset.Handle
	aead   tink.AEAD
}

// Generate returns a new Master holding one fresh AES-256-GCM key.
func Generate() (*Master, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return newMaster(h)
}

// newMaster checks that h holds only AES-256-GCM keys and a primary key, and
// builds the AEAD primitive once.
func newMaster(h *keyset.Handle) (*Master, error) {
	if _, err := h.Primary(); err != nil {
		return nil, invalidf("master key: keyset has no primary key")
	}
	for i := 0; i < h.Len(); i++ {
		e, err := h.Entry(i)
		if err != nil {
			return nil, invalidf("master key: keyset entry %d is unreadable", i)
		}
		k, ok := e.Key().(*aesgcm.Key)
		if !ok {
			return nil, invalidf("master key: key %d is not an AES-GCM key", e.KeyID())
		}
		p, ok := k.Parameters().(*aesgcm.Parameters)
		if !ok || p.KeySizeInBytes() != 32 {
			return nil, invalidf("master key: key %d is not a 256-bit AES-GCM key", e.KeyID())
		}
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("master key: build AEAD: %w", err)
	}
	return &Master{handle: h, aead: a}, nil
}

func invalidf(format string, args ...any) *haven.Error {
	return haven.Errorf(haven.KindInvalid, format, args...)
}

// Parse reads a Master from b: a cleartext Tink JSON keyset, or the base64
// (standard or URL alphabet, padded or not) of one, as found in an
// environment variable. Surrounding white space is ignored. Malformed input
// gives an error of kind haven.KindInvalid whose text never quotes the input.
func Parse(b []byte) (*Master, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, invalidf("master key: empty input")
	}
	if len(b) > maxKeysetSize {
		return nil, invalidf("master key: input larger than %d bytes", maxKeysetSize)
	}
	if b[0] != '{' {
		dec, ok := decodeBase64(b)
		if !ok {
			return nil, invalidf("master key: neither a Tink JSON keyset nor base64 of one")
		}
		b = bytes.TrimSpace(dec)
		if len(b) == 0 || b[0] != '{' {
			return nil, invalidf("master key: base64 input does not decode to a Tink JSON keyset")
		}
	}
	// NOTE: insecurecleartextkeyset.Read hides the JSON parser's error, which
	// is what we want: protojson errors can quote the input, i.e. key bytes.
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(b)))
	if err != nil {
		return nil, invalidf("master key: not a valid Tink JSON keyset")
	}
	return newMaster(h)
}

func decodeBase64(b []byte) ([]byte, bool) {
	s := string(b)
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if dec, err := enc.DecodeString(s); err == nil {
			return dec, true
		}
	}
	return nil, false
}

// LoadFile reads a Master from the keyset file at path. The file must be a
// regular file that neither group nor others can read or write (mode 0600 or
// stricter), like an SSH private key. A missing file gives an error that
// matches fs.ErrNotExist.
func LoadFile(path string) (*Master, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, invalidf("load master key: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, invalidf("load master key: %s has mode %#o; it must not be accessible to group or others (chmod 600)", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeysetSize+1))
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load master key from %s: %w", path, err)
	}
	return m, nil
}

// LoadOrCreateFile loads the Master from path, or, when the file does not
// exist, generates one and writes it there (parent directories 0700, file
// 0600). created reports whether a new key was made. Creation never replaces
// a file that appeared concurrently: the loser of a race loads the winner's
// key.
func LoadOrCreateFile(path string) (m *Master, created bool, err error) {
	m, err = LoadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return m, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create master key: %w", err)
	}
	m, err = Generate()
	if err != nil {
		return nil, false, err
	}
	switch err := writeFile(path, m, false); {
	case err == nil:
		return m, true, nil
	case errors.Is(err, fs.ErrExist):
		m, err = LoadFile(path)
		return m, false, err
	default:
		return nil, false, fmt.Errorf("create master key: %w", err)
	}
}

// WriteFile writes m to path as a cleartext Tink JSON keyset with mode 0600,
// atomically: a temporary file in the same directory is written, synced and
// renamed over path, and the directory is synced. It replaces an existing
// file, as a rotation must.
func WriteFile(path string, m *Master) error {
	if err := writeFile(path, m, true); err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}

// writeFile writes m next to path and then renames it into place (replace)
// or hard-links it there, failing with fs.ErrExist if path exists.
func writeFile(path string, m *Master, replace bool) (err error) {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".keyset-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil || !replace {
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp, path)
	} else {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Marshal returns m as a cleartext Tink JSON keyset, the format Parse and
// LoadFile read. The result is secret key material: never log it.
func (m *Master) Marshal() ([]byte, error) {
	if m == nil {
		return nil, errors.New("marshal master key: nil master key")
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(m.handle, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, fmt.Errorf("marshal master key: %w", err)
	}
	return buf.Bytes(), nil
}

// Wrap encrypts plaintext (a data key or another secret) with the primary
// key, binding it to associatedData, which Unwrap must be given again.
func (m *Master) Wrap(plaintext, associatedData []byte) ([]byte, error) {
	if m == nil {
		return nil, errors.New("wrap: nil master key")
	}
	ct, err := m.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	return ct, nil
}

// Unwrap decrypts a ciphertext made by Wrap with any key of the keyset. A
// wrong associatedData, a retired or unknown key, or a tampered ciphertext
// gives an error of kind haven.KindIntegrity.
func (m *Master) Unwrap(ciphertext, associatedData []byte) ([]byte, error) {
	if m == nil {
		return nil, errors.New("unwrap: nil master key")
	}
	pt, err := m.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, &haven.Error{
			Kind:    haven.KindIntegrity,
			Message: "unwrap: ciphertext does not authenticate under the master key (wrong key, wrong associated data or tampered)",
			Err:     err,
		}
	}
	return pt, nil
}

// Rotate returns a new Master whose keyset has a fresh AES-256-GCM primary
// key and still holds every key of m, so ciphertexts wrapped by m still
// unwrap. m itself is unchanged.
func (m *Master) Rotate() (*Master, error) {
	mgr := keyset.NewManagerFromHandle(m.handle)
	id, err := mgr.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("rotate master key: %w", err)
	}
	if err := mgr.SetPrimary(id); err != nil {
		return nil, fmt.Errorf("rotate master key: %w", err)
	}
	h, err := mgr.Handle()
	if err != nil {
		return nil, fmt.Errorf("rotate master key: %w", err)
	}
	return newMaster(h)
}

// Retire returns a new Master holding only m's primary key. Ciphertexts
// wrapped under any other key no longer unwrap, so call it only after every
// wrapped secret has been re-wrapped under the primary.
func (m *Master) Retire() (*Master, error) {
	primary := m.PrimaryKeyID()
	mgr := keyset.NewManagerFromHandle(m.handle)
	for _, id := range m.KeyIDs() {
		if id == primary {
			continue
		}
		if err := mgr.Delete(id); err != nil {
			return nil, fmt.Errorf("retire master keys: %w", err)
		}
	}
	h, err := mgr.Handle()
	if err != nil {
		return nil, fmt.Errorf("retire master keys: %w", err)
	}
	return newMaster(h)
}

// PrimaryKeyID returns the Tink key ID of the primary key, the one Wrap
// uses.
func (m *Master) PrimaryKeyID() uint32 {
	return m.handle.KeysetInfo().GetPrimaryKeyId()
}

// KeyIDs returns the Tink key IDs of every key in the keyset, in keyset
// order. Key IDs are public: they prefix every ciphertext.
func (m *Master) KeyIDs() []uint32 {
	infos := m.handle.KeysetInfo().GetKeyInfo()
	ids := make([]uint32, 0, len(infos))
	for _, ki := range infos {
		ids = append(ids, ki.GetKeyId())
	}
	return ids
}

// Fingerprint returns a short identifier of the keyset for logs and audit
// events: the hex key IDs, primary first, joined by "+", e.g.
// "5e1f07a2+0c93d4b8". It reveals nothing about the key material.
func (m *Master) Fingerprint() string {
	primary := m.PrimaryKeyID()
	parts := []string{fmt.Sprintf("%08x", primary)}
	for _, id := range m.KeyIDs() {
		if id != primary {
			parts = append(parts, fmt.Sprintf("%08x", id))
		}
	}
	return strings.Join(parts, "+")
}
