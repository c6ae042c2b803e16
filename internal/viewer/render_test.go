package viewer

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/vpdq/vpdqtest"
)

// checkerboard is a synthetic test picture: coloured squares of side sq.
func checkerboard(w, h, sq int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: 20, G: 30, B: 40, A: 255}
			if (x/sq+y/sq)%2 == 0 {
				c = color.NRGBA{R: 240, G: 220, B: 200, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// stats returns the variance of a greyscale picture and its
// high-frequency energy: the mean absolute difference of neighbours.
func stats(g *image.Gray) (variance, hf float64) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var sum, sq float64
	for y := range h {
		for x := range w {
			v := float64(g.Pix[y*g.Stride+x])
			sum += v
			sq += v * v
		}
	}
	n := float64(w * h)
	variance = sq/n - (sum/n)*(sum/n)
	var d float64
	for y := range h {
		for x := range w - 1 {
			a, b := float64(g.Pix[y*g.Stride+x]), float64(g.Pix[y*g.Stride+x+1])
			if a > b {
				d += a - b
			} else {
				d += b - a
			}
		}
	}
	return variance, d / float64(h*(w-1))
}

func TestSafeImageIsSmallGreyAndBlurred(t *testing.T) {
	in := checkerboard(1280, 960, 16)
	out := SafeImage(in)
	if b := out.Rect; b.Dx() != 320 || b.Dy() != 240 {
		t.Fatalf("rendition is %v, want 320×240 (longer side 320, aspect kept)", b)
	}
	// The same picture, reduced without the blur, is the reference.
	plain := ReduceGray(in, MaxSide)
	pv, phf := stats(plain)
	bv, bhf := stats(out)
	t.Logf("reduced: variance %.1f, high-frequency %.2f; rendition: variance %.1f, high-frequency %.2f", pv, phf, bv, bhf)
	if pv < 1000 || phf < 10 {
		t.Fatalf("the reduced checkerboard lost its pattern already (variance %.1f, high-frequency %.2f)", pv, phf)
	}
	if bv > pv/100 {
		t.Errorf("variance of the rendition %.1f, want under 1%% of %.1f", bv, pv)
	}
	if bhf > phf/50 {
		t.Errorf("high-frequency energy of the rendition %.2f, want under 2%% of %.2f", bhf, phf)
	}
	// Encoded, it stays greyscale.
	b, err := encodePNG(out)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dec.(*image.Gray); !ok {
		t.Errorf("the encoded rendition decodes as %T, want *image.Gray", dec)
	}
}

func TestSmallImagesAreNotEnlargedButStillBlurred(t *testing.T) {
	out := SafeImage(checkerboard(60, 40, 4))
	if out.Rect.Dx() != 60 || out.Rect.Dy() != 40 {
		t.Fatalf("got %v, want 60×40", out.Rect)
	}
	if v, _ := stats(out); v > 100 {
		t.Errorf("variance %.1f: a small picture is not blurred enough", v)
	}
}

func TestReduceGrayFastPathsAgree(t *testing.T) {
	src := checkerboard(333, 211, 7)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	ycc, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ycc.(*image.YCbCr); !ok {
		t.Fatalf("decoded JPEG is %T", ycc)
	}
	// The Y plane and the generic conversion agree to within rounding.
	type generic struct{ image.Image }
	fast, slow := ReduceGray(ycc, 100), ReduceGray(generic{ycc}, 100)
	if fast.Rect != slow.Rect {
		t.Fatalf("sizes differ: %v and %v", fast.Rect, slow.Rect)
	}
	for i := range fast.Pix {
		if d := int(fast.Pix[i]) - int(slow.Pix[i]); d > 2 || d < -2 {
			t.Fatalf("pixel %d: Y plane %d, generic %d", i, fast.Pix[i], slow.Pix[i])
		}
	}
	fastN, slowN := ReduceGray(src, 100), ReduceGray(generic{src}, 100)
	for i := range fastN.Pix {
		if d := int(fastN.Pix[i]) - int(slowN.Pix[i]); d > 1 || d < -1 {
			t.Fatalf("NRGBA pixel %d: fast %d, generic %d", i, fastN.Pix[i], slowN.Pix[i])
		}
	}
}

// TestRenditionOfAPhotoDoesNotMatchIt: the rendition of a real photograph
// (the PDQ reference bridge) is far from it in PDQ terms: a bank holding
// the original would not match the rendition at the default threshold.
func TestRenditionOfAPhotoDoesNotMatchIt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "pdq", "images", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("PDQ reference images not found: %v", err)
	}
	img, _, err := pdq.Decode(bytes.NewReader(b), pdq.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	orig, _, err := pdq.HashImage(img)
	if err != nil {
		t.Fatal(err)
	}
	rend, q, err := pdq.HashImage(SafeImage(img))
	if err != nil {
		t.Fatal(err)
	}
	d := pdq.Distance(orig, rend)
	t.Logf("PDQ distance original ↔ rendition: %d (rendition quality %d)", d, q)
	if d <= 2*31 {
		t.Errorf("PDQ distance %d, want well beyond the match threshold of 31", d)
	}
}

