package offender

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Import statuses.
const (
	ImportPreviewed = "previewed" // parsed and compared, waiting for an analyst to apply it
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed"
)

// Change is what an import does to one record.
type Change struct {
	Key     string   `json:"key"`
	Action  string   `json:"action"` // new, updated, unchanged
	Changes []string `json:"changes,omitempty"`
}

// Preview summarises what an import will change (or changed).
type Preview struct {
	Records   int      `json:"records"`
	New       int      `json:"new"`
	Updated   int      `json:"updated"`
	Unchanged int      `json:"unchanged"`
	Rejected  int      `json:"rejected"`
	Changes   []Change `json:"changes"`  // the first maxChanges new or updated records
	Problems  []string `json:"problems"` // the first maxProblems rejected records and why
}

const (
	maxChanges  = 200
	maxProblems = 50
	importBatch = 500
)

func (p *Preview) problem(s string) {
	p.Rejected++
	if len(p.Problems) < maxProblems {
		p.Problems = append(p.Problems, s)
	}
}

func (p *Preview) change(c Change) {
	switch c.Action {
	case "new":
		p.New++
	case "updated":
		p.Updated++
	default:
		p.Unchanged++
		return
	}
	if len(p.Changes) < maxChanges {
		p.Changes = append(p.Changes, c)
	}
}

