package vpdq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haven-hotline/haven/internal/ffinput"
	"github.com/haven-hotline/haven/internal/pdq"
)

// Frame is the PDQ hash of one sampled frame.
type Frame struct {
	Index   int      // position among the sampled frames, from 0
	Second  float64  // time of the frame from the start of the stream
	Hash    pdq.Hash // PDQ hash
	Quality int      // PDQ quality, 0 to 100
}

// Video is the vPDQ hash of a video: its sampled frames in order.
type Video struct {
	Frames []Frame
	// Duration in seconds as reported by ffmpeg, or, when the container
	// does not say (e.g. MPEG-TS or Matroska from a pipe), the number of
	// sampled frames times the sampling interval.
	Duration float64
	// Truncated is set when the video had more than Options.MaxFrames
	// sampled frames: Frames holds the first MaxFrames only.
	Truncated bool
}

// Defaults for Options.
const (
	DefaultTimeout   = 2 * time.Minute
	DefaultMaxFrames = 3 * 3600 // three hours at one frame per second
	DefaultMaxDim    = 512
	// SecondsPerFrame is the sampling interval: one frame per second,
	// the pytx default for vPDQ.
	SecondsPerFrame = 1.0
)

// Options configure HashFile and HashReader. The zero value is usable.
type Options struct {
	// FFmpeg is the ffmpeg binary, looked up in PATH; default "ffmpeg".
	FFmpeg string
	// Timeout bounds the whole ffmpeg run; default DefaultTimeout.
	Timeout time.Duration
	// MaxFrames caps the number of sampled frames; default
	// DefaultMaxFrames. Longer videos are cut and Video.Truncated set.
	MaxFrames int
	// MaxDim caps the longer side of the frames ffmpeg outputs; default
	// DefaultMaxDim (512, PDQ's pre-shrink size).
	MaxDim int
}

func (o Options) withDefaults() Options {
	if o.FFmpeg == "" {
		o.FFmpeg = "ffmpeg"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxFrames <= 0 {
		o.MaxFrames = DefaultMaxFrames
	}
	if o.MaxDim <= 0 {
		o.MaxDim = DefaultMaxDim
	}
	return o
}

var (
	// ErrNoFFmpeg is returned when the ffmpeg binary cannot be found.
	ErrNoFFmpeg = errors.New("vpdq: ffmpeg not found")
	// ErrNotStreamable is wrapped when ffmpeg cannot read the input from
	// a pipe because it needs to seek, typically an MP4 whose moov atom
	// is at the end. Hash such inputs with HashFile.
	ErrNotStreamable = errors.New("vpdq: input cannot be read from a pipe (MP4/MOV with the moov atom at the end?); use a seekable file")
	// ErrFFmpeg is wrapped by the errors of a failed ffmpeg run.
	ErrFFmpeg = errors.New("vpdq: ffmpeg failed")
)

// HashFile hashes the video in the file at path. The path is passed to
// ffmpeg as "file:"+path, so it is never read as an option or a URL.
func HashFile(ctx context.Context, path string, opt Options) (*Video, error) {
	return run(ctx, "file:"+path, "file", nil, opt)
}

// HashReader hashes the video read from r, which is piped into ffmpeg's
// stdin: no clear file is written. See the package documentation for the
// containers that can be read from a pipe. An error from r fails the hash
// even if ffmpeg managed to decode what it got. HashReader returns at the
// time limit even if r blocks, but the goroutine copying r to ffmpeg stays
// in r.Read until that returns: close r (or cancel what feeds it) after an
// error.
func HashReader(ctx context.Context, r io.Reader, opt Options) (*Video, error) {
	if r == nil {
		return nil, errors.New("vpdq: nil reader")
	}
	return run(ctx, "pipe:0", "pipe", r, opt)
}

func ffmpegArgs(input, protocols string, opt Options) []string {
	scale := fmt.Sprintf("fps=%g,scale=w='min(iw,%d)':h='min(ih,%d)':force_original_aspect_ratio=decrease:flags=area",
		1/SecondsPerFrame, opt.MaxDim, opt.MaxDim)
	args := []string{"-hide_banner", "-nostats", "-v", "info"}
	if input != "pipe:0" {
		args = append(args, "-nostdin")
	}
	return append(args,
		"-protocol_whitelist", protocols,
		"-i", input,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", scale,
		"-frames:v", strconv.Itoa(opt.MaxFrames+1),
		"-pix_fmt", "rgba", "-c:v", "pam", "-f", "image2pipe", "pipe:1")
}

func run(ctx context.Context, input, protocols string, r io.Reader, opt Options) (*Video, error) {
	opt = opt.withDefaults()
	bin, err := exec.LookPath(opt.FFmpeg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFFmpeg, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, bin, ffmpegArgs(input, protocols, opt)...)
	cmd.WaitDelay = 2 * time.Second
	stderr := &boundedBuffer{head: 4 << 10, tail: 8 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stdin io.WriteCloser
	if r != nil {
		if stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vpdq: ffmpeg not started: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: %v", ErrFFmpeg, err)
	}

	// Feed stdin ourselves: a write error (EPIPE) only means ffmpeg stopped
	// reading, which its exit status reports; a read error is the caller's.
	copyDone := make(chan error, 1)
	if r != nil {
		go func() {
			_, err := io.Copy(stdin, readerOnly{r})
			stdin.Close()
			var re readError
			if errors.As(err, &re) {
				copyDone <- re.err
				return
			}
			copyDone <- nil
		}()
	} else {
		copyDone <- nil
	}

	v, readErr := readFrames(stdout, opt)
	killed := readErr != nil || v.Truncated
	if killed {
		cancel() // stop ffmpeg: we have all we want, or cannot go on
	}
	io.Copy(io.Discard, stdout) // let ffmpeg finish writing
	waitErr := cmd.Wait()

	var inErr error
	select {
	case inErr = <-copyDone:
	case <-ctx.Done():
	}

	switch {
	case !killed && ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("vpdq: ffmpeg stopped (time limit %v or caller's deadline): %w", opt.Timeout, ctx.Err())
		}
		return nil, fmt.Errorf("vpdq: ffmpeg stopped: %w", ctx.Err())
	case readErr != nil:
		return nil, fmt.Errorf("%w: reading frames: %v: %s", ErrFFmpeg, readErr, stderr.Tail(errTail))
	case v.Truncated:
		// ffmpeg was killed on purpose; the frames read are complete.
	case inErr != nil:
		return nil, fmt.Errorf("vpdq: reading input: %w", inErr)
	case waitErr != nil:
		msg := stderr.Tail(errTail)
		if r != nil && notStreamable(msg) {
			return nil, fmt.Errorf("%w: %s", ErrNotStreamable, msg)
		}
		return nil, fmt.Errorf("%w (%v): %s", ErrFFmpeg, waitErr, msg)
	}
	if d, ok := parseDuration(stderr.Head()); ok {
		v.Duration = d
	} else {
		v.Duration = float64(len(v.Frames)) * SecondsPerFrame
	}
	return v, nil
}

func notStreamable(msg string) bool {
	return strings.Contains(msg, "moov atom not found") ||
		strings.Contains(msg, "partial file") ||
		(strings.Contains(msg, "mov,mp4") && strings.Contains(msg, "Invalid data"))
}

// readerOnly hides WriterTo/ReaderFrom so that io.Copy reports which side
// failed, through readError.
type readerOnly struct{ r io.Reader }

type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }

