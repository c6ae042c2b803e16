package hashmatch_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

var sys = haven.SystemActor("test")

func newService(s *store.Store) *hashmatch.Service {
	l := audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, s.Dialect().AuditChains())
	return hashmatch.New(s, l, nil, nil, haven.SystemClock{}, nil)
}

// near returns h with n bits flipped.
func near(h pdq.Hash, n int) pdq.Hash {
	for i := range n {
		h[i%32] ^= 1 << (i / 32 % 8)
	}
	return h
}

// TestTwoInstancesFollowEachOther: two services on one database stand for
// two server instances; what one adds or removes, the other matches or
// stops matching after following the change sequence.
func TestTwoInstancesFollowEachOther(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, engine)
			a, b := newService(s), newService(s)
			if err := a.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Load(ctx); err != nil {
				t.Fatal(err)
			}
			bank, err := a.CreateBank(ctx, sys, haven.HashBank{Name: "Series bank", Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			var h pdq.Hash
			copy(h[:], bytes.Repeat([]byte{0x5a, 0xc3}, 16))
			e, err := a.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: h[:],
				Classification: haven.Classification{Scheme: "industry", Code: "B2"}})
			if err != nil {
				t.Fatal(err)
			}
			q := func(x pdq.Hash) hashmatch.Query { return hashmatch.Query{PDQ: &x, PDQQuality: 100} }
			// A sees it at once.
			if out, err := a.Match(ctx, q(near(h, 10))); err != nil || len(out.Matches) != 1 || out.Matches[0].Distance != 10 {
				t.Fatalf("instance A: %+v %v", out, err)
			}
			// B after following.
			if out, _ := b.Match(ctx, q(h)); len(out.Matches) != 0 {
				t.Fatal("instance B matched before following")
			}
			if n, err := b.Follow(ctx); err != nil || n != 1 {
				t.Fatalf("follow: %d %v", n, err)
			}
			if out, err := b.Match(ctx, q(near(h, 31))); err != nil || len(out.Matches) != 1 || out.Matches[0].Entry.Classification.Code != "B2" {
				t.Fatalf("instance B after follow: %+v %v", out, err)
			}
			if out, _ := b.Match(ctx, q(near(h, 32))); len(out.Matches) != 0 {
				t.Fatal("matched beyond the bank's threshold of 31")
			}
			if out, _ := b.Match(ctx, hashmatch.Query{PDQ: &h, PDQQuality: 20}); len(out.Matches) != 0 {
				t.Fatal("a low-quality hash was matched")
			}
			// Removal by B stops A after A follows; B stops at once.
			if err := b.RemoveEntry(ctx, sys, e.ID); err != nil {
				t.Fatal(err)
			}
			if out, _ := b.Match(ctx, q(h)); len(out.Matches) != 0 {
				t.Fatal("instance B still matches a removed entry")
			}
			// Even before following, A never reports a removed entry: the
			// join with the database drops it.
			if out, _ := a.Match(ctx, q(h)); len(out.Matches) != 0 {
				t.Fatal("instance A reported a removed entry")
			}
			if _, err := a.Follow(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestExactAndNegative(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	svc := newService(s)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	pos, _ := svc.CreateBank(ctx, sys, haven.HashBank{Name: "Known", Enabled: true})
	neg, _ := svc.CreateBank(ctx, sys, haven.HashBank{Name: "False positives", Negative: true, Enabled: true, PDQThreshold: 8})
	sum := md5.Sum([]byte("synthetic bytes"))
	if _, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: pos.ID, Algo: haven.AlgoMD5, Value: sum[:], Viral: true}); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Match(ctx, hashmatch.Query{MD5: sum[:]})
	if err != nil || len(out.Matches) != 1 || out.Matches[0].Algo != haven.AlgoMD5 || out.Matches[0].Distance != 0 || !out.Matches[0].Entry.Viral {
		t.Fatalf("exact match: %+v %v", out, err)
	}
	var h pdq.Hash
	copy(h[:], bytes.Repeat([]byte{0x0f}, 32))
	if _, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: pos.ID, Algo: haven.AlgoPDQ, Value: h[:]}); err != nil {
		t.Fatal(err)
	}
	fp := near(h, 3)
	if _, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: neg.ID, Algo: haven.AlgoPDQ, Value: fp[:]}); err != nil {
		t.Fatal(err)
	}
	out, err = svc.Match(ctx, hashmatch.Query{PDQ: &h, PDQQuality: 90})
	if err != nil || !out.Suppressed || len(out.Matches) != 0 {
		t.Fatalf("a known false positive did not suppress: %+v %v", out, err)
	}
	far := near(h, 20) // within the positive bank's 31, outside the negative bank's 8
	out, err = svc.Match(ctx, hashmatch.Query{PDQ: &far, PDQQuality: 90})
	if err != nil || out.Suppressed || len(out.Matches) != 1 {
		t.Fatalf("beyond the negative bank's threshold: %+v %v", out, err)
	}
	if _, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: pos.ID, Algo: haven.AlgoMD5, Value: []byte("short")}); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("a 5-byte MD5: got %v", err)
	}
	if _, err := svc.AddEntry(ctx, haven.Actor{UserID: "x", Role: haven.RoleIntake}, haven.HashEntry{BankID: pos.ID, Algo: haven.AlgoMD5, Value: sum[:]}); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an intake analyst added an entry: %v", err)
	}
}
