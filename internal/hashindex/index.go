package hashindex

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/haven-hotline/haven"
)

// Defaults of Options.
const (
	DefaultDeltaSize   = 8192
	DefaultMergeFactor = 4
)

// Options configures an Index. The zero value gives the defaults.
type Options struct {
	// DeltaSize is how many hashes of one algorithm the mutable delta takes
	// before it is frozen and built into a segment in the background.
	// Every PDQ query scans the delta, so it is kept small. Default 8192.
	DeltaSize int
	// MergeFactor is how many segments of about the same size are merged
	// into one in the background (size-tiered merging); a segment that is
	// a quarter removed is rebuilt without its removed hashes. Negative:
	// no automatic merging or rebuilding, only Compact. Default 4.
	MergeFactor int

	// slots and low force the layout of every segment's PDQ table, for
	// tests and the layout benchmark; slots 0 chooses by size.
	slots, low int
	// probeAlways makes segments probe their slot tables even when a scan
	// would be cheaper, for tests on small data.
	probeAlways bool
	// afterBuild, when set, runs in the background goroutine between a
	// build and its installation, without the lock: tests make writes
	// there that race with the build.
	afterBuild func()
}

// Filter decides whether a PDQ match within the query radius is kept, given
// the bank of the entry and the distance. It must be fast and safe for
// concurrent use. A nil Filter keeps every match.
type Filter func(bank uint32, distance int) bool

// BankRadii maps a bank to its PDQ match threshold (inclusive), for banks
// with their own thresholds. Banks not in the map are not matched.
type BankRadii map[uint32]int

// Max returns the largest radius, the one to query with; -1 when empty.
func (b BankRadii) Max() int {
	r := -1
	for _, v := range b {
		r = max(r, v)
	}
	return r
}

// Keep is a Filter that keeps a match when the bank is in the map and the
// distance is within its radius.
func (b BankRadii) Keep(bank uint32, distance int) bool {
	r, ok := b[bank]
	return ok && distance <= r
}

// Match is one entry found by a query. Distance is 0 for exact algorithms.
type Match struct {
	EntryID  uint64
	Bank     uint32
	Distance int
}

// Entry is one hash for Load. The index keeps only the entry ID and the bank
// with each hash; everything else about an entry lives in the database and
// is joined by the caller on EntryID.
type Entry struct {
	ID   uint64
	Bank uint32
	Algo Algo
	// PDQ is the hash when Algo is AlgoPDQ.
	PDQ PDQ
	// Digest is the digest when Algo is AlgoMD5, AlgoSHA1 or AlgoSHA256,
	// of exactly Algo.Size() bytes.
	Digest []byte
}

// Index is the in-memory match index: exact lookups of MD5, SHA-1 and
// SHA-256 digests, and PDQ search within a Hamming radius by multi-index
// hashing. See the package documentation for the design.
//
// All methods are safe for concurrent use. Queries (QueryPDQ, LookupExact,
// Stats) take no lock and never wait for a writer or a background build.
// Writers (AddPDQ, AddExact, Remove, Load, Flush, Compact) are serialised
// by a mutex; each holds it only briefly except Flush and Compact, which
// wait for background work.
type Index struct {
	opts    Options
	snap    atomic.Pointer[snapshot]
	scratch sync.Pool // of *scratch, the working memory of queries

	mu   sync.Mutex // serialises writers and the installation of segments
	idle sync.Cond  // signalled under mu when background work stops
	// The fields below are guarded by mu.
	busy       bool     // the background goroutine is running
	compact    bool     // Compact asked for a full merge
	logging    bool     // a build is in flight: record removals
	removedLog []uint64 // entries removed since the running build started
}

// snapshot is an immutable view of the index: readers load it once per
// query. Only the tombstone bitmaps of its tables and the published length of
// its delta change after it is stored.
type snapshot struct {
	segs   []*segment // largest first
	frozen []*delta   // full deltas waiting for their segment build
	delta  *delta     // the delta that takes new hashes
}

