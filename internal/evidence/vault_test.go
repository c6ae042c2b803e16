package evidence_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/keys"
)

// Tink AES256_GCM_HKDF_1MB layout: a 40-byte header (length byte, 32-byte
// salt, 7-byte nonce prefix), then 1 MiB ciphertext segments, each with a
// 16-byte tag; the first segment also holds the header.
const (
	segment      = 1 << 20
	headerLen    = 40
	tagLen       = 16
	firstSegData = segment - headerLen - tagLen // plaintext bytes in segment 1
	segData      = segment - tagLen             // in the next ones
)

func TestSealOpenRoundTrip(t *testing.T) {
	sizes := []int{
		0, 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 5 << 20,
		firstSegData - 1, firstSegData, firstSegData + 1, firstSegData + segData,
	}
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		for mode := range 3 {
			evidence.SetSideHashes(v, mode)
			for _, n := range sizes {
				if mode > 0 && n > 1<<20+1 {
					continue // the big sizes once are enough
				}
				t.Run(fmt.Sprintf("side%d/%d", mode, n), func(t *testing.T) {
					data := synthetic(n, uint64(n), nil)
					id := newID()
					sealed := seal(t, v, id, data)
					wantMD5, wantSHA1, wantSHA256 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
					if sealed.ItemID != id || sealed.Size != int64(n) {
						t.Fatalf("Sealed = {%s, %d}, want {%s, %d}", sealed.ItemID, sealed.Size, id, n)
					}
					if !bytes.Equal(sealed.MD5, wantMD5[:]) || !bytes.Equal(sealed.SHA1, wantSHA1[:]) || !bytes.Equal(sealed.SHA256, wantSHA256[:]) {
						t.Fatalf("hashes differ from crypto/md5, crypto/sha1, crypto/sha256")
					}
					if len(sealed.WrappedKey) == 0 {
						t.Fatal("no wrapped key")
					}
					blob := getBlob(t, s.backend, id)
					if n >= 16 && bytes.Contains(blob, data[:min(n, 64)]) {
						t.Fatal("blob contains plaintext")
					}
					rc, err := v.Open(context.Background(), id, sealed.WrappedKey, sealed.SHA256)
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					got, err := readAll(rc)
					if err != nil {
						t.Fatalf("read: %v", err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("Open returned %d bytes that differ from the %d sealed", len(got), n)
					}
					if err := v.Verify(context.Background(), id, sealed.WrappedKey, sealed.SHA256); err != nil {
						t.Fatalf("Verify: %v", err)
					}
				})
			}
		}
	})
}

// TestOpenSmallReads reads with 1-byte and odd-sized reads, as a slow
// HTTP writer might.
func TestOpenSmallReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		data := synthetic(firstSegData+1000, 7, nil)
		id := newID()
		sealed := seal(t, v, id, data)
		rc, err := v.Open(context.Background(), id, sealed.WrappedKey, sealed.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if err := iotest.TestReader(rc, data); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCanaryNotInClear(t *testing.T) {
	marker := canary(t)
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		for _, n := range []int{len(marker), 4096, 3 << 20} {
			data := synthetic(n, 1, marker)
			if n == len(marker) {
				data = bytes.Clone(marker)
			}
			id := newID()
			sealed := seal(t, v, id, data)
			if err := v.Verify(context.Background(), id, sealed.WrappedKey, sealed.SHA256); err != nil {
				t.Fatal(err)
			}
		}
		// A failed seal leaves no clear bytes either.
		_, err := v.Seal(context.Background(), newID(), bytes.NewReader(synthetic(3<<20, 2, marker)), 2<<20)
		wantKind(t, "Seal over the limit", err, haven.KindTooLarge)

		if hits := filesContaining(t, s.dataDir, marker); len(hits) > 0 {
			t.Fatalf("marker found in clear in the store: %v", hits)
		}
		if hits := filesContaining(t, os.TempDir(), marker); len(hits) > 0 {
			t.Fatalf("marker found in clear under %s: %v", os.TempDir(), hits)
		}
		// The scan itself works: a planted marker is found.
		plant := t.TempDir() + "/planted"
		if err := os.WriteFile(plant, append([]byte("xx"), marker...), 0o600); err != nil {
			t.Fatal(err)
		}
		if hits := filesContaining(t, os.TempDir(), marker); !slices.Contains(hits, plant) {
			t.Fatalf("scan did not find the planted marker (hits %v)", hits)
		}
		os.Remove(plant)
	})
}

