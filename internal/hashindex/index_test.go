package hashindex

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParsePDQ(t *testing.T) {
	const s = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	h, err := ParsePDQ(s)
	if err != nil {
		t.Fatal(err)
	}
	if h[0] != 0xf8 || h[31] != 0x22 {
		t.Errorf("got bytes %x..%x, want f8..22: bytes in the order of the hex string", h[0], h[31])
	}
	if got := h.String(); got != s {
		t.Errorf("String() = %s, want %s", got, s)
	}
	if u, err := ParsePDQ(toUpper(s)); err != nil || u != h {
		t.Errorf("upper case: got %v, %v", u, err)
	}
	for _, bad := range []string{"", s[:63], s + "0", s[:63] + "g", s[:62] + " 0"} {
		if _, err := ParsePDQ(bad); err == nil {
			t.Errorf("ParsePDQ(%q): no error", bad)
		}
	}
	w := h.words()
	if w.pdq() != h {
		t.Error("words do not round-trip")
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for d := range 257 {
		a := randomPDQ(rng)
		if got := Distance(a, flip(rng, a, d)); got != d {
			t.Fatalf("got %d, want %d", got, d)
		}
	}
}

// TestFilterAndOrder checks per-bank radii, the result order and that an
// entry with several hashes is reported once, at its smallest distance.
func TestFilterAndOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	q := randomPDQ(rng)
	ix := New(Options{DeltaSize: 4})
	ix.AddPDQ(10, 1, flip(rng, q, 20))
	ix.AddPDQ(11, 2, flip(rng, q, 20))
	ix.AddPDQ(12, 2, flip(rng, q, 40))
	ix.AddPDQ(13, 3, flip(rng, q, 5))
	ix.AddPDQ(9, 1, flip(rng, q, 20))
	ix.AddPDQ(14, 1, flip(rng, q, 30))
	ix.AddPDQ(14, 1, flip(rng, q, 2)) // entry 14 has two hashes
	ix.Flush()
	ix.AddPDQ(13, 3, flip(rng, q, 1)) // and entry 13 one more in the delta
	radii := BankRadii{1: 31, 2: 45}
	got := ix.QueryPDQ(q, radii.Max(), radii.Keep)
	want := []Match{{14, 1, 2}, {9, 1, 20}, {10, 1, 20}, {11, 2, 20}, {12, 2, 40}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = ix.QueryPDQ(q, 31, nil)
	want = []Match{{13, 3, 1}, {14, 1, 2}, {9, 1, 20}, {10, 1, 20}, {11, 2, 20}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("no filter (-want +got):\n%s", diff)
	}
	if got := ix.QueryPDQ(q, -1, nil); got != nil {
		t.Errorf("radius -1: got %v", got)
	}
	if got := len(ix.QueryPDQ(q, 1000, nil)); got != 6 {
		t.Errorf("radius 1000: got %d matches, want all 6 entries", got)
	}
	if (BankRadii{}).Max() != -1 {
		t.Error("empty BankRadii.Max is not -1")
	}
}

// TestRemoveDuringBuild removes entries while a background build copies
// them: the removals must hold in the installed segment.
func TestRemoveDuringBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var ix *Index
	var hashes []PDQ
	var once sync.Once
	removedInBuild := map[uint64]bool{}
	ix = New(Options{DeltaSize: 64, MergeFactor: -1, slots: 16, probeAlways: true, afterBuild: func() {
		once.Do(func() {
			for id := uint64(0); id < 64; id += 3 {
				ix.Remove(id)
				removedInBuild[id] = true
			}
			ix.Remove(1)
			ix.AddPDQ(1, 0, hashes[1]) // removed and added again
			delete(removedInBuild, 1)
		})
	}})
	for i := range 64 {
		h := randomPDQ(rng)
		hashes = append(hashes, h)
		ix.AddPDQ(uint64(i), 0, h) // the 64th freezes the delta
	}
	ix.Flush()
	for i, h := range hashes {
		got := ix.QueryPDQ(flip(rng, h, 4), 8, nil)
		want := []Match{{uint64(i), 0, 4}}
		if removedInBuild[uint64(i)] {
			want = nil
		}
		if i == 1 {
			want = []Match{{1, 0, 4}}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entry %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestConcurrentReaders runs queries while a writer adds, removes, and
// merges run in the background. A reader must find every entry that was
// added before its query started and whose removal had not started by the
// end of the query, and must never see an entry whose Remove returned before
// the query started. Run it with -race.
func TestConcurrentReaders(t *testing.T) {
	const n = 3000
	rng := rand.New(rand.NewPCG(11, 12))
	hashes := make([]PDQ, n)
	for i := range hashes {
		hashes[i] = randomPDQ(rng)
	}
	ix := New(Options{DeltaSize: 40, MergeFactor: 2, slots: 16, probeAlways: true})
	var added atomic.Int64 // entries 0..added-1 have been added
	removeStarted := make([]atomic.Bool, n)
	removeDone := make([]atomic.Bool, n)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var queries, hits atomic.Int64
	for r := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(13, uint64(r)))
			for !stop.Load() {
				k := added.Load()
				if k == 0 {
					continue
				}
				i := rng.IntN(int(k))
				wasRemoved := removeDone[i].Load()
				got := ix.QueryPDQ(flip(rng, hashes[i], 3), 8, nil)
				removing := removeStarted[i].Load()
				found := slices.ContainsFunc(got, func(m Match) bool { return m.EntryID == uint64(i) })
				queries.Add(1)
				if found {
					hits.Add(1)
				}
				if wasRemoved && found {
					t.Errorf("entry %d found after its Remove returned", i)
				}
				if !removing && !found {
					t.Errorf("entry %d added before the query and not removed, but not found", i)
				}
				if len(got) > 1 {
					t.Errorf("query for entry %d: got %v, want it alone", i, got)
				}
			}
		})
	}
	for i := range n {
		ix.AddPDQ(uint64(i), 0, hashes[i])
		added.Store(int64(i + 1))
		if i%5 == 4 {
			v := rng.IntN(i)
			if !removeStarted[v].Load() {
				removeStarted[v].Store(true)
				ix.Remove(uint64(v))
				removeDone[v].Store(true)
			}
		}
		if i%1000 == 999 {
			ix.Compact()
		}
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // let readers run between writes
		}
	}
	ix.Flush()
	stop.Store(true)
	wg.Wait()
	st := ix.Stats()
	t.Logf("%d queries, %d hits; segments %d, removed held %d", queries.Load(), hits.Load(), len(st.Segments), st.Removed)
	if queries.Load() < 100 {
		t.Errorf("only %d queries ran", queries.Load())
	}
}
