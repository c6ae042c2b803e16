package vpdq

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven/internal/pdq"
)

// binaryVersion is the first byte of MarshalBinary's output.
const binaryVersion = 1

const (
	binHeader = 1 + 4 + 4          // version, duration ms, frame count
	binFrame  = 4 + 1 + pdq.Size   // second ms, quality, hash
	maxMillis = math.MaxUint32 - 1 // about 49 days
)

// ErrInvalidEncoding is wrapped by the errors of UnmarshalBinary and
// UnmarshalText.
var ErrInvalidEncoding = errors.New("vpdq: invalid encoding")

// MarshalBinary encodes the video's hashes compactly, all integers big
// endian: version byte (1), duration in ms (uint32), frame count (uint32),
// then per frame: time in ms (uint32), quality (byte), 32 hash bytes.
// Frame indexes are not stored: they are the frames' positions. Times
// are rounded to the millisecond and must lie in [0, 49 days).
func (v *Video) MarshalBinary() ([]byte, error) {
	dur, ok := millis(v.Duration)
	if !ok {
		return nil, fmt.Errorf("vpdq: duration %v out of range", v.Duration)
	}
	if uint64(len(v.Frames)) > math.MaxUint32 {
		return nil, errors.New("vpdq: too many frames")
	}
	b := make([]byte, binHeader, binHeader+binFrame*len(v.Frames))
	b[0] = binaryVersion
	binary.BigEndian.PutUint32(b[1:], dur)
	binary.BigEndian.PutUint32(b[5:], uint32(len(v.Frames)))
	for i, f := range v.Frames {
		ms, ok := millis(f.Second)
		if !ok {
			return nil, fmt.Errorf("vpdq: frame %d: time %v out of range", i, f.Second)
		}
		if f.Quality < 0 || f.Quality > 100 {
			return nil, fmt.Errorf("vpdq: frame %d: quality %d out of range", i, f.Quality)
		}
		b = binary.BigEndian.AppendUint32(b, ms)
		b = append(b, byte(f.Quality))
		b = append(b, f.Hash[:]...)
	}
	return b, nil
}

func millis(s float64) (uint32, bool) {
	ms := math.Round(s * 1000)
	if !(ms >= 0 && ms <= maxMillis) { // also refuses NaN
		return 0, false
	}
	return uint32(ms), true
}

// UnmarshalBinary decodes MarshalBinary's form. Truncated is not stored
// and comes back false.
func (v *Video) UnmarshalBinary(b []byte) error {
	if len(b) < binHeader {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrInvalidEncoding, len(b), binHeader)
	}
	if b[0] != binaryVersion {
		return fmt.Errorf("%w: version %d", ErrInvalidEncoding, b[0])
	}
	dur := binary.BigEndian.Uint32(b[1:])
	n := binary.BigEndian.Uint32(b[5:])
	body := b[binHeader:]
	if uint64(len(body)) != uint64(n)*binFrame {
		return fmt.Errorf("%w: %d frames need %d bytes, have %d", ErrInvalidEncoding, n, uint64(n)*binFrame, len(body))
	}
	if dur > maxMillis {
		return fmt.Errorf("%w: duration out of range", ErrInvalidEncoding)
	}
	frames := make([]Frame, n)
	for i := range frames {
		p := body[i*binFrame:][:binFrame]
		ms := binary.BigEndian.Uint32(p)
		if ms > maxMillis || p[4] > 100 {
			return fmt.Errorf("%w: frame %d out of range", ErrInvalidEncoding, i)
		}
		frames[i] = Frame{Index: i, Second: float64(ms) / 1000, Quality: int(p[4])}
		copy(frames[i].Hash[:], p[5:])
	}
	*v = Video{Frames: frames, Duration: float64(dur) / 1000}
	return nil
}

// MarshalText writes the reference vpdq tool's text form, one line per
// frame: "frameNumber,quality,pdqHex,timestamp" with the timestamp in
// seconds to 3 decimals, e.g.
//
//	0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000
//
// The duration and Truncated are not part of this form.
func (v *Video) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	for _, f := range v.Frames {
		fmt.Fprintf(&b, "%d,%d,%s,%.3f\n", f.Index, f.Quality, f.Hash, f.Second)
	}
	return b.Bytes(), nil
}

// UnmarshalText reads the reference text form (see MarshalText). Blank
// lines are skipped; Duration is set to the last timestamp plus the
// sampling interval, as the text form does not carry it.
func (v *Video) UnmarshalText(text []byte) error {
	var frames []Frame
	sc := bufio.NewScanner(bytes.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		parts := strings.Split(s, ",")
		if len(parts) != 4 {
			return fmt.Errorf("%w: line %d: want 4 fields, got %d", ErrInvalidEncoding, line, len(parts))
		}
		idx, err1 := strconv.Atoi(parts[0])
		q, err2 := strconv.Atoi(parts[1])
		h, err3 := pdq.ParseHash(parts[2])
		sec, err4 := strconv.ParseFloat(parts[3], 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrInvalidEncoding, line, err)
		}
		if idx < 0 || q < 0 || q > 100 || !(sec >= 0) || math.IsInf(sec, 0) {
			return fmt.Errorf("%w: line %d: value out of range", ErrInvalidEncoding, line)
		}
		frames = append(frames, Frame{Index: idx, Second: sec, Hash: h, Quality: q})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEncoding, err)
	}
	*v = Video{Frames: frames}
	if len(frames) > 0 {
		v.Duration = frames[len(frames)-1].Second + SecondsPerFrame
	}
	return nil
}
