package hashindex

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchData is a synthetic corpus that is generated, not stored, so that
// memory figures are the index's own: hash i is a function of i. Entry i is
// random, except that 1 % of entries (i%100 == 0) form clusters of 10 within
// distance 16 of a random centre, to mimic near-duplicates in real lists.
type benchData struct {
	n    int
	seed uint64
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func (d benchData) random(key uint64) PDQ {
	var h PDQ
	for w := range 4 {
		binary.BigEndian.PutUint64(h[8*w:], splitmix(key*4+uint64(w)))
	}
	return h
}

func (d benchData) hash(i int) PDQ {
	if i%100 != 0 {
		return d.random(d.seed<<40 ^ uint64(i))
	}
	centre := d.random(d.seed<<40 ^ 1<<39 ^ uint64(i/1000))
	rng := rand.New(rand.NewPCG(d.seed, uint64(i)))
	return flip(rng, centre, rng.IntN(17))
}

func (d benchData) entries() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for i := range d.n {
			if !yield(Entry{ID: uint64(i), Bank: uint32(i % 7), Algo: AlgoPDQ, PDQ: d.hash(i)}, nil) {
				return
			}
		}
	}
}

// queries returns k queries: even ones near-duplicates (0 to 24 bits) of
// indexed hashes, a fifth of them of cluster members; odd ones random.
func (d benchData) queries(k int) []PDQ {
	rng := rand.New(rand.NewPCG(d.seed, 99))
	out := make([]PDQ, k)
	for i := range out {
		switch {
		case i%2 == 1:
			out[i] = randomPDQ(rng)
		case i%10 == 0:
			out[i] = flip(rng, d.hash(rng.IntN(d.n/100)*100), rng.IntN(25))
		default:
			out[i] = flip(rng, d.hash(rng.IntN(d.n)), rng.IntN(25))
		}
	}
	return out
}