func TestSamplerKeepsEvenlySpacedFrames(t *testing.T) {
	for _, n := range []int{1, 5, 8, 9, 16, 17, 100, 1000, 3601} {
		s := &sampler{stride: 1}
		for i := range n {
			g := image.NewGray(image.Rect(0, 0, 2, 1))
			g.Pix[0], g.Pix[1] = uint8(i>>8), uint8(i)
			s.add(g)
		}
		if len(s.kept) > 2*StripFrames {
			t.Fatalf("n=%d: kept %d frames, want at most %d", n, len(s.kept), 2*StripFrames)
		}
		got := s.pick(StripFrames)
		if want := min(n, StripFrames); len(got) != want {
			t.Fatalf("n=%d: picked %d frames, want %d", n, len(got), want)
		}
		idx := func(g *image.Gray) int { return int(g.Pix[0])<<8 | int(g.Pix[1]) }
		if idx(got[0]) != 0 {
			t.Errorf("n=%d: the first frame is %d, want 0", n, idx(got[0]))
		}
		// Spread: the picked frames cover most of the video.
		if last := idx(got[len(got)-1]); n > StripFrames && last < n/2 {
			t.Errorf("n=%d: the last picked frame is %d, want it in the second half", n, last)
		}
		for i := 1; i < len(got); i++ {
			if idx(got[i]) <= idx(got[i-1]) {
				t.Errorf("n=%d: frames out of order: %d after %d", n, idx(got[i]), idx(got[i-1]))
			}
		}
	}
}

func TestVideoStrip(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	for _, tc := range []struct {
		name string
		make func(testing.TB) []byte
	}{
		{"matroska from a pipe", vpdqtest.Reference},
		{"mp4 with its index at the end, from memory", vpdqtest.Reencoded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.make(t)
			reopens := 0
			reopen := func() (io.ReadCloser, error) { reopens++; return io.NopCloser(bytes.NewReader(data)), nil }
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			g, n, err := VideoStrip(ctx, bytes.NewReader(data), int64(len(data)), reopen, VideoOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("strip %v of %d frames, reopened %d times", g.Rect, n, reopens)
			if n != StripFrames {
				t.Errorf("got %d frames, want %d from a ten-second clip", n, StripFrames)
			}
			// 320×240 frames become 160×120 tiles, four to a row.
			if g.Rect.Dx() != 4*160+5*stripGap || g.Rect.Dy() != 2*120+3*stripGap {
				t.Errorf("strip is %v", g.Rect)
			}
			// Each tile is blurred: its neighbours differ little.
			if _, hf := stats(g); hf > 3 {
				t.Errorf("high-frequency energy %.2f: the frames are not blurred", hf)
			}
		})
	}
}

func TestVideoStripOfGarbageFails(t *testing.T) {
	vpdqtest.NeedFFmpeg(t)
	data := bytes.Repeat([]byte("not a video "), 1000)
	reopen := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	if _, _, err := VideoStrip(context.Background(), bytes.NewReader(data), int64(len(data)), reopen, VideoOptions{}); err == nil {
		t.Fatal("a strip was made of bytes that are not a video")
	}
}