// New returns an empty index.
func New(opts Options) *Index {
	if opts.DeltaSize <= 0 {
		opts.DeltaSize = DefaultDeltaSize
	}
	opts.DeltaSize = min(opts.DeltaSize, 1<<24)
	if opts.MergeFactor == 0 {
		opts.MergeFactor = DefaultMergeFactor
	}
	if opts.MergeFactor == 1 {
		opts.MergeFactor = 2
	}
	if opts.slots != 0 {
		opts.slots = min(max(opts.slots, minSlots), maxSlots)
		opts.low = min(max(opts.low, 0), maxLow, 256/opts.slots-1)
	}
	ix := &Index{opts: opts}
	ix.idle.L = &ix.mu
	ix.scratch.New = func() any { return new(scratch) }
	ix.snap.Store(&snapshot{delta: newDelta(opts.DeltaSize)})
	return ix
}

// AddPDQ adds a PDQ hash of entry id in bank. It is matchable by every query
// that starts after AddPDQ returns.
func (ix *Index) AddPDQ(id uint64, bank uint32, h PDQ) {
	w := h.words()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.snap.Load().delta.pdq.add(id, bank, &w)
	ix.freezeIfFull()
}

// AddExact adds an MD5, SHA-1 or SHA-256 digest of entry id in bank. It is
// found by every lookup that starts after AddExact returns. It returns an
// error of kind haven.KindInvalid for another algorithm or a digest of the
// wrong length.
func (ix *Index) AddExact(id uint64, bank uint32, algo Algo, digest []byte) error {
	k, ok := algo.exact()
	if !ok {
		return haven.Invalidf("algo", "not an exact-match algorithm")
	}
	if len(digest) != algo.Size() {
		return haven.Invalidf("hash", "a %s digest has %d bytes, got %d", algo, algo.Size(), len(digest))
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.snap.Load().delta.exact[k].add(id, bank, digest)
	ix.freezeIfFull()
	return nil
}

// Remove removes every hash added so far under entry id, of any algorithm,
// and returns how many there were. No query that starts after Remove returns
// reports them. Hashes added under id afterwards are not affected, so
// disabling an entry and enabling it again is Remove and then Add.
func (ix *Index) Remove(id uint64) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.snap.Load()
	n := s.delta.remove(id)
	for _, d := range s.frozen {
		n += d.remove(id)
	}
	compactable := false
	for _, seg := range s.segs {
		if r := seg.remove(id); r > 0 {
			n += r
			compactable = compactable || ix.compactable(seg)
		}
	}
	if ix.logging {
		ix.removedLog = append(ix.removedLog, id)
	}
	if compactable {
		ix.kick()
	}
	return n
}

// QueryPDQ returns the entries with a PDQ hash within Hamming distance radius
// of h (inclusive) that filter keeps, sorted by distance and then entry ID.
// An entry with several hashes is reported once, at its smallest distance.
// Radius 31 is the usual PDQ threshold; with per-bank thresholds, query
// with the largest and filter by bank (see BankRadii). A negative radius
// matches nothing; radii over 256 are treated as 256.
func (ix *Index) QueryPDQ(h PDQ, radius int, filter Filter) []Match {
	if radius < 0 {
		return nil
	}
	radius = min(radius, 256)
	q := h.words()
	s := ix.snap.Load()
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	var out []Match
	for _, seg := range s.segs {
		out = seg.pdq.query(&q, radius, filter, sc, out)
	}
	for _, d := range s.frozen {
		out = d.pdq.query(&q, radius, filter, out)
	}
	out = s.delta.pdq.query(&q, radius, filter, out)
	return finish(out)
}

// LookupExact returns the entries with an MD5, SHA-1 or SHA-256 digest equal
// to digest, sorted by entry ID, with Distance 0. A digest of the wrong
// length or another algorithm matches nothing.
func (ix *Index) LookupExact(algo Algo, digest []byte) []Match {
	k, ok := algo.exact()
	if !ok || len(digest) != algo.Size() {
		return nil
	}
	s := ix.snap.Load()
	var out []Match
	for _, seg := range s.segs {
		out = seg.exact[k].lookup(digest, out)
	}
	for _, d := range s.frozen {
		out = d.exact[k].lookup(digest, out)
	}
	out = s.delta.exact[k].lookup(digest, out)
	return finish(out)
}