func (r readerOnly) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		return n, readError{err}
	}
	return n, err
}

// readFrames reads the PAM frames ffmpeg writes and hashes them. It reuses
// one image while the size stays the same.
func readFrames(rd io.Reader, opt Options) (*Video, error) {
	br := bufio.NewReaderSize(rd, 64<<10)
	v := &Video{}
	var img *image.NRGBA
	for {
		w, h, err := ffinput.ReadPAMHeader(br, 4, opt.MaxDim)
		if err == io.EOF {
			return v, nil
		}
		if err != nil {
			return v, err
		}
		if len(v.Frames) == opt.MaxFrames {
			v.Truncated = true
			return v, nil
		}
		if img == nil || img.Rect.Dx() != w || img.Rect.Dy() != h {
			img = image.NewNRGBA(image.Rect(0, 0, w, h))
		}
		if _, err := io.ReadFull(br, img.Pix); err != nil {
			return v, fmt.Errorf("short frame %d: %v", len(v.Frames), err)
		}
		hash, q, err := pdq.HashImage(img)
		if err != nil {
			return v, err
		}
		i := len(v.Frames)
		v.Frames = append(v.Frames, Frame{Index: i, Second: float64(i) * SecondsPerFrame, Hash: hash, Quality: q})
	}
}

// parseDuration finds "Duration: HH:MM:SS.xx" in ffmpeg's input report.
func parseDuration(s string) (float64, bool) {
	i := strings.Index(s, "Duration: ")
	if i < 0 {
		return 0, false
	}
	s = s[i+len("Duration: "):]
	if j := strings.IndexAny(s, ",\n"); j >= 0 {
		s = s[:j]
	}
	var hh, mm int
	var ss float64
	if n, err := fmt.Sscanf(s, "%d:%d:%g", &hh, &mm, &ss); n != 3 || err != nil {
		return 0, false
	}
	return float64(hh*3600+mm*60) + ss, true
}

// boundedBuffer keeps the first head and the last tail bytes written.
type boundedBuffer struct {
	mu         sync.Mutex
	head, tail int
	h, t       []byte
	dropped    int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := b.head - len(b.h); room > 0 {
		k := min(room, len(p))
		b.h = append(b.h, p[:k]...)
		p = p[k:]
	}
	b.t = append(b.t, p...)
	if over := len(b.t) - b.tail; over > 0 {
		b.dropped += int64(over)
		b.t = append(b.t[:0], b.t[over:]...)
	}
	return n, nil
}

// errTail is how much of ffmpeg's stderr goes into an error message.
const errTail = 1500

// Tail returns the last n bytes of the capture, trimmed.
func (b *boundedBuffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}

// Head returns the start of the capture.
func (b *boundedBuffer) Head() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.h)
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s bytes.Buffer
	s.Write(b.h)
	if b.dropped > 0 {
		fmt.Fprintf(&s, "\n[… %d bytes …]\n", b.dropped)
	}
	s.Write(b.t)
	return strings.TrimSpace(s.String())
}
