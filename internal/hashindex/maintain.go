package hashindex

import "slices"

// job is one background build: the segments and frozen deltas it replaces
// with one new segment.
type job struct {
	segs   []*segment
	frozen []*delta
}

// kick starts the background goroutine unless it runs already. Called with
// mu held.
func (ix *Index) kick() {
	if !ix.busy {
		ix.busy = true
		go ix.maintain()
	}
}

// maintain runs jobs until there are none left. Builds run without the lock,
// so writers and readers go on; only the installation of a result takes it.
func (ix *Index) maintain() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for {
		j := ix.nextJob(ix.snap.Load())
		if j == nil {
			break
		}
		ix.logging = true
		ix.mu.Unlock()
		seg := j.build(&ix.opts)
		if ix.opts.afterBuild != nil {
			ix.opts.afterBuild()
		}
		ix.mu.Lock()
		ix.install(j, seg)
	}
	ix.busy = false
	ix.idle.Broadcast()
}

// nextJob picks the next job, in order: build the frozen deltas (all at
// once), the full merge Compact asked for, a size-tiered merge of
// MergeFactor segments of one tier (the smallest tier first), the rebuild of
// a segment that is a quarter removed. Called with mu held.
func (ix *Index) nextJob(s *snapshot) *job {
	if len(s.frozen) > 0 {
		return &job{frozen: s.frozen}
	}
	if ix.compact {
		ix.compact = false
		if len(s.segs) > 1 || len(s.segs) == 1 && s.segs[0].removed() > 0 {
			return &job{segs: s.segs}
		}
	}
	if ix.opts.MergeFactor < 0 {
		return nil
	}
	// segs is largest first, so a tier's members are adjacent; take the
	// smallest MergeFactor members of the smallest tier that has enough.
	for end := len(s.segs); end > 0; {
		t := ix.tier(s.segs[end-1].size())
		start := end - 1
		for start > 0 && ix.tier(s.segs[start-1].size()) == t {
			start--
		}
		if end-start >= ix.opts.MergeFactor {
			return &job{segs: slices.Clone(s.segs[end-ix.opts.MergeFactor : end])}
		}
		end = start
	}
	for _, seg := range s.segs {
		if ix.compactable(seg) {
			return &job{segs: []*segment{seg}}
		}
	}
	return nil
}

// build gathers the live hashes of the job's sources and builds a segment
// on one core, leaving the other to queries.
func (j *job) build(o *Options) *segment {
	var pdq int
	var exact [3]int
	for _, seg := range j.segs {
		pdq += len(seg.pdq.ids) - int(seg.pdq.ndead.Load())
		for k, t := range seg.exact {
			exact[k] += len(t.ids) - int(t.ndead.Load())
		}
	}
	for _, d := range j.frozen {
		pdq += int(d.pdq.n.Load())
		for k := range d.exact {
			exact[k] += int(d.exact[k].n.Load())
		}
	}
	var c columns
	c.grow(pdq, exact)
	for _, seg := range j.segs {
		seg.appendLive(&c)
	}
	for _, d := range j.frozen {
		d.appendLive(&c)
	}
	return c.build(o, false)
}

// install replaces the job's sources with seg in a new snapshot, after
// tombstoning in seg the entries removed while it was built: those were
// still live in the sources when the build copied them. Called with mu held.
func (ix *Index) install(j *job, seg *segment) {
	for _, id := range ix.removedLog {
		seg.remove(id)
	}
	ix.logging, ix.removedLog = false, nil
	s := ix.snap.Load()
	ns := &snapshot{delta: s.delta}
	for _, x := range s.segs {
		if !slices.Contains(j.segs, x) {
			ns.segs = append(ns.segs, x)
		}
	}
	for _, d := range s.frozen {
		if !slices.Contains(j.frozen, d) {
			ns.frozen = append(ns.frozen, d)
		}
	}
	if seg.size() > 0 {
		ns.segs = withSegment(ns.segs, seg)
	}
	ix.publish(ns)
}
