package hashmatch_test

import (
	"context"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/vpdq"
	"github.com/haven-hotline/haven/internal/vpdq/vpdqtest"
)

// TestVideoMatching: a bank holds the vPDQ hash of a synthetic clip. A
// re-encoded copy (an MP4 that must be hashed from memory) and a trimmed
// part match it, with their frame shares; an unrelated clip does not; a
// removed entry stops matching at once.
func TestVideoMatching(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	ctx := context.Background()
	hash := func(b []byte) *vpdq.Video {
		t.Helper()
		v, err := hashmatch.HashVideoBytes(ctx, b, vpdq.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ref, reenc, trim, other := hash(vpdqtest.Reference(t)), hash(vpdqtest.Reencoded(t)), hash(vpdqtest.Trimmed(t)), hash(vpdqtest.Unrelated(t))
	s := storetest.Open(t, "sqlite")
	svc := newService(s)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	bank, err := svc.CreateBank(ctx, sys, haven.HashBank{Name: "Known videos", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	value, err := ref.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoVPDQ, Value: value,
		Classification: haven.Classification{Scheme: "test", Code: "known-video"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		video          *vpdq.Video
		match          bool
		qShare, tShare float64 // lower bounds when match
	}{
		{"re-encoded", reenc, true, 0.9, 0.9},
		{"trimmed", trim, true, 0.9, 0.3},
		{"unrelated", other, false, 0, 0},
	} {
		out, err := svc.Match(ctx, hashmatch.Query{Video: tc.video})
		if err != nil {
			t.Fatal(err)
		}
		if !tc.match {
			if len(out.Matches) != 0 {
				t.Errorf("%s: matched %+v", tc.name, out.Matches[0])
			}
			continue
		}
		if len(out.Matches) != 1 {
			t.Fatalf("%s: %d matches, want 1", tc.name, len(out.Matches))
		}
		m := out.Matches[0]
		t.Logf("%s: query share %.2f, target share %.2f, closest frames %d bits apart", tc.name, m.QueryShare, m.TargetShare, m.Distance)
		if m.Entry.ID != e.ID || m.Algo != haven.AlgoVPDQ || m.QueryShare < tc.qShare || m.TargetShare < tc.tShare || m.Distance > 31 {
			t.Errorf("%s: %+v", tc.name, m)
		}
		// The shares are vpdq.Match's, recomputed independently here.
		want := vpdq.Match(tc.video, ref, vpdq.MatchOptions{})
		if m.QueryShare != want.Query || m.TargetShare != want.Target {
			t.Errorf("%s: shares %.3f/%.3f, vpdq.Match says %.3f/%.3f", tc.name, m.QueryShare, m.TargetShare, want.Query, want.Target)
		}
	}
	if err := svc.RemoveEntry(ctx, sys, e.ID); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.Match(ctx, hashmatch.Query{Video: reenc}); err != nil || len(out.Matches) != 0 {
		t.Errorf("a removed video entry still matches: %+v %v", out, err)
	}
	// Another instance loading from the database sees the removal too, and
	// a re-added entry through Follow.
	b := newService(s)
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if out, _ := b.Match(ctx, hashmatch.Query{Video: reenc}); len(out.Matches) != 0 {
		t.Error("a fresh instance matches a removed video entry")
	}
	if _, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoVPDQ, Value: value}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if out, _ := b.Match(ctx, hashmatch.Query{Video: reenc}); len(out.Matches) != 1 {
		t.Error("the other instance does not match a re-added video entry after following")
	}
}
