package hashindex

import "testing"

// TestChooseLayout pins the layouts the cost model picks at the sizes that
// were measured, so that a change of the model is seen.
func TestChooseLayout(t *testing.T) {
	for _, tc := range []struct{ n, slots, low int }{
		{1000, 0, 0},
		{1_000_000, 0, 0},
		{10_000_000, 11, 4},
	} {
		l := chooseLayout(tc.n)
		t.Logf("n=%d: %d slots, %d low bits, estimate %.0f µs", tc.n, len(l.slots), l.low, l.cost(tc.n, 31)/1e3)
		if tc.slots > 0 && (len(l.slots) != tc.slots || l.low != tc.low) {
			t.Errorf("n=%d: got %d slots and %d low bits, want %d and %d", tc.n, len(l.slots), l.low, tc.slots, tc.low)
		}
	}
}
