package selfreport

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/vpdq"
)

// MaxField is the largest hashes field the page may send: a hundred
// files, some of them hour-long videos.
const MaxField = 8 << 20

// ParseFiles reads the hashes field the page fills in, one file a line:
//
//	image,<md5>,<sha1>,<pdq>,<quality>
//	video,<md5>,<sha1>,<quality>:<pdq>:<second>;<quality>:<pdq>:<second>;…
//	file,<md5>,<sha1>
//
// image is a picture the page could decode and hash; video a video from
// which the browser drew a frame a second; file anything else (digests
// only). Blank lines are skipped. The first line that cannot be read is
// an error naming it.
func ParseFiles(field string) ([]File, error) {
	if len(field) > MaxField {
		return nil, haven.Invalidf("hashes", "the list of hashes is too long: send fewer files at a time")
	}
	var files []File
	sc := bufio.NewScanner(strings.NewReader(field))
	sc.Buffer(make([]byte, 0, 64<<10), MaxField)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f, err := parseLine(line)
		if err != nil {
			return nil, haven.Invalidf("hashes", "line %d of the hashes cannot be read (%v)", n, err)
		}
		if len(files) == MaxFiles {
			return nil, haven.Invalidf("hashes", "send at most %d files at a time", MaxFiles)
		}
		files = append(files, f)
	}
	if err := sc.Err(); err != nil {
		return nil, haven.Invalidf("hashes", "the list of hashes cannot be read")
	}
	return files, nil
}

func parseLine(line string) (File, error) {
	var f File
	parts := strings.Split(line, ",")
	want := map[string]int{"image": 5, "video": 4, "file": 3}[parts[0]]
	if want == 0 || len(parts) != want {
		return f, fmt.Errorf("want image, video or file with its fields")
	}
	var err error
	if f.MD5, err = hexOf(parts[1], 16); err != nil {
		return f, fmt.Errorf("MD5: %w", err)
	}
	if parts[2] != "" {
		if f.SHA1, err = hexOf(parts[2], 20); err != nil {
			return f, fmt.Errorf("SHA-1: %w", err)
		}
	}
	switch parts[0] {
	case "image":
		h, err := pdq.ParseHash(parts[3])
		if err != nil {
			return f, fmt.Errorf("PDQ: %w", err)
		}
		q, err := strconv.Atoi(parts[4])
		if err != nil || q < 0 || q > 100 {
			return f, fmt.Errorf("quality is 0 to 100")
		}
		f.PDQ, f.Quality = &h, q
	case "video":
		frames := strings.Split(parts[3], ";")
		if len(frames) > MaxVideoFrame {
			return f, fmt.Errorf("more than %d frames", MaxVideoFrame)
		}
		v := &vpdq.Video{}
		for i, fr := range frames {
			p := strings.Split(fr, ":")
			if len(p) != 3 {
				return f, fmt.Errorf("frame %d: want quality:pdq:second", i+1)
			}
			q, err1 := strconv.Atoi(p[0])
			h, err2 := pdq.ParseHash(p[1])
			sec, err3 := strconv.ParseFloat(p[2], 64)
			if err1 != nil || err2 != nil || err3 != nil || q < 0 || q > 100 || !(sec >= 0 && sec < 1e7) {
				return f, fmt.Errorf("frame %d cannot be read", i+1)
			}
			v.Frames = append(v.Frames, vpdq.Frame{Index: i, Second: sec, Hash: h, Quality: q})
		}
		v.Duration = v.Frames[len(v.Frames)-1].Second + vpdq.SecondsPerFrame
		f.Video = v
	}
	return f, nil
}

func hexOf(s string, size int) ([]byte, error) {
	if len(s) != 2*size {
		return nil, fmt.Errorf("want %d hexadecimal digits", 2*size)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hexadecimal")
	}
	return b, nil
}