func TestCleanReason(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  confirm the classification  ", "confirm the classification", true},
		{"", "", false},
		{" \t\n ", "", false},
		{"a\x00b\x1bc", "abc", true},
		{string(bytes.Repeat([]byte("é"), MaxReason)), string(bytes.Repeat([]byte("é"), MaxReason)), true},
		{string(bytes.Repeat([]byte("é"), MaxReason+1)), "", false},
	} {
		got, err := CleanReason(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("CleanReason(%q): got %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestComputeMeter(t *testing.T) {
	opt := Options{DailyBudget: 5 * time.Hour, BreakAfter: time.Hour, BreakLength: 10 * time.Minute}
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	iv := func(start time.Duration, seen, ended time.Duration) *store.ExposureInterval {
		e := &store.ExposureInterval{StartedAt: day.Add(start), LastSeenAt: day.Add(start + seen)}
		if ended > 0 {
			e.EndedAt = day.Add(start + ended)
		}
		return e
	}
	at := func(d time.Duration) time.Time { return day.Add(d) }
	for _, tc := range []struct {
		name      string
		ivs       []*store.ExposureInterval
		now       time.Time
		today     time.Duration
		breakDue  bool
		breakLeft time.Duration
	}{
		{name: "nothing", now: at(9 * time.Hour)},
		{name: "no heartbeat counts a minute", ivs: []*store.ExposureInterval{iv(9*time.Hour, 0, 0)}, now: at(10 * time.Hour),
			today: time.Minute},
		{name: "heartbeats count to the last", ivs: []*store.ExposureInterval{iv(9*time.Hour, 5*time.Minute, 0)},
			now: at(10 * time.Hour), today: 5 * time.Minute},
		{name: "a stop counts to the stop", ivs: []*store.ExposureInterval{iv(9*time.Hour, 10*time.Second, 20*time.Second)},
			now: at(10 * time.Hour), today: 20 * time.Second},
		{name: "yesterday does not count", ivs: []*store.ExposureInterval{iv(-2*time.Hour, 30*time.Minute, 0)},
			now: at(time.Hour), today: 0},
		{name: "an hour without a pause makes a break due",
			ivs: []*store.ExposureInterval{iv(9*time.Hour, 30*time.Minute, 0), iv(9*time.Hour+35*time.Minute, 30*time.Minute, 0)},
			now: at(10*time.Hour + 6*time.Minute), today: time.Hour, breakDue: true, breakLeft: 9 * time.Minute},
		{name: "the break is over after its length",
			ivs: []*store.ExposureInterval{iv(9*time.Hour, 30*time.Minute, 0), iv(9*time.Hour+35*time.Minute, 30*time.Minute, 0)},
			now: at(10*time.Hour + 15*time.Minute), today: time.Hour},
		{name: "a pause of the break's length resets the count",
			ivs: []*store.ExposureInterval{iv(9*time.Hour, 40*time.Minute, 0), iv(9*time.Hour+50*time.Minute, 30*time.Minute, 0)},
			now: at(10*time.Hour + 21*time.Minute), today: 70 * time.Minute},
		{name: "the break spans midnight",
			ivs: []*store.ExposureInterval{iv(-70*time.Minute, 65*time.Minute, 0)},
			now: at(-3 * time.Minute), today: 65 * time.Minute, breakDue: true, breakLeft: 8 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ComputeMeter(tc.ivs, tc.now, opt)
			if m.Today != tc.today {
				t.Errorf("today: got %v, want %v", m.Today, tc.today)
			}
			if m.Left != opt.DailyBudget-tc.today {
				t.Errorf("left: got %v, want %v", m.Left, opt.DailyBudget-tc.today)
			}
			if due := !m.BreakUntil.IsZero(); due != tc.breakDue {
				t.Fatalf("break due: got %v (until %v), want %v", due, m.BreakUntil, tc.breakDue)
			}
			if tc.breakDue && m.BreakUntil.Sub(tc.now) != tc.breakLeft {
				t.Errorf("break left: got %v, want %v", m.BreakUntil.Sub(tc.now), tc.breakLeft)
			}
		})
	}
	over := ComputeMeter([]*store.ExposureInterval{iv(time.Hour, 5*time.Hour, 0)}, at(7*time.Hour), opt)
	if over.Left != 0 || !over.Over() {
		t.Errorf("five hours of exposure: left %v, over %v; want 0 and over", over.Left, over.Over())
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0 s", 40 * time.Second: "40 s", 12 * time.Minute: "12 min",
		5 * time.Hour: "5 h 00 min", 2*time.Hour + 5*time.Minute: "2 h 05 min"} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
