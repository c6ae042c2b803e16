package vpdq

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/pdq"
)

// needFFmpeg skips the test when ffmpeg is absent, unless CI=true.
func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ffmpeg is required in CI (apt-get install ffmpeg): %v", err)
		}
		t.Skip("ffmpeg not installed: skipping video tests (install Debian's ffmpeg package to run them)")
	}
}

var (
	fixOnce sync.Once
	fixDir  string
	fixErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

// fixture returns the path of a synthetic test video, generated once.
func fixture(t *testing.T, name string) string {
	t.Helper()
	needFFmpeg(t)
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "vpdq-test-")
		if fixErr != nil {
			return
		}
		const src = "testsrc2=size=320x240:rate=25:duration=10"
		gens := map[string][]string{
			// The reference clip: Matroska, streams from a pipe.
			"src.mkv": {"-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18"},
			// Same clip, smaller, another codec at a low bitrate, plain
			// MP4 with the moov atom at the end (not pipe-readable).
			"reenc.mp4": {"-f", "lavfi", "-i", src, "-vf", "scale=240:180", "-c:v", "mpeg4", "-b:v", "150k"},
			// Seconds 3–7 of the clip, MPEG-TS.
			"trim.ts": {"-f", "lavfi", "-i", src, "-ss", "3", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast"},
			// Another source, WebM/VP8.
			"other.webm": {"-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25", "-t", "10", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k"},
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for name, args := range gens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				args := append([]string{"-v", "error", "-nostdin", "-y"}, args...)
				args = append(args, filepath.Join(fixDir, name))
				if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
					mu.Lock()
					fixErr = errors.Join(fixErr, errors.New(name+": "+err.Error()+": "+string(out)))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	if fixErr != nil {
		t.Fatalf("generating test videos: %v", fixErr)
	}
	return filepath.Join(fixDir, name)
}

func hashFile(t *testing.T, name string) *Video {
	t.Helper()
	start := time.Now()
	v, err := HashFile(context.Background(), fixture(t, name), Options{})
	if err != nil {
		t.Fatalf("HashFile(%s): %v", name, err)
	}
	t.Logf("%s: %d frames, duration %.2fs, hashed in %v", name, len(v.Frames), v.Duration, time.Since(start))
	return v
}

func hashPipe(t *testing.T, name string) *Video {
	t.Helper()
	f, err := os.Open(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	v, err := HashReader(context.Background(), f, Options{})
	if err != nil {
		t.Fatalf("HashReader(%s): %v", name, err)
	}
	t.Logf("%s (pipe): %d frames, duration %.2fs, hashed in %v", name, len(v.Frames), v.Duration, time.Since(start))
	return v
}

func TestFrameCount(t *testing.T) {
	for _, c := range []struct {
		name   string
		frames int
	}{{"src.mkv", 10}, {"reenc.mp4", 10}, {"trim.ts", 4}, {"other.webm", 10}} {
		v := hashFile(t, c.name)
		if d := len(v.Frames) - c.frames; d < -1 || d > 1 {
			t.Errorf("%s: %d frames, want about %d", c.name, len(v.Frames), c.frames)
		}
		for i, f := range v.Frames {
			if f.Index != i || f.Second != float64(i) {
				t.Errorf("%s: frame %d has index %d, second %v", c.name, i, f.Index, f.Second)
			}
		}
		if c.name == "src.mkv" && (v.Duration < 9.5 || v.Duration > 10.5) {
			t.Errorf("%s: duration %v, want about 10", c.name, v.Duration)
		}
	}
}

// The pipe and the file give the same hashes.
func TestPipeEqualsFile(t *testing.T) {
	for _, name := range []string{"src.mkv", "trim.ts", "other.webm"} {
		a, b := hashFile(t, name), hashPipe(t, name)
		if len(a.Frames) != len(b.Frames) {
			t.Fatalf("%s: %d frames from file, %d from pipe", name, len(a.Frames), len(b.Frames))
		}
		for i := range a.Frames {
			if a.Frames[i] != b.Frames[i] {
				t.Errorf("%s frame %d: file %+v, pipe %+v", name, i, a.Frames[i], b.Frames[i])
			}
		}
	}
}

func TestMatchReencoded(t *testing.T) {
	src, re := hashPipe(t, "src.mkv"), hashFile(t, "reenc.mp4")
	for i := range min(len(src.Frames), len(re.Frames)) {
		t.Logf("second %d: quality %d/%d, distance %d", i, src.Frames[i].Quality, re.Frames[i].Quality,
			pdq.Distance(src.Frames[i].Hash, re.Frames[i].Hash))
	}
	for _, s := range []Score{Match(src, re, MatchOptions{}), Match(re, src, MatchOptions{})} {
		t.Logf("score %+v", s)
		if s.Empty || s.Query < 0.8 || s.Target < 0.8 || !s.Matches(0.8, 0.8) {
			t.Errorf("re-encoded copy: score %+v, want ≥ 0.8 both ways", s)
		}
	}
}

func TestMatchTrimmed(t *testing.T) {
	src, trim := hashPipe(t, "src.mkv"), hashPipe(t, "trim.ts")
	s := Match(trim, src, MatchOptions{})
	t.Logf("trim vs src: %+v", s)
	if s.Query < 0.9 {
		t.Errorf("query share %v, want ≥ 0.9", s.Query)
	}
	if s.Target < 0.3 || s.Target > 0.6 {
		t.Errorf("target share %v, want about 0.4", s.Target)
	}
	if !s.Matches(0.8, 0) {
		t.Error("clip does not match with pytx's thresholds")
	}
}

func TestMatchDifferent(t *testing.T) {
	src, other := hashPipe(t, "src.mkv"), hashPipe(t, "other.webm")
	s := Match(src, other, MatchOptions{})
	t.Logf("src vs other: %+v", s)
	if s.Query > 0.1 || s.Target > 0.1 {
		t.Errorf("different videos: score %+v, want about 0", s)
	}
}

// Plain MP4 (moov at the end) cannot come through a pipe: a clear error.
func TestPipeNotStreamable(t *testing.T) {
	f, err := os.Open(fixture(t, "reenc.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = HashReader(context.Background(), f, Options{})
	if !errors.Is(err, ErrNotStreamable) {
		t.Fatalf("err = %v, want ErrNotStreamable", err)
	}
	t.Logf("error: %.300s", err)
}

func TestCorrupt(t *testing.T) {
	needFFmpeg(t)
	rnd := rand.New(rand.NewSource(1))
	junk := make([]byte, 200<<10)
	rnd.Read(junk)
	if _, err := HashReader(context.Background(), bytes.NewReader(junk), Options{}); err == nil {
		t.Error("random bytes: no error")
	} else {
		t.Logf("random bytes: %.200s", err)
	}
	// A Matroska file with its middle overwritten.
	good, err := os.ReadFile(fixture(t, "src.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good[:len(good)/2])
	copy(bad[200:len(bad)-200], junk)
	v, err := HashReader(context.Background(), bytes.NewReader(bad), Options{})
	t.Logf("damaged mkv: %v frames, err %.200v", framesOf(v), err)
	// An empty input.
	if _, err := HashReader(context.Background(), bytes.NewReader(nil), Options{}); err == nil {
		t.Error("empty input: no error")
	}
	// A missing file.
	if _, err := HashFile(context.Background(), filepath.Join(t.TempDir(), "nope.mkv"), Options{}); err == nil {
		t.Error("missing file: no error")
	}
	// A file name that looks like an option or a URL is a file name.
	if _, err := HashFile(context.Background(), "-version", Options{}); err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("file named -version: %v", err)
	}
}

func framesOf(v *Video) int {
	if v == nil {
		return -1
	}
	return len(v.Frames)
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("vault: authentication failed")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

// A read error fails the hash even if ffmpeg decoded what it got.
func TestReaderError(t *testing.T) {
	good, err := os.ReadFile(fixture(t, "src.mkv"))
	if err != nil {
		t.Fatal(err)
	}
	r := io.MultiReader(bytes.NewReader(good[:len(good)/2]), &failingReader{})
	_, err = HashReader(context.Background(), r, Options{})
	if err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

type blockingReader struct{ ch chan struct{} }

func (r blockingReader) Read(p []byte) (int, error) { <-r.ch; return 0, errors.New("closed") }

func TestTimeout(t *testing.T) {
	path := fixture(t, "src.mkv")
	start := time.Now()
	_, err := HashFile(context.Background(), path, Options{Timeout: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("tiny timeout: err = %v, want DeadlineExceeded", err)
	}
	t.Logf("tiny timeout: %v after %v", err, time.Since(start))
	noChildren(t)

	// A stalled reader: ffmpeg waits on stdin until the time limit.
	br := blockingReader{make(chan struct{})}
	defer close(br.ch)
	start = time.Now()
	_, err = HashReader(context.Background(), br, Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled reader: err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled reader: returned after %v", d)
	}
	noChildren(t)

	// The caller's context counts too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashFile(ctx, path, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	noChildren(t)
}

// noChildren checks that no child process (running or zombie) is left.
func noChildren(t *testing.T) {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	if len(tasks) == 0 {
		return // not Linux
	}
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		if s := strings.TrimSpace(string(b)); s != "" {
			t.Errorf("child processes left: %s", s)
		}
	}
}

func TestMaxFrames(t *testing.T) {
	v, err := HashFile(context.Background(), fixture(t, "src.mkv"), Options{MaxFrames: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Frames) != 3 || !v.Truncated {
		t.Errorf("got %d frames, truncated %v; want 3, true", len(v.Frames), v.Truncated)
	}
	noChildren(t)
}

func TestMaxDim(t *testing.T) {
	needFFmpeg(t)
	// A 1280×720 clip is scaled down by ffmpeg to 512×288.
	dir := t.TempDir()
	p := filepath.Join(dir, "hd.mkv")
	out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "smptebars=size=1280x720:rate=5:duration=2",
		"-c:v", "libx264", "-preset", "ultrafast", p).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	v, err := HashFile(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Frames) != 2 || v.Frames[0].Quality < pdq.MinQuality {
		t.Errorf("frames %+v", v.Frames)
	}
}

func TestNoFFmpeg(t *testing.T) {
	_, err := HashFile(context.Background(), "x.mp4", Options{FFmpeg: filepath.Join(t.TempDir(), "ffmpeg")})
	if !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("err = %v, want ErrNoFFmpeg", err)
	}
	_, err = HashReader(context.Background(), bytes.NewReader(nil), Options{FFmpeg: "no-such-ffmpeg-binary"})
	if !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("err = %v, want ErrNoFFmpeg", err)
	}
}

// TestReaderAtSeeks: a plain MP4 with its moov atom at the end, which a
// pipe cannot carry, hashes from memory through HashReaderAt exactly as
// from its file.
func TestReaderAtSeeks(t *testing.T) {
	name := "reenc.mp4"
	b, err := os.ReadFile(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	want := hashFile(t, name)
	got, err := HashReaderAt(context.Background(), bytes.NewReader(b), int64(len(b)), Options{})
	if err != nil {
		t.Fatalf("HashReaderAt: %v", err)
	}
	if len(got.Frames) != len(want.Frames) || len(got.Frames) == 0 {
		t.Fatalf("%d frames from memory, %d from the file", len(got.Frames), len(want.Frames))
	}
	for i := range got.Frames {
		if got.Frames[i] != want.Frames[i] {
			t.Errorf("frame %d: memory %+v, file %+v", i, got.Frames[i], want.Frames[i])
		}
	}
	// Truncated bytes fail with ffmpeg's message, not a hang.
	if _, err := HashReaderAt(context.Background(), bytes.NewReader(b[:len(b)/3]), int64(len(b)/3), Options{Timeout: 20 * time.Second}); err == nil {
		t.Error("a truncated MP4 hashed without an error")
	} else {
		t.Logf("truncated: %.200s", err)
	}
}
