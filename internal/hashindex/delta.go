package hashindex

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
)

// delta is the mutable segment that takes new hashes. Its arrays are
// allocated at full size up front, and the single writer appends by writing
// position n and then publishing n+1 with an atomic store, so readers, which
// load n first, read only positions that are complete and never written
// again: no lock, and an added hash is matchable as soon as Add returns.
// When one of its tables is full the delta is frozen (it takes no more
// hashes) and a background build turns it into a segment; until that
// segment is installed, queries scan the frozen delta.
type delta struct {
	limit int
	pdq   deltaPDQ
	exact [3]deltaExact
}

func newDelta(limit int) *delta {
	d := &delta{limit: limit}
	d.pdq = deltaPDQ{
		hashes: make([]hash256, limit),
		ids:    make([]uint64, limit),
		banks:  make([]uint32, limit),
		dead:   newBitmap(limit),
	}
	tableSize := 1
	for tableSize < 2*limit {
		tableSize *= 2
	}
	for k := range d.exact {
		size := exactSize(k)
		d.exact[k] = deltaExact{
			size:  size,
			keys:  make([]byte, limit*size),
			ids:   make([]uint64, limit),
			banks: make([]uint32, limit),
			dead:  newBitmap(limit),
			table: make([]atomic.Uint32, tableSize),
		}
	}
	return d
}

// full reports whether a table has no room left.
func (d *delta) full() bool {
	if int(d.pdq.n.Load()) >= d.limit {
		return true
	}
	for k := range d.exact {
		if int(d.exact[k].n.Load()) >= d.limit {
			return true
		}
	}
	return false
}

// size returns the number of hashes in the delta, removed ones included.
func (d *delta) size() int {
	n := int(d.pdq.n.Load())
	for k := range d.exact {
		n += int(d.exact[k].n.Load())
	}
	return n
}

func (d *delta) memory() int64 {
	m := int64(d.limit)*(32+8+4) + int64(len(d.pdq.dead))*8
	for k := range d.exact {
		e := &d.exact[k]
		m += int64(cap(e.keys)) + int64(d.limit)*(8+4) + int64(len(e.dead))*8 + int64(len(e.table))*4
	}
	return m
}

// remove tombstones the hashes of entry id. Only the writer calls it.
func (d *delta) remove(id uint64) int {
	n := d.pdq.remove(id)
	for k := range d.exact {
		n += d.exact[k].remove(id)
	}
	return n
}

// appendLive appends the hashes not removed to c.
func (d *delta) appendLive(c *columns) {
	p := &d.pdq
	for i := range int(p.n.Load()) {
		if !p.dead.has(uint32(i)) {
			c.pdq.add(p.ids[i], p.banks[i], &p.hashes[i])
		}
	}
	for k := range d.exact {
		e := &d.exact[k]
		for i := range int(e.n.Load()) {
			if !e.dead.has(uint32(i)) {
				c.exact[k].add(e.ids[i], e.banks[i], e.key(i))
			}
		}
	}
}

// deltaPDQ is the PDQ table of a delta. Queries scan it.
type deltaPDQ struct {
	hashes []hash256
	ids    []uint64
	banks  []uint32
	n      atomic.Int32
	dead   bitmap
	ndead  atomic.Int64
}

func (t *deltaPDQ) add(id uint64, bank uint32, h *hash256) {
	i := t.n.Load()
	t.hashes[i], t.ids[i], t.banks[i] = *h, id, bank
	t.n.Store(i + 1)
}

func (t *deltaPDQ) query(q *hash256, r int, keep Filter, out []Match) []Match {
	n := t.n.Load()
	return scanPDQ(t.hashes[:n], t.ids[:n], t.banks[:n], t.dead, q, r, keep, out)
}

func (t *deltaPDQ) remove(id uint64) int {
	removed := 0
	for i, x := range t.ids[:t.n.Load()] {
		if x == id && t.dead.add(uint32(i)) {
			removed++
		}
	}
	t.ndead.Add(int64(removed))
	return removed
}

// deltaExact is an exact table of a delta: the digests in insertion order,
// and an open-addressing hash table of positions+1 (0 is empty) that the
// writer fills with atomic stores after writing the digest, so readers look
// digests up without a lock.
type deltaExact struct {
	size  int
	keys  []byte
	ids   []uint64
	banks []uint32
	n     atomic.Int32
	dead  bitmap
	ndead atomic.Int64
	table []atomic.Uint32
}

func (t *deltaExact) key(i int) []byte { return t.keys[i*t.size : (i+1)*t.size] }

// home returns the first table slot probed for key.
func (t *deltaExact) home(key []byte) int {
	h := binary.LittleEndian.Uint64(key) * 0x9e3779b97f4a7c15
	return int(h >> 32 & uint64(len(t.table)-1))
}

func (t *deltaExact) add(id uint64, bank uint32, key []byte) {
	i := t.n.Load()
	copy(t.keys[int(i)*t.size:], key)
	t.ids[i], t.banks[i] = id, bank
	mask := len(t.table) - 1
	for j := t.home(key); ; j = (j + 1) & mask {
		if t.table[j].Load() == 0 {
			t.table[j].Store(uint32(i) + 1)
			break
		}
	}
	t.n.Store(i + 1)
}

func (t *deltaExact) lookup(key []byte, out []Match) []Match {
	mask := len(t.table) - 1
	for j := t.home(key); ; j = (j + 1) & mask {
		p := t.table[j].Load()
		if p == 0 {
			return out
		}
		i := int(p - 1)
		if bytes.Equal(t.key(i), key) && !t.dead.has(uint32(i)) {
			out = append(out, Match{EntryID: t.ids[i], Bank: t.banks[i]})
		}
	}
}

func (t *deltaExact) remove(id uint64) int {
	removed := 0
	for i, x := range t.ids[:t.n.Load()] {
		if x == id && t.dead.add(uint32(i)) {
			removed++
		}
	}
	t.ndead.Add(int64(removed))
	return removed
}
