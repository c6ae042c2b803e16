package hashindex

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// bitmap is a fixed-size set of positions that readers test while the
// writer adds to it: the tombstones of one table.
type bitmap []atomic.Uint64

func newBitmap(n int) bitmap { return make(bitmap, (n+63)/64) }

func (b bitmap) has(i uint32) bool { return b[i>>6].Load()&(1<<(i&63)) != 0 }

// add sets bit i and reports whether it was clear.
func (b bitmap) add(i uint32) bool {
	bit := uint64(1) << (i & 63)
	return b[i>>6].Or(bit)&bit == 0
}

// segment is an immutable set of hashes, one table per algorithm. Only its
// tombstones change after it is built.
type segment struct {
	pdq   *pdqTable
	exact [3]*exactTable
}

// size returns the number of hashes in the segment, removed ones included.
func (s *segment) size() int {
	n := len(s.pdq.ids)
	for _, t := range s.exact {
		n += len(t.ids)
	}
	return n
}

// removed returns the number of tombstoned hashes.
func (s *segment) removed() int {
	n := int(s.pdq.ndead.Load())
	for _, t := range s.exact {
		n += int(t.ndead.Load())
	}
	return n
}

// remove tombstones every hash of entry id and returns how many were live.
func (s *segment) remove(id uint64) int {
	n := s.pdq.remove(id)
	for _, t := range s.exact {
		n += t.remove(id)
	}
	return n
}

func (s *segment) memory() int64 {
	m := s.pdq.memory()
	for _, t := range s.exact {
		m += t.memory()
	}
	return m
}

// appendLive appends the hashes not removed to c.
func (s *segment) appendLive(c *columns) {
	t := s.pdq
	for i := range t.ids {
		if !t.dead.has(uint32(i)) {
			c.pdq.add(t.ids[i], t.banks[i], &t.hashes[i])
		}
	}
	for k, t := range s.exact {
		for i := range t.ids {
			if !t.dead.has(uint32(i)) {
				c.exact[k].add(t.ids[i], t.banks[i], t.keys[i*t.size:(i+1)*t.size])
			}
		}
	}
}

// pdqTable holds the PDQ hashes of a segment in flat arrays sorted by entry
// ID (so that Remove finds an entry by binary search), and one multi-index
// table per slot. For slot i, offsets[i][v]..offsets[i][v+1] is the range of
// postings[i] whose bucket index (the slot value without its low bits) is v;
// a posting is the hash position shifted left by layout.low, or'ed with the
// low bits of the slot value. Postings within a bucket are in ascending
// position order.
type pdqTable struct {
	hashes   []hash256
	ids      []uint64
	banks    []uint32
	dead     bitmap
	ndead    atomic.Int64
	layout   layout     // no slots: the table is scanned
	offsets  [][]uint32 // per slot, 2^(width-low)+1 entries
	postings [][]uint32 // per slot, one entry per hash
	// probeAlways turns off the choice of a scan when it is cheaper, so
	// that tests exercise the slot tables on small data.
	probeAlways bool
}

// buildPDQ builds a table from columns it takes over, with layout l or, if
// l has no slots, the layout chooseLayout picks. bulk is for Load: the slot
// tables are built on all cores, after a garbage collection.
func buildPDQ(c pdqColumns, l layout, bulk bool) *pdqTable {
	t := &pdqTable{hashes: c.hashes, ids: c.ids, banks: c.banks}
	n := len(t.ids)
	t.dead = newBitmap(n)
	if perm := sortedPerm(t.ids); perm != nil {
		done := make([]bool, n)
		permute(t.hashes, perm, done)
		clear(done)
		permute(t.ids, perm, done)
		clear(done)
		permute(t.banks, perm, done)
	}
	if l.slots == nil {
		l = chooseLayout(n)
	}
	if n == 0 || l.slots == nil {
		return t
	}
	workers := 1 // background builds leave the other cores to queries
	if bulk {
		workers = runtime.GOMAXPROCS(0)
		// NOTE: a collection here frees the chunks the columns were
		// gathered in (see Load) and the arrays of the sort, so that the
		// slot tables reuse their memory instead of raising the peak RSS:
		// at 1 million hashes the peak went from 138 to 94 MB, the size
		// of the index. The heap is mostly large arrays without
		// pointers, so it is quick.
		runtime.GC()
	}
	t.layout = l
	m := len(l.slots)
	t.offsets = make([][]uint32, m)
	t.postings = make([][]uint32, m)
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range max(1, min(workers, m)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= m {
					return
				}
				t.offsets[i], t.postings[i] = buildSlot(t.hashes, l.slots[i], l.low)
			}
		})
	}
	wg.Wait()
	return t
}

