package identifiers_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// benchPools are the sizes of the synthetic identifier pools. Reports
// draw from them with a power law, so that a few entities link thousands
// of reports (a shared IP address, a viral file) and most link a few.
var benchPools = []struct {
	kind identifiers.Kind
	size int
}{
	{identifiers.KindEmail, 250_000},
	{identifiers.KindPhone, 80_000}, // 800 area codes × the 100 fictional 555-01xx numbers
	{identifiers.KindIP, 300_000},
	{identifiers.KindScreenName, 150_000},
	{identifiers.KindMD5, 200_000},
}

// benchValue is the canonical value of entity i of a pool, and raw a way
// a person would type it.
func benchValue(kind identifiers.Kind, i int) (canonical, raw string, ip []byte) {
	switch kind {
	case identifiers.KindEmail:
		return fmt.Sprintf("user%d@example.org", i), fmt.Sprintf(" User%d@EXAMPLE.org", i), nil
	case identifiers.KindPhone:
		area, line := 200+i/100, 100+i%100
		return fmt.Sprintf("+1%d555%04d", area, line), fmt.Sprintf("(%d) 555-%04d", area, line), nil
	case identifiers.KindIP:
		var a netip.Addr
		if i < 768 { // the IPv4 documentation networks, the most shared
			a = netip.AddrFrom4([4]byte{[]byte{192, 198, 203}[i/256], []byte{0, 51, 0}[i/256], []byte{2, 100, 113}[i/256], byte(i % 256)})
		} else {
			a = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff))
		}
		return a.String(), a.String(), identifiers.IPKey(a)
	case identifiers.KindScreenName:
		return fmt.Sprintf("example chat:user_%d", i), fmt.Sprintf("Example Chat:@User_%d", i), nil
	case identifiers.KindMD5:
		v := fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15|1)
		return v, strings.ToUpper(v), nil
	}
	panic("unknown bench kind")
}

// pick draws an entity of a pool: u³ makes small indices common.
func pick(r *rand.Rand, size int) int { return int(float64(size) * math.Pow(r.Float64(), 3)) }

// benchLoad writes the links of n synthetic reports, each with 3 to 5
// identifiers, straight through the store's bulk method.
func benchLoad(b *testing.B, s *store.Store, n int) time.Duration {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 2000
	start := time.Now()
	for first := 1; first <= n; first += batch {
		var ids []int64
		var links []*store.EntityLink
		for id := first; id < first+batch && id <= n; id++ {
			ids = append(ids, int64(id))
			at := base.Add(time.Duration(id) * 30 * time.Second)
			for range 3 + r.IntN(3) {
				p := benchPools[r.IntN(len(benchPools))]
				v, _, ip := benchValue(p.kind, pick(r, p.size))
				role := "reported"
				if p.kind == identifiers.KindMD5 {
					role = "file"
				}
				links = append(links, &store.EntityLink{ReportID: int64(id), ReportAt: at, Kind: string(p.kind), Value: v, IP: ip, Role: role})
			}
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.ReplaceReportEntities(ctx, ids, links) }); err != nil {
			b.Fatal(err)
		}
		if first%(100*batch) == 1 && first > 1 {
			b.Logf("%d reports loaded in %s", first-1, time.Since(start).Round(time.Second))
		}
	}
	// Statistics, as PostgreSQL's autovacuum and a SQLite "PRAGMA
	// optimize" would keep them in production.
	if _, err := s.DB().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d reports loaded in %s", n, time.Since(start).Round(time.Second))
	return time.Since(start)
}

func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// BenchmarkSearchMillion loads the links of a million synthetic reports
// (HAVEN_BENCH_REPORTS to change it) on each engine, then times 200
// searches by a typed identifier (normalised, looked up and audited)
// followed by the first page of the entity's reports (audited too), and
// 200 lists of related reports. It reports the 50th and 95th percentiles
// in milliseconds; the target is a 95th percentile under 100 ms.
//
//	HAVEN_TEST_POSTGRES_URL=postgres://… go test ./internal/identifiers/ \
//	    -run '^$' -bench SearchMillion -benchtime 1x -timeout 60m
func BenchmarkSearchMillion(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("HAVEN_BENCH_REPORTS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			f := setup(b, engine)
			load := benchLoad(b, f.s, n)
			r := rand.New(rand.NewPCG(3, 4))
			var search, related []time.Duration
			found, hubs := 0, int64(0)
			for b.Loop() {
				for i := range 200 {
					p := benchPools[r.IntN(len(benchPools))]
					idx := r.IntN(p.size)
					if i%2 == 0 {
						idx = pick(r, p.size) // half of the searches for common identifiers
					}
					_, raw, _ := benchValue(p.kind, idx)
					t := time.Now()
					res, err := f.svc.Search(ctx, analyst, p.kind, raw)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Entities) > 0 {
						found++
						hubs = max(hubs, res.Entities[0].Reports)
						if _, err := f.svc.Entity(ctx, analyst, res.Entities[0].ID, nil); err != nil {
							b.Fatal(err)
						}
					}
					search = append(search, time.Since(t))
				}
				for range 200 {
					id := int64(1 + r.IntN(n))
					t := time.Now()
					if _, err := f.svc.Related(ctx, analyst, id); err != nil {
						b.Fatal(err)
					}
					related = append(related, time.Since(t))
				}
			}
			b.Logf("%d of %d searches found an entity; the most shared links %d reports", found, len(search), hubs)
			b.ReportMetric(load.Seconds(), "load-s")
			b.ReportMetric(percentile(search, 50), "search-p50-ms")
			b.ReportMetric(percentile(search, 95), "search-p95-ms")
			b.ReportMetric(percentile(related, 50), "related-p50-ms")
			b.ReportMetric(percentile(related, 95), "related-p95-ms")
		})
	}
}
