package victimid

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashlist"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
)

// Request statuses.
const (
	RequestQueued = "queued"
	RequestDone   = "done"
)

// List formats of a submission.
const (
	FormatCSV   = "csv"
	FormatNCMEC = "ncmec"
	FormatVICS  = "vics"
)

// Submission is what an LE user sends: a hash list, single hashes
// (hexadecimal, one per line, algorithm told by length: MD5, SHA-1,
// SHA-256 or PDQ of 64 hex digits as SHA-256 is ambiguous — see
// ParseHashes) and files, hashed in memory and never stored.
type Submission struct {
	CaseNumber string
	Purpose    string
	ListFormat string
	List       io.Reader
	Hashes     string
	Files      [][]byte
	// Hashed are files already hashed with HashFile (by an HTTP surface
	// that hashes each upload as it streams and keeps no bytes).
	Hashed []Item
}

// Item is one submitted file's hashes.
type Item struct {
	Query hashmatch.Query
}

// SeriesFound is a series of a report with how many submitted files
// matched it, and for identified victims the identifying agency's
// contact; nothing else about victims.
type SeriesFound struct {
	Code       string             `json:"series"`
	Name       string             `json:"name"`
	Files      int                `json:"matched_files"`
	Identified bool               `json:"identified"`
	Contacts   []IdentifiedVictim `json:"identified_victims"`
}

// IdentifiedVictim is what the report says of an identified victim: the
// pseudonymous ID and the identifying agency's LE contact.
type IdentifiedVictim struct {
	VictimID     string `json:"victim_id"`
	Agency       string `json:"agency"`
	OfficerName  string `json:"officer_name"`
	OfficerEmail string `json:"officer_email"`
	OfficerPhone string `json:"officer_phone"`
}

// Result is the summary of a request's result, stored with it.
type Result struct {
	Submitted    int           `json:"submitted_files"`
	Matched      int           `json:"matched_files"`
	Series       []SeriesFound `json:"series"`
	Unidentified []string      `json:"unidentified_series"`
	// Unknown counts matched files whose series code has no series record.
	UnknownSeriesFiles int `json:"unknown_series_files"`
}

// Report is a request with its result.
type Report struct {
	Request *store.IDRequest
	Result  Result
}

// ParseHashes reads single hashes, one per line, optionally prefixed by
// their algorithm ("pdq:…", "sha256:…"). Without a prefix, 32 hex digits
// are MD5, 40 SHA-1 and 64 SHA-256.
func ParseHashes(text string) ([]Item, error) {
	var out []Item
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		algo, val, ok := strings.Cut(line, ":")
		if !ok {
			val, algo = line, ""
		}
		b, err := hex.DecodeString(strings.TrimSpace(val))
		if err != nil {
			return nil, haven.Invalidf("hashes", "line %d is not a hexadecimal hash", n+1)
		}
		var q hashmatch.Query
		switch {
		case strings.EqualFold(algo, "pdq") && len(b) == pdq.Size:
			h := pdq.Hash(b)
			q.PDQ, q.PDQQuality = &h, 100
		case (algo == "" || strings.EqualFold(algo, "md5")) && len(b) == 16:
			q.MD5 = b
		case (algo == "" || strings.EqualFold(algo, "sha1")) && len(b) == 20:
			q.SHA1 = b
		case (algo == "" || strings.EqualFold(algo, "sha256")) && len(b) == 32:
			q.SHA256 = b
		default:
			return nil, haven.Invalidf("hashes", "line %d is not an MD5, SHA-1, SHA-256 or pdq: hash", n+1)
		}
		out = append(out, Item{Query: q})
	}
	return out, nil
}

