package hashindex

import (
	"math/bits"
	"testing"
)

// TestEnumerate checks that the buckets probed are exactly the values
// within the sub-radius, each once, with the budget left for the low bits.
func TestEnumerate(t *testing.T) {
	for _, tc := range []struct{ width, k int }{{1, 0}, {1, 1}, {6, 2}, {8, 3}, {10, 4}, {5, 5}} {
		v := uint32(0b1011001101) & (1<<tc.width - 1)
		seen := map[uint32]bool{}
		for _, b := range enumerate(nil, v, tc.width, tc.k) {
			d := bits.OnesCount32(b.v ^ v)
			if seen[b.v] || b.v >= 1<<tc.width || d > tc.k || int(b.k) != tc.k-d {
				t.Fatalf("width %d, k %d: bad or repeated bucket %+v", tc.width, tc.k, b)
			}
			seen[b.v] = true
		}
		if want := int(ballSize(tc.width, tc.k)); len(seen) != want {
			t.Errorf("width %d, k %d: got %d buckets, want %d", tc.width, tc.k, len(seen), want)
		}
	}
}