// buildSlot counting-sorts the positions of hashes by their bucket in s.
func buildSlot(hashes []hash256, s slot, low int) (offsets, postings []uint32) {
	offsets = make([]uint32, 1<<(s.width-low)+1)
	for i := range hashes {
		offsets[s.value(&hashes[i])>>low+1]++
	}
	for v := 1; v < len(offsets); v++ {
		offsets[v] += offsets[v-1]
	}
	// offsets[v] is now the start of bucket v; use it as the fill cursor,
	// after which it is the end of bucket v, and shift back.
	postings = make([]uint32, len(hashes))
	lowMask := uint32(1)<<low - 1
	for i := range hashes {
		v := s.value(&hashes[i])
		postings[offsets[v>>low]] = uint32(i)<<low | v&lowMask
		offsets[v>>low]++
	}
	copy(offsets[1:], offsets[:len(offsets)-1])
	offsets[0] = 0
	return offsets, postings
}

func (t *pdqTable) memory() int64 {
	m := int64(cap(t.hashes))*32 + int64(cap(t.ids))*8 + int64(cap(t.banks))*4 + int64(len(t.dead))*8
	for i := range t.offsets {
		m += int64(cap(t.offsets[i]))*4 + int64(cap(t.postings[i]))*4
	}
	return m
}

// remove tombstones the hashes of entry id.
func (t *pdqTable) remove(id uint64) int {
	n := 0
	i, _ := slices.BinarySearch(t.ids, id)
	for ; i < len(t.ids) && t.ids[i] == id; i++ {
		if t.dead.add(uint32(i)) {
			n++
		}
	}
	t.ndead.Add(int64(n))
	return n
}

// query appends to out the live hashes within radius r of q that keep
// accepts, probing the slot tables unless a scan is cheaper.
//
// Each slot is probed in passes over small buffers rather than bucket by
// bucket: first the bucket indexes within the sub-radius, then their
// offsets, then the postings that pass the low-bit filter, then the full
// distance of those candidates. The loads of one pass do not depend on each
// other, so the processor overlaps their cache misses; probing bucket by
// bucket chains them (offsets, then postings, then hashes) and measured
// about 1.5× slower at 10 million hashes.
func (t *pdqTable) query(q *hash256, r int, keep Filter, sc *scratch, out []Match) []Match {
	n := len(t.hashes)
	if n == 0 {
		return out
	}
	l := t.layout
	if l.slots == nil || !t.probeAlways && l.cost(n, r) > costScan*float64(n) {
		return scanPDQ(t.hashes, t.ids, t.banks, t.dead, q, r, keep, out)
	}
	low := uint(l.low)
	lowMask := uint32(1)<<low - 1
	hashes := t.hashes
	m := len(l.slots)
	for i, s := range l.slots {
		k := slotRadius(i, m, r)
		if k < 0 {
			break
		}
		v := s.value(q)
		qlow := v & lowMask
		offsets, postings := t.offsets[i], t.postings[i]

		sc.buckets = enumerate(sc.buckets[:0], v>>low, s.width-l.low, k)
		sc.ranges = slices.Grow(sc.ranges[:0], len(sc.buckets))[:len(sc.buckets)]
		for j, b := range sc.buckets {
			sc.ranges[j] = [2]uint32{offsets[b.v], offsets[b.v+1]}
		}
		// Touch the first and last posting of each bucket, so that their
		// cache misses overlap here rather than one by one in the filter
		// loop below (Go has no prefetch instruction).
		var touch uint32
		for _, rg := range sc.ranges {
			if rg[0] < rg[1] {
				touch += postings[rg[0]] ^ postings[rg[1]-1]
			}
		}
		sc.touch += touch
		cands := sc.cands[:0]
		for j, b := range sc.buckets {
			bucket := postings[sc.ranges[j][0]:sc.ranges[j][1]]
			if b.k >= int32(low) {
				for _, e := range bucket {
					cands = append(cands, e>>low)
				}
				continue
			}
			// Branch-free: write every posting, keep those that pass.
			n := len(cands)
			cands = slices.Grow(cands, len(bucket))[:n+len(bucket)]
			for _, e := range bucket {
				cands[n] = e >> low
				n += int(b2u(bits.OnesCount32((e^qlow)&lowMask) <= int(b.k)))
			}
			cands = cands[:n]
		}
		sc.cands = cands
		for _, pos := range cands {
			if d := distance(q, &hashes[pos]); d <= r {
				out = t.found(q, r, i, pos, d, keep, out)
			}
		}
	}
	return out
}

