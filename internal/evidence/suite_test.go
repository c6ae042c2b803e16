package evidence_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/evidence/s3"
	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
	"github.com/haven-hotline/haven/internal/keys"
)

// store is one backend under test, with what the tests need to look at the
// bytes it put on disk.
type store struct {
	name    string
	backend evidence.Backend
	// dataDir holds everything the backend wrote to disk.
	dataDir string
	// replace overwrites the stored blob of key with b, as an attacker with
	// write access to the storage would.
	replace func(t *testing.T, key string, b []byte)
}

// stores returns a fresh Local backend and a fresh S3 backend (versitygw).
func stores(t *testing.T) []store {
	t.Helper()
	dir := t.TempDir()
	local, err := evidence.NewLocal(dir)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	out := []store{{
		name:    "local",
		backend: local,
		dataDir: dir,
		replace: func(t *testing.T, key string, b []byte) {
			t.Helper()
			path := filepath.Join(dir, key[len(key)-2:], key)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatalf("overwrite blob file: %v", err)
			}
		},
	}}

	srv := s3test.StartServer(t)
	b, err := s3.New(context.Background(), srv.Config)
	if err != nil {
		t.Fatalf("s3.New: %v", err)
	}
	out = append(out, store{
		name:    "s3",
		backend: b,
		dataDir: srv.Dir,
		replace: func(t *testing.T, key string, blob []byte) {
			t.Helper()
			ctx := context.Background()
			if err := b.Delete(ctx, key); err != nil {
				t.Fatalf("delete object: %v", err)
			}
			if err := b.Put(ctx, key, bytes.NewReader(blob)); err != nil {
				t.Fatalf("put object: %v", err)
			}
		},
	})
	return out
}

// forEachStore runs fn as a subtest per backend, with a vault on a fresh
// master key.
func forEachStore(t *testing.T, fn func(t *testing.T, s store, v *evidence.Vault, m *keys.Master)) {
	t.Helper()
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			m := newMaster(t)
			fn(t, s, evidence.NewVault(s.backend, m), m)
		})
	}
}

func newMaster(t testing.TB) *keys.Master {
	t.Helper()
	m, err := keys.Generate()
	if err != nil {
		t.Fatalf("keys.Generate: %v", err)
	}
	return m
}

// newID returns a fresh item ID.
func newID() string { return haven.NewID() }

// canary returns a marker made at run time, so it is found in no test
// binary or other file, only where this run put it.
func canary(t testing.TB) []byte {
	b := make([]byte, 8)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte("HAVEN-CANARY-" + hex.EncodeToString(b))
}

// synthetic returns n deterministic pseudo-random bytes (synthetic test
// data, never real material), with marker written at the start, the middle
// and the end when it fits.
func synthetic(n int, seed uint64, marker []byte) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	r.Read(b)
	if len(marker) > 0 && n >= 3*len(marker) {
		copy(b, marker)
		copy(b[n/2:], marker)
		copy(b[n-len(marker):], marker)
	}
	return b
}

func seal(t testing.TB, v *evidence.Vault, id string, data []byte) evidence.Sealed {
	t.Helper()
	s, err := v.Seal(context.Background(), id, bytes.NewReader(data), 1<<30)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

// readAll reads rc to the end and closes it.
func readAll(rc io.ReadCloser) ([]byte, error) {
	defer rc.Close()
	return io.ReadAll(rc)
}

// getBlob returns the stored ciphertext of key.
func getBlob(t *testing.T, b evidence.Backend, key string) []byte {
	t.Helper()
	rc, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	blob, err := readAll(rc)
	if err != nil {
		t.Fatalf("read blob: %v", err)
	}
	return blob
}

func listKeys(t *testing.T, b evidence.Backend) []string {
	t.Helper()
	var got []string
	if err := b.List(context.Background(), func(k string) error { got = append(got, k); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

// filesContaining returns the regular files under root whose content
// contains marker. Unreadable files and files vanishing meanwhile are
// skipped: root may be shared with other processes.
func filesContaining(t *testing.T, root string, marker []byte) []string {
	t.Helper()
	var hits []string
	buf := make([]byte, 1<<20)
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		carry := 0
		for {
			n, err := f.Read(buf[carry:])
			if n > 0 {
				chunk := buf[:carry+n]
				if bytes.Contains(chunk, marker) {
					hits = append(hits, path)
					return nil
				}
				keep := min(len(marker)-1, len(chunk))
				copy(buf, chunk[len(chunk)-keep:])
				carry = keep
			}
			if err != nil {
				return nil
			}
		}
	})
	return hits
}

func wantKind(t *testing.T, what string, err error, kind haven.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want kind %v", what, kind)
	}
	if got := haven.ErrorKind(err); got != kind {
		t.Fatalf("%s: error kind %v, want %v: %v", what, got, kind, err)
	}
}

// isPrefix reports whether got is a prefix of want (what a reader may have
// returned before failing).
func isPrefix(got, want []byte) bool {
	return len(got) <= len(want) && bytes.Equal(got, want[:len(got)])
}
