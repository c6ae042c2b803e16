// Package hashmatch recognises known material: it keeps the hash banks,
// holds their entries in the in-memory match index of internal/hashindex
// (loaded at start and kept current by following the entries' change
// sequence in the database, so several server instances agree within a
// second), and matches report files — exact hashes always, PDQ for
// images — recording every match on the file.
package hashmatch

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/hashindex"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/vpdq"
)

// Service is the hash-matching service.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	custody *custody.Service
	jobs    jobs.Enqueuer
	clock   haven.Clock
	log     *slog.Logger
	index   *hashindex.Index
	// frames holds the frame hashes of vPDQ entries (see video.go).
	frames       *hashindex.Index
	videoOptions vpdq.Options

	mu      sync.Mutex // guards what follows and serialises Follow
	seq     int64      // last change applied to the index
	banks   map[string]*haven.HashBank
	bankNum map[string]uint32 // bank ID → the small number the index holds
	bankIDs []string          // number → bank ID (index 0 unused)
	videos  map[int64]*videoEntry
	hook    MatchHook
}

// MatchHook is told, in the transaction that records them, of the matches
// of a report's file: other programs react to a match of their own banks
// (the self-reported bank tells the survivors who asked to be told).
type MatchHook func(ctx context.Context, tx *store.Tx, f *haven.ReportFile, matches []Result) error

// SetMatchHook sets the hook ProcessFile calls after recording matches.
func (s *Service) SetMatchHook(h MatchHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// New returns the service with an empty index; call Load before matching.
// j queues imports (nil where none are started).
func New(s *store.Store, a *audit.Log, c *custody.Service, j jobs.Enqueuer, clock haven.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: a, custody: c, jobs: j, clock: clock, log: log, index: hashindex.New(hashindex.Options{}),
		frames: hashindex.New(hashindex.Options{}), videoOptions: vpdq.Options{Timeout: 20 * time.Minute},
		banks: map[string]*haven.HashBank{}, bankNum: map[string]uint32{}, bankIDs: []string{""}, videos: map[int64]*videoEntry{}}
}

// bankNumber returns the index number of a bank, assigning one. Callers
// hold s.mu.
func (s *Service) bankNumber(id string) uint32 {
	if n, ok := s.bankNum[id]; ok {
		return n
	}
	n := uint32(len(s.bankIDs))
	s.bankNum[id] = n
	s.bankIDs = append(s.bankIDs, id)
	return n
}

func algoOf(a haven.HashAlgo) (hashindex.Algo, bool) {
	switch a {
	case haven.AlgoPDQ:
		return hashindex.AlgoPDQ, true
	case haven.AlgoMD5:
		return hashindex.AlgoMD5, true
	case haven.AlgoSHA1:
		return hashindex.AlgoSHA1, true
	case haven.AlgoSHA256:
		return hashindex.AlgoSHA256, true
	}
	return 0, false // vPDQ has an index of its own; PhotoDNA is stored, not matched
}

// apply brings one entry's state into the index. Callers hold s.mu.
func (s *Service) apply(e *haven.HashEntry) {
	id := uint64(e.ID)
	s.index.Remove(id)
	if e.Algo == haven.AlgoVPDQ || s.videos[e.ID] != nil {
		s.applyVideo(e)
		return
	}
	if !e.Live() {
		return
	}
	algo, ok := algoOf(e.Algo)
	if !ok || len(e.Value) != algo.Size() {
		return
	}
	bank := s.bankNumber(e.BankID)
	if algo == hashindex.AlgoPDQ {
		s.index.AddPDQ(id, bank, hashindex.PDQ(e.Value))
		return
	}
	if err := s.index.AddExact(id, bank, algo, e.Value); err != nil {
		s.log.Warn("hash entry not indexed", "entry", e.ID, "err", err)
	}
}

// Load reads the banks and every entry into the index. Changes made while
// it runs are picked up by the next Follow.
func (s *Service) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var start int64
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		start, err = tx.HashChangeSeq(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if err := s.refreshBanks(ctx); err != nil {
		return err
	}
	var after int64
	for {
		var batch []*haven.HashEntry
		err := s.store.View(ctx, func(tx *store.Tx) (err error) {
			batch, err = tx.HashEntriesChangedSince(ctx, after, 10000)
			return err
		})
		if err != nil {
			return err
		}
		for _, e := range batch {
			s.apply(e)
			after = e.ChangeSeq
		}
		if len(batch) < 10000 {
			break
		}
	}
	// Everything up to start is in; later changes are re-applied by Follow
	// (applying a change twice is harmless).
	s.seq = min(start, after)
	return nil
}

