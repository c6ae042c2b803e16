// Package hashindex is the in-memory match index that every Haven server
// instance keeps: exact lookups of MD5, SHA-1 and SHA-256 digests, and PDQ
// search within a Hamming radius, over the hash lists of all banks. It holds
// only a hash, an entry ID and a bank ID per entry; the caller joins the rest
// (classification, provenance) from the database on the entry ID.
//
// # PDQ search: multi-index hashing
//
// A radius-31 query compares against every hash in a brute-force scan:
// about 20 ms for 10 million hashes on the project's machines. Multi-index
// hashing (Norouzi, Punjani and Fleet, CVPR 2012) avoids the scan. The 256
// bits are split into m slots, and each slot has a table from slot value to
// the hashes with that value. By the pigeonhole principle, a hash within r of
// the query has a slot within ⌊r/m⌋ of the query's slot, so a query probes
// every slot with the values within that sub-radius and checks the
// candidates with the full distance. The sharpened form (see slotRadius)
// probes only r mod m + 1 slots at ⌊r/m⌋ and the rest at one less; at
// radius 31 with 11 slots that is 10 slots at 2 and one at 1. The search is
// exact: the tests compare it with a brute-force scan and with the upstream
// reference vectors.
//
// Each slot's table is two flat arrays, not a map: offsets (one uint32 per
// bucket, plus one) and postings (one uint32 per hash), built by a counting
// sort. A posting holds the hash's position and, in its low bits, the last
// few bits of the slot value: a slot of w bits has 2^(w−low) buckets, and a
// probe filters a bucket's postings by those low bits before it reads any
// hash. This makes slots wide (few candidates) without large offsets arrays.
// A query runs over each slot in passes over small buffers — bucket indexes,
// then offsets, then postings, then candidates — so that the processor
// overlaps the cache misses of each pass; doing one bucket at a time chained
// them and was 1.5 to 2 times slower.
//
// A candidate that several slots find is reported by the first of them only:
// a check of the earlier slots' distances replaces a per-query set of seen
// positions.
//
// # Layout, chosen by measurement
//
// The number of slots and low bits of a segment come from a cost model
// (chooseLayout) whose three costs — a bucket probed, a candidate checked,
// a posting filtered — were fitted to measured latencies of nine layouts at
// 10 million hashes. Mean and 99th-percentile latency of 10,000 radius-31
// queries (half near-duplicates, half random) on one core
// (BenchmarkSlots10M; the final code is about 10 % faster still):
//
//	slots  low bits  mean     p99
//	11     4         241 µs   397 µs   (the choice)
//	10     6         258 µs   414 µs
//	12     0         335 µs   714 µs
//	13     0         504 µs   600 µs
//	11     6         504 µs   725 µs
//	16     0         1432 µs  2380 µs
//
// Sixteen slots of 16 bits, the textbook layout, gives 40,000 candidates a
// query at this size; eleven slots of 23–24 bits give about 3,000. The
// model weighs time against memory, so at 1 million hashes it picks 12 slots
// with 5 low bits, and a segment too small for probes to beat a scan (under
// 4,096 hashes) gets no tables at all. For large radii the probes grow
// fast (radius 48 takes about 4 ms at 10 million hashes); past the point
// where the model expects a scan to be cheaper (about radius 60 at 10
// million, 52 at 1 million) the segment is scanned instead.
//
// # Segments, delta and tombstones
//
// The index is a list of immutable segments plus one small mutable delta.
// Add appends to the delta, which queries scan (8,192 hashes: 16 µs). The
// delta's arrays are allocated at full size, and the single writer publishes
// each new length with an atomic store after writing the entry, so readers
// never lock and a new entry is matchable as soon as Add returns. (A
// copy-on-write delta would cost about 19 µs an add; a lock on the delta
// would make readers and the writer wait for each other.) A full delta is
// frozen, and a background goroutine builds it into a segment. Segments of
// about the same size are merged, MergeFactor at a time (size-tiered), so
// that n hashes live in O(log n) segments; Load builds one big segment
// directly, on all cores.
//
// Remove tombstones: each table has a bitmap of removed positions, set with
// atomic operations and checked for every match, so removals take effect at
// once, without copying anything. Merges drop removed hashes, and a segment a
// quarter removed is rebuilt. A removal that happens while a build copies
// its sources is recorded and applied to the new segment before it is
// installed.
//
// # Consistency model
//
// Readers load an immutable snapshot (the segment list, the frozen deltas
// and the delta) with one atomic load, and take no lock; only the tombstone
// bitmaps and the delta's length change under them, atomically. Writers are
// serialised by a mutex, and background builds take it only to install
// their result. So: a hash added before a query starts is found by it; a
// hash whose Remove returned before a query started is not returned by it; a
// query concurrent with an Add or a Remove may or may not see it. Queries
// never wait for a build or a merge.
//
// # Memory
//
// 10 million PDQ hashes take about 870 MiB resident: 305 MiB of hashes,
// 76 MiB of entry IDs, 38 MiB of bank IDs, 420 MiB of postings (11 slots)
// and 28 MiB of offsets. Load gathers entries in chunks and copies them
// once, so its peak is the index itself (901 MiB measured); a merge needs
// room for the old and the new segments until it is installed.
package hashindex