func TestSwappedBlobsFail(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		for _, sizes := range [][2]int{{4096, 4096}, {100, 3 << 20}} {
			a, b := synthetic(sizes[0], 10, nil), synthetic(sizes[1], 11, nil)
			idA, idB := newID(), newID()
			sa, sb := seal(t, v, idA, a), seal(t, v, idB, b)
			blobA, blobB := getBlob(t, s.backend, idA), getBlob(t, s.backend, idB)
			s.replace(t, idA, blobB)
			s.replace(t, idB, blobA)
			for _, it := range []struct {
				id     string
				sealed evidence.Sealed
			}{{idA, sa}, {idB, sb}} {
				rc, err := v.Open(context.Background(), it.id, it.sealed.WrappedKey, it.sealed.SHA256)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				got, err := readAll(rc)
				wantKind(t, "read of a swapped blob", err, haven.KindIntegrity)
				if len(got) != 0 {
					t.Fatalf("read of a swapped blob returned %d bytes", len(got))
				}
				wantKind(t, "Verify of a swapped blob", v.Verify(context.Background(), it.id, it.sealed.WrappedKey, it.sealed.SHA256), haven.KindIntegrity)
			}
			// Swapping the wrapped keys (or renaming an item) fails too.
			_, err := v.Open(context.Background(), idA, sb.WrappedKey, sb.SHA256)
			wantKind(t, "Open with another item's key", err, haven.KindIntegrity)
		}
	})
}

// tamper is one way to damage a blob of n bytes.
type tamper struct {
	name string
	fn   func(blob []byte) []byte
}

func flipAt(i int) func([]byte) []byte {
	return func(b []byte) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x01
		return b
	}
}

func truncateTo(n int) func([]byte) []byte {
	return func(b []byte) []byte { return bytes.Clone(b[:n]) }
}

func tampers(n int) []tamper {
	last := n - 1
	return []tamper{
		{"flip header length byte", flipAt(0)},
		{"flip salt", flipAt(5)},
		{"flip nonce prefix", flipAt(headerLen - 1)},
		{"flip first ciphertext byte", flipAt(headerLen)},
		{"flip mid first segment", flipAt(segment / 2)},
		{"flip first segment tag", flipAt(segment - 1)},
		{"flip start of second segment", flipAt(segment)},
		{"flip mid second segment", flipAt(segment + segment/2)},
		{"flip mid last segment", flipAt((last + 2*segment) / 2)},
		{"flip last byte", flipAt(last)},
		{"truncate to nothing", truncateTo(0)},
		{"truncate to 1 byte", truncateTo(1)},
		{"truncate to header", truncateTo(headerLen)},
		{"truncate at segment boundary", truncateTo(segment)},
		{"truncate at second boundary", truncateTo(2 * segment)},
		{"truncate 1 byte", truncateTo(n - 1)},
		{"truncate tag", truncateTo(n - tagLen)},
		{"append 1 byte", func(b []byte) []byte { return append(bytes.Clone(b), 0) }},
		{"append 1 MiB", func(b []byte) []byte { return append(bytes.Clone(b), make([]byte, segment)...) }},
		{"append last segment again", func(b []byte) []byte { return append(bytes.Clone(b), b[2*segment:]...) }},
		{"drop middle segment", func(b []byte) []byte { return append(bytes.Clone(b[:segment]), b[2*segment:]...) }},
		{"swap two segments", func(b []byte) []byte {
			out := bytes.Clone(b[:segment])
			out = append(out, b[2*segment:]...)
			return append(out, b[segment:2*segment]...)
		}},
	}
}

func TestTamperedBlobFails(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		data := synthetic(2*segment+segment/2, 20, nil) // three segments
		id := newID()
		sealed := seal(t, v, id, data)
		blob := getBlob(t, s.backend, id)
		for _, tc := range tampers(len(blob)) {
			t.Run(tc.name, func(t *testing.T) {
				s.replace(t, id, tc.fn(blob))
				defer s.replace(t, id, blob)
				rc, err := v.Open(context.Background(), id, sealed.WrappedKey, sealed.SHA256)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				got, err := readAll(rc)
				wantKind(t, "read of a tampered blob", err, haven.KindIntegrity)
				t.Logf("%d bytes, then: %v", len(got), err)
				if !isPrefix(got, data) {
					t.Fatalf("read returned %d bytes that are not a prefix of the plaintext", len(got))
				}
				wantKind(t, "Verify", v.Verify(context.Background(), id, sealed.WrappedKey, sealed.SHA256), haven.KindIntegrity)
			})
		}
		// Restored, it reads again.
		if err := v.Verify(context.Background(), id, sealed.WrappedKey, sealed.SHA256); err != nil {
			t.Fatalf("Verify of the restored blob: %v", err)
		}
	})
}