func (s *Service) refreshBanks(ctx context.Context) error {
	var banks []*haven.HashBank
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		banks, err = tx.HashBanks(ctx)
		return err
	})
	if err != nil {
		return err
	}
	m := make(map[string]*haven.HashBank, len(banks))
	for _, b := range banks {
		m[b.ID] = b
		s.bankNumber(b.ID)
	}
	s.banks = m
	return nil
}

// Follow applies every change made since the last one applied (by this
// or another instance) and returns how many.
func (s *Service) Follow(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		var batch []*haven.HashEntry
		err := s.store.View(ctx, func(tx *store.Tx) (err error) {
			batch, err = tx.HashEntriesChangedSince(ctx, s.seq, 1000)
			return err
		})
		if err != nil {
			return n, err
		}
		for _, e := range batch {
			s.apply(e)
			s.seq = e.ChangeSeq
		}
		n += len(batch)
		if len(batch) < 1000 {
			break
		}
	}
	return n, s.refreshBanks(ctx)
}

// Run follows changes every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Follow(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("following hash bank changes failed; will retry", "err", err)
			}
		}
	}
}

// CreateBank creates a hash bank.
func (s *Service) CreateBank(ctx context.Context, a haven.Actor, b haven.HashBank) (*haven.HashBank, error) {
	if err := a.Require(haven.PermManageBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	if b.PDQThreshold == 0 {
		b.PDQThreshold = haven.DefaultPDQThreshold
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	b.ID, b.CreatedAt, b.UpdatedAt = haven.NewID(), now, now
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateHashBank(ctx, &b); err != nil {
			if haven.IsKind(err, haven.KindConflict) {
				return haven.Invalidf("name", "a bank with this name exists already")
			}
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.create", ObjectType: "hash_bank", ObjectID: b.ID,
			Details: map[string]string{"negative": strconv.FormatBool(b.Negative), "pdq_threshold": strconv.Itoa(b.PDQThreshold)}})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.banks[b.ID] = &b
	s.bankNumber(b.ID)
	s.mu.Unlock()
	return &b, nil
}

// Banks lists the banks.
func (s *Service) Banks(ctx context.Context, a haven.Actor) ([]*haven.HashBank, error) {
	if !a.Can(haven.PermReadBanks) {
		return nil, haven.ErrForbidden
	}
	var out []*haven.HashBank
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.HashBanks(ctx)
		return err
	})
	return out, err
}

// AddEntry adds (or updates) an entry of a bank; it is matchable on this
// instance as soon as AddEntry returns, and on others within a second.
func (s *Service) AddEntry(ctx context.Context, a haven.Actor, e haven.HashEntry) (*haven.HashEntry, error) {
	if err := a.Require(haven.PermManageBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	if err := checkValue(e.Algo, e.Value); err != nil {
		return nil, err
	}
	e.AddedBy, e.AddedAt, e.Enabled, e.RemovedAt = a.UserID, s.clock.Now(), true, time.Time{}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.HashBank(ctx, e.BankID); err != nil {
			return err
		}
		isNew, err := tx.PutHashEntry(ctx, &e)
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.entry_put", ObjectType: "hash_entry", ObjectID: strconv.FormatInt(e.ID, 10),
			Details: map[string]string{"bank": e.BankID, "algo": string(e.Algo), "new": strconv.FormatBool(isNew)}})
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.Follow(ctx); err != nil {
		return nil, err
	}
	return &e, nil
}

// Limits on the size of an entry's value.
const (
	maxOpaqueValue = 64 << 10  // PhotoDNA and other licensed algorithms
	maxVPDQValue   = 512 << 10 // about 3.9 hours of video at a frame a second
)

// checkValue checks an entry's algorithm and value: a digest's size, a
// vPDQ hash Haven can read, an opaque value of reasonable length.
func checkValue(algo haven.HashAlgo, v []byte) error {
	if !algo.Valid() {
		return haven.Invalidf("algo", "unknown hash algorithm %q", algo)
	}
	if n := algo.DigestSize(); n != 0 && len(v) != n {
		return haven.Invalidf("value", "a %s value is %d bytes", algo, n)
	}
	limit := maxOpaqueValue
	if algo == haven.AlgoVPDQ {
		limit = maxVPDQValue
	}
	if len(v) == 0 || len(v) > limit {
		return haven.Invalidf("value", "the value is empty or longer than %d KiB", limit>>10)
	}
	if algo == haven.AlgoVPDQ {
		if err := new(vpdq.Video).UnmarshalBinary(v); err != nil {
			return haven.Invalidf("value", "not a vPDQ hash in Haven's binary form")
		}
	}
	return nil
}

