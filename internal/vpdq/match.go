package vpdq

import "github.com/haven-hotline/haven/internal/pdq"

// MatchOptions configure Match. The zero value is the vPDQ defaults.
type MatchOptions struct {
	// Distance is the largest PDQ distance at which two frames match;
	// 0 means pdq.MatchThreshold (31). Use a negative value for 0.
	Distance int
	// Quality is the smallest frame quality used; 0 means pdq.MinQuality
	// (50). Use a negative value to keep every frame.
	Quality int
	// Dedupe drops, in each video separately, every usable frame within
	// DedupeDistance of the last kept frame before counting: a still scene
	// then counts once, as with vPDQ's optional pruning. Off by default, as
	// in the reference, so shares are shares of seconds of video.
	Dedupe         bool
	DedupeDistance int // for Dedupe; 0 means identical hashes only
}

// Score is the result of Match.
type Score struct {
	// Query is the share (0 to 1) of the query's usable frames that have
	// a target frame within the distance; Target the same the other way.
	Query, Target float64
	// QueryFrames and TargetFrames count the usable frames (after
	// Dedupe); QueryMatched and TargetMatched those that matched.
	QueryFrames, TargetFrames   int
	QueryMatched, TargetMatched int
	// Empty is set when one side has no usable frame; the shares are 0.
	Empty bool
}

// Matches applies vPDQ's decision rule: both shares at least the given
// thresholds (0 to 1). pytx uses query ≥ 0.8 and target ≥ 0.
func (s Score) Matches(query, target float64) bool {
	return !s.Empty && s.Query >= query && s.Target >= target
}

// Match compares two videos as vPDQ does: frame order and timestamps are
// ignored. It costs len(query)·len(target) distance computations; for a
// bank of videos, index the frame hashes first.
func Match(query, target *Video, opt MatchOptions) Score {
	dist := opt.Distance
	switch {
	case dist == 0:
		dist = pdq.MatchThreshold
	case dist < 0:
		dist = 0
	}
	q := usable(query, opt)
	t := usable(target, opt)
	s := Score{QueryFrames: len(q), TargetFrames: len(t)}
	if len(q) == 0 || len(t) == 0 {
		s.Empty = true
		return s
	}
	tHit := make([]bool, len(t))
	for _, a := range q {
		hit := false
		for j, b := range t {
			if pdq.Distance(a, b) <= dist {
				hit = true
				tHit[j] = true
			}
		}
		if hit {
			s.QueryMatched++
		}
	}
	for _, h := range tHit {
		if h {
			s.TargetMatched++
		}
	}
	s.Query = float64(s.QueryMatched) / float64(len(q))
	s.Target = float64(s.TargetMatched) / float64(len(t))
	return s
}

func usable(v *Video, opt MatchOptions) []pdq.Hash {
	if v == nil {
		return nil
	}
	minQ := opt.Quality
	if minQ == 0 {
		minQ = pdq.MinQuality
	}
	var out []pdq.Hash
	for _, f := range v.Frames {
		if f.Quality < minQ {
			continue
		}
		if opt.Dedupe && len(out) > 0 && pdq.Distance(out[len(out)-1], f.Hash) <= opt.DedupeDistance {
			continue
		}
		out = append(out, f.Hash)
	}
	return out
}