func TestWrongSHA256(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		data := synthetic(3000, 30, nil)
		id := newID()
		sealed := seal(t, v, id, data)
		wrong := bytes.Clone(sealed.SHA256)
		wrong[31] ^= 1
		rc, err := v.Open(context.Background(), id, sealed.WrappedKey, wrong)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, err := readAll(rc)
		wantKind(t, "read with a wrong SHA-256", err, haven.KindIntegrity)
		if !bytes.Equal(got, data) {
			t.Fatalf("read returned %d bytes, want the %d authenticated ones before the error", len(got), len(data))
		}
		wantKind(t, "Verify with a wrong SHA-256", v.Verify(context.Background(), id, sealed.WrappedKey, wrong), haven.KindIntegrity)
		_, err = v.Open(context.Background(), id, sealed.WrappedKey, wrong[:16])
		wantKind(t, "Open with a short SHA-256", err, haven.KindInvalid)
	})
}

func TestSealLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		cases := []struct {
			size, limit int
			ok          bool
		}{
			{1000, 1000, true},
			{1001, 1000, false},
			{1 << 20, 1 << 20, true},
			{1<<20 + 1, 1 << 20, false},
			{5 << 20, 3 << 20, false},
			{0, 1, true},
		}
		for _, tc := range cases {
			id := newID()
			_, err := v.Seal(context.Background(), id, bytes.NewReader(synthetic(tc.size, 40, nil)), int64(tc.limit))
			if tc.ok {
				if err != nil {
					t.Fatalf("Seal of %d bytes with limit %d: %v", tc.size, tc.limit, err)
				}
				continue
			}
			wantKind(t, fmt.Sprintf("Seal of %d bytes with limit %d", tc.size, tc.limit), err, haven.KindTooLarge)
			if _, err := s.backend.Get(context.Background(), id); !haven.IsKind(err, haven.KindNotFound) {
				t.Fatalf("blob left after a limit breach: Get error = %v", err)
			}
		}
		_, err := v.Seal(context.Background(), newID(), bytes.NewReader(nil), 0)
		wantKind(t, "Seal with limit 0", err, haven.KindInvalid)
	})
}

func TestSealFailuresLeaveNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		before := listKeys(t, s.backend)

		// The input fails half-way (a dropped upload).
		boom := errors.New("synthetic read failure")
		r := io.MultiReader(bytes.NewReader(synthetic(3<<20, 50, nil)), iotest.ErrReader(boom))
		_, err := v.Seal(context.Background(), newID(), r, 1<<30)
		if !errors.Is(err, boom) {
			t.Fatalf("Seal with a failing reader: err = %v, want the read error", err)
		}

		// The context ends half-way.
		ctx, cancel := context.WithCancel(context.Background())
		cr := &cancelAfter{r: bytes.NewReader(synthetic(5<<20, 51, nil)), n: 2 << 20, cancel: cancel}
		_, err = v.Seal(ctx, newID(), cr, 1<<30)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Seal with a cancelled context: err = %v, want context.Canceled", err)
		}

		if after := listKeys(t, s.backend); !slices.Equal(after, before) {
			t.Fatalf("blobs after failed seals = %v, want %v", after, before)
		}
		if s.name == "local" {
			if hits := filesNamed(t, s.dataDir, ".put-"); len(hits) > 0 {
				t.Fatalf("temporary files left: %v", hits)
			}
		}

		// Invalid IDs never reach the backend.
		for _, id := range []string{"", "../../etc/passwd", "0193ABCD-0000", "short", "0193abcd/../x", "-0193abcd-0000"} {
			_, err := v.Seal(context.Background(), id, bytes.NewReader([]byte("x")), 10)
			wantKind(t, fmt.Sprintf("Seal with item ID %q", id), err, haven.KindInvalid)
		}

		// An existing item is refused and left intact.
		data := synthetic(5000, 52, nil)
		id := newID()
		sealed := seal(t, v, id, data)
		_, err = v.Seal(context.Background(), id, bytes.NewReader([]byte("other")), 1<<20)
		wantKind(t, "Seal over an existing item", err, haven.KindConflict)
		if err := v.Verify(context.Background(), id, sealed.WrappedKey, sealed.SHA256); err != nil {
			t.Fatalf("existing item damaged by a refused Seal: %v", err)
		}
	})
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func filesNamed(t *testing.T, root, substr string) []string {
	t.Helper()
	var hits []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() {
			hits = append(hits, filesNamed(t, root+"/"+e.Name(), substr)...)
		} else if bytes.Contains([]byte(e.Name()), []byte(substr)) {
			hits = append(hits, e.Name())
		}
	}
	return hits
}