// b2u converts a bool to 0 or 1 without a branch.
func b2u(b bool) uint32 {
	var u uint32
	if b {
		u = 1
	}
	return u
}

// scratch is the working memory of one query, reused through a pool.
type scratch struct {
	buckets []bucketRef
	ranges  [][2]uint32
	cands   []uint32
	touch   uint32 // keeps the touching loads from being optimised away
}

// bucketRef is a bucket to probe and what is left of the sub-radius for
// the low bits of its postings.
type bucketRef struct {
	v uint32
	k int32
}

// enumerate appends v and every value that differs from it in at most k of
// its low `width` bits, each with what is left of k.
func enumerate(dst []bucketRef, v uint32, width, k int) []bucketRef {
	dst = append(dst, bucketRef{v, int32(k)})
	return flipFrom(dst, v, 0, width, k)
}

// flipFrom appends the values that differ from v in 1 to k of the bits from
// bit `from` up to bit width−1.
func flipFrom(dst []bucketRef, v uint32, from, width, k int) []bucketRef {
	if k == 0 {
		return dst
	}
	for b := from; b < width; b++ {
		u := v ^ 1<<b
		dst = append(dst, bucketRef{u, int32(k - 1)})
		if k > 1 {
			dst = flipFrom(dst, u, b+1, width, k-1)
		}
	}
	return dst
}

// found appends a match of the hash at pos, at distance d, found through
// slot i, unless an earlier slot reported it already: a hash is a candidate
// in every slot within that slot's sub-radius, and it is reported by the
// first one, so no per-query set of seen positions is needed.
func (t *pdqTable) found(q *hash256, r, i int, pos uint32, d int, keep Filter, out []Match) []Match {
	x := t.hashes[pos]
	for w := range x {
		x[w] ^= q[w]
	}
	slots := t.layout.slots
	for j := range i {
		if slots[j].distance(&x) <= slotRadius(j, len(slots), r) {
			return out
		}
	}
	if t.dead.has(pos) {
		return out
	}
	bank := t.banks[pos]
	if keep != nil && !keep(bank, d) {
		return out
	}
	return append(out, Match{EntryID: t.ids[pos], Bank: bank, Distance: d})
}

// scanPDQ compares q with each hash: the brute-force path, for deltas,
// small segments and large radii.
func scanPDQ(hashes []hash256, ids []uint64, banks []uint32, dead bitmap, q *hash256, r int, keep Filter, out []Match) []Match {
	for i := range hashes {
		if d := distance(q, &hashes[i]); d <= r {
			if dead.has(uint32(i)) {
				continue
			}
			if keep != nil && !keep(banks[i], d) {
				continue
			}
			out = append(out, Match{EntryID: ids[i], Bank: banks[i], Distance: d})
		}
	}
	return out
}

// exactTable holds the digests of one exact algorithm in a segment, sorted
// by digest for lookups by binary search; byID lists positions in entry-ID
// order for Remove (nil when that is the identity).
type exactTable struct {
	size  int
	keys  []byte // len(ids) digests of size bytes
	ids   []uint64
	banks []uint32
	byID  []uint32
	dead  bitmap
	ndead atomic.Int64
}

