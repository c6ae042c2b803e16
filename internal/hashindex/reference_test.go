package hashindex

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pair is one (needle, haystack) match of the reference list.
type pair struct{ needle, hay, dist int }

// TestReferenceR31 checks the index against the upstream MIH regression
// vectors: at radius 31 the pairs must be exactly expected-matches-r31.csv.
// It runs with the whole haystack in one loaded segment, and spread over
// several segments, frozen deltas and the delta with removed decoys, for
// several slot layouts.
func TestReferenceR31(t *testing.T) {
	dir := sharedIndexDir(t)
	hay := readHashes(t, filepath.Join(dir, "haystack.txt"))
	needles := readHashes(t, filepath.Join(dir, "needles.txt"))
	want := readPairs(t, filepath.Join(dir, "expected-matches-r31.csv"))
	if len(hay) != 1350 || len(needles) != 100 || len(want) != 250 {
		t.Fatalf("got %d haystack, %d needles, %d pairs, want 1350, 100, 250", len(hay), len(needles), len(want))
	}
	// Entry IDs are not line numbers, to catch a mix-up of the two.
	const idBase = 1_000_000
	for _, l := range []struct{ slots, low int }{{0, 0}, {8, 8}, {11, 4}, {11, 8}, {12, 0}, {16, 0}, {16, 6}, {32, 0}, {64, 0}} {
		slots := l.slots
		t.Run(fmt.Sprintf("loaded/slots=%d/low=%d", l.slots, l.low), func(t *testing.T) {
			ix := New(Options{slots: l.slots, low: l.low, probeAlways: true})
			err := ix.Load(func(yield func(Entry, error) bool) {
				for i, h := range hay {
					if !yield(Entry{ID: idBase + uint64(i), Bank: uint32(i % 3), Algo: AlgoPDQ, PDQ: h}, nil) {
						return
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if st := ix.Stats(); len(st.Segments) != 1 || st.PDQ != len(hay) {
				t.Fatalf("got %+v, want one segment of %d", st, len(hay))
			}
			checkPairs(t, ix, needles, want, idBase)
		})
		if slots > 0 && 256/slots-l.low > 16 {
			continue // 64 MiB of offsets per segment or more: slow for small segments
		}
		t.Run(fmt.Sprintf("spread/slots=%d/low=%d", l.slots, l.low), func(t *testing.T) {
			ix := New(Options{DeltaSize: 97, MergeFactor: -1, slots: l.slots, low: l.low, probeAlways: true})
			// Decoys: copies of some needles (they would match) under
			// IDs that are removed, some before and some after the
			// segments are built.
			decoy := uint64(1)
			addDecoys := func() []uint64 {
				var ids []uint64
				for i, n := range needles {
					if i%4 == int(decoy%4) {
						ix.AddPDQ(decoy, 7, n)
						ids = append(ids, decoy)
						decoy++
					}
				}
				return ids
			}
			early := addDecoys()
			// Three segments at least, one per Flush.
			for i, h := range hay[:1000] {
				ix.AddPDQ(idBase+uint64(i), uint32(i%3), h)
				if i == 399 || i == 799 {
					ix.Flush()
				}
			}
			late := addDecoys()
			ix.Flush()
			for _, id := range early {
				if ix.Remove(id) != 1 {
					t.Fatalf("Remove(%d) removed nothing", id)
				}
			}
			for i, h := range hay[1000:1300] {
				ix.AddPDQ(idBase+1000+uint64(i), uint32((1000+i)%3), h)
			}
			// Part of these are in the delta, part in a frozen delta
			// or in a segment being built.
			for i, h := range hay[1300:] {
				ix.AddPDQ(idBase+1300+uint64(i), uint32((1300+i)%3), h)
			}
			for _, id := range late {
				ix.Remove(id)
			}
			checkPairs(t, ix, needles, want, idBase)
			if st := ix.Stats(); len(st.Segments) < 3 || st.PDQ != len(hay) {
				t.Errorf("got %d segments and %d live, want at least 3 and %d", len(st.Segments), st.PDQ, len(hay))
			}
			ix.Compact()
			if st := ix.Stats(); len(st.Segments) != 1 || st.Removed != 0 || st.PDQ != len(hay) {
				t.Errorf("after Compact got %+v, want one segment of %d live", st, len(hay))
			}
			checkPairs(t, ix, needles, want, idBase)
		})
	}
}

func checkPairs(t *testing.T, ix *Index, needles []PDQ, want []pair, idBase uint64) {
	t.Helper()
	var got []pair
	for i, n := range needles {
		for _, m := range ix.QueryPDQ(n, 31, nil) {
			hay := int(m.EntryID - idBase)
			if m.EntryID < idBase {
				t.Errorf("needle %d: removed decoy %d returned", i, m.EntryID)
				continue
			}
			if m.Bank != uint32(hay%3) {
				t.Errorf("needle %d, haystack %d: got bank %d, want %d", i, hay, m.Bank, hay%3)
			}
			got = append(got, pair{i, hay, m.Distance})
		}
	}
	// The reference is sorted by needle, then haystack line; the index
	// sorts by distance, then entry ID.
	sortPairs(got)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pair{})); diff != "" {
		t.Errorf("pairs (-want +got):\n%s", diff)
	}
}

func sortPairs(p []pair) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && (p[j].needle < p[j-1].needle || p[j].needle == p[j-1].needle && p[j].hay < p[j-1].hay); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

func readPairs(t *testing.T, path string) []pair {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || fmt.Sprint(rows[0]) != "[needle_index haystack_index distance]" {
		t.Fatalf("unexpected header %v", rows[:min(1, len(rows))])
	}
	var out []pair
	for _, r := range rows[1:] {
		var p pair
		for i, dst := range []*int{&p.needle, &p.hay, &p.dist} {
			v, err := strconv.Atoi(r[i])
			if err != nil {
				t.Fatalf("row %v: %v", r, err)
			}
			*dst = v
		}
		out = append(out, p)
	}
	return out
}