func TestRotationRewrap(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v1 *evidence.Vault, m *keys.Master) {
		type item struct {
			id     string
			data   []byte
			sealed evidence.Sealed
		}
		var items []item
		for i, n := range []int{0, 10, 70000} {
			data := synthetic(n, uint64(60+i), nil)
			id := newID()
			items = append(items, item{id, data, seal(t, v1, id, data)})
		}

		m2, err := m.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		v2 := evidence.NewVault(s.backend, m2)
		rewrapped := make([][]byte, len(items))
		for i, it := range items {
			// Before rewrapping, the rotated key still opens old items.
			if err := v2.Verify(context.Background(), it.id, it.sealed.WrappedKey, it.sealed.SHA256); err != nil {
				t.Fatalf("Verify with the rotated key before rewrap: %v", err)
			}
			rewrapped[i], err = v2.Rewrap(it.id, it.sealed.WrappedKey)
			if err != nil {
				t.Fatalf("Rewrap: %v", err)
			}
			if bytes.Equal(rewrapped[i], it.sealed.WrappedKey) {
				t.Fatal("Rewrap returned the same bytes")
			}
			// The old master alone cannot unwrap the new wrapping.
			err := v1.Verify(context.Background(), it.id, rewrapped[i], it.sealed.SHA256)
			wantKind(t, "Verify of a rewrapped key with the old master", err, haven.KindIntegrity)
			// Rewrap binds to the item too.
			_, err = v2.Rewrap(items[(i+1)%len(items)].id, it.sealed.WrappedKey)
			wantKind(t, "Rewrap under another item ID", err, haven.KindIntegrity)
		}

		m3, err := m2.Retire()
		if err != nil {
			t.Fatal(err)
		}
		v3 := evidence.NewVault(s.backend, m3)
		for i, it := range items {
			rc, err := v3.Open(context.Background(), it.id, rewrapped[i], it.sealed.SHA256)
			if err != nil {
				t.Fatalf("Open after retire: %v", err)
			}
			got, err := readAll(rc)
			if err != nil || !bytes.Equal(got, it.data) {
				t.Fatalf("read after retire: %d bytes, %v; want %d bytes", len(got), err, len(it.data))
			}
			_, err = v3.Open(context.Background(), it.id, it.sealed.WrappedKey, it.sealed.SHA256)
			wantKind(t, "Open with a key wrapped by a retired master key", err, haven.KindIntegrity)
			_, err = v3.Rewrap(it.id, it.sealed.WrappedKey)
			wantKind(t, "Rewrap with a retired master key", err, haven.KindIntegrity)
		}
	})
}

func TestMissingOrBadWrappedKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		id := newID()
		sealed := seal(t, v, id, synthetic(2000, 70, nil))
		bad := bytes.Clone(sealed.WrappedKey)
		bad[len(bad)-1] ^= 1
		other := newMaster(t)
		for name, key := range map[string][]byte{
			"nil":     nil,
			"empty":   {},
			"flipped": bad,
			"garbage": []byte("not a wrapped key"),
			"short":   sealed.WrappedKey[:10],
		} {
			_, err := v.Open(context.Background(), id, key, sealed.SHA256)
			wantKind(t, "Open with a "+name+" key", err, haven.KindIntegrity)
			wantKind(t, "Verify with a "+name+" key", v.Verify(context.Background(), id, key, sealed.SHA256), haven.KindIntegrity)
			_, err = v.Rewrap(id, key)
			wantKind(t, "Rewrap of a "+name+" key", err, haven.KindIntegrity)
		}
		_, err := evidence.NewVault(s.backend, other).Open(context.Background(), id, sealed.WrappedKey, sealed.SHA256)
		wantKind(t, "Open with another master key", err, haven.KindIntegrity)
	})
}

func TestDeleteAndNotFound(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store, v *evidence.Vault, _ *keys.Master) {
		id := newID()
		sealed := seal(t, v, id, synthetic(2000, 80, nil))
		if !slices.Contains(listKeys(t, s.backend), id) {
			t.Fatalf("List does not show %s", id)
		}
		if err := v.Delete(context.Background(), id); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := v.Delete(context.Background(), id); err != nil {
			t.Fatalf("Delete again: %v", err)
		}
		_, err := v.Open(context.Background(), id, sealed.WrappedKey, sealed.SHA256)
		wantKind(t, "Open of a deleted item", err, haven.KindNotFound)
		if slices.Contains(listKeys(t, s.backend), id) {
			t.Fatalf("List still shows %s", id)
		}
		wantKind(t, "Delete with a bad ID", v.Delete(context.Background(), "../x"), haven.KindInvalid)
	})
}
