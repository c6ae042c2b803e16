package victimid_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/victimid"
)

// BenchmarkIdentificationRequestPostgres is BenchmarkIdentificationRequest
// through the production matcher: 10,000,000 bank entries (9,000,000 MD5
// and 1,000,000 PDQ, each with one of 50 series codes) are written into
// PostgreSQL's hash_entries table by one INSERT … SELECT, the real
// hashmatch.Service loads them into its index as a server does at start,
// and the request of 100,000 hashes (1 % known) runs through
// victimid.Service and hashmatch.Service.Match, which reads each matched
// entry's row. Loading is not timed.
//
//	HAVEN_TEST_POSTGRES_URL=… go test ./internal/victimid/ -run '^$' -bench IdentificationRequestPostgres -benchtime 1x -timeout 40m
func BenchmarkIdentificationRequestPostgres(b *testing.B) {
	if os.Getenv("HAVEN_TEST_POSTGRES_URL") == "" {
		b.Skip("needs HAVEN_TEST_POSTGRES_URL")
	}
	const (
		nMD5, nPDQ = 9_000_000, 1_000_000
		nQuery     = 100_000
	)
	ctx := context.Background()
	s := storetest.Open(b, "postgres")
	clock := &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	log := audit.New(key(), key(), clock, s.Dialect().AuditChains())
	hashes := hashmatch.New(s, log, nil, nil, clock, nil)
	sys := haven.SystemActor("bench")
	bank, err := hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Bench bank", Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// Entry g has MD5 = md5(decimal g) for g ≤ nMD5, and a PDQ made of
	// two MD5s above that; series SERIES-BENCH-(g mod 50).
	_, err = s.DB().ExecContext(ctx, `INSERT INTO hash_entries (id, bank_id, algo, value, series_id, added_at, enabled, change_seq)
		SELECT g, $1, CASE WHEN g <= $2 THEN 'md5' ELSE 'pdq' END,
			CASE WHEN g <= $2 THEN decode(md5(g::text), 'hex') ELSE decode(md5(g::text) || md5((-g)::text), 'hex') END,
			'SERIES-BENCH-' || (g % 50), now(), TRUE, g
		FROM generate_series(1, $3::bigint) g`, bank.ID, nMD5, nMD5+nPDQ)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name IN ('hash_entry', 'hash_change')`, nMD5+nPDQ); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE hash_entries`); err != nil {
		b.Fatal(err)
	}
	b.Logf("10,000,000 entries written in %s", time.Since(start).Round(time.Second))
	start = time.Now()
	if err := hashes.Load(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded into the match index in %s", time.Since(start).Round(time.Second))

	svc := victimid.New(s, log, clock, nil, hashes)
	ag := &haven.Agency{ID: haven.NewID(), Name: "Example County ICAC Task Force", Kind: haven.AgencyICAC, CreatedAt: clock.Now()}
	if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAgency(ctx, ag) }); err != nil {
		b.Fatal(err)
	}
	vid := haven.Actor{UserID: "vid", Role: haven.RoleVictimID, AuthAt: clock.Now()}
	for i := range 50 {
		c := "SERIES-BENCH-" + strconv.Itoa(i)
		if _, err := svc.SaveSeries(ctx, vid, store.Series{Code: c, Name: "Bench series " + c}); err != nil {
			b.Fatal(err)
		}
		v := store.Victim{ID: "V-BENCH-" + c, Notify: victimid.NotifyYes, Series: []string{c}}
		if i%2 == 0 {
			v.Identified, v.AgencyID, v.IdentifiedOn, v.OfficerEmail = true, ag.ID, clock.Now(), "officer@example.org"
		}
		if _, err := svc.SaveVictim(ctx, vid, v); err != nil {
			b.Fatal(err)
		}
	}
	// The list: 1 % known MD5s (entries spread over the table), the rest
	// unknown digests; one row in 100 also has a PDQ hash, one in 10,000 a
	// known one with 4 bits flipped.
	var sb strings.Builder
	sb.WriteString("md5,pdq\n")
	knownPDQ := 0
	for i := range nQuery {
		var d [16]byte
		if i%100 == 0 {
			d = md5.Sum([]byte(strconv.Itoa(1 + i*89)))
		} else {
			d = md5.Sum([]byte("unknown-" + strconv.Itoa(i)))
		}
		sb.WriteString(hex.EncodeToString(d[:]))
		sb.WriteByte(',')
		if i%100 == 50 {
			g := nMD5 + 1 + i*7
			a, c := md5.Sum([]byte(strconv.Itoa(g))), md5.Sum([]byte(strconv.Itoa(-g)))
			p := append(a[:], c[:]...)
			if i%10000 == 50 {
				p[0] ^= 0x0f
				knownPDQ++
			} else {
				u1, u2 := md5.Sum([]byte("pdq-"+strconv.Itoa(i))), md5.Sum([]byte("pdq2-"+strconv.Itoa(i)))
				p = append(u1[:], u2[:]...)
			}
			sb.WriteString(hex.EncodeToString(p))
		}
		sb.WriteByte('\n')
	}
	list := sb.String()
	le := haven.Actor{UserID: "le", Role: haven.RoleLE, AgencyID: ag.ID, AuthAt: clock.Now()}
	b.ResetTimer()
	for range b.N {
		rep, err := svc.Request(ctx, le, victimid.Submission{CaseNumber: "CASE-BENCH", Purpose: "investigation",
			ListFormat: victimid.FormatCSV, List: strings.NewReader(list)})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Result.Submitted != nQuery || rep.Result.Matched < nQuery/100 {
			b.Fatalf("got %d submitted, %d matched; want %d and at least %d (+%d by PDQ)", rep.Result.Submitted, rep.Result.Matched,
				nQuery, nQuery/100, knownPDQ)
		}
		b.ReportMetric(float64(rep.Result.Matched), "matched-files")
	}
}
