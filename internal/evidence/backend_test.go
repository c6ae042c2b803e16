package evidence_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
)

// TestBackendConformance is the contract every Backend meets.
func TestBackendConformance(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			b := s.backend
			if err := b.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			k1, k2 := newID(), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			for _, k := range []string{k1, k2} {
				if err := b.Put(ctx, k, bytes.NewReader([]byte("ciphertext of "+k))); err != nil {
					t.Fatalf("Put %s: %v", k, err)
				}
			}
			if got := getBlob(t, b, k1); string(got) != "ciphertext of "+k1 {
				t.Fatalf("Get = %q", got)
			}
			err := b.Put(ctx, k1, bytes.NewReader([]byte("replacement")))
			wantKind(t, "Put over an existing blob", err, haven.KindConflict)
			if got := getBlob(t, b, k1); string(got) != "ciphertext of "+k1 {
				t.Fatalf("blob changed by a refused Put: %q", got)
			}

			got := listKeys(t, b)
			slices.Sort(got)
			want := []string{k1, k2}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("List = %v, want %v", got, want)
			}
			stop := errors.New("stop")
			calls := 0
			if err := b.List(ctx, func(string) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
				t.Fatalf("List with a failing fn: err %v after %d calls, want stop after 1", err, calls)
			}

			missing := newID()
			_, err = b.Get(ctx, missing)
			wantKind(t, "Get of a missing blob", err, haven.KindNotFound)
			if err := b.Delete(ctx, missing); err != nil {
				t.Fatalf("Delete of a missing blob: %v", err)
			}
			if err := b.Delete(ctx, k2); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			_, err = b.Get(ctx, k2)
			wantKind(t, "Get after Delete", err, haven.KindNotFound)

			// A failing reader or an ended context stores nothing.
			k3 := newID()
			r := io.MultiReader(bytes.NewReader(make([]byte, 3<<20)), iotest.ErrReader(errors.New("synthetic")))
			if err := b.Put(ctx, k3, r); err == nil {
				t.Fatal("Put with a failing reader succeeded")
			}
			_, err = b.Get(ctx, k3)
			wantKind(t, "Get after a failed Put", err, haven.KindNotFound)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := b.Put(cctx, k3, bytes.NewReader([]byte("x"))); err == nil {
				t.Fatal("Put with an ended context succeeded")
			}
			_, err = b.Get(ctx, k3)
			wantKind(t, "Get after a cancelled Put", err, haven.KindNotFound)
			if got := listKeys(t, b); !slices.Equal(got, []string{k1}) {
				t.Fatalf("List after failed puts = %v, want [%s]", got, k1)
			}

			// Keys that are not ours never reach the storage.
			for _, k := range []string{"", "abc", "../../../etc/passwd", "0193abcd-0000-7000-8000-00000000000A", "0193abcd/0000", "0193abcd-00-", "-0193abcd00", "0193abcd 0000", "0193abcd\x000000", string(make([]byte, 65))} {
				if err := b.Put(ctx, k, bytes.NewReader(nil)); !haven.IsKind(err, haven.KindInvalid) {
					t.Errorf("Put(%q): err = %v, want kind invalid", k, err)
				}
				if _, err := b.Get(ctx, k); !haven.IsKind(err, haven.KindInvalid) {
					t.Errorf("Get(%q): err = %v, want kind invalid", k, err)
				}
				if err := b.Delete(ctx, k); !haven.IsKind(err, haven.KindInvalid) {
					t.Errorf("Delete(%q): err = %v, want kind invalid", k, err)
				}
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"0193abcd", "0193abcd-0000-7000-8000-00000000000a", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if err := evidence.CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range []string{"", "0193abc", "0193abcD", "0193abcd-", "0193abc-d", "-0193abcd", "0193abcd.", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"} {
		if err := evidence.CheckKey(k); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("CheckKey(%q) = %v, want kind invalid", k, err)
		}
	}
}

func TestLocalLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	l, err := evidence.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Dir() != dir {
		t.Fatalf("Dir = %s, want %s", l.Dir(), dir)
	}
	key := "0193abcd-0000-7000-8000-0000000000e7"
	if err := l.Put(context.Background(), key, bytes.NewReader([]byte("ciphertext"))); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                           0o700,
		filepath.Join(dir, "e7"):      0o700,
		filepath.Join(dir, "e7", key): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %#o, want %#o", path, got, want)
		}
	}
	// Stray files (an interrupted put, anything else) are not listed.
	for _, name := range []string{filepath.Join("e7", ".put-123"), filepath.Join("e7", "README"), filepath.Join("e7", "0193abcd-0000-7000-8000-0000000000ff"), "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := listKeys(t, l); !slices.Equal(got, []string{key}) {
		t.Fatalf("List = %v, want [%s]", got, key)
	}
}

func TestNewLocalOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := evidence.NewLocal(f); err == nil {
		t.Fatal("NewLocal on a file succeeded")
	}
}