// ReadList reads a hash list (csv, ncmec or vics), one item per record.
func ReadList(format string, r io.Reader) iter.Seq2[Item, error] {
	var recs iter.Seq2[hashlist.Record, error]
	opt := hashlist.Options{MaxRecords: 2_000_000}
	switch format {
	case FormatCSV:
		recs = hashlist.ReadCSV(r, opt)
	case FormatNCMEC:
		recs = hashlist.ReadNCMEC(r, opt)
	case FormatVICS:
		recs = hashlist.ReadVICS(r, opt)
	default:
		return func(yield func(Item, error) bool) {
			yield(Item{}, haven.Invalidf("format", "choose the list format: csv, ncmec or vics"))
		}
	}
	return func(yield func(Item, error) bool) {
		for rec, err := range recs {
			if err != nil {
				if hashlist.IsRecordError(err) {
					continue // a bad row does not stop the request
				}
				yield(Item{}, haven.Invalidf("list", "the hash list could not be read"))
				return
			}
			if rec.Deleted {
				continue
			}
			var q hashmatch.Query
			for _, h := range rec.Hashes {
				switch h.Algo {
				case haven.AlgoMD5:
					q.MD5 = h.Value
				case haven.AlgoSHA1:
					q.SHA1 = h.Value
				case haven.AlgoSHA256:
					q.SHA256 = h.Value
				case haven.AlgoPDQ:
					if len(h.Value) == pdq.Size {
						p := pdq.Hash(h.Value)
						q.PDQ, q.PDQQuality = &p, 100
					}
				}
			}
			if !yield(Item{Query: q}, nil) {
				return
			}
		}
	}
}

// HashFile hashes a file in memory: MD5, SHA-1, SHA-256, and PDQ when it
// is an image. The bytes are not kept.
func HashFile(b []byte) Item {
	m, s1, s2 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b)
	q := hashmatch.Query{MD5: m[:], SHA1: s1[:], SHA256: s2[:]}
	if h, quality, err := pdq.HashReader(bytes.NewReader(b), pdq.Options{}); err == nil {
		q.PDQ, q.PDQQuality = &h, quality
	}
	return Item{Query: q}
}

// Match matches items and counts, per series code, the files that matched
// an entry of it.
func Match(ctx context.Context, m Matcher, items iter.Seq2[Item, error]) (submitted, matched int, perSeries map[string]int, err error) {
	perSeries = map[string]int{}
	for it, ierr := range items {
		if ierr != nil {
			return 0, 0, nil, ierr
		}
		submitted++
		out, err := m.Match(ctx, it.Query)
		if err != nil {
			return 0, 0, nil, err
		}
		seen := map[string]bool{}
		for _, r := range out.Matches {
			if c := r.Entry.SeriesID; c != "" && !seen[c] {
				seen[c] = true
				perSeries[c]++
			}
		}
		if len(out.Matches) > 0 {
			matched++
		}
	}
	return submitted, matched, perSeries, nil
}