// finish drops repeated entry IDs, keeping the smallest distance, and sorts
// by distance and entry ID.
func finish(out []Match) []Match {
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.EntryID, b.EntryID), cmp.Compare(a.Distance, b.Distance))
	})
	out = slices.CompactFunc(out, func(a, b Match) bool { return a.EntryID == b.EntryID })
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.EntryID, b.EntryID))
	})
	return out
}

// Load adds the entries as one new segment, built in the calling goroutine
// on all GOMAXPROCS cores without going through the delta: the way to fill
// the index at start. Nothing is added if entries yields an error, which
// Load returns, or an invalid entry (error of kind haven.KindInvalid). The
// entries are matchable when Load returns.
func (ix *Index) Load(entries iter.Seq2[Entry, error]) error {
	// NOTE: the entries are gathered in chunks and copied once into arrays
	// of the exact size. Growing the arrays by append instead left the
	// outgrown ones as garbage and took the peak RSS of a 10-million load
	// to 1.4 GB, against 0.95 GB for the index itself.
	var pdq struct {
		hashes chunked[hash256]
		ids    chunked[uint64]
		banks  chunked[uint32]
	}
	var exact [3]struct {
		keys  chunked[byte]
		ids   chunked[uint64]
		banks chunked[uint32]
	}
	for e, err := range entries {
		if err != nil {
			return err
		}
		if e.Algo == AlgoPDQ {
			pdq.hashes.add(e.PDQ.words())
			pdq.ids.add(e.ID)
			pdq.banks.add(e.Bank)
			continue
		}
		k, ok := e.Algo.exact()
		if !ok {
			return haven.Invalidf("algo", "entry %d: unknown algorithm", e.ID)
		}
		if len(e.Digest) != e.Algo.Size() {
			return haven.Invalidf("hash", "entry %d: a %s digest has %d bytes, got %d", e.ID, e.Algo, e.Algo.Size(), len(e.Digest))
		}
		exact[k].keys.add(e.Digest...)
		exact[k].ids.add(e.ID)
		exact[k].banks.add(e.Bank)
	}
	var c columns
	c.pdq = pdqColumns{hashes: pdq.hashes.flatten(), ids: pdq.ids.flatten(), banks: pdq.banks.flatten()}
	for k := range exact {
		c.exact[k] = exactColumns{keys: exact[k].keys.flatten(), ids: exact[k].ids.flatten(), banks: exact[k].banks.flatten()}
	}
	seg := c.build(&ix.opts, true)
	if seg.size() == 0 {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.snap.Load()
	ix.publish(&snapshot{segs: withSegment(s.segs, seg), frozen: s.frozen, delta: s.delta})
	ix.kick()
	return nil
}

// chunked gathers values in fixed-size chunks, so that growing it never
// copies.
type chunked[T any] struct {
	full [][]T
	cur  []T
	n    int
}

const chunkSize = 1 << 16

func (c *chunked[T]) add(v ...T) {
	for len(v) > 0 {
		if len(c.cur) == cap(c.cur) {
			if c.cur != nil {
				c.full = append(c.full, c.cur)
			}
			c.cur = make([]T, 0, chunkSize)
		}
		k := min(len(v), cap(c.cur)-len(c.cur))
		c.cur = append(c.cur, v[:k]...)
		c.n += k
		v = v[k:]
	}
}

// flatten returns the values in one slice of the exact length and empties
// c, dropping each chunk once copied.
func (c *chunked[T]) flatten() []T {
	out := make([]T, 0, c.n)
	for i, ch := range c.full {
		out = append(out, ch...)
		c.full[i] = nil
	}
	out = append(out, c.cur...)
	*c = chunked[T]{}
	return out
}

// Flush freezes the delta, even if not full, and waits until background
// work (segment builds and merges) has finished. Queries are not affected;
// it is for tests and for orderly shutdown measurements.
func (ix *Index) Flush() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.freeze()
	ix.kick()
	for ix.busy {
		ix.idle.Wait()
	}
}

// Compact freezes the delta and merges every segment into one without the
// removed hashes, in a background goroutine, and waits for it. Queries go on
// meanwhile. It needs memory for a second copy of the index while it runs.
func (ix *Index) Compact() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.freeze()
	ix.compact = true
	ix.kick()
	for ix.busy {
		ix.idle.Wait()
	}
}

