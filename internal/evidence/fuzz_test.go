package evidence_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
)

// memBackend keeps blobs in memory: fuzzing needs no disk.
type memBackend struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func (m *memBackend) Put(ctx context.Context, key string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[key]; ok {
		return haven.Errorf(haven.KindConflict, "exists")
	}
	m.blobs[key] = b
	return nil
}

func (m *memBackend) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[key]
	if !ok {
		return nil, haven.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memBackend) Delete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, key)
	return nil
}

func (m *memBackend) List(ctx context.Context, fn func(string) error) error { return nil }
func (m *memBackend) Ping(ctx context.Context) error                        { return nil }

func (m *memBackend) set(key string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[key] = b
}

// FuzzOpen stores arbitrary bytes as an item's blob and opens them with an
// arbitrary wrapped key. Open must never panic, and must either fail or,
// only for the genuine ciphertext and key, return the genuine plaintext;
// bytes returned before a failure are a prefix of the genuine plaintext.
func FuzzOpen(f *testing.F) {
	mem := &memBackend{blobs: map[string][]byte{}}
	v := evidence.NewVault(mem, newMaster(f))
	const id = "0193abcd-0000-7000-8000-00000000f022"
	plain := synthetic(3000, 99, nil)
	sealed := seal(f, v, id, plain)
	blob := bytes.Clone(mem.blobs[id])

	f.Add(blob, sealed.WrappedKey)
	f.Add(blob[:len(blob)-1], sealed.WrappedKey)
	f.Add(append(bytes.Clone(blob), 0), sealed.WrappedKey)
	f.Add(blob[:40], sealed.WrappedKey)
	f.Add([]byte{}, sealed.WrappedKey)
	f.Add(blob, []byte{})
	f.Add(blob, sealed.WrappedKey[:len(sealed.WrappedKey)/2])
	f.Add([]byte("\x28not a ciphertext"), []byte("not a key"))

	f.Fuzz(func(t *testing.T, b, wrapped []byte) {
		mem.set(id, bytes.Clone(b))
		rc, err := v.Open(context.Background(), id, wrapped, sealed.SHA256)
		if err != nil {
			if !haven.IsKind(err, haven.KindIntegrity) {
				t.Fatalf("Open error of kind %v, want integrity: %v", haven.ErrorKind(err), err)
			}
			return
		}
		got, err := readAll(rc)
		if err != nil {
			if !haven.IsKind(err, haven.KindIntegrity) {
				t.Fatalf("read error of kind %v, want integrity: %v", haven.ErrorKind(err), err)
			}
			if !isPrefix(got, plain) {
				t.Fatalf("%d bytes before the error are not genuine plaintext", len(got))
			}
			return
		}
		if !bytes.Equal(got, plain) || !bytes.Equal(b, blob) {
			t.Fatalf("read succeeded with %d bytes from a non-genuine blob", len(got))
		}
	})
}
