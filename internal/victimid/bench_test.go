package victimid_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashindex"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/victimid"
)

// indexMatcher is a Matcher over a hashindex.Index whose entries' series
// are held in memory. hashmatch.Service.Match does the same index lookups
// and then reads each hit's entry row from the database; at 1,000 hits
// that read is milliseconds, while loading 10,000,000 rows into a test
// database would take the benchmark's whole budget before it starts.
type indexMatcher struct {
	ix     *hashindex.Index
	series []uint8 // entry ID → series number (0: none)
	codes  []string
	radius int
}

func (m *indexMatcher) Match(_ context.Context, q hashmatch.Query) (*hashmatch.Outcome, error) {
	var hits []hashindex.Match
	if len(q.MD5) == 16 {
		hits = append(hits, m.ix.LookupExact(hashindex.AlgoMD5, q.MD5)...)
	}
	if q.PDQ != nil {
		hits = append(hits, m.ix.QueryPDQ(hashindex.PDQ(*q.PDQ), m.radius, nil)...)
	}
	out := &hashmatch.Outcome{}
	for _, h := range hits {
		out.Matches = append(out.Matches, hashmatch.Result{Entry: &haven.HashEntry{ID: int64(h.EntryID), SeriesID: m.codes[m.series[h.EntryID]]},
			Distance: h.Distance})
	}
	return out, nil
}

// BenchmarkIdentificationRequest runs one identification request of
// 100,000 hashes (a CSV list: every row an MD5, one row in a hundred also
// a PDQ hash) against banks of 10,000,000 entries (9,000,000 MD5 and
// 1,000,000 PDQ) in the match index: parsing the list, the exact and PDQ
// (radius 31) lookups, grouping by series, and storing the request, its
// result and its notifications in SQLite. 1% of the MD5s and of the PDQ
// hashes are known. Building the index is not timed.
func BenchmarkIdentificationRequest(b *testing.B) {
	const (
		nMD5, nPDQ = 9_000_000, 1_000_000
		nQuery     = 100_000
	)
	rng := rand.New(rand.NewPCG(1, 2))
	md5s := make([]byte, nMD5*16)
	for i := 0; i < len(md5s); i += 8 {
		binary.LittleEndian.PutUint64(md5s[i:], rng.Uint64())
	}
	pdqs := make([]hashindex.PDQ, nPDQ)
	for i := range pdqs {
		for j := 0; j < 32; j += 8 {
			binary.LittleEndian.PutUint64(pdqs[i][j:], rng.Uint64())
		}
	}
	m := &indexMatcher{ix: hashindex.New(hashindex.Options{}), series: make([]uint8, nMD5+nPDQ+1), radius: 31,
		codes: []string{""}}
	for i := 1; i <= 50; i++ {
		m.codes = append(m.codes, "SERIES-BENCH-"+string(rune('A'+i%26))+string(rune('A'+i/26)))
	}
	for i := range m.series {
		m.series[i] = uint8(1 + i%50)
	}
	start := time.Now()
	err := m.ix.Load(func(yield func(hashindex.Entry, error) bool) {
		for i := range nMD5 {
			if !yield(hashindex.Entry{ID: uint64(i + 1), Bank: 1, Algo: hashindex.AlgoMD5, Digest: md5s[i*16 : i*16+16]}, nil) {
				return
			}
		}
		for i := range nPDQ {
			if !yield(hashindex.Entry{ID: uint64(nMD5 + i + 1), Bank: 1, Algo: hashindex.AlgoPDQ, PDQ: pdqs[i]}, nil) {
				return
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("index of %d entries built in %s", nMD5+nPDQ, time.Since(start).Round(time.Millisecond))

	// The list: 1% known MD5s, 1 row in 100 with a PDQ (1% of those known,
	// a few bits flipped).
	var sb strings.Builder
	sb.WriteString("md5,pdq\n")
	for i := range nQuery {
		d := make([]byte, 16)
		if i%100 == 0 {
			k := rng.IntN(nMD5)
			copy(d, md5s[k*16:])
		} else {
			binary.LittleEndian.PutUint64(d, rng.Uint64())
			binary.LittleEndian.PutUint64(d[8:], rng.Uint64())
		}
		sb.WriteString(hex.EncodeToString(d))
		sb.WriteByte(',')
		if i%100 == 50 {
			var p hashindex.PDQ
			if i%10000 == 50 {
				p = pdqs[rng.IntN(nPDQ)]
				p[3] ^= 0x11
			} else {
				for j := 0; j < 32; j += 8 {
					binary.LittleEndian.PutUint64(p[j:], rng.Uint64())
				}
			}
			sb.WriteString(hex.EncodeToString(p[:]))
		}
		sb.WriteByte('\n')
	}
	list := sb.String()

	ctx := context.Background()
	s := storetest.Open(b, "sqlite")
	clock := &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	svc := victimid.New(s, audit.New(key(), key(), clock, s.Dialect().AuditChains()), clock, nil, m)
	ag := &haven.Agency{ID: haven.NewID(), Name: "Example County ICAC Task Force", Kind: haven.AgencyICAC, CreatedAt: clock.Now()}
	if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAgency(ctx, ag) }); err != nil {
		b.Fatal(err)
	}
	vid := haven.Actor{UserID: "vid", Role: haven.RoleVictimID, AuthAt: clock.Now()}
	for i, c := range m.codes[1:] {
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
	le := haven.Actor{UserID: "le", Role: haven.RoleLE, AgencyID: ag.ID, AuthAt: clock.Now()}
	b.ResetTimer()
	for range b.N {
		rep, err := svc.Request(ctx, le, victimid.Submission{CaseNumber: "CASE-BENCH", Purpose: "investigation",
			ListFormat: victimid.FormatCSV, List: strings.NewReader(list)})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Result.Submitted != nQuery || rep.Result.Matched < nQuery/100 {
			b.Fatalf("got %d submitted, %d matched", rep.Result.Submitted, rep.Result.Matched)
		}
	}
}