// SaveMapping creates or replaces the mapping of a source.
func (s *Service) SaveMapping(ctx context.Context, a haven.Actor, m Mapping) (*Mapping, error) {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode mapping: %w", err)
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutImportMapping(ctx, &store.ImportMapping{Source: m.Source, Name: m.Name, Format: m.Format,
			Jurisdiction: m.Jurisdiction, Mapping: string(b), UpdatedBy: a.UserID, UpdatedAt: s.clock.Now()}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.mapping_save", ObjectType: "offender_mapping", ObjectID: m.Source})
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func decodeMapping(sm *store.ImportMapping) (*Mapping, error) {
	var m Mapping
	if err := json.Unmarshal([]byte(sm.Mapping), &m); err != nil {
		return nil, fmt.Errorf("decode mapping %s: %w", sm.Source, err)
	}
	return &m, nil
}

// Mappings lists the saved mappings.
func (s *Service) Mappings(ctx context.Context, a haven.Actor) ([]*Mapping, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, err
	}
	var out []*Mapping
	err := s.store.View(ctx, func(tx *store.Tx) error {
		ms, err := tx.ImportMappings(ctx)
		if err != nil {
			return err
		}
		for _, sm := range ms {
			m, err := decodeMapping(sm)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// StartImport reads an export of a source through the source's saved
// mapping, compares it with the records, and keeps it with the preview of
// its changes until an analyst applies it (ApplyImport). Nothing changes
// in the records yet.
func (s *Service) StartImport(ctx context.Context, a haven.Actor, source, filename string, body []byte) (*store.OffenderImport, *Preview, error) {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return nil, nil, err
	}
	if len(body) == 0 {
		return nil, nil, haven.Invalidf("file", "choose an export file")
	}
	filename, err := haven.CleanText("file", filename, 200, false)
	if err != nil {
		return nil, nil, err
	}
	var m *Mapping
	err = s.store.View(ctx, func(tx *store.Tx) error {
		sm, err := tx.ImportMapping(ctx, source)
		if haven.IsKind(err, haven.KindNotFound) {
			return haven.Invalidf("source", "no mapping is saved for this source")
		}
		if err != nil {
			return err
		}
		m, err = decodeMapping(sm)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	rows, bad, err := ParseExport(m, body)
	if err != nil {
		return nil, nil, err
	}
	pv := &Preview{}
	err = s.store.View(ctx, func(tx *store.Tx) error {
		return s.walk(ctx, tx, m, rows, bad, pv, nil)
	})
	if err != nil {
		return nil, nil, err
	}
	pb, err := json.Marshal(pv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode preview: %w", err)
	}
	im := &store.OffenderImport{ID: haven.NewID(), Source: m.Source, Filename: filename, Status: ImportPreviewed, Body: body,
		Preview: string(pb), Records: pv.Records, Rejected: pv.Rejected, CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOffenderImport(ctx, im); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.import_preview", ObjectType: "offender_import", ObjectID: im.ID,
			Details: map[string]string{"source": m.Source, "size": strconv.Itoa(len(body)), "records": strconv.Itoa(pv.Records),
				"rejected": strconv.Itoa(pv.Rejected)}})
	})
	if err != nil {
		return nil, nil, err
	}
	im.Body = nil
	return im, pv, nil
}

// walk compares each row with the records; with apply set, it also
// writes the changes through apply.
func (s *Service) walk(ctx context.Context, tx *store.Tx, m *Mapping, rows []Row, bad []*RowError, pv *Preview,
	apply func(*Incoming, *plan) error) error {
	return s.walkBatch(ctx, tx, m, rows, bad, pv, map[string]int{}, apply)
}

// plan is what applying an incoming record does.
type plan struct {
	change Change
	cur    *store.Offender // nil for a new record
	facts  []*store.OffenderFact
	close  []*store.OffenderFact
	add    []*factIn
}

// scalarChanges lists the fields of a record that differ.
func scalarChanges(cur *store.Offender, in *Incoming) []string {
	var out []string
	d := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	d("name", cur.Name != in.Name)
	d("sex", cur.Sex != in.Sex)
	d("height", cur.HeightCM != in.HeightCM)
	d("weight", cur.WeightKG != in.WeightKG)
	d("eyes", cur.Eyes != in.Eyes)
	d("hair", cur.Hair != in.Hair)
	d("marks", cur.Marks != in.Marks)
	d("jurisdiction", cur.Jurisdiction != in.Jurisdiction)
	d("registration date", !cur.RegisteredOn.Equal(in.RegisteredOn))
	if cur.Tier != in.Tier {
		out = append(out, "tier "+tierName(cur.Tier)+" → "+tierName(in.Tier))
	}
	if cur.Status != in.Status {
		out = append(out, "status "+cur.Status+" → "+in.Status)
	}
	if !in.LastVerified.IsZero() && !cur.LastVerified.Equal(in.LastVerified) {
		out = append(out, "verified "+in.LastVerified.Format("2006-01-02"))
	}
	return out
}

// historyKind reports whether an import replaces facts of a kind by history: facts
// it no longer states end, facts it newly states begin.
func historyKind(kind string) bool { return kind != FactStatus && kind != FactVerification }

func (s *Service) plan(ctx context.Context, tx *store.Tx, source string, in *Incoming) (*plan, error) {
	p := &plan{change: Change{Key: in.Key}}
	cur, err := tx.OffenderBySourceKey(ctx, source, in.Key)
	if haven.IsKind(err, haven.KindNotFound) {
		p.change.Action, p.add = "new", in.Facts
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	p.cur = cur
	if p.facts, err = tx.OffenderFacts(ctx, cur.ID); err != nil {
		return nil, err
	}
	p.change.Changes = scalarChanges(cur, in)
	open := map[string]*store.OffenderFact{}
	for _, f := range p.facts {
		if f.ValidTo.IsZero() && f.Source != "manual" && historyKind(f.Kind) {
			fi := &factIn{Kind: f.Kind, Value: f.Value, Detail: f.Detail, Norm: f.Norm}
			open[fi.identity()] = f
		}
	}
	counts := map[string][2]int{}
	for _, f := range in.Facts {
		if _, ok := open[f.identity()]; ok {
			delete(open, f.identity())
			continue
		}
		p.add = append(p.add, f)
		c := counts[f.Kind]
		c[0]++
		counts[f.Kind] = c
	}
	for _, f := range open {
		p.close = append(p.close, f)
		c := counts[f.Kind]
		c[1]++
		counts[f.Kind] = c
	}
	for _, k := range FactKinds {
		if c, ok := counts[k]; ok {
			p.change.Changes = append(p.change.Changes, fmt.Sprintf("%s: %d new, %d ended", k, c[0], c[1]))
		}
	}
	p.change.Action = "unchanged"
	if len(p.change.Changes) > 0 {
		p.change.Action = "updated"
	}
	return p, nil
}

// write applies a plan: the record, its ended and new facts, and the
// compliance events of a changed status or a new verification.
func (s *Service) write(ctx context.Context, tx *store.Tx, im *store.OffenderImport, in *Incoming, p *plan) error {
	now := s.clock.Now()
	o := p.cur
	if p.change.Action == "unchanged" {
		return nil
	}
	oldStatus, oldVerified, oldName := "", time.Time{}, ""
	if o == nil {
		o = &store.Offender{ID: haven.NewID(), Source: im.Source, SourceKey: in.Key, CreatedAt: now}
	} else {
		oldStatus, oldVerified, oldName = o.Status, o.LastVerified, o.Name
	}
	o.Name, o.Sex, o.HeightCM, o.WeightKG, o.Eyes, o.Hair, o.Marks = in.Name, in.Sex, in.HeightCM, in.WeightKG, in.Eyes, in.Hair, in.Marks
	o.Tier, o.Status, o.Jurisdiction, o.RegisteredOn, o.UpdatedAt = in.Tier, in.Status, in.Jurisdiction, in.RegisteredOn, now
	if !in.LastVerified.IsZero() {
		o.LastVerified = in.LastVerified
	}
	var err error
	if p.cur == nil {
		err = tx.CreateOffender(ctx, o)
	} else {
		err = tx.UpdateOffender(ctx, o)
	}
	if err != nil {
		return err
	}
	fact := func(kind, value, detail string, from, to time.Time) error {
		return tx.AddOffenderFact(ctx, &store.OffenderFact{ID: haven.NewID(), OffenderID: o.ID, Kind: kind, Value: value, Detail: detail,
			ValidFrom: from, ValidTo: to, Source: im.ID, RecordedAt: now})
	}
	if oldName != "" && oldName != o.Name {
		if err := fact(FactName, oldName, "former name", time.Time{}, now); err != nil {
			return err
		}
	}
	if oldStatus != o.Status {
		for _, f := range p.facts {
			if f.Kind == FactStatus && f.ValidTo.IsZero() {
				if err := tx.CloseOffenderFact(ctx, f.ID, now); err != nil {
					return err
				}
			}
		}
		if err := fact(FactStatus, o.Status, "from import of "+im.Source, now, time.Time{}); err != nil {
			return err
		}
	}
	if !o.LastVerified.IsZero() && !o.LastVerified.Equal(oldVerified) {
		if err := fact(FactVerification, "verified", "", o.LastVerified, time.Time{}); err != nil {
			return err
		}
	}
	for _, f := range p.close {
		if err := tx.CloseOffenderFact(ctx, f.ID, now); err != nil {
			return err
		}
	}
	for _, f := range p.add {
		from := f.ValidFrom
		if from.IsZero() && p.cur != nil {
			// A fact first stated by a later export began by then.
			from = now
		}
		if err := tx.AddOffenderFact(ctx, &store.OffenderFact{ID: haven.NewID(), OffenderID: o.ID, Kind: f.Kind, Value: f.Value,
			Detail: f.Detail, Norm: f.Norm, HasGeo: f.HasGeo, Lat: f.Lat, Lon: f.Lon, ValidFrom: from, Source: im.ID, RecordedAt: now}); err != nil {
			return err
		}
	}
	return nil
}

// ImportArgs is the job that applies an import.
type ImportArgs struct {
	ImportID string `json:"import_id"`
}

// Kind names the job.
func (ImportArgs) Kind() string { return "offender_import" }

// ApplyImport queues a previewed import to be applied (or applies it at
// once when the service has no job queue).
func (s *Service) ApplyImport(ctx context.Context, a haven.Actor, id string) error {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		im, err := tx.OffenderImport(ctx, id, false)
		if err != nil {
			return err
		}
		if im.Status != ImportPreviewed {
			return haven.Errorf(haven.KindConflict, "the import was applied already")
		}
		im.Status = ImportQueued
		if err := tx.UpdateOffenderImport(ctx, im); err != nil {
			return err
		}
		if s.jobs != nil {
			if err := s.jobs.EnqueueTx(ctx, tx, ImportArgs{ImportID: id}, nil); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.import_apply", ObjectType: "offender_import", ObjectID: id})
	})
	if err != nil || s.jobs != nil {
		return err
	}
	return s.runImport(ctx, id)
}

// Import returns an import and its preview (or, once applied, its
// result).
func (s *Service) Import(ctx context.Context, a haven.Actor, id string) (*store.OffenderImport, *Preview, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, nil, err
	}
	var im *store.OffenderImport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		im, err = tx.OffenderImport(ctx, id, false)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	pv := &Preview{}
	if im.Preview != "" {
		if err := json.Unmarshal([]byte(im.Preview), pv); err != nil {
			return nil, nil, fmt.Errorf("decode preview: %w", err)
		}
	}
	return im, pv, nil
}

// Imports lists the latest imports.
func (s *Service) Imports(ctx context.Context, a haven.Actor) ([]*store.OffenderImport, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, err
	}
	var out []*store.OffenderImport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.OffenderImports(ctx, 50)
		return err
	})
	return out, err
}

