package hashindex

import (
	"math/rand/v2"
	"testing"
	"testing/quick"

	"github.com/google/go-cmp/cmp"
)

// TestSlotRadiusPigeonhole checks the sharpened pigeonhole rule behind the
// probe radii: whenever slot distances add up to at most r, some slot is
// within the sub-radius slotRadius gives it.
func TestSlotRadiusPigeonhole(t *testing.T) {
	f := func(seed uint64, mRaw, rRaw uint8) bool {
		rng := rand.New(rand.NewPCG(seed, 0))
		m := minSlots + int(mRaw)%(maxSlots-minSlots+1)
		r := int(rRaw) % 97
		layout := makeLayout(m, 0).slots
		// Spread a random total of at most r bits over the slots.
		d := make([]int, m)
		for range rng.IntN(r + 1) {
			i := rng.IntN(m)
			if d[i] < layout[i].width {
				d[i]++
			}
		}
		for i := range d {
			if d[i] <= slotRadius(i, m, r) {
				return true
			}
		}
		return false
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 20000, Rand: nil}); err != nil {
		t.Error(err)
	}
}

// TestSlotValue checks bit extraction against a bit-by-bit reading, for
// slots that cross word boundaries too.
func TestSlotValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		h := randomPDQ(rng)
		w := h.words()
		for _, m := range []int{11, 12, 13, 16, 21, 32, 64} {
			for _, s := range makeLayout(m, 0).slots {
				var want uint32
				for b := s.start; b < s.start+s.width; b++ {
					bit := h[b/8] >> (7 - b%8) & 1
					want = want<<1 | uint32(bit)
				}
				if got := s.value(&w); got != want {
					t.Fatalf("slot %+v of %s: got %#x, want %#x", s, h, got, want)
				}
			}
		}
	}
	for _, m := range []int{11, 12, 13, 16, 21, 32, 64} {
		sum := 0
		for _, s := range makeLayout(m, 0).slots {
			sum += s.width
		}
		if sum != 256 {
			t.Errorf("layout of %d slots covers %d bits, want 256", m, sum)
		}
	}
}

// corpus is random data with planted near-duplicates for property tests.
type corpus struct {
	hashes  []PDQ // by entry ID - 1
	queries []PDQ
}

// newCorpus makes n random hashes plus, for n/20 of them, 1 to 8 copies
// at distances 0 to 40; and queries: near copies (0 to 24 bits) of random
// corpus hashes, and random hashes.
func newCorpus(rng *rand.Rand, n, queries int) *corpus {
	c := &corpus{}
	for range n {
		h := randomPDQ(rng)
		c.hashes = append(c.hashes, h)
		if rng.IntN(20) == 0 {
			for range 1 + rng.IntN(8) {
				c.hashes = append(c.hashes, flip(rng, h, rng.IntN(41)))
			}
		}
	}
	for i := range queries {
		if i%4 == 3 {
			c.queries = append(c.queries, randomPDQ(rng))
			continue
		}
		c.queries = append(c.queries, flip(rng, c.hashes[rng.IntN(len(c.hashes))], rng.IntN(25)))
	}
	return c
}

var propertyRadii = []int{0, 8, 16, 31, 32, 40, 48, 64}

// checkBrute compares every query at every radius with a brute-force scan
// of live.
func checkBrute(t *testing.T, ix *Index, c *corpus, live map[uint64][]PDQ, banks map[uint64]uint32) {
	t.Helper()
	bad := 0
	for qi, q := range c.queries {
		for _, r := range propertyRadii {
			want := brute(live, banks, q, r)
			got := ix.QueryPDQ(q, r, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("query %d radius %d (-brute +index):\n%s", qi, r, diff)
				if bad++; bad > 5 {
					t.FailNow()
				}
			}
		}
	}
}