// Request runs an identification request of an LE user and stores it
// with its result; identified victims who opted in get a notification.
func (s *Service) Request(ctx context.Context, a haven.Actor, sub Submission) (*Report, error) {
	if err := s.require(a, haven.PermIDRequest); err != nil {
		return nil, s.deny(ctx, a, "idrequest.create", "idrequest", "", err)
	}
	if a.AgencyID == "" {
		return nil, haven.ErrForbidden
	}
	var err error
	if sub.CaseNumber, err = haven.CleanText("case_number", sub.CaseNumber, 100, true); err != nil {
		return nil, err
	}
	if !slices.Contains(Purposes, sub.Purpose) {
		return nil, haven.Invalidf("purpose", "choose the purpose of the request")
	}
	single, err := ParseHashes(sub.Hashes)
	if err != nil {
		return nil, err
	}
	items := func(yield func(Item, error) bool) {
		for _, it := range single {
			if !yield(it, nil) {
				return
			}
		}
		for _, it := range sub.Hashed {
			if !yield(it, nil) {
				return
			}
		}
		for _, f := range sub.Files {
			if !yield(HashFile(f), nil) {
				return
			}
		}
		if sub.List != nil {
			for it, err := range ReadList(sub.ListFormat, sub.List) {
				if !yield(it, err) {
					return
				}
			}
		}
	}
	var all []Item
	for it, err := range items {
		if err != nil {
			return nil, err
		}
		all = append(all, it)
	}
	if len(all) == 0 {
		return nil, haven.Invalidf("hashes", "give at least one hash, hash list or file")
	}
	now := s.clock.Now()
	req := &store.IDRequest{ID: haven.NewID(), AgencyID: a.AgencyID, RequestedBy: a.UserID, CaseNumber: sub.CaseNumber,
		Purpose: sub.Purpose, Status: RequestQueued, Submitted: len(all), CreatedAt: now}
	if s.jobs != nil && len(all) > s.asyncAbove {
		// A big list is matched by a job that records its progress.
		args := RequestArgs{RequestID: req.ID, Items: make([]jobItem, len(all))}
		for i, it := range all {
			args.Items[i] = encodeItem(it)
		}
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateIDRequest(ctx, req); err != nil {
				return err
			}
			if err := s.jobs.EnqueueTx(ctx, tx, args, nil); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "idrequest.create", ObjectType: "idrequest", ObjectID: req.ID,
				Purpose: sub.Purpose, Details: map[string]string{"submitted": fmt.Sprint(len(all)), "queued": "true"}})
		})
		if err != nil {
			return nil, err
		}
		return &Report{Request: req}, nil
	}
	seq := func(yield func(Item, error) bool) {
		for _, it := range all {
			if !yield(it, nil) {
				return
			}
		}
	}
	_, matched, per, err := Match(ctx, s.matcher, seq)
	if err != nil {
		return nil, err
	}
	rep := &Report{Request: req}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateIDRequest(ctx, req); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, a, audit.Entry{Type: "idrequest.create", ObjectType: "idrequest", ObjectID: req.ID,
			Purpose: sub.Purpose, Details: map[string]string{"submitted": fmt.Sprint(len(all))}}); err != nil {
			return err
		}
		rep.Result, err = s.finish(ctx, tx, req, matched, per)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// finish stores a request's result, audits it and creates the
// notifications of opted-in victims, inside tx.
func (s *Service) finish(ctx context.Context, tx *store.Tx, req *store.IDRequest, matched int, per map[string]int) (Result, error) {
	res, notify, err := s.buildResult(ctx, tx, per, req.Purpose)
	if err != nil {
		return res, err
	}
	res.Submitted, res.Matched = req.Submitted, matched
	b, err := json.Marshal(res)
	if err != nil {
		return res, err
	}
	now := s.clock.Now()
	req.Result, req.Status, req.Processed, req.Matched, req.FinishedAt = string(b), RequestDone, req.Submitted, matched, now
	if err := tx.UpdateIDRequest(ctx, req); err != nil {
		return res, err
	}
	sys := haven.SystemActor("victimid")
	if err := s.audit.Record(ctx, tx, sys, audit.Entry{Type: "idrequest.result", ObjectType: "idrequest", ObjectID: req.ID,
		Details: map[string]string{"matched": fmt.Sprint(matched), "series": fmt.Sprint(len(res.Series))}}); err != nil {
		return res, err
	}
	for _, vid := range notify {
		n := &store.VictimNotification{ID: haven.NewID(), VictimID: vid, RequestID: req.ID, CaseNumber: req.CaseNumber,
			AgencyID: req.AgencyID, CreatedAt: now}
		if err := tx.CreateVictimNotification(ctx, n); err != nil {
			return res, err
		}
		if err := s.audit.Record(ctx, tx, sys, audit.Entry{Type: "notification.create", ObjectType: "notification", ObjectID: n.ID}); err != nil {
			return res, err
		}
	}
	s.log.Info("identification request", "request", req.ID, "submitted", req.Submitted, "matched", matched)
	return res, nil
}