// runImport applies a queued import in batches, recording progress;
// rejected records are counted and described. A retried job starts from
// the top: applying a record twice changes nothing the second time.
func (s *Service) runImport(ctx context.Context, id string) error {
	sys := haven.SystemActor("offender-import")
	var im *store.OffenderImport
	var m *Mapping
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		if im, err = tx.OffenderImport(ctx, id, true); err != nil {
			return err
		}
		sm, err := tx.ImportMapping(ctx, im.Source)
		if err != nil {
			return err
		}
		m, err = decodeMapping(sm)
		return err
	})
	if err != nil {
		return fmt.Errorf("run offender import: %w", err)
	}
	if im.Status == ImportDone || im.Status == ImportFailed || im.Status == ImportPreviewed {
		return nil
	}
	body := im.Body
	im.Body = nil
	im.Status, im.StartedAt = ImportRunning, s.clock.Now()
	im.Added, im.Updated, im.Unchanged, im.Rejected, im.Problems = 0, 0, 0, 0, ""
	if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateOffenderImport(ctx, im) }); err != nil {
		return err
	}
	rows, bad, err := ParseExport(m, body)
	if err != nil {
		return s.failImport(ctx, im, "the stored export cannot be read: "+haven.ErrorMessage(err))
	}
	pv := &Preview{}
	var seenKeys = map[string]int{}
	// Each batch is its own transaction; progress is visible between
	// batches. Rows rejected by the parser are counted once, first.
	for start := 0; start == 0 || start < len(rows); start += importBatch {
		end := min(start+importBatch, len(rows))
		var batchBad []*RowError
		if start == 0 {
			batchBad = bad
		}
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			part := &Preview{}
			err := s.walkBatch(ctx, tx, m, rows[start:end], batchBad, part, seenKeys, func(in *Incoming, p *plan) error {
				return s.write(ctx, tx, im, in, p)
			})
			if err != nil {
				return err
			}
			merge(pv, part)
			im.Records, im.Added, im.Updated, im.Unchanged, im.Rejected = pv.Records, pv.New, pv.Updated, pv.Unchanged, pv.Rejected
			im.Problems = strings.Join(pv.Problems, "\n")
			return tx.UpdateOffenderImport(ctx, im)
		})
		if err != nil {
			return err
		}
		if end >= len(rows) {
			break
		}
	}
	pb, err := json.Marshal(pv)
	if err != nil {
		return fmt.Errorf("encode import result: %w", err)
	}
	im.Status, im.FinishedAt, im.Preview = ImportDone, s.clock.Now(), string(pb)
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateOffenderImport(ctx, im); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "offender.import_done", ObjectType: "offender_import", ObjectID: im.ID,
			Details: map[string]string{"source": im.Source, "records": strconv.Itoa(im.Records), "added": strconv.Itoa(im.Added),
				"updated": strconv.Itoa(im.Updated), "unchanged": strconv.Itoa(im.Unchanged), "rejected": strconv.Itoa(im.Rejected)}})
	})
}

