package hashindex

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/haven-hotline/haven"
)

// digests returns the MD5, SHA-1 and SHA-256 of a synthetic file n.
func digests(n int) map[Algo][]byte {
	data := fmt.Appendf(nil, "synthetic file %d", n)
	m, s1, s2 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	return map[Algo][]byte{AlgoMD5: m[:], AlgoSHA1: s1[:], AlgoSHA256: s2[:]}
}

var exactAlgos = []Algo{AlgoMD5, AlgoSHA1, AlgoSHA256}

// TestExact adds digests by Load, through the delta and into segments,
// with duplicates across entries, and removes some.
func TestExact(t *testing.T) {
	for _, name := range []string{"delta", "segments", "loaded", "compacted"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ix := New(Options{DeltaSize: 16, MergeFactor: 3})
			const files = 200
			// Entry i holds file i; entry 1000+i holds file i too (the
			// same file in another bank) for i%10 == 0.
			add := func(id uint64, bank uint32, file int) {
				for _, a := range exactAlgos {
					if err := ix.AddExact(id, bank, a, digests(file)[a]); err != nil {
						t.Fatal(err)
					}
				}
			}
			switch name {
			case "loaded":
				err := ix.Load(func(yield func(Entry, error) bool) {
					for i := files - 1; i >= 0; i-- {
						for _, a := range exactAlgos {
							if !yield(Entry{ID: uint64(i), Bank: 1, Algo: a, Digest: digests(i)[a]}, nil) {
								return
							}
							if i%10 == 0 && !yield(Entry{ID: 1000 + uint64(i), Bank: 2, Algo: a, Digest: digests(i)[a]}, nil) {
								return
							}
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			default:
				for i := range files {
					add(uint64(i), 1, i)
					if i%10 == 0 {
						add(1000+uint64(i), 2, i)
					}
				}
			}
			if name == "segments" || name == "compacted" {
				ix.Flush()
			}
			for i := 0; i < files; i += 7 {
				if got := ix.Remove(uint64(i)); got != 3 {
					t.Fatalf("Remove(%d) = %d, want 3", i, got)
				}
			}
			if name == "compacted" {
				ix.Compact()
			}
			for i := range files + 5 {
				var want []Match
				if i < files && i%7 != 0 {
					want = append(want, Match{EntryID: uint64(i), Bank: 1})
				}
				if i < files && i%10 == 0 {
					want = append(want, Match{EntryID: 1000 + uint64(i), Bank: 2})
				}
				for _, a := range exactAlgos {
					got := ix.LookupExact(a, digests(i)[a])
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%s of file %d (-want +got):\n%s", a, i, diff)
					}
				}
			}
			st := ix.Stats()
			wantLive := files - (files+6)/7 + files/10
			if st.MD5 != wantLive || st.SHA1 != wantLive || st.SHA256 != wantLive || st.PDQ != 0 {
				t.Errorf("got stats %+v, want %d live of each exact algorithm", st, wantLive)
			}
			// Removing and adding again makes the entry findable again.
			ix.Remove(3)
			add(3, 4, 3)
			if got := ix.LookupExact(AlgoSHA1, digests(3)[AlgoSHA1]); !cmp.Equal(got, []Match{{EntryID: 3, Bank: 4}}) {
				t.Errorf("re-added entry: got %v", got)
			}
		})
	}
}

func TestExactInvalid(t *testing.T) {
	ix := New(Options{})
	for _, tc := range []struct {
		algo   Algo
		digest []byte
	}{
		{AlgoMD5, make([]byte, 20)},
		{AlgoSHA1, make([]byte, 16)},
		{AlgoSHA256, nil},
		{AlgoPDQ, make([]byte, 32)},
		{0, make([]byte, 16)},
	} {
		if err := ix.AddExact(1, 1, tc.algo, tc.digest); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("AddExact(%v, %d bytes): got %v, want an invalid error", tc.algo, len(tc.digest), err)
		}
		if got := ix.LookupExact(tc.algo, tc.digest); got != nil {
			t.Errorf("LookupExact(%v, %d bytes): got %v, want nothing", tc.algo, len(tc.digest), got)
		}
	}
	err := ix.Load(func(yield func(Entry, error) bool) {
		yield(Entry{ID: 1, Algo: AlgoPDQ}, nil)
		yield(Entry{ID: 2, Algo: AlgoMD5, Digest: []byte{1}}, nil)
	})
	if !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("Load with a short digest: got %v, want an invalid error", err)
	}
	errDB := errors.New("connection lost")
	err = ix.Load(func(yield func(Entry, error) bool) {
		if yield(Entry{ID: 1, Algo: AlgoPDQ}, nil) {
			yield(Entry{}, errDB)
		}
	})
	if !errors.Is(err, errDB) {
		t.Errorf("Load from a failing source: got %v, want %v", err, errDB)
	}
	if st := ix.Stats(); st.PDQ != 0 || st.MD5 != 0 || len(st.Segments) != 0 {
		t.Errorf("a failed Load added hashes: %+v", st)
	}
}

func TestParseDigest(t *testing.T) {
	for _, tc := range []struct {
		algo Algo
		in   string
		ok   bool
	}{
		{AlgoMD5, "d41d8cd98f00b204e9800998ecf8427e", true},
		{AlgoMD5, "D41D8CD98F00B204E9800998ECF8427E", true},
		{AlgoMD5, "d41d8cd98f00b204e9800998ecf8427", false},
		{AlgoMD5, "d41d8cd98f00b204e9800998ecf8427g", false},
		{AlgoSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", true},
		{AlgoSHA1, "d41d8cd98f00b204e9800998ecf8427e", false},
		{AlgoSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true},
		{AlgoSHA256, " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false},
		{AlgoPDQ, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false},
	} {
		d, err := ParseDigest(tc.algo, tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseDigest(%v, %q): got error %v, want ok %v", tc.algo, tc.in, err, tc.ok)
			continue
		}
		if tc.ok && fmt.Sprintf("%x", d) != toLower(tc.in) {
			t.Errorf("ParseDigest(%v, %q) = %x", tc.algo, tc.in, d)
		}
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
