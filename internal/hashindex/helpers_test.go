package hashindex

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// sharedIndexDir returns the folder of the index test vectors,
// ../shared/testdata/pdq/index beside the module root. It skips the test
// when the folder is missing, except under CI=true, where that fails.
func sharedIndexDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "testdata", "pdq", "index")
	if _, err := os.Stat(filepath.Join(d, "haystack.txt")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the PDQ index test vectors are required in CI: %v", err)
		}
		t.Skipf("no PDQ index test vectors (%v); they live in ../shared/testdata/pdq/index beside the module", err)
	}
	return d
}

// readHashes reads a file of PDQ hashes, one per line.
func readHashes(t testing.TB, path string) []PDQ {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []PDQ
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		h, err := ParsePDQ(sc.Text())
		if err != nil {
			t.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// randomPDQ returns a uniformly random hash.
func randomPDQ(rng *rand.Rand) PDQ {
	var h PDQ
	for i := 0; i < 32; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			h[i+j] = byte(v >> (8 * j))
		}
	}
	return h
}

// flip returns h with d distinct random bits flipped: at distance d.
func flip(rng *rand.Rand, h PDQ, d int) PDQ {
	for _, b := range rng.Perm(256)[:d] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// brute returns the matches of a brute-force scan over live (the live
// hashes of each entry), in the order QueryPDQ returns them.
func brute(live map[uint64][]PDQ, banks map[uint64]uint32, q PDQ, r int) []Match {
	var out []Match
	for id, hs := range live {
		best := -1
		for _, h := range hs {
			if d := Distance(q, h); d <= r && (best < 0 || d < best) {
				best = d
			}
		}
		if best >= 0 {
			out = append(out, Match{EntryID: id, Bank: banks[id], Distance: best})
		}
	}
	return finish(out)
}