// walkBatch is walk over part of an export, with the identifiers seen in
// earlier batches.
func (s *Service) walkBatch(ctx context.Context, tx *store.Tx, m *Mapping, rows []Row, bad []*RowError, pv *Preview,
	seen map[string]int, apply func(*Incoming, *plan) error) error {
	pv.Records = len(rows) + len(bad)
	for _, b := range bad {
		pv.problem(b.Error())
	}
	for _, row := range rows {
		in, err := Convert(m, row, s.defaultCode)
		if err != nil {
			pv.problem(fmt.Sprintf("record %d: %s", row.N, err.Error()))
			continue
		}
		if first, dup := seen[in.Key]; dup {
			pv.problem(fmt.Sprintf("record %d: the same identifier as record %d", row.N, first))
			continue
		}
		seen[in.Key] = row.N
		p, err := s.plan(ctx, tx, m.Source, in)
		if err != nil {
			return err
		}
		pv.change(p.change)
		if apply != nil {
			if err := apply(in, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func merge(into, part *Preview) {
	into.Records += part.Records
	into.New += part.New
	into.Updated += part.Updated
	into.Unchanged += part.Unchanged
	into.Rejected += part.Rejected
	for _, c := range part.Changes {
		if len(into.Changes) < maxChanges {
			into.Changes = append(into.Changes, c)
		}
	}
	for _, p := range part.Problems {
		if len(into.Problems) < maxProblems {
			into.Problems = append(into.Problems, p)
		}
	}
}

func (s *Service) failImport(ctx context.Context, im *store.OffenderImport, why string) error {
	im.Status, im.FinishedAt = ImportFailed, s.clock.Now()
	if im.Problems != "" {
		im.Problems += "\n"
	}
	im.Problems += why
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateOffenderImport(ctx, im); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("offender-import"), audit.Entry{Type: "offender.import_failed",
			ObjectType: "offender_import", ObjectID: im.ID, Outcome: haven.OutcomeFailure})
	})
}

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	s *Service
}

