package viewer

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
	"time"

	"github.com/haven-hotline/haven/internal/ffinput"
)

// Video strips are made by ffmpeg, run as a subprocess that reads the
// decrypted video from a pipe, or — for containers that need seeking (an
// MP4 with its index at the end) — from memory over a loopback HTTP server
// that lives for the one run, as internal/vpdq does. No clear copy is
// ever written to a disk. ffmpeg samples one frame a second, reduced to
// TileSide and greyscale; Haven keeps an evenly spaced subset as they
// arrive (so memory stays small however long the video) and blurs them.

// VideoOptions configure the making of video strips.
type VideoOptions struct {
	// FFmpeg is the ffmpeg binary, looked up in PATH; default "ffmpeg".
	FFmpeg string
	// Timeout bounds one ffmpeg run; default 2 minutes.
	Timeout time.Duration
	// MaxInMemory caps a video that must be held in memory because it
	// cannot be read from a pipe; default 1 GiB.
	MaxInMemory int64
	// MaxSeconds caps the sampled duration; default 3 hours.
	MaxSeconds int
}

func (o VideoOptions) withDefaults() VideoOptions {
	if o.FFmpeg == "" {
		o.FFmpeg = "ffmpeg"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.MaxInMemory <= 0 {
		o.MaxInMemory = 1 << 30
	}
	if o.MaxSeconds <= 0 {
		o.MaxSeconds = 3 * 3600
	}
	return o
}

// errNoFFmpeg is returned when the ffmpeg binary cannot be found.
var errNoFFmpeg = errors.New("ffmpeg not found")

// errNoFrames is returned when ffmpeg gave no frame at all.
var errNoFrames = errors.New("no video frame could be read")

// errNeedsSeeking marks a pipe run that failed because the container
// needs seeking.
var errNeedsSeeking = errors.New("the video cannot be read from a pipe")

// VideoStrip makes the strip of a video read from r (size bytes), with
// reopen giving the bytes again when the first, streamed pass finds that
// the container needs seeking. It returns the strip and how many frames
// it shows.
func VideoStrip(ctx context.Context, r io.Reader, size int64, reopen func() (io.ReadCloser, error), opt VideoOptions) (*image.Gray, int, error) {
	opt = opt.withDefaults()
	frames, err := sampleFrames(ctx, "pipe:0", "pipe", r, opt)
	if errors.Is(err, errNeedsSeeking) || errors.Is(err, errNoFrames) {
		if size > opt.MaxInMemory {
			return nil, 0, fmt.Errorf("video strip: the video needs seeking and is over %d MiB: %w", opt.MaxInMemory>>20, err)
		}
		rc, rerr := reopen()
		if rerr != nil {
			return nil, 0, rerr
		}
		data, rerr := io.ReadAll(io.LimitReader(rc, opt.MaxInMemory+1))
		rc.Close()
		if rerr != nil {
			return nil, 0, fmt.Errorf("video strip: %w", rerr)
		}
		frames, err = sampleFromMemory(ctx, data, opt)
	}
	if err != nil {
		return nil, 0, err
	}
	for _, f := range frames {
		Blur(f, BlurRadius(max(f.Rect.Dx(), f.Rect.Dy())))
	}
	return Strip(frames), len(frames), nil
}

// sampleFromMemory serves data to ffmpeg over loopback HTTP for the
// length of one run (ffinput.Serve).
func sampleFromMemory(ctx context.Context, data []byte, opt VideoOptions) ([]*image.Gray, error) {
	url, stop, err := ffinput.Serve(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("video strip: %w", err)
	}
	defer stop()
	return sampleFrames(ctx, url, ffinput.Protocols, nil, opt)
}

// sampleFrames runs ffmpeg on input and keeps up to StripFrames evenly
// spaced frames of its one-a-second sampling.
func sampleFrames(ctx context.Context, input, protocols string, r io.Reader, opt VideoOptions) ([]*image.Gray, error) {
	bin, err := exec.LookPath(opt.FFmpeg)
	if err != nil {
		return nil, fmt.Errorf("video strip: %w: %v", errNoFFmpeg, err)
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	args := []string{"-hide_banner", "-nostats", "-v", "error"}
	if r == nil {
		args = append(args, "-nostdin")
	}
	vf := fmt.Sprintf("fps=1,scale=w='min(iw,%d)':h='min(ih,%d)':force_original_aspect_ratio=decrease:flags=area,format=gray",
		TileSide, TileSide)
	args = append(args, "-protocol_whitelist", protocols, "-i", input, "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", vf, "-frames:v", strconv.Itoa(opt.MaxSeconds), "-c:v", "pam", "-f", "image2pipe", "pipe:1")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 2 * time.Second
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if r != nil {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		go func() {
			// A write error only means ffmpeg stopped reading; its exit
			// status says why.
			_, _ = io.Copy(stdin, r)
			stdin.Close()
		}()
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("video strip: start ffmpeg: %w", err)
	}
	s := &sampler{stride: 1}
	readErr := s.read(bufio.NewReaderSize(stdout, 64<<10))
	if readErr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	msg := stderr.String()
	switch {
	case readErr != nil:
		return nil, fmt.Errorf("video strip: reading frames: %w", readErr)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("video strip: ffmpeg stopped: %w", ctx.Err())
	case waitErr != nil && r != nil && (strings.Contains(msg, "moov atom not found") || strings.Contains(msg, "partial file") ||
		strings.Contains(msg, "Invalid data")):
		return nil, errNeedsSeeking
	case waitErr != nil && len(s.kept) == 0:
		return nil, fmt.Errorf("video strip: ffmpeg failed (%v): %s", waitErr, msg)
	case len(s.kept) == 0:
		return nil, errNoFrames
	}
	return s.pick(StripFrames), nil
}

// sampler keeps an evenly spaced subset of an unknown number of frames:
// every stride-th frame, halving what it holds (and doubling the stride)
// whenever it holds 2 × StripFrames.
type sampler struct {
	kept   []*image.Gray
	stride int
	n      int
}

func (s *sampler) add(g *image.Gray) {
	if s.n%s.stride == 0 {
		s.kept = append(s.kept, g)
		if len(s.kept) == 2*StripFrames {
			half := s.kept[:0]
			for i := 0; i < len(s.kept); i += 2 {
				half = append(half, s.kept[i])
			}
			clear(s.kept[len(half):])
			s.kept = half
			s.stride *= 2
		}
	}
	s.n++
}

// pick returns up to n of the kept frames, evenly spaced, first and last
// included.
func (s *sampler) pick(n int) []*image.Gray {
	if len(s.kept) <= n {
		return s.kept
	}
	out := make([]*image.Gray, n)
	for i := range n {
		out[i] = s.kept[i*(len(s.kept)-1)/(n-1)]
	}
	return out
}

// read reads the PAM frames ffmpeg writes for greyscale:
// "P7\nWIDTH w\nHEIGHT h\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n"
// and the pixels.
func (s *sampler) read(br *bufio.Reader) error {
	for {
		w, h, err := ffinput.ReadPAMHeader(br, 1, TileSide)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		g := image.NewGray(image.Rect(0, 0, w, h))
		if _, err := io.ReadFull(br, g.Pix); err != nil {
			return fmt.Errorf("short frame %d: %w", s.n, err)
		}
		s.add(g)
	}
}

// limitedBuffer keeps the first 4 KiB written (ffmpeg's error output).
type limitedBuffer struct{ b bytes.Buffer }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4<<10 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return strings.TrimSpace(l.b.String()) }