// procStatus returns VmRSS and VmHWM in MB.
func procStatus(tb testing.TB) (rss, hwm float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		if k != "VmRSS" && k != "VmHWM" {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// latencies runs each query once at radius r and returns the sorted
// durations and the total number of matches.
func latencies(ix *Index, qs []PDQ, r int) ([]time.Duration, int) {
	ds := make([]time.Duration, len(qs))
	matches := 0
	for i, q := range qs {
		t := time.Now()
		matches += len(ix.QueryPDQ(q, r, nil))
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	return ds, matches
}

func pct(ds []time.Duration, p float64) time.Duration {
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func mean(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// indexBench is the outcome of the heavy part of an index benchmark,
// computed once per process and reported by every call of the benchmark
// function.
type indexBench struct {
	ix      *Index
	queries []PDQ
	metrics map[string]float64
	log     []string
}

var benchRuns sync.Map // name → *indexBench

// runIndexBench builds the index of d.n hashes and measures it; see
// BenchmarkIndex10M.
func runIndexBench(b *testing.B, name string, d benchData, withBrute bool) *indexBench {
	if v, ok := benchRuns.Load(name); ok {
		return v.(*indexBench)
	}
	r := &indexBench{metrics: map[string]float64{}}
	logf := func(format string, args ...any) { r.log = append(r.log, fmt.Sprintf(format, args...)) }
	la, _ := os.ReadFile("/proc/loadavg")
	logf("GOMAXPROCS %d, loadavg before: %s", runtime.GOMAXPROCS(0), strings.TrimSpace(string(la)))

	r.queries = d.queries(10_000)
	settle()
	rss0, _ := procStatus(b)

	t0 := time.Now()
	ix := New(Options{})
	if err := ix.Load(d.entries()); err != nil {
		b.Fatal(err)
	}
	build := time.Since(t0)
	_, hwm := procStatus(b)
	settle()
	rss, _ := procStatus(b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := ix.Stats()
	r.ix = ix
	r.metrics["build-s"] = build.Seconds()
	r.metrics["rss-MB"] = rss - rss0
	r.metrics["peak-MB"] = hwm - rss0
	r.metrics["est-MB"] = float64(st.MemoryBytes) / (1 << 20)
	logf("build %.2fs; RSS %.0f MB over a %.0f MB baseline, peak %.0f MB; heap in use %.0f MB; estimate %.0f MB; %d slots, %d low bits",
		build.Seconds(), rss-rss0, rss0, hwm-rss0, float64(ms.HeapInuse)/(1<<20), float64(st.MemoryBytes)/(1<<20), st.Segments[0].Slots, st.Segments[0].LowBits)

	ds, matches := latencies(ix, r.queries, 31)
	r.metrics["p50-µs"] = us(pct(ds, 0.50))
	r.metrics["p99-µs"] = us(pct(ds, 0.99))
	r.metrics["mean-µs"] = us(mean(ds))
	logf("radius 31, %d queries, %d matches: p50 %.0f µs, p99 %.0f µs, mean %.0f µs, max %.0f µs",
		len(ds), matches, us(pct(ds, 0.5)), us(pct(ds, 0.99)), us(mean(ds)), us(ds[len(ds)-1]))
	for _, rad := range []int{16, 32, 48} {
		ds, _ := latencies(ix, r.queries[:2000], rad)
		logf("radius %d, 2000 queries: p50 %.0f µs, p99 %.0f µs, mean %.0f µs", rad, us(pct(ds, 0.5)), us(pct(ds, 0.99)), us(mean(ds)))
	}

	if withBrute {
		// Brute force over the same hashes in the same process, on 40 of
		// the queries (20 near, 20 random); the results must agree.
		seg := ix.snap.Load().segs[0].pdq
		var bruteTotal, mihTotal time.Duration
		for _, q := range r.queries[:40] {
			w := q.words()
			t := time.Now()
			want := finish(scanPDQ(seg.hashes, seg.ids, seg.banks, seg.dead, &w, 31, nil, nil))
			bruteTotal += time.Since(t)
			t = time.Now()
			got := ix.QueryPDQ(q, 31, nil)
			mihTotal += time.Since(t)
			if !slices.Equal(want, got) {
				b.Fatalf("MIH and brute force differ on %s: %v vs %v", q, got, want)
			}
		}
		bm := bruteTotal / 40
		r.metrics["brute-ms"] = float64(bm.Microseconds()) / 1e3
		r.metrics["speedup-x"] = float64(bm) / float64(mean(ds))
		logf("brute force: mean %.1f ms a query (same results), %.0f× the MIH mean", float64(bm.Microseconds())/1e3, float64(bm)/float64(mean(ds)))
	}

	// Add then query: a new entry must be found by the first query
	// after AddPDQ returns. Time from the start of AddPDQ until a radius
	// 31 query returns it.
	rng := rand.New(rand.NewPCG(d.seed, 7))
	var vis []time.Duration
	for k := range 1000 {
		h := randomPDQ(rng)
		id := uint64(d.n + k)
		t := time.Now()
		ix.AddPDQ(id, 1, h)
		tries := 0
		for !slices.ContainsFunc(ix.QueryPDQ(h, 31, nil), func(m Match) bool { return m.EntryID == id }) {
			if tries++; tries > 1 {
				b.Fatalf("entry %d not matchable after %d queries", id, tries)
			}
		}
		vis = append(vis, time.Since(t))
	}
	slices.Sort(vis)
	r.metrics["visible-max-µs"] = us(vis[len(vis)-1])
	logf("add then query (radius 31) of 1000 new entries, all found by the first query: p50 %.0f µs, max %.0f µs",
		us(pct(vis, 0.5)), us(vis[len(vis)-1]))

	// Steady state with small segments: 50,000 more adds through the
	// delta, built and merged in the background.
	t0 = time.Now()
	for k := range 50_000 {
		ix.AddPDQ(uint64(d.n+1000+k), 2, randomPDQ(rng))
	}
	adds := time.Since(t0)
	st = ix.Stats()
	ds, _ = latencies(ix, r.queries[:4000], 31)
	logf("50,000 adds in %.0f ms (%.1f µs each); then %d segments, %d pending, %d in delta: p50 %.0f µs, p99 %.0f µs",
		float64(adds.Milliseconds()), us(adds)/50_000, len(st.Segments), st.Pending, st.Delta, us(pct(ds, 0.5)), us(pct(ds, 0.99)))
	ix.Flush()
	st = ix.Stats()
	ds, _ = latencies(ix, r.queries[:4000], 31)
	r.metrics["p99-after-adds-µs"] = us(pct(ds, 0.99))
	sizes := []int{}
	for _, s := range st.Segments {
		sizes = append(sizes, s.Hashes)
	}
	logf("after Flush: segments %v: p50 %.0f µs, p99 %.0f µs", sizes, us(pct(ds, 0.5)), us(pct(ds, 0.99)))

	la, _ = os.ReadFile("/proc/loadavg")
	logf("loadavg after: %s", strings.TrimSpace(string(la)))
	benchRuns.Store(name, r)
	return r
}

func (r *indexBench) report(b *testing.B) {
	for _, l := range r.log {
		b.Log(l)
	}
	// The timed loop: radius 31 queries, so ns/op is the mean latency.
	b.ResetTimer()
	for i := range b.N {
		r.ix.QueryPDQ(r.queries[i%len(r.queries)], 31, nil)
	}
	b.StopTimer()
	// After the loop: ResetTimer deletes reported metrics.
	for k, v := range r.metrics {
		b.ReportMetric(v, k)
	}
}

// benchRequested reports whether -test.bench names the benchmark
// explicitly, for the benchmarks too heavy to run with -bench=. .
func benchRequested(name string) bool {
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), name)
}

// BenchmarkIndex10M builds an index of 10 million PDQ hashes with Load and
// reports build time, resident memory (VmRSS after the build, less the
// baseline; peak-MB is VmHWM less the baseline), p50 and p99 latency of
// 10,000 radius-31 queries (half near-duplicates, half random), a
// brute-force scan in the same run and the ratio, the time until a new entry
// is matchable, and p99 after 50,000 adds through the delta. It allocates
// about 1.5 GB, so it runs only when named: -bench Index10M.
func BenchmarkIndex10M(b *testing.B) {
	if !benchRequested("Index10M") {
		b.Skip("heavy: run with -bench Index10M")
	}
	runIndexBench(b, "10M", benchData{n: 10_000_000, seed: 1}, true).report(b)
}

// BenchmarkIndex1M is BenchmarkIndex10M on 1 million hashes.
func BenchmarkIndex1M(b *testing.B) {
	runIndexBench(b, "1M", benchData{n: 1_000_000, seed: 1}, true).report(b)
}

// BenchmarkSlots1M compares layouts (slots and low bits per posting) on 1
// million hashes: query latency at radius 31, build time, memory, and the
// cost model's estimate.
func BenchmarkSlots1M(b *testing.B) {
	for _, l := range [][2]int{{11, 7}, {11, 4}, {12, 5}, {12, 0}, {13, 0}, {14, 3}, {16, 0}} {
		b.Run(fmt.Sprintf("slots=%d/low=%d", l[0], l[1]), func(b *testing.B) {
			runLayout(b, benchData{n: 1_000_000, seed: 2}, l[0], l[1])
		})
	}
}

// BenchmarkSlots10M compares layouts on 10 million hashes. Heavy: run with
// -bench Slots10M.
func BenchmarkSlots10M(b *testing.B) {
	if !benchRequested("Slots10M") {
		b.Skip("heavy: run with -bench Slots10M")
	}
	for _, l := range [][2]int{{11, 4}, {11, 6}, {11, 8}, {10, 6}, {10, 8}, {12, 0}, {12, 4}, {13, 0}, {16, 0}} {
		b.Run(fmt.Sprintf("slots=%d/low=%d", l[0], l[1]), func(b *testing.B) {
			runLayout(b, benchData{n: 10_000_000, seed: 2}, l[0], l[1])
		})
	}
}

func runLayout(b *testing.B, d benchData, m, low int) {
	name := fmt.Sprintf("layout/%d/%d/%d", d.n, m, low)
	if v, ok := benchRuns.Load(name); ok {
		v.(*indexBench).report(b)
		return
	}
	// Free the index of the previous layout before this one is built.
	benchRuns.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), "layout/") {
			benchRuns.Delete(k)
		}
		return true
	})
	settle()
	r := &indexBench{metrics: map[string]float64{}}
	r.queries = d.queries(10_000)
	settle()
	rss0, _ := procStatus(b)
	t0 := time.Now()
	ix := New(Options{slots: m, low: low, probeAlways: true})
	if err := ix.Load(d.entries()); err != nil {
		b.Fatal(err)
	}
	r.metrics["build-s"] = time.Since(t0).Seconds()
	settle()
	rss, _ := procStatus(b)
	r.metrics["rss-MB"] = rss - rss0
	ds, _ := latencies(ix, r.queries, 31)
	r.metrics["p50-µs"] = us(pct(ds, 0.5))
	r.metrics["p99-µs"] = us(pct(ds, 0.99))
	r.metrics["mean-µs"] = us(mean(ds))
	r.metrics["model-µs"] = makeLayout(m, low).cost(d.n, 31) / 1e3
	r.ix = ix
	benchRuns.Store(name, r)
	r.report(b)
}