// Work applies the import.
func (w *importWorker) Work(ctx context.Context, j *river.Job[ImportArgs]) error {
	return w.s.runImport(ctx, j.Args.ImportID)
}

// LinkageArgs is the job that runs linkage over every record.
type LinkageArgs struct {
	RequestedBy string `json:"requested_by"`
}

// Kind names the job.
func (LinkageArgs) Kind() string { return "offender_linkage" }

// StartLinkage queues a linkage run (or runs it at once when the service
// has no job queue): over a national registry it takes longer than a
// page should wait.
func (s *Service) StartLinkage(ctx context.Context, a haven.Actor) error {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return err
	}
	if s.jobs == nil {
		_, err := s.RunLinkage(ctx, a)
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.jobs.EnqueueTx(ctx, tx, LinkageArgs{RequestedBy: a.UserID}, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.linkage_queued", ObjectType: "offender_link"})
	})
}

type linkageWorker struct {
	river.WorkerDefaults[LinkageArgs]
	s *Service
}

// Work runs linkage as the system.
func (w *linkageWorker) Work(ctx context.Context, j *river.Job[LinkageArgs]) error {
	_, err := w.s.RunLinkage(ctx, haven.SystemActor("offender-linkage"))
	return err
}

// RegisterJobs adds the offender-tracking workers to w.
func (s *Service) RegisterJobs(w *river.Workers) {
	river.AddWorker(w, &importWorker{s: s})
	river.AddWorker(w, &linkageWorker{s: s})
}