// RemoveEntry removes an entry: it stops matching at once.
func (s *Service) RemoveEntry(ctx context.Context, a haven.Actor, id int64) error {
	if err := a.Require(haven.PermManageBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.SetHashEntryState(ctx, id, false, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.entry_remove", ObjectType: "hash_entry", ObjectID: strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return err
	}
	_, err = s.Follow(ctx)
	return err
}

// Query is what to match: any of the exact digests and a PDQ hash.
type Query struct {
	MD5, SHA1, SHA256 []byte
	PDQ               *pdq.Hash
	PDQQuality        int
	// Video is the vPDQ hash of a video, matched against vPDQ entries.
	Video *vpdq.Video
}

// Result is one match of a query.
type Result struct {
	Entry    *haven.HashEntry
	Bank     *haven.HashBank
	Algo     haven.HashAlgo
	Distance int
	// QueryShare and TargetShare are set for vPDQ matches (see
	// VideoShare): the shares of the query's and of the entry's frames
	// that found a match on the other side.
	QueryShare, TargetShare float64
}

// Outcome is the result of Match: the positive matches, and whether a
// negative bank (known false positives) suppressed them.
type Outcome struct {
	Matches    []Result
	Suppressed bool
}

// Match looks a query up in every enabled bank. PDQ hashes of quality
// below pdq.MinQuality are not matched. Matches of a negative bank
// suppress the positive ones.
func (s *Service) Match(ctx context.Context, q Query) (*Outcome, error) {
	s.mu.Lock()
	radii := hashindex.BankRadii{}
	banks := make(map[uint32]*haven.HashBank, len(s.banks))
	for id, b := range s.banks {
		if b.Enabled {
			n := s.bankNum[id]
			radii[n], banks[n] = b.PDQThreshold, b
		}
	}
	s.mu.Unlock()
	type hit struct {
		m              hashindex.Match
		algo           haven.HashAlgo
		qShare, tShare float64
	}
	var hits []hit
	for _, ex := range []struct {
		algo   hashindex.Algo
		name   haven.HashAlgo
		digest []byte
	}{{hashindex.AlgoMD5, haven.AlgoMD5, q.MD5}, {hashindex.AlgoSHA1, haven.AlgoSHA1, q.SHA1}, {hashindex.AlgoSHA256, haven.AlgoSHA256, q.SHA256}} {
		if len(ex.digest) == ex.algo.Size() {
			for _, m := range s.index.LookupExact(ex.algo, ex.digest) {
				if banks[m.Bank] != nil {
					hits = append(hits, hit{m: m, algo: ex.name})
				}
			}
		}
	}
	if q.PDQ != nil && q.PDQQuality >= pdq.MinQuality && len(radii) > 0 {
		for _, m := range s.index.QueryPDQ(hashindex.PDQ(*q.PDQ), radii.Max(), radii.Keep) {
			hits = append(hits, hit{m: m, algo: haven.AlgoPDQ})
		}
	}
	for _, v := range s.matchVideo(q.Video, radii, banks) {
		hits = append(hits, hit{m: hashindex.Match{EntryID: uint64(v.entry), Bank: v.bank, Distance: v.distance}, algo: haven.AlgoVPDQ,
			qShare: v.score.Query, tShare: v.score.Target})
	}
	out := &Outcome{}
	if len(hits) == 0 {
		return out, nil // most queries: no database transaction at all
	}
	seen := map[int64]bool{}
	err := s.store.View(ctx, func(tx *store.Tx) error {
		for _, h := range hits {
			id := int64(h.m.EntryID)
			if seen[id] {
				continue
			}
			seen[id] = true
			e, err := tx.HashEntry(ctx, id)
			if haven.IsKind(err, haven.KindNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !e.Live() {
				continue // removed since the index was last told
			}
			b := banks[h.m.Bank]
			if b.Negative {
				out.Suppressed = true
				continue
			}
			out.Matches = append(out.Matches, Result{Entry: e, Bank: b, Algo: h.algo, Distance: h.m.Distance,
				QueryShare: h.qShare, TargetShare: h.tShare})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.Suppressed {
		out.Matches = nil
	}
	return out, nil
}

// ProcessFile hashes a report file (PDQ for images, vPDQ for videos) and
// records its matches. It is the intake pipeline's file step.
func (s *Service) ProcessFile(ctx context.Context, f *haven.ReportFile) (*Outcome, error) {
	q := Query{MD5: f.MD5, SHA1: f.SHA1, SHA256: f.SHA256}
	s.perceptual(ctx, f, &q)
	out, err := s.Match(ctx, q)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, m := range out.Matches {
			fm := &haven.FileMatch{ReportID: f.ReportID, FileID: f.ID, EntryID: m.Entry.ID, Algo: m.Algo, Distance: m.Distance,
				QueryShare: m.QueryShare, TargetShare: m.TargetShare, At: now, NeedsConfirmation: m.Algo.Perceptual()}
			if err := tx.AddFileMatch(ctx, fm); err != nil {
				return err
			}
		}
		if len(out.Matches) == 0 && !out.Suppressed {
			return nil
		}
		s.mu.Lock()
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && len(out.Matches) > 0 {
			if err := hook(ctx, tx, f, out.Matches); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("hashmatch"), audit.Entry{Type: "report.file_matched", ObjectType: "report",
			ObjectID: strconv.FormatInt(f.ReportID, 10), Details: map[string]string{"file": f.ID, "matches": strconv.Itoa(len(out.Matches)),
				"suppressed": strconv.FormatBool(out.Suppressed)}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// perceptual decrypts a file from the vault and adds its PDQ hash (an
// image the decoders accept) or its vPDQ hash (a video) to q. The bytes
// never reach a disk in the clear. A file that is neither, or that cannot
// be read, is matched on its exact hashes alone.
func (s *Service) perceptual(ctx context.Context, f *haven.ReportFile, q *Query) {
	open := func() (io.ReadCloser, error) {
		return s.custody.Open(ctx, haven.SystemActor("hashmatch"), f.ItemID, "automatic hash matching")
	}
	rc, err := open()
	if err != nil {
		s.log.Warn("could not open a file for hashing", "file", f.ID, "err", err)
		return
	}
	defer rc.Close()
	br, head := peekHead(rc)
	if IsVideo(head, f.ContentType, f.Filename) {
		v, err := s.hashVideo(ctx, br, open, f.Size)
		if err != nil {
			s.log.Warn("video not hashed: matched on its exact hashes only", "file", f.ID, "err", err)
			return
		}
		q.Video = v
		return
	}
	h, quality, err := pdq.HashReader(io.LimitReader(br, 256<<20), pdq.Options{})
	if err != nil {
		return // not an image we can read: exact hashes still match
	}
	q.PDQ, q.PDQQuality = &h, quality
}

// FileMatches returns the matches recorded on a report's files, with
// their entries and banks, for staff who may read reports.
func (s *Service) FileMatches(ctx context.Context, a haven.Actor, reportID int64) ([]FileMatchView, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrForbidden
	}
	var out []FileMatchView
	err := s.store.View(ctx, func(tx *store.Tx) error {
		ms, err := tx.FileMatches(ctx, reportID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			e, err := tx.HashEntry(ctx, m.EntryID)
			if err != nil {
				return err
			}
			b, err := tx.HashBank(ctx, e.BankID)
			if err != nil {
				return err
			}
			out = append(out, FileMatchView{Match: m, Entry: e, Bank: b})
		}
		return nil
	})
	return out, err
}

// FileMatchView is a recorded match with what it matched.
type FileMatchView struct {
	Match *haven.FileMatch
	Entry *haven.HashEntry
	Bank  *haven.HashBank
}

// String describes a match for logs (no hash values).
func (v FileMatchView) String() string {
	return fmt.Sprintf("file %s matched entry %d of bank %s at distance %d", v.Match.FileID, v.Entry.ID, v.Bank.Name, v.Match.Distance)
}

// ProcessReportFile is ProcessFile for the intake pipeline: it reports
// whether the file matched a positive bank.
func (s *Service) ProcessReportFile(ctx context.Context, f *haven.ReportFile) (bool, error) {
	out, err := s.ProcessFile(ctx, f)
	if err != nil {
		return false, err
	}
	return len(out.Matches) > 0, nil
}

// Bank returns a bank with its live entry count.
func (s *Service) Bank(ctx context.Context, a haven.Actor, id string) (*haven.HashBank, int64, error) {
	if !a.Can(haven.PermReadBanks) {
		return nil, 0, haven.ErrNotFound
	}
	var b *haven.HashBank
	var n int64
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		if b, err = tx.HashBank(ctx, id); err != nil {
			return err
		}
		n, err = tx.CountHashEntries(ctx, id)
		return err
	})
	return b, n, err
}

// Entries lists a bank's entries by ID after afterID.
func (s *Service) Entries(ctx context.Context, a haven.Actor, bankID string, afterID int64, limit int) ([]*haven.HashEntry, error) {
	if !a.Can(haven.PermReadBanks) {
		return nil, haven.ErrForbidden
	}
	var out []*haven.HashEntry
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.HashEntriesOfBank(ctx, bankID, afterID, limit)
		return err
	})
	return out, err
}

// Sighting is an entry found by a search, with where it matched.
type Sighting struct {
	Entry    *haven.HashEntry
	Bank     *haven.HashBank
	Distance int
	Matches  []*haven.FileMatch
}

// SearchResult is the answer to a hash search.
type SearchResult struct {
	Algos     []haven.HashAlgo // how the value was read
	Sightings []Sighting       // bank entries with this value (or a PDQ within threshold)
	Files     []*haven.ReportFile
}

// Search looks a hexadecimal hash up: bank entries that hold it (or, for a
// PDQ hash, lie within their bank's threshold), where those entries
// matched, and report files with the same digest. The search is audited.
func (s *Service) Search(ctx context.Context, a haven.Actor, value string) (*SearchResult, error) {
	if !a.Can(haven.PermReadBanks) {
		return nil, haven.ErrForbidden
	}
	raw, err := hex.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return nil, haven.Invalidf("q", "give a hash in hexadecimal (MD5, SHA-1, SHA-256 or PDQ)")
	}
	res := &SearchResult{}
	q := Query{}
	switch len(raw) {
	case 16:
		res.Algos, q.MD5 = []haven.HashAlgo{haven.AlgoMD5}, raw
	case 20:
		res.Algos, q.SHA1 = []haven.HashAlgo{haven.AlgoSHA1}, raw
	case 32:
		var h pdq.Hash
		copy(h[:], raw)
		res.Algos, q.SHA256, q.PDQ, q.PDQQuality = []haven.HashAlgo{haven.AlgoSHA256, haven.AlgoPDQ}, raw, &h, 100
	default:
		return nil, haven.Invalidf("q", "a hash has 32 (MD5), 40 (SHA-1) or 64 (SHA-256, PDQ) hexadecimal characters")
	}
	out, err := s.Match(ctx, q)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, m := range out.Matches {
			ms, err := tx.MatchesOfEntry(ctx, m.Entry.ID, 50)
			if err != nil {
				return err
			}
			res.Sightings = append(res.Sightings, Sighting{Entry: m.Entry, Bank: m.Bank, Distance: m.Distance, Matches: ms})
		}
		for _, algo := range res.Algos {
			fs, err := tx.ReportFilesByDigest(ctx, algo, raw, 50)
			if err != nil {
				return err
			}
			res.Files = append(res.Files, fs...)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hash.search", ObjectType: "hash_banks",
			Details: map[string]string{"sightings": strconv.Itoa(len(res.Sightings)), "files": strconv.Itoa(len(res.Files))}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ConfirmMatch records that a person confirmed a perceptual match of a
// report file.
func (s *Service) ConfirmMatch(ctx context.Context, a haven.Actor, reportID int64, fileID string, entryID int64) error {
	if !a.Can(haven.PermReportRead) {
		return haven.ErrForbidden
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		ms, err := tx.FileMatches(ctx, reportID)
		if err != nil {
			return err
		}
		found := false
		for _, m := range ms {
			found = found || (m.FileID == fileID && m.EntryID == entryID)
		}
		if !found {
			return haven.ErrNotFound
		}
		if err := tx.ConfirmFileMatch(ctx, fileID, entryID, a.UserID, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.match_confirmed", ObjectType: "report",
			ObjectID: strconv.FormatInt(reportID, 10), Details: map[string]string{"file": fileID, "entry": strconv.FormatInt(entryID, 10)}})
	})
}

// SetBankEnabled enables or disables a bank: a disabled bank matches
// nothing, at once on this instance and after a follow on the others.
func (s *Service) SetBankEnabled(ctx context.Context, a haven.Actor, id string, enabled bool) error {
	if err := a.Require(haven.PermManageBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.HashBank(ctx, id)
		if err != nil {
			return err
		}
		b.Enabled, b.UpdatedAt = enabled, s.clock.Now()
		if err := tx.UpdateHashBank(ctx, b); err != nil {
			return err
		}
		typ := "hashbank.disable"
		if enabled {
			typ = "hashbank.enable"
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "hash_bank", ObjectID: id})
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshBanks(ctx)
}
