// Package backup makes consistent, encrypted backups of a running Haven
// deployment (its database and its evidence) and restores them into an
// empty location, with a drill that proves the restored copy is whole.
//
// A backup is a folder:
//
//	haven-backup.json   clear header: format, backup ID, engine, master-key
//	                    fingerprint and the backup's data key wrapped by the
//	                    master key (nothing else is in clear)
//	manifest.enc        the manifest (record counts, blob list with sizes and
//	                    SHA-256 of the ciphertext, tombstones), encrypted
//	database.enc        the database snapshot (SQLite image or pg_dump custom
//	                    archive), encrypted as it is produced
//	evidence/<key>      each evidence blob, copied as the ciphertext it
//	                    already is at rest
//
// The database and the manifest are encrypted with a fresh streaming-AEAD
// data key per backup (Tink AES-256-GCM-HKDF, 1 MiB segments), wrapped by
// the master key exactly as evidence data keys are (docs/decisions/0018).
// Nothing is ever written to disk in clear: the SQLite snapshot is taken
// into memory with the online backup API and pg_dump's output is piped
// straight into the encrypting writer.
package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
)

// Format is the value of Header.Format this package writes and reads.
const Format = "haven-backup/1"

// File names inside a backup folder.
const (
	HeaderFile   = "haven-backup.json"
	ManifestFile = "manifest.enc"
	DatabaseFile = "database.enc"
	EvidenceDir  = "evidence"
)

// maxManifest bounds the decrypted manifest (a blob entry is ~150 bytes:
// 1 GiB is about seven million items).
const maxManifest = 1 << 30

// Header is the clear part of a backup: enough to find the key, nothing
// about the content.
type Header struct {
	Format    string    `json:"format"`
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Engine    string    `json:"engine"`
	// MasterKey is the fingerprint (public key IDs) of the master keyset
	// that wrapped the data key: restore needs a keyset holding that key.
	MasterKey  string `json:"master_key"`
	WrappedKey []byte `json:"wrapped_key"`
}

// Manifest is the encrypted description of a backup's content.
type Manifest struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Engine    string    `json:"engine"`
	// Database describes the plaintext of database.enc.
	Database FileSum `json:"database"`
	// Tables counts the rows of every table in the snapshot.
	Tables map[string]int64 `json:"tables"`
	// Blobs are the evidence blobs copied, with the SHA-256 of their
	// ciphertext as copied.
	Blobs []Blob `json:"blobs"`
	// Tombstones are every item shredded at the end of the backup,
	// including those shredded after the database snapshot was taken.
	Tombstones []Tombstone `json:"tombstones"`
	// Missing lists live items whose blob could not be found while
	// backing up (an integrity problem of the source deployment).
	Missing []string `json:"missing,omitempty"`
	// Finished is when the evidence copy ended.
	Finished time.Time `json:"finished"`
}

// FileSum is the size and SHA-256 of some bytes.
type FileSum struct {
	Size   int64  `json:"size"`
	SHA256 []byte `json:"sha256"`
}

// Blob is one evidence blob in a backup.
type Blob struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 []byte `json:"sha256"`
}

// Tombstone records a crypto-shredded item.
type Tombstone struct {
	ItemID     string    `json:"item_id"`
	ShreddedAt time.Time `json:"shredded_at"`
	Reason     string    `json:"reason"`
}

// keyAD is the associated data of the wrapped backup key; partAD that of
// each encrypted part. Both bind to the backup ID, so parts of two backups
// cannot be swapped.
func keyAD(id string) []byte        { return []byte("haven-backup-key:" + id) }
func partAD(id, name string) []byte { return []byte("haven-backup:" + id + ":" + name) }

// kek presents the master key as a tink.AEAD for Tink's encrypted-keyset
// format, as the evidence vault does.
type kek struct{ w evidence.KeyWrapper }

func (k kek) Encrypt(p, ad []byte) ([]byte, error) { return k.w.Wrap(p, ad) }
func (k kek) Decrypt(c, ad []byte) ([]byte, error) { return k.w.Unwrap(c, ad) }

// newDataKey returns a fresh streaming AEAD and its keyset wrapped by w.
func newDataKey(w evidence.KeyWrapper, id string) (tink.StreamingAEAD, []byte, error) {
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return nil, nil, fmt.Errorf("new backup key: %w", err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek{w}, keyAD(id)); err != nil {
		return nil, nil, fmt.Errorf("wrap backup key: %w", err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, nil, fmt.Errorf("new backup key: %w", err)
	}
	return sa, buf.Bytes(), nil
}

// openDataKey unwraps a backup's data key.
func openDataKey(w evidence.KeyWrapper, id string, wrapped []byte) (tink.StreamingAEAD, error) {
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), kek{w}, keyAD(id))
	if err != nil {
		return nil, &haven.Error{Kind: haven.KindIntegrity, Err: err,
			Message: "the backup's key does not unwrap with this master key (a different or retired master key, or an altered header)"}
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, &haven.Error{Kind: haven.KindIntegrity, Message: "the backup's key is not a streaming key", Err: err}
	}
	return sa, nil
}

// readHeader reads and checks the header of the backup in dir.
func readHeader(dir string) (*Header, error) {
	b, err := os.ReadFile(filepath.Join(dir, HeaderFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a Haven backup (no %s)", dir, HeaderFile)
		}
		return nil, fmt.Errorf("read backup header: %w", err)
	}
	var h Header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("read backup header: %w", err)
	}
	if h.Format != Format {
		return nil, fmt.Errorf("backup format %q is not %q", h.Format, Format)
	}
	if h.Engine != "sqlite" && h.Engine != "postgres" {
		return nil, fmt.Errorf("backup header: unknown engine %q", h.Engine)
	}
	return &h, nil
}

// encryptFile creates path (0600, never replacing a file) and returns a
// writer of its plaintext; Close finishes the ciphertext and syncs.
func encryptFile(sa tink.StreamingAEAD, path string, ad []byte) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	enc, err := sa.NewEncryptingWriter(f, ad)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &encFile{f: f, enc: enc}, nil
}

type encFile struct {
	f   *os.File
	enc io.WriteCloser
}

func (e *encFile) Write(p []byte) (int, error) { return e.enc.Write(p) }

func (e *encFile) Close() error {
	err := e.enc.Close()
	if err == nil {
		err = e.f.Sync()
	}
	return errors.Join(err, e.f.Close())
}

// decryptFile opens path and returns a reader of its plaintext. A reader
// error of kind haven.KindIntegrity means the file was altered.
func decryptFile(sa tink.StreamingAEAD, path string, ad []byte) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	dec, err := sa.NewDecryptingReader(f, ad)
	if err != nil {
		f.Close()
		return nil, &haven.Error{Kind: haven.KindIntegrity, Message: filepath.Base(path) + " does not decrypt (altered or not part of this backup)", Err: err}
	}
	return &decFile{f: f, dec: dec, name: filepath.Base(path)}, nil
}

type decFile struct {
	f    *os.File
	dec  io.Reader
	name string
}

func (d *decFile) Read(p []byte) (int, error) {
	n, err := d.dec.Read(p)
	if err != nil && err != io.EOF {
		err = &haven.Error{Kind: haven.KindIntegrity, Message: d.name + " failed authentication (altered, truncated or not part of this backup)", Err: err}
	}
	return n, err
}

func (d *decFile) Close() error { return d.f.Close() }
