package viewer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"
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

// sampleFromMemory serves data to ffmpeg over loopback HTTP, at a path of
// 128 random bits, for the length of one run.
func sampleFromMemory(ctx context.Context, data []byte, opt VideoOptions) ([]*image.Gray, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("video strip: loopback listener: %w", err)
	}
	var token [16]byte
	rand.Read(token[:])
	path := "/" + hex.EncodeToString(token[:])
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path != path || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
				http.NotFound(w, req)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	defer srv.Close()
	return sampleFrames(ctx, "http://"+ln.Addr().String()+path, "http,tcp", nil, opt)
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
		w, h, err := readPAMHeader(br)
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

func readPAMHeader(br *bufio.Reader) (w, h int, err error) {
	line, err := br.ReadString('\n')
	if err == io.EOF && line == "" {
		return 0, 0, io.EOF
	}
	if err != nil || line != "P7\n" {
		return 0, 0, fmt.Errorf("bad PAM magic %q", line)
	}
	depth, maxval := 0, 0
	for n := 0; ; n++ {
		if n > 16 {
			return 0, 0, errors.New("PAM header too long")
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("PAM header: %w", err)
		}
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		num := func() int { x, _ := strconv.Atoi(val); return x }
		switch key {
		case "WIDTH":
			w = num()
		case "HEIGHT":
			h = num()
		case "DEPTH":
			depth = num()
		case "MAXVAL":
			maxval = num()
		case "ENDHDR":
			if depth != 1 || maxval != 255 || w <= 0 || h <= 0 || w > TileSide || h > TileSide {
				return 0, 0, fmt.Errorf("unexpected PAM frame %dx%d depth %d maxval %d", w, h, depth, maxval)
			}
			return w, h, nil
		}
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
