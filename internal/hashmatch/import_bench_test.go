package hashmatch_test

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// BenchmarkImportMillion measures a hash-list import end to end, as a
// supervisor starts it from the bank page: the CSV (one MD5 per row,
// generated as it streams) is acquired into the vault encrypted, then the
// import job reads it back, writes the entries in batches and brings them
// into the match index. It reports rows/s and the wall time from upload to
// "done"; the last row must then match. Run it once per engine:
//
//	HAVEN_TEST_POSTGRES_URL=… go test -run '^$' -bench ImportMillion -benchtime 1x ./internal/hashmatch/
//
// HAVEN_BENCH_IMPORT_ROWS changes the row count (default 1,000,000).
func BenchmarkImportMillion(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("HAVEN_BENCH_IMPORT_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			for range b.N {
				importOnce(b, engine, rows)
			}
		})
	}
}

// rowDigest is the MD5 of row i's synthetic content.
func rowDigest(i int) [16]byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(i))
	return md5.Sum(buf[:])
}

func importOnce(b *testing.B, engine string, rows int) {
	env := haventest.StartWith(b, engine, haventest.Options{Workers: true, RealClock: true})
	ctx := context.Background()
	sys := haven.SystemActor("bench")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Million", Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		w := &strings.Builder{}
		w.WriteString("md5,classification_scheme,classification_code,external_id\n")
		for i := range rows {
			d := rowDigest(i)
			fmt.Fprintf(w, "%s,industry,B1,bench-%d\n", hex.EncodeToString(d[:]), i)
			if w.Len() > 64<<10 {
				if _, err := io.WriteString(pw, w.String()); err != nil {
					return
				}
				w.Reset()
			}
		}
		io.WriteString(pw, w.String())
		pw.Close()
	}()
	start := time.Now()
	im, err := env.App.Hashes.StartImport(ctx, sys, bank.ID, "csv", "million.csv", pr)
	if err != nil {
		b.Fatal(err)
	}
	uploaded := time.Since(start)
	for {
		got, err := env.App.Hashes.Import(ctx, sys, im.ID)
		if err != nil {
			b.Fatal(err)
		}
		if got.Status == haven.ImportFailed {
			b.Fatalf("import failed: %s", got.Problems)
		}
		if got.Status == haven.ImportDone {
			im = got
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	total := time.Since(start)
	if im.Added != int64(rows) || im.Rejected != 0 {
		b.Fatalf("added %d, rejected %d of %d rows", im.Added, im.Rejected, rows)
	}
	last := rowDigest(rows - 1)
	out, err := env.App.Hashes.Match(ctx, hashmatch.Query{MD5: last[:]})
	if err != nil || len(out.Matches) != 1 || out.Matches[0].Entry.ExternalID != "bench-"+strconv.Itoa(rows-1) {
		b.Fatalf("the last imported row does not match: %+v %v", out, err)
	}
	b.ReportMetric(float64(rows)/total.Seconds(), "rows/s")
	b.ReportMetric(total.Seconds(), "s-total")
	b.ReportMetric(uploaded.Seconds(), "s-upload")
	b.ReportMetric(0, "ns/op")
}
