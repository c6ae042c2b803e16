package hashmatch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashindex"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/vpdq"
)

// Video matching follows vPDQ: the frame hashes of every vPDQ entry are
// held in an index of their own; a query video's frames find candidate
// entries there, and each candidate is scored frame set against frame set.
// A candidate matches when at least VideoShare of the query's usable
// frames are in it (the upload is mostly known material) or at least
// VideoShare of its frames are in the query (the upload contains most of
// a known video). See docs/decisions/0009-video-matching.md.
const (
	// VideoShare is the share of frames, on either side, that makes a
	// video match.
	VideoShare = 0.8
	// frameBits is how many low bits of a frame's index ID number the
	// frame within its entry.
	frameBits = 20
	maxFrames = 1 << frameBits
)

// videoEntry is a vPDQ entry as the index holds it.
type videoEntry struct {
	bank   uint32
	video  *vpdq.Video
	frames int // frame IDs added to the frame index: 0 … frames-1
}

// applyVideo brings a vPDQ entry's state into the frame index. Callers
// hold s.mu.
func (s *Service) applyVideo(e *haven.HashEntry) {
	if old, ok := s.videos[e.ID]; ok {
		for i := range old.frames {
			s.frames.Remove(uint64(e.ID)<<frameBits | uint64(i))
		}
		delete(s.videos, e.ID)
	}
	if !e.Live() || e.Algo != haven.AlgoVPDQ {
		return
	}
	v := new(vpdq.Video)
	if err := v.UnmarshalBinary(e.Value); err != nil {
		s.log.Warn("vPDQ entry not indexed: not a vPDQ hash Haven can read", "entry", e.ID, "err", err)
		return
	}
	ve := &videoEntry{bank: s.bankNumber(e.BankID), video: v}
	for _, f := range v.Frames {
		if ve.frames == maxFrames {
			break
		}
		if f.Quality >= pdq.MinQuality {
			s.frames.AddPDQ(uint64(e.ID)<<frameBits|uint64(ve.frames), ve.bank, hashindex.PDQ(f.Hash))
		}
		ve.frames++
	}
	s.videos[e.ID] = ve
}

// videoHit is a vPDQ candidate that matched.
type videoHit struct {
	entry    int64
	bank     uint32
	distance int // of the closest pair of frames
	score    vpdq.Score
}

// matchVideo scores a query video against every vPDQ entry one of whose
// frames is within its bank's threshold of a query frame.
func (s *Service) matchVideo(q *vpdq.Video, radii hashindex.BankRadii, banks map[uint32]*haven.HashBank) []videoHit {
	if q == nil || len(radii) == 0 {
		return nil
	}
	closest := map[int64]int{}
	var last *pdq.Hash
	for i := range q.Frames {
		f := &q.Frames[i]
		if f.Quality < pdq.MinQuality || (last != nil && *last == f.Hash) {
			continue
		}
		last = &f.Hash
		for _, m := range s.frames.QueryPDQ(hashindex.PDQ(f.Hash), radii.Max(), radii.Keep) {
			id := int64(m.EntryID >> frameBits)
			if d, ok := closest[id]; !ok || m.Distance < d {
				closest[id] = m.Distance
			}
		}
	}
	s.mu.Lock()
	cands := make(map[int64]*videoEntry, len(closest))
	for id := range closest {
		if ve := s.videos[id]; ve != nil {
			cands[id] = ve
		}
	}
	s.mu.Unlock()
	var hits []videoHit
	for id, ve := range cands {
		b := banks[ve.bank]
		if b == nil {
			continue
		}
		dist := b.PDQThreshold
		if dist == 0 {
			dist = -1 // vpdq's way of saying 0
		}
		sc := vpdq.Match(q, ve.video, vpdq.MatchOptions{Distance: dist})
		if sc.Matches(VideoShare, 0) || sc.Matches(0, VideoShare) {
			hits = append(hits, videoHit{entry: id, bank: ve.bank, distance: closest[id], score: sc})
		}
	}
	return hits
}

// videoExtensions are the file name extensions taken for videos when the
// first bytes do not say (MPEG-TS has no magic number net/http knows).
var videoExtensions = map[string]bool{
	".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true, ".avi": true, ".ts": true, ".mts": true,
	".m2ts": true, ".mpg": true, ".mpeg": true, ".wmv": true, ".flv": true, ".3gp": true, ".ogv": true,
}

// IsVideo reports whether a file looks like a video, from its first bytes
// (up to 512), then its declared type and its name.
func IsVideo(head []byte, contentType, name string) bool {
	if strings.HasPrefix(http.DetectContentType(head), "video/") {
		return true
	}
	if strings.HasPrefix(strings.ToLower(contentType), "video/") {
		return true
	}
	return videoExtensions[strings.ToLower(path.Ext(name))]
}

// MaxVideoInMemory caps a video that must be held in memory to be hashed
// (one that cannot be read from a pipe: an MP4 with its index at the end).
const MaxVideoInMemory = 1 << 30

// hashVideo hashes a video read from open: first as a stream through a
// pipe; when the container needs seeking, again from memory (never a clear
// file on disk).
func (s *Service) hashVideo(ctx context.Context, r io.Reader, reopen func() (io.ReadCloser, error), size int64) (*vpdq.Video, error) {
	v, err := vpdq.HashReader(ctx, r, s.videoOptions)
	if !errors.Is(err, vpdq.ErrNotStreamable) {
		return v, err
	}
	if size > MaxVideoInMemory {
		return nil, fmt.Errorf("the video needs seeking and is larger than the %d MiB Haven holds in memory to hash it: %w", MaxVideoInMemory>>20, err)
	}
	rc, err := reopen()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxVideoInMemory+1))
	if err != nil {
		return nil, err
	}
	return HashVideoBytes(ctx, data, s.videoOptions)
}

// HashVideoBytes hashes a video held in memory (seeking as it needs).
func HashVideoBytes(ctx context.Context, data []byte, opt vpdq.Options) (*vpdq.Video, error) {
	return vpdq.HashReaderAt(ctx, bytes.NewReader(data), int64(len(data)), opt)
}

// peekHead returns a reader that replays the first bytes it returns.
func peekHead(r io.Reader) (*bufio.Reader, []byte) {
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(512)
	return br, head
}