// buildResult turns per-series counts into the result and the victims to
// notify.
func (s *Service) buildResult(ctx context.Context, tx *store.Tx, per map[string]int, purpose string) (Result, []string, error) {
	res := Result{Series: []SeriesFound{}, Unidentified: []string{}}
	var notify []string
	codes := make([]string, 0, len(per))
	for c := range per {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	agencies := map[string]string{}
	for _, c := range codes {
		sr, err := tx.Series(ctx, c)
		if haven.IsKind(err, haven.KindNotFound) {
			res.UnknownSeriesFiles += per[c]
			continue
		}
		if err != nil {
			return res, nil, err
		}
		vs, err := tx.SeriesVictims(ctx, c)
		if err != nil {
			return res, nil, err
		}
		f := SeriesFound{Code: c, Name: sr.Name, Files: per[c], Contacts: []IdentifiedVictim{}}
		for _, v := range vs {
			if !v.Identified {
				continue
			}
			name, ok := agencies[v.AgencyID]
			if !ok {
				if ag, err := tx.Agency(ctx, v.AgencyID); err == nil {
					name = ag.Name
				}
				agencies[v.AgencyID] = name
			}
			f.Contacts = append(f.Contacts, IdentifiedVictim{VictimID: v.ID, Agency: name, OfficerName: v.OfficerName,
				OfficerEmail: v.OfficerEmail, OfficerPhone: v.OfficerPhone})
			if v.Notify == NotifyYes || (v.Notify == NotifyProsecutionOnly && purpose == PurposeProsecution) {
				if !slices.Contains(notify, v.ID) {
					notify = append(notify, v.ID)
				}
			}
		}
		f.Identified = len(f.Contacts) > 0
		res.Series = append(res.Series, f)
		if !f.Identified {
			res.Unidentified = append(res.Unidentified, c)
		}
	}
	return res, notify, nil
}

// Formats of a report.
const (
	FormatPage = "page"
	FormatPDF  = "pdf"
	FormatJSON = "json"
)

// GetReport returns a request of the actor's agency with its result; a
// request of another agency answers not found, and the refusal is
// audited. Every read and download is audited.
func (s *Service) GetReport(ctx context.Context, a haven.Actor, id, format string) (*Report, error) {
	if err := s.require(a, haven.PermIDRequest); err != nil {
		return nil, s.deny(ctx, a, "idrequest.read", "idrequest", id, err)
	}
	var rep *Report
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		req, err := tx.IDRequest(ctx, id)
		if err != nil {
			return err
		}
		if req.AgencyID != a.AgencyID {
			return haven.ErrNotFound
		}
		rep = &Report{Request: req}
		if req.Status != RequestDone {
			if format != FormatPage {
				return haven.Invalidf("", "the report is not ready yet: %d of %d hashes matched so far", req.Processed, req.Submitted)
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "idrequest.read", ObjectType: "idrequest", ObjectID: id,
				Details: map[string]string{"format": format}})
		}
		if err := json.Unmarshal([]byte(req.Result), &rep.Result); err != nil {
			return fmt.Errorf("read request result: %w", err)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "idrequest.read", ObjectType: "idrequest", ObjectID: id,
			Details: map[string]string{"format": format}})
	})
	if haven.IsKind(err, haven.KindNotFound) {
		return nil, s.deny(ctx, a, "idrequest.read", "idrequest", id, haven.ErrNotFound)
	}
	return rep, err
}

// AgencyRequests lists the actor's agency's requests, newest first.
func (s *Service) AgencyRequests(ctx context.Context, a haven.Actor) ([]*store.IDRequest, error) {
	if err := s.require(a, haven.PermIDRequest); err != nil {
		return nil, err
	}
	var out []*store.IDRequest
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.AgencyIDRequests(ctx, a.AgencyID, 100)
		return err
	})
	return out, err
}

// jsonReport is the JSON document of a report.
type jsonReport struct {
	Format      string `json:"format"`
	RequestID   string `json:"request_id"`
	CaseNumber  string `json:"case_number"`
	Purpose     string `json:"purpose"`
	RequestedAt string `json:"requested_at"`
	Result
}

// WriteJSON writes a report as JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Format: "haven-identification-report/1", RequestID: r.Request.ID, CaseNumber: r.Request.CaseNumber,
		Purpose: r.Request.Purpose, RequestedAt: r.Request.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), Result: r.Result})
}
