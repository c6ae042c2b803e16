package vpdq

import (
	"bytes"
	"errors"
	"testing"

	"github.com/haven-hotline/haven/internal/pdq"
)

func testVideo() *Video {
	v := &Video{Duration: 3.25}
	for i := range 3 {
		var h pdq.Hash
		for j := range h {
			h[j] = byte(i*37 + j*11)
		}
		v.Frames = append(v.Frames, Frame{Index: i, Second: float64(i), Hash: h, Quality: 40 + 30*i})
	}
	return v
}

func TestBinaryRoundTrip(t *testing.T) {
	v := testVideo()
	b, err := v.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != binHeader+3*binFrame {
		t.Errorf("%d bytes", len(b))
	}
	var w Video
	if err := w.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if w.Duration != v.Duration || len(w.Frames) != 3 {
		t.Fatalf("got %+v", w)
	}
	for i := range v.Frames {
		if w.Frames[i] != v.Frames[i] {
			t.Errorf("frame %d: %+v != %+v", i, w.Frames[i], v.Frames[i])
		}
	}
	for _, bad := range [][]byte{nil, b[:5], b[:len(b)-1], append(bytes.Clone(b), 0), append([]byte{2}, b[1:]...)} {
		if err := new(Video).UnmarshalBinary(bad); !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("UnmarshalBinary(% x…): %v", bad[:min(len(bad), 9)], err)
		}
	}
	v.Frames[0].Second = -1
	if _, err := v.MarshalBinary(); err == nil {
		t.Error("negative time accepted")
	}
}

func TestTextRoundTrip(t *testing.T) {
	v := testVideo()
	b, err := v.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	want := "0,40,000b16212c37424d58636e79848f9aa5b0bbc6d1dce7f2fd08131e29343f4a55,0.000\n"
	if !bytes.HasPrefix(b, []byte(want)) {
		t.Errorf("text starts %q", b)
	}
	var w Video
	if err := w.UnmarshalText(b); err != nil {
		t.Fatal(err)
	}
	for i := range v.Frames {
		if w.Frames[i] != v.Frames[i] {
			t.Errorf("frame %d: %+v != %+v", i, w.Frames[i], v.Frames[i])
		}
	}
	// A line of the reference's sample hashes.
	ref := "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n\n1,98,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055d,1.000\n"
	if err := w.UnmarshalText([]byte(ref)); err != nil || len(w.Frames) != 2 || w.Frames[1].Quality != 98 || w.Duration != 2 {
		t.Errorf("reference text: %+v, %v", w, err)
	}
	for _, bad := range []string{"0,100,zz,0.000", "0,101," + pdq.Hash{}.String() + ",0", "0,100," + pdq.Hash{}.String(), "0,1," + pdq.Hash{}.String() + ",NaN"} {
		if err := w.UnmarshalText([]byte(bad)); !errors.Is(err, ErrInvalidEncoding) {
			t.Errorf("UnmarshalText(%q): %v", bad, err)
		}
	}
}

func TestMatchRules(t *testing.T) {
	var a, b pdq.Hash
	for i := range b {
		b[i] = 0xff
	}
	near := a
	near[0] = 0x0f // distance 4 from a
	q := &Video{Frames: []Frame{{Hash: a, Quality: 100}, {Hash: b, Quality: 49}}}
	tg := &Video{Frames: []Frame{{Hash: near, Quality: 60}, {Hash: b, Quality: 90}}}
	s := Match(q, tg, MatchOptions{})
	// b in the query has quality 49: ignored on the query side.
	if s.QueryFrames != 1 || s.Query != 1 || s.TargetFrames != 2 || s.Target != 0.5 {
		t.Errorf("score %+v", s)
	}
	if s := Match(q, tg, MatchOptions{Distance: 3}); s.Query != 0 {
		t.Errorf("distance 3: %+v", s)
	}
	if s := Match(q, tg, MatchOptions{Quality: -1}); s.Query != 1 || s.Target != 1 {
		t.Errorf("all qualities: %+v", s)
	}
	low := &Video{Frames: []Frame{{Hash: a, Quality: 10}}}
	if s := Match(low, tg, MatchOptions{}); !s.Empty || s.Query != 0 || s.Matches(0, 0) {
		t.Errorf("no usable query frame: %+v", s)
	}
	if s := Match(q, nil, MatchOptions{}); !s.Empty {
		t.Errorf("nil target: %+v", s)
	}
	// Dedupe: a still scene counts once.
	still := &Video{Frames: []Frame{{Hash: a, Quality: 100}, {Hash: a, Quality: 100}, {Hash: near, Quality: 100}, {Hash: b, Quality: 100}}}
	if s := Match(still, still, MatchOptions{}); s.QueryFrames != 4 {
		t.Errorf("no dedupe: %+v", s)
	}
	if s := Match(still, still, MatchOptions{Dedupe: true}); s.QueryFrames != 3 {
		t.Errorf("dedupe identical: %+v", s)
	}
	if s := Match(still, still, MatchOptions{Dedupe: true, DedupeDistance: 10}); s.QueryFrames != 2 {
		t.Errorf("dedupe ≤ 10: %+v", s)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	b, _ := testVideo().MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Video
		if err := v.UnmarshalBinary(data); err != nil {
			return
		}
		out, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}