// TestQueryMatchesBruteForce compares the index with a brute-force scan on
// random data with planted near-duplicates: loaded into one segment, and
// built up by adds and removes over many segments, frozen deltas and the
// delta, with automatic merges, and after Compact.
func TestQueryMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		n     int
		check int // compare with brute force every check adds
	}{
		{"auto", Options{DeltaSize: 300}, 6000, 2500},
		{"auto/probe", Options{DeltaSize: 300, probeAlways: true}, 6000, 2500},
		{"slots11/low8", Options{DeltaSize: 200, slots: 11, low: 8, probeAlways: true}, 3000, 1000},
		{"slots13/low5", Options{DeltaSize: 200, slots: 13, low: 5, probeAlways: true}, 3000, 1000},
		{"slots16", Options{DeltaSize: 200, slots: 16, probeAlways: true}, 3000, 1000},
		{"slots32/low3", Options{DeltaSize: 200, slots: 32, low: 3, probeAlways: true}, 3000, 1000},
		{"slots64/nomerge", Options{DeltaSize: 100, slots: 64, probeAlways: true, MergeFactor: -1}, 3000, 1000},
		{"slots16/low2/merge2", Options{DeltaSize: 50, MergeFactor: 2, slots: 16, low: 2, probeAlways: true}, 2000, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled && tc.name != "auto" && tc.name != "slots16/low2/merge2" {
				t.Skip("a subset under -race")
			}
			t.Parallel()
			rng := rand.New(rand.NewPCG(42, uint64(len(tc.name))))
			c := newCorpus(rng, tc.n, 60)
			banks := map[uint64]uint32{}
			all := map[uint64][]PDQ{}
			for i, h := range c.hashes {
				id := uint64(i + 1)
				all[id], banks[id] = []PDQ{h}, uint32(rng.IntN(5))
			}

			t.Run("loaded", func(t *testing.T) {
				ix := New(tc.opts)
				err := ix.Load(func(yield func(Entry, error) bool) {
					// Not in ID order, to exercise the sort.
					for _, i := range rng.Perm(len(c.hashes)) {
						id := uint64(i + 1)
						if !yield(Entry{ID: id, Bank: banks[id], Algo: AlgoPDQ, PDQ: c.hashes[i]}, nil) {
							return
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				checkBrute(t, ix, c, all, banks)
			})

			t.Run("incremental", func(t *testing.T) {
				ix := New(tc.opts)
				live := map[uint64][]PDQ{}
				nextID := uint64(len(c.hashes) + 1)
				for i, h := range c.hashes {
					id := uint64(i + 1)
					ix.AddPDQ(id, banks[id], h)
					live[id] = []PDQ{h}
					switch rng.IntN(10) {
					case 0: // remove a random earlier entry
						victim := uint64(1 + rng.IntN(i+1))
						want := len(live[victim])
						if got := ix.Remove(victim); got != want {
							t.Fatalf("Remove(%d) = %d, want %d", victim, got, want)
						}
						delete(live, victim)
					case 1: // re-add a removed entry with a new hash
						victim := uint64(1 + rng.IntN(i+1))
						if _, ok := live[victim]; !ok {
							nh := flip(rng, all[victim][0], rng.IntN(20))
							ix.AddPDQ(victim, banks[victim], nh)
							live[victim] = []PDQ{nh}
						}
					case 2: // an entry with two hashes
						id := nextID
						nextID++
						banks[id] = 9
						h2 := flip(rng, h, rng.IntN(30))
						ix.AddPDQ(id, 9, h)
						ix.AddPDQ(id, 9, h2)
						live[id] = []PDQ{h, h2}
					}
					if (i+1)%tc.check == 0 {
						checkBrute(t, ix, c, live, banks)
					}
				}
				st := ix.Stats()
				t.Logf("segments %d, pending %d, delta %d, removed %d", len(st.Segments), st.Pending, st.Delta, st.Removed)
				checkBrute(t, ix, c, live, banks)
				ix.Flush()
				checkBrute(t, ix, c, live, banks)
				ix.Compact()
				st = ix.Stats()
				if len(st.Segments) != 1 || st.Removed != 0 || st.Delta != 0 || st.Pending != 0 {
					t.Errorf("after Compact got %+v, want one segment, nothing removed or pending", st)
				}
				checkBrute(t, ix, c, live, banks)
			})
		})
	}
}