// BenchmarkDeltaScan measures a radius-31 query on a full delta of the
// default size, the cost every PDQ query pays on top of the segments.
func BenchmarkDeltaScan(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{2048, 8192, 32768} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			ix := New(Options{DeltaSize: size + 1})
			for i := range size {
				ix.AddPDQ(uint64(i), 0, randomPDQ(rng))
			}
			q := randomPDQ(rng)
			b.ResetTimer()
			for range b.N {
				ix.QueryPDQ(q, 31, nil)
			}
		})
	}
}

// BenchmarkCopyDelta measures copying a full delta of the default size,
// what each add would cost if the delta were copy-on-write instead of
// append-only with an atomic length.
func BenchmarkCopyDelta(b *testing.B) {
	d := newDelta(DefaultDeltaSize)
	var c pdqColumns
	b.ResetTimer()
	for range b.N {
		c.hashes = slices.Clone(d.pdq.hashes)
		c.ids = slices.Clone(d.pdq.ids)
		c.banks = slices.Clone(d.pdq.banks)
	}
	_ = c
}

// BenchmarkAddPDQ measures adds through the delta, including the freezes;
// the segment builds run in the background.
func BenchmarkAddPDQ(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	hs := make([]PDQ, 1<<16)
	for i := range hs {
		hs[i] = randomPDQ(rng)
	}
	ix := New(Options{})
	b.ResetTimer()
	for i := range b.N {
		ix.AddPDQ(uint64(i), 0, hs[i&(len(hs)-1)])
	}
	b.StopTimer()
	ix.Flush()
}

// BenchmarkLookupExact looks up SHA-256 digests in a loaded segment of 1
// million, half of them present, with a part-full delta.
func BenchmarkLookupExact(b *testing.B) {
	const n = 1_000_000
	digest := func(i int) []byte {
		s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		return s[:]
	}
	ix := New(Options{})
	err := ix.Load(func(yield func(Entry, error) bool) {
		for i := range n {
			if !yield(Entry{ID: uint64(i), Algo: AlgoSHA256, Digest: digest(i)}, nil) {
				return
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range DefaultDeltaSize / 2 {
		if err := ix.AddExact(uint64(n+i), 0, AlgoSHA256, digest(n+i)); err != nil {
			b.Fatal(err)
		}
	}
	qs := make([][]byte, 1024)
	for i := range qs {
		qs[i] = digest(i * 1999 % (2 * n))
	}
	b.ResetTimer()
	for i := range b.N {
		ix.LookupExact(AlgoSHA256, qs[i%len(qs)])
	}
}