// freezeIfFull freezes the delta when a table of it is full. Called with mu
// held.
func (ix *Index) freezeIfFull() {
	if ix.snap.Load().delta.full() {
		ix.freeze()
		ix.kick()
	}
}

// freeze replaces a non-empty delta with a fresh one; the old one waits in
// the frozen list for its segment build. Called with mu held.
func (ix *Index) freeze() {
	s := ix.snap.Load()
	if s.delta.size() == 0 {
		return
	}
	frozen := append(slices.Clip(s.frozen), s.delta)
	ix.publish(&snapshot{segs: s.segs, frozen: frozen, delta: newDelta(ix.opts.DeltaSize)})
}

func (ix *Index) publish(s *snapshot) { ix.snap.Store(s) }

// withSegment returns a new list with seg added, largest first.
func withSegment(segs []*segment, seg *segment) []*segment {
	out := append(slices.Clip(segs), seg)
	slices.SortStableFunc(out, func(a, b *segment) int { return cmp.Compare(b.size(), a.size()) })
	return out
}

// Stats describes the index at one moment.
type Stats struct {
	// PDQ, MD5, SHA1 and SHA256 count the hashes that queries can find.
	PDQ, MD5, SHA1, SHA256 int
	// Removed counts removed hashes still held (tombstoned) until a merge
	// drops them.
	Removed int
	// Delta counts hashes in the mutable delta, Pending those in frozen
	// deltas waiting for their segment build; both are scanned by queries.
	Delta, Pending int
	// Segments describes the immutable segments, largest first.
	Segments []SegmentStats
	// MemoryBytes estimates the memory held by the index's arrays.
	MemoryBytes int64
}

// SegmentStats describes one immutable segment.
type SegmentStats struct {
	Hashes  int // hashes held, removed ones included
	Removed int // removed hashes
	// Slots is the number of multi-index slots of the PDQ table, 0 when
	// the table is small enough to scan; LowBits is how many low bits of
	// each slot value its postings hold.
	Slots, LowBits int
	MemoryBytes    int64
}

// Stats returns counts, segments and a memory estimate. Like a query, it
// takes no lock.
func (ix *Index) Stats() Stats {
	s := ix.snap.Load()
	var st Stats
	count := func(pdq, pdqDead int, exact, exactDead [3]int) {
		st.PDQ += pdq - pdqDead
		st.MD5 += exact[0] - exactDead[0]
		st.SHA1 += exact[1] - exactDead[1]
		st.SHA256 += exact[2] - exactDead[2]
		st.Removed += pdqDead + exactDead[0] + exactDead[1] + exactDead[2]
	}
	for _, seg := range s.segs {
		var ex, exd [3]int
		for k, t := range seg.exact {
			ex[k], exd[k] = len(t.ids), int(t.ndead.Load())
		}
		count(len(seg.pdq.ids), int(seg.pdq.ndead.Load()), ex, exd)
		m := seg.memory()
		st.Segments = append(st.Segments, SegmentStats{
			Hashes: seg.size(), Removed: seg.removed(), Slots: len(seg.pdq.layout.slots), LowBits: seg.pdq.layout.low, MemoryBytes: m,
		})
		st.MemoryBytes += m
	}
	for i, d := range append(slices.Clip(s.frozen), s.delta) {
		var ex, exd [3]int
		for k := range d.exact {
			ex[k], exd[k] = int(d.exact[k].n.Load()), int(d.exact[k].ndead.Load())
		}
		count(int(d.pdq.n.Load()), int(d.pdq.ndead.Load()), ex, exd)
		if i < len(s.frozen) {
			st.Pending += d.size()
		} else {
			st.Delta = d.size()
		}
		st.MemoryBytes += d.memory()
	}
	return st
}

// tier returns the size tier of a segment for merging: segments in one tier
// are within a factor MergeFactor of each other in size.
func (ix *Index) tier(size int) int {
	if size <= ix.opts.DeltaSize {
		return 0
	}
	return int(math.Log(float64(size)/float64(ix.opts.DeltaSize)) / math.Log(float64(ix.opts.MergeFactor)))
}

// compactable reports whether seg is removed enough to be rebuilt.
func (ix *Index) compactable(seg *segment) bool {
	return ix.opts.MergeFactor > 0 && seg.removed()*4 >= seg.size()
}
