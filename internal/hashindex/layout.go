package hashindex

import (
	"math"
	"math/bits"
)

// Layout of the multi-index tables.
const (
	minSlots = 8  // slot values fit in 32 bits
	maxSlots = 64 // slots of 4 bits
	maxLow   = 8  // low slot bits kept in a posting
	maxTop   = 24 // bucket index bits: at most 64 MiB of offsets a slot
	// mihMinEntries is the size under which a segment has no slot tables
	// and is scanned: with everything in cache a scan of a few thousand
	// hashes is as quick as the probes.
	mihMinEntries = 4096
)

// Costs of the query cost model, in nanoseconds, fitted by least squares to
// the mean radius-31 latency of nine layouts at 10 million hashes
// (BenchmarkSlots10M, AMD EPYC, one core); the fit is within about 25 % for
// each. At 1 million hashes the same fit gives 25, 30 and 1.5 ns: smaller
// tables miss the cache less.
const (
	costBucket    = 50  // a bucket probed: its offsets, then its first postings
	costCandidate = 32  // a candidate's full distance: a random hash read
	costPosting   = 2.3 // a posting read and filtered by its low bits
	costScan      = 2   // a hash compared in a sequential scan
)

// slot is a run of bits of the 256-bit hash, numbered from the top bit of
// byte 0.
type slot struct {
	start int // first bit
	width int // bits, 4 to 32
}

// layout is how a table splits hashes into slots. The value of a slot is
// split in two: the top width−low bits index the slot's buckets, and the
// low bits are stored in the posting beside the hash position, so that a
// probe filters a bucket's postings by their low bits without touching the
// hashes. With low = 0 this is plain multi-index hashing; a few low bits let
// slots be wider (fewer candidates) without a bigger offsets array.
type layout struct {
	slots []slot
	low   int
}

// makeLayout splits the 256 bits into m contiguous slots of as equal widths
// as possible, the wider ones first. Probing gives the first slots the larger
// sub-radius, and a wider slot has fewer entries per bucket.
func makeLayout(m, low int) layout {
	base, extra := 256/m, 256%m
	l := layout{slots: make([]slot, m), low: low}
	start := 0
	for i := range l.slots {
		w := base
		if i < extra {
			w++
		}
		l.slots[i] = slot{start: start, width: w}
		start += w
	}
	return l
}

// valid reports whether the layout can index n hashes: slot values and
// bucket indexes in range, offsets no larger than the postings, and hash
// positions that fit in the postings beside the low bits.
func (l layout) valid(n int) bool {
	m := len(l.slots)
	if m < minSlots || m > maxSlots || l.low < 0 || l.low > maxLow {
		return false
	}
	top := l.slots[0].width - l.low
	return l.slots[0].width <= 32 && l.slots[m-1].width-l.low >= 1 && top <= maxTop &&
		1<<top <= max(n, 1<<12) && uint64(n) <= 1<<(32-l.low)
}

// chooseLayout returns the layout for a table of n hashes that minimises
// the estimated time of a radius-31 query weighted by memory: the cost times
// (1 + 2·offsets/postings). Without the weight, 10 million hashes would get
// 2 low bits and 176 MB of offsets, for an estimated 10 % over 4 low bits
// and 44 MB. Tables too small for the probes to beat a scan get no layout:
// they are scanned.
func chooseLayout(n int) layout {
	if n < mihMinEntries {
		return layout{}
	}
	var best layout
	bestCost := math.Inf(1)
	for m := minSlots; m <= maxSlots; m++ {
		for low := 0; low <= maxLow; low++ {
			l := makeLayout(m, low)
			if !l.valid(n) {
				continue
			}
			offsets := 0.0
			for _, s := range l.slots {
				offsets += float64(uint64(1) << (s.width - low))
			}
			c := l.cost(n, 31) * (1 + 2*offsets/float64(m*n))
			if c < bestCost {
				best, bestCost = l, c
			}
		}
	}
	if best.cost(n, 31) >= costScan*float64(n) {
		return layout{}
	}
	return best
}

// value returns the slot's bits of h as an integer.
func (s slot) value(h *hash256) uint32 {
	i, off := s.start>>6, s.start&63
	mask := uint64(1)<<s.width - 1
	if off+s.width <= 64 {
		return uint32(h[i] >> (64 - off - s.width) & mask)
	}
	rem := off + s.width - 64 // bits taken from the next word
	return uint32((h[i]<<rem | h[i+1]>>(64-rem)) & mask)
}

// distance returns the number of differing bits in the slot, given the XOR
// of two hashes.
func (s slot) distance(x *hash256) int {
	return bits.OnesCount32(s.value(x))
}

// slotRadius returns the sub-radius to probe slot i (of m) with for a query
// radius r, or -1 when the slot need not be probed.
//
// Write r = m·s + t with 0 ≤ t < m. If a hash is within r of the query, one
// of slots 0..t is within s of the query's slot, or one of slots t+1..m-1 is
// within s−1: otherwise the distance would be at least
// (t+1)(s+1) + (m−t−1)s = r+1. This is the pigeonhole principle of
// multi-index hashing, sharpened as in Norouzi et al., section 3.
func slotRadius(i, m, r int) int {
	s, t := r/m, r%m
	if i <= t {
		return s
	}
	return s - 1
}

// ballSize returns the number of w-bit values within Hamming distance k.
func ballSize(w, k int) float64 {
	sum, c := 0.0, 1.0
	for j := 0; j <= k && j <= w; j++ {
		sum += c
		c = c * float64(w-j) / float64(j+1)
	}
	return sum
}

// cost estimates the time in nanoseconds of a query of radius r on n
// hashes, as if slot values were uniform: the buckets probed, the postings
// read in them, and the candidates whose full hash is compared.
func (l layout) cost(n, r int) float64 {
	var buckets, postings, candidates float64
	for i, s := range l.slots {
		k := slotRadius(i, len(l.slots), r)
		if k < 0 {
			break
		}
		top := s.width - l.low
		b := ballSize(top, k)
		buckets += b
		postings += b * float64(n) / float64(uint64(1)<<top)
		candidates += ballSize(s.width, k) * float64(n) / float64(uint64(1)<<s.width)
	}
	return buckets*costBucket + candidates*costCandidate + postings*costPosting
}
