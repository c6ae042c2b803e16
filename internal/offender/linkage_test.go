package offender_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/offender"
)

// randomData returns address-periods and points scattered over a box
// of the continental United States, over ten years.
func randomData(r *rand.Rand, nPeriods, nPoints int) ([]offender.Period, []offender.Point, int64) {
	t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := int64(10 * 365 * 86400)
	lat := func() float64 { return 25 + r.Float64()*24 }
	lon := func() float64 { return -124 + r.Float64()*57 }
	periods := make([]offender.Period, nPeriods)
	for i := range periods {
		from := t0 + r.Int64N(span)
		to := from + r.Int64N(3*365*86400)
		if r.IntN(4) == 0 {
			to = 0 // still living there
		}
		periods[i] = offender.Period{Owner: int32(i), Fact: int32(i), Lat: lat(), Lon: lon(), From: from, To: to}
	}
	points := make([]offender.Point, nPoints)
	for i := range points {
		points[i] = offender.Point{Index: int32(i), Lat: lat(), Lon: lon(), At: t0 + r.Int64N(span)}
	}
	return periods, points, t0 + span
}

// TestFindNearMatchesAllPairs checks the bucketed search against the
// comparison of every pair, on data dense enough to give matches,
// including points near the poles and across cell edges.
func TestFindNearMatchesAllPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	periods, points, now := randomData(r, 3000, 3000)
	// Crowd some points around a few periods so that there are matches.
	for range 600 {
		p := periods[r.IntN(len(periods))]
		points = append(points, offender.Point{Index: int32(len(points)), Lat: p.Lat + (r.Float64()-0.5)*0.12,
			Lon: p.Lon + (r.Float64()-0.5)*0.12, At: p.From + r.Int64N(86400*400) - 86400*40})
	}
	periods = append(periods, offender.Period{Lat: 71.0, Lon: 25.0, From: now - 86400*100},
		offender.Period{Lat: -60.0, Lon: 10.0, From: now - 86400*100})
	points = append(points, offender.Point{Index: int32(len(points)), Lat: 71.02, Lon: 25.1, At: now - 86400},
		offender.Point{Index: int32(len(points) + 1), Lat: -60.03, Lon: 10.05, At: now - 86400})
	params := offender.NearParams{RadiusKM: 5, Window: 30 * 24 * time.Hour, Now: now}
	type pair struct{ a, b int32 }
	var got []pair
	offender.FindNear(periods, points, params, func(n offender.Near) { got = append(got, pair{n.Period, n.Point}) })
	var want []pair
	win := int64(30 * 86400)
	for i, p := range periods {
		to := p.To
		if to == 0 {
			to = now
		}
		for j, q := range points {
			if q.At < p.From-win || q.At > to+win {
				continue
			}
			if offender.Distance(p.Lat, p.Lon, q.Lat, q.Lon) <= 5 {
				want = append(want, pair{int32(i), int32(j)})
			}
		}
	}
	cmpPair := func(x, y pair) int {
		if x.a != y.a {
			return int(x.a - y.a)
		}
		return int(x.b - y.b)
	}
	slices.SortFunc(got, cmpPair)
	slices.SortFunc(want, cmpPair)
	if len(want) < 100 {
		t.Fatalf("the test data gives only %d matches", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("bucketed search found %d pairs, all pairs %d", len(got), len(want))
	}
}

func TestDistance(t *testing.T) {
	// One degree of latitude is about 111.2 km; one of longitude at 60°
	// about half that.
	if d := offender.Distance(40, -77, 41, -77); d < 111 || d > 111.4 {
		t.Errorf("one degree of latitude: %.2f km", d)
	}
	if d := offender.Distance(60, 10, 60, 11); d < 55.4 || d > 55.8 {
		t.Errorf("one degree of longitude at 60°: %.2f km", d)
	}
}

// BenchmarkLinkage1M is the acceptance benchmark: 1,000,000 offender
// address-periods against 100,000 incidents. Run it once:
//
//	go test ./internal/offender/ -run '^$' -bench Linkage1M -benchtime 1x
func BenchmarkLinkage1M(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	periods, points, now := randomData(r, 1_000_000, 100_000)
	params := offender.NearParams{RadiusKM: 5, Window: 30 * 24 * time.Hour, Now: now}
	b.ResetTimer()
	for b.Loop() {
		n, best := 0, 0
		offender.FindNear(periods, points, params, func(m offender.Near) {
			n++
			best = max(best, offender.ScoreNear(m, params))
		})
		b.ReportMetric(float64(n), "matches")
	}
}