// buildExact builds a table from columns of digests of size bytes.
func buildExact(c exactColumns, size int) *exactTable {
	n := len(c.ids)
	t := &exactTable{size: size}
	t.dead = newBitmap(n)
	prefix := make([]uint64, n)
	for i := range prefix {
		prefix[i] = binary.BigEndian.Uint64(c.keys[i*size:])
	}
	perm := sortedPerm(prefix)
	if perm == nil {
		t.keys, t.ids, t.banks = c.keys, c.ids, c.banks
	} else {
		// Digests equal in their first 8 bytes are rare; order them by
		// the rest.
		for i := 0; i < n; {
			j := i + 1
			for j < n && prefix[perm[j]] == prefix[perm[i]] {
				j++
			}
			if j-i > 1 {
				slices.SortStableFunc(perm[i:j], func(a, b uint32) int {
					return bytes.Compare(c.keys[int(a)*size:int(a+1)*size], c.keys[int(b)*size:int(b+1)*size])
				})
			}
			i = j
		}
		t.keys = make([]byte, len(c.keys))
		t.ids = make([]uint64, n)
		t.banks = make([]uint32, n)
		for i, p := range perm {
			copy(t.keys[i*size:], c.keys[int(p)*size:int(p+1)*size])
			t.ids[i] = c.ids[p]
			t.banks[i] = c.banks[p]
		}
	}
	t.byID = sortedPerm(t.ids)
	return t
}

func (t *exactTable) key(i int) []byte { return t.keys[i*t.size : (i+1)*t.size] }

func (t *exactTable) memory() int64 {
	return int64(cap(t.keys)) + int64(cap(t.ids))*8 + int64(cap(t.banks))*4 +
		int64(cap(t.byID))*4 + int64(len(t.dead))*8
}

// lookup appends the live entries with digest key.
func (t *exactTable) lookup(key []byte, out []Match) []Match {
	n := len(t.ids)
	i := sort.Search(n, func(i int) bool { return bytes.Compare(t.key(i), key) >= 0 })
	for ; i < n && bytes.Equal(t.key(i), key); i++ {
		if !t.dead.has(uint32(i)) {
			out = append(out, Match{EntryID: t.ids[i], Bank: t.banks[i]})
		}
	}
	return out
}

// remove tombstones the digests of entry id.
func (t *exactTable) remove(id uint64) int {
	n := len(t.ids)
	pos := func(k int) int {
		if t.byID == nil {
			return k
		}
		return int(t.byID[k])
	}
	k := sort.Search(n, func(k int) bool { return t.ids[pos(k)] >= id })
	removed := 0
	for ; k < n && t.ids[pos(k)] == id; k++ {
		if t.dead.add(uint32(pos(k))) {
			removed++
		}
	}
	t.ndead.Add(int64(removed))
	return removed
}

// columns gathers the hashes of a segment to be built.
type columns struct {
	pdq   pdqColumns
	exact [3]exactColumns
}

type pdqColumns struct {
	hashes []hash256
	ids    []uint64
	banks  []uint32
}

func (c *pdqColumns) add(id uint64, bank uint32, h *hash256) {
	c.hashes = append(c.hashes, *h)
	c.ids = append(c.ids, id)
	c.banks = append(c.banks, bank)
}

type exactColumns struct {
	keys  []byte
	ids   []uint64
	banks []uint32
}

func (c *exactColumns) add(id uint64, bank uint32, key []byte) {
	c.keys = append(c.keys, key...)
	c.ids = append(c.ids, id)
	c.banks = append(c.banks, bank)
}

// grow makes room for the given numbers of further hashes, so that a merge
// allocates each array once.
func (c *columns) grow(pdq int, exact [3]int) {
	c.pdq.hashes = slices.Grow(c.pdq.hashes, pdq)
	c.pdq.ids = slices.Grow(c.pdq.ids, pdq)
	c.pdq.banks = slices.Grow(c.pdq.banks, pdq)
	for k := range c.exact {
		e := &c.exact[k]
		e.keys = slices.Grow(e.keys, exact[k]*exactSize(k))
		e.ids = slices.Grow(e.ids, exact[k])
		e.banks = slices.Grow(e.banks, exact[k])
	}
}

// build makes a segment of the columns, which it takes over; bulk is for
// Load (see buildPDQ).
func (c *columns) build(o *Options, bulk bool) *segment {
	var l layout
	if o.slots > 0 {
		l = makeLayout(o.slots, o.low)
	}
	s := &segment{pdq: buildPDQ(c.pdq, l, bulk)}
	s.pdq.probeAlways = o.probeAlways
	for k := range c.exact {
		s.exact[k] = buildExact(c.exact[k], exactSize(k))
	}
	return s
}

// exactSize returns the digest size of exact table k.
func exactSize(k int) int { return (AlgoMD5 + Algo(k)).Size() }
