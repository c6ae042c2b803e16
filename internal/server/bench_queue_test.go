package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// BenchmarkQueuePageMillion measures the staff queue page, through HTTP
// with a signed-in analyst, over a database holding 1,000,000 synthetic
// reports (20 % still open) with their triage records, on each engine. It
// reports the p50 and p95 of the whole page (queue rows, counts per level,
// the overdue list, rendering) over varied filters. Target: p95 < 100 ms.
//
//	HAVEN_TEST_POSTGRES_URL=… go test -run '^$' -bench QueuePageMillion -benchtime 1x -timeout 30m ./internal/server/
//
// HAVEN_BENCH_REPORTS changes the report count.
func BenchmarkQueuePageMillion(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("HAVEN_BENCH_REPORTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			env := haventest.StartWith(b, engine, haventest.Options{})
			start := time.Now()
			fillReports(b, env, n)
			b.Logf("%s: %d reports loaded in %v", engine, n, time.Since(start).Round(time.Second))
			ana := env.NewUser(b, "analyst@example.org", haven.RoleIntake, "")
			c := env.Client(b)
			c.Login(ana)
			paths := []string{"/app/queue", "/app/queue?priority=P2", "/app/queue?source=public", "/app/queue?esp=esp-7",
				"/app/queue?country=GB", "/app/queue?priority=INFO&country=US", "/app/queue?closed=1"}
			if r := c.Get(paths[0]); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="queue"`) {
				b.Fatalf("queue page: %d", r.StatusCode)
			}
			// The next page, through the page's own link.
			first := c.Get(paths[0])
			i := strings.Index(first.Body, `/app/queue?after=`)
			if i < 0 {
				b.Fatal("no next-page link on a full queue")
			}
			next := strings.ReplaceAll(first.Body[i:i+strings.IndexByte(first.Body[i:], '"')], "&amp;", "&")
			paths = append(paths, next)
			for range b.N {
				var lat []time.Duration
				per := map[string][]time.Duration{}
				for range 30 {
					for _, p := range paths {
						t0 := time.Now()
						r := c.Get(p)
						d := time.Since(t0)
						lat = append(lat, d)
						per[p] = append(per[p], d)
						if r.StatusCode != http.StatusOK {
							b.Fatalf("%s: %d", p, r.StatusCode)
						}
					}
				}
				for _, p := range paths {
					slices.Sort(per[p])
					b.Logf("%-40.40s p50 %6.1f ms  p95 %6.1f ms", p, ms(per[p][len(per[p])/2]), ms(per[p][len(per[p])*95/100]))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fillReports inserts n minimal reports and their triage records straight
// into the database, in multi-row statements.
func fillReports(b *testing.B, env *haventest.Env, n int) {
	ctx := context.Background()
	db := env.App.Store.DB()
	pg := env.App.Store.Dialect().Name() == "postgres"
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	countries := []string{"US", "US", "US", "GB", "CA", "DE", "FR", "IN", "BR", "PH", "MX", "AU"}
	sources := []string{"esp", "esp", "esp", "esp", "api", "public", "phone"}
	levels := []string{"P1", "P2", "P2", "P3", "P3", "P3", "P3", "INFO", "INFO", "INFO"}
	const chunk = 500
	ph := func(i int) string {
		if pg {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		var rq, wq strings.Builder
		var ra, wa []any
		rq.WriteString(`INSERT INTO reports (id, source, status, submitter_id, opened_at, modified_at, finished_at, incident_type, escalate, content) VALUES `)
		wq.WriteString(`INSERT INTO report_work (report_id, received_at, source, esp_id, program, country, computed_priority, priority,
			priority_rank, reasons, rule_version, evaluated_at, status, open, sla_due_at, incidents, updated_at) VALUES `)
		for i := lo; i < hi; i++ {
			id := int64(i + 1)
			at := base.Add(time.Duration(i) * 30 * time.Second)
			src := sources[rng.IntN(len(sources))]
			esp := ""
			if src == "esp" || src == "api" {
				esp = fmt.Sprintf("esp-%d", rng.IntN(50))
			}
			lvl := levels[rng.IntN(len(levels))]
			rank := map[string]int{"P1": 1, "P2": 2, "P3": 3, "INFO": 4}[lvl]
			open := rng.IntN(5) == 0
			status := "closed"
			if open {
				status = []string{"new", "in_review"}[rng.IntN(2)]
			}
			if i > lo {
				rq.WriteString(", ")
				wq.WriteString(", ")
			}
			k := len(ra)
			rq.WriteString("(")
			for j := range 10 {
				if j > 0 {
					rq.WriteString(", ")
				}
				rq.WriteString(ph(k + j + 1))
			}
			rq.WriteString(")")
			ra = append(ra, id, src, "finished", esp, at, at, at, string(haven.IncidentCSAM), lvl == "P1", "{}")
			k = len(wa)
			wq.WriteString("(")
			for j := range 17 {
				if j > 0 {
					wq.WriteString(", ")
				}
				wq.WriteString(ph(k + j + 1))
			}
			wq.WriteString(")")
			var due any
			if d := map[string]time.Duration{"P1": time.Hour, "P2": 24 * time.Hour, "P3": 7 * 24 * time.Hour}[lvl]; d > 0 {
				due = at.Add(d)
			}
			wa = append(wa, id, at, src, esp, "cybertipline", countries[rng.IntN(len(countries))], lvl, lvl, rank,
				`[{"rule":"default","name":"synthetic","level":"`+lvl+`","applied":true}]`, 1, at, status, open, due, 1, at)
		}
		if _, err := tx.ExecContext(ctx, rq.String(), ra...); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, wq.String(), wa...); err != nil {
			b.Fatal(err)
		}
		if hi%100_000 == 0 {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			if tx, err = db.BeginTx(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if pg {
		if _, err := db.ExecContext(ctx, `ANALYZE reports; ANALYZE report_work`); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
