package hashmatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/hashlist"
	"github.com/haven-hotline/haven/internal/store"
)

// Readers of the hash-list formats an import accepts.
var importFormats = map[string]func(io.Reader, hashlist.Options) iter.Seq2[hashlist.Record, error]{
	"csv":       hashlist.ReadCSV,
	"ncmec-xml": hashlist.ReadNCMEC,
	"vics-json": hashlist.ReadVICS,
}

// ImportFormats lists the accepted import formats.
func ImportFormats() []string {
	out := make([]string, 0, len(importFormats))
	for f := range importFormats {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// ImportArgs is the job that runs an import.
type ImportArgs struct {
	ImportID string `json:"import_id"`
}

// Kind names the job.
func (ImportArgs) Kind() string { return "bank_import" }

// importBatch is how many records are written per transaction.
const importBatch = 10000

// maxProblems is how many rejected rows an import keeps the reason of.
const maxProblems = 50

// StartImport stores a hash-list file (encrypted, like any evidence) and
// queues the job that imports it into a bank. Large lists are never read
// within the request.
func (s *Service) StartImport(ctx context.Context, a haven.Actor, bankID, format, filename string, body io.Reader) (*haven.BankImport, error) {
	if err := a.Require(haven.PermManageBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	if _, ok := importFormats[format]; !ok {
		return nil, haven.Invalidf("format", "unknown format %q: use %s", format, strings.Join(ImportFormats(), ", "))
	}
	if s.jobs == nil {
		return nil, errors.New("start import: no job queue")
	}
	var im *haven.BankImport
	_, err := s.custody.AcquireThen(ctx, a, body, custody.Source{Kind: "bank-import", Filename: filename, ContextType: "hash_bank", ContextID: bankID},
		func(tx *store.Tx, acq *haven.Acquisition) error {
			if _, err := tx.HashBank(ctx, bankID); err != nil {
				return err
			}
			im = &haven.BankImport{ID: haven.NewID(), BankID: bankID, Format: format, ItemID: acq.ItemID, Filename: acq.Filename,
				Status: haven.ImportQueued, CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
			if err := tx.CreateBankImport(ctx, im); err != nil {
				return err
			}
			if err := s.jobs.EnqueueTx(ctx, tx, ImportArgs{ImportID: im.ID}, nil); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.import_start", ObjectType: "hash_bank", ObjectID: bankID,
				Details: map[string]string{"import": im.ID, "format": format, "size": strconv.FormatInt(acq.Size, 10)}})
		})
	if err != nil {
		return nil, err
	}
	return im, nil
}

// Import returns an import's progress.
func (s *Service) Import(ctx context.Context, a haven.Actor, id string) (*haven.BankImport, error) {
	if !a.Can(haven.PermReadBanks) {
		return nil, haven.ErrNotFound
	}
	var im *haven.BankImport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		im, err = tx.BankImport(ctx, id)
		return err
	})
	return im, err
}

// runImport reads the stored file and applies its records in batches,
// recording progress and rejected rows as it goes.
func (s *Service) runImport(ctx context.Context, id string) error {
	sys := haven.SystemActor("bank-import")
	var im *haven.BankImport
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		im, err = tx.BankImport(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	if im.Status == haven.ImportDone || im.Status == haven.ImportFailed {
		return nil
	}
	// A retried job starts again from the top: entries are keyed by value,
	// so re-applying records changes nothing twice.
	im.Status, im.StartedAt = haven.ImportRunning, s.clock.Now()
	im.Records, im.Added, im.Updated, im.Removed, im.Rejected, im.Problems = 0, 0, 0, 0, 0, ""
	if err := s.saveImport(ctx, im); err != nil {
		return err
	}
	rc, err := s.custody.Open(ctx, sys, im.ItemID, "hash bank import "+im.ID)
	if err != nil {
		return s.failImport(ctx, im, fmt.Sprintf("the stored file cannot be read: %s", haven.ErrorMessage(err)))
	}
	defer rc.Close()
	var problems []string
	type numbered struct {
		n   int64
		rec hashlist.Record
	}
	var batch []numbered
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.store.InTx(ctx, func(tx *store.Tx) error {
			var puts []*haven.HashEntry
			for _, b := range batch {
				if b.rec.Deleted {
					// Deletions apply in order: write what came before first.
					if err := s.putEntries(ctx, tx, im, &puts); err != nil {
						return err
					}
				}
				if err := s.applyRecord(ctx, tx, im, b.n, b.rec, &puts, &problems); err != nil {
					return err
				}
			}
			if err := s.putEntries(ctx, tx, im, &puts); err != nil {
				return err
			}
			im.Problems = strings.Join(problems, "\n")
			return tx.UpdateBankImport(ctx, im)
		})
		batch = batch[:0]
		if err != nil {
			return err
		}
		_, err = s.Follow(ctx)
		return err
	}
	for rec, err := range importFormats[im.Format](rc, hashlist.Options{}) {
		if err != nil {
			if hashlist.IsRecordError(err) {
				im.Records++
				im.Rejected++
				problems = appendProblem(problems, err.Error())
				continue
			}
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return s.failImport(ctx, im, "the file stopped being readable: "+haven.ErrorMessage(err))
		}
		im.Records++
		batch = append(batch, numbered{im.Records, rec})
		if len(batch) >= importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	im.Status, im.FinishedAt, im.Problems = haven.ImportDone, s.clock.Now(), strings.Join(problems, "\n")
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateBankImport(ctx, im); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, sys, audit.Entry{Type: "hashbank.import_done", ObjectType: "hash_bank", ObjectID: im.BankID,
			Details: map[string]string{"import": im.ID, "records": strconv.FormatInt(im.Records, 10), "added": strconv.FormatInt(im.Added, 10),
				"updated": strconv.FormatInt(im.Updated, 10), "removed": strconv.FormatInt(im.Removed, 10), "rejected": strconv.FormatInt(im.Rejected, 10)}})
	})
}

// appendProblem adds a rejected record's reason, up to maxProblems.
func appendProblem(problems []string, p string) []string {
	if len(problems) < maxProblems {
		problems = append(problems, p)
	}
	return problems
}

// putEntries writes the entries gathered by applyRecord and counts them.
func (s *Service) putEntries(ctx context.Context, tx *store.Tx, im *haven.BankImport, puts *[]*haven.HashEntry) error {
	added, err := tx.PutHashEntries(ctx, im.BankID, *puts)
	if err != nil {
		return err
	}
	im.Added += int64(added)
	im.Updated += int64(len(*puts) - added)
	*puts = (*puts)[:0]
	return nil
}

// applyRecord applies the n-th record of an import: a deletion at once,
// entries to write added to puts. A hash value Haven refuses is counted as
// rejected and described in problems.
func (s *Service) applyRecord(ctx context.Context, tx *store.Tx, im *haven.BankImport, n int64, rec hashlist.Record,
	puts *[]*haven.HashEntry, problems *[]string) error {
	now := s.clock.Now()
	if rec.Deleted {
		var targets []*haven.HashEntry
		if rec.ExternalID != "" {
			es, err := tx.HashEntriesByExternalID(ctx, im.BankID, rec.ExternalID)
			if err != nil {
				return err
			}
			targets = append(targets, es...)
		}
		for _, h := range rec.Hashes {
			es, err := tx.HashEntriesByValue(ctx, h.Algo, h.Value)
			if err != nil {
				return err
			}
			for _, e := range es {
				if e.BankID == im.BankID {
					targets = append(targets, e)
				}
			}
		}
		for _, e := range targets {
			if !e.Live() {
				continue
			}
			if _, err := tx.SetHashEntryState(ctx, e.ID, false, now); err != nil {
				return err
			}
			im.Removed++
		}
		return nil
	}
	for _, h := range rec.Hashes {
		if err := checkValue(h.Algo, h.Value); err != nil {
			im.Rejected++
			*problems = appendProblem(*problems, fmt.Sprintf("record %d: %s", n, haven.ErrorMessage(err)))
			continue
		}
		e := &haven.HashEntry{BankID: im.BankID, Algo: h.Algo, Value: h.Value, Classification: rec.Classification,
			SeriesID: rec.SeriesID, Viral: rec.Viral, PotentialMeme: rec.PotentialMeme, ExternalID: rec.ExternalID,
			Provenance: fmt.Sprintf("import %s (%s, %s)", im.ID, im.Format, im.Filename), AddedBy: im.CreatedBy, AddedAt: now, Enabled: true}
		*puts = append(*puts, e)
	}
	return nil
}

func (s *Service) saveImport(ctx context.Context, im *haven.BankImport) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateBankImport(ctx, im) })
}

func (s *Service) failImport(ctx context.Context, im *haven.BankImport, why string) error {
	im.Status, im.FinishedAt = haven.ImportFailed, s.clock.Now()
	if im.Problems != "" {
		im.Problems += "\n"
	}
	im.Problems += why
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateBankImport(ctx, im); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("bank-import"), audit.Entry{Type: "hashbank.import_failed", ObjectType: "hash_bank",
			ObjectID: im.BankID, Outcome: haven.OutcomeFailure, Details: map[string]string{"import": im.ID}})
	})
}

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	s *Service
}

func (w *importWorker) Work(ctx context.Context, j *river.Job[ImportArgs]) error {
	return w.s.runImport(ctx, j.Args.ImportID)
}

// RegisterJobs adds the hash-matching workers to w.
func (s *Service) RegisterJobs(w *river.Workers) {
	river.AddWorker(w, &importWorker{s: s})
}

// ExportStats counts what an export wrote and what it left out.
type ExportStats struct {
	Written int64
	// Skipped counts live entries the format has no place for (a SHA-256
	// in the NCMEC format, an entry without a VICS category, …).
	Skipped int64
}

// ExportFormats lists the export formats: the import formats.
func ExportFormats() []string { return ImportFormats() }

// Export writes a bank's live entries to w in format (one of
// ExportFormats), one record per entry, leaving out the entries the format
// cannot express. Exports need a recent sign-in and are audited; nothing
// is written to w unless the actor may export, so a caller can still
// answer with a redirect or an error page when err is returned with
// Written == 0. Entries without a supplier identifier get "haven:<entry>"
// (NCMEC) or the entry number (VICS), so that a re-import updates them.
func (s *Service) Export(ctx context.Context, a haven.Actor, bankID, format string, w io.Writer) (ExportStats, error) {
	var st ExportStats
	if err := a.Require(haven.PermExportBanks, s.clock.Now(), haven.ReauthWindow); err != nil {
		return st, err
	}
	if _, ok := importFormats[format]; !ok {
		return st, haven.Invalidf("format", "unknown format %q: use %s", format, strings.Join(ExportFormats(), ", "))
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.HashBank(ctx, bankID); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.export", ObjectType: "hash_bank", ObjectID: bankID,
			Details: map[string]string{"format": format}})
	})
	if err != nil {
		return st, err
	}
	var readErr error
	records := func(yield func(hashlist.Record) bool) {
		var after int64
		for {
			var batch []*haven.HashEntry
			readErr = s.store.View(ctx, func(tx *store.Tx) (err error) {
				batch, err = tx.HashEntriesOfBank(ctx, bankID, after, 1000)
				return err
			})
			if readErr != nil {
				return
			}
			for _, e := range batch {
				after = e.ID
				if !e.Live() {
					continue
				}
				rec := exportRecord(e, format)
				if hashlist.Expressible(format, rec, hashlist.Options{}) != nil {
					st.Skipped++
					continue
				}
				st.Written++
				if !yield(rec) {
					return
				}
			}
			if len(batch) < 1000 {
				return
			}
		}
	}
	switch format {
	case "csv":
		err = hashlist.WriteCSV(w, records)
	case "ncmec-xml":
		err = hashlist.WriteNCMEC(w, records)
	case "vics-json":
		err = hashlist.WriteVICS(w, records, hashlist.Options{})
	}
	if err == nil {
		err = readErr
	}
	if err != nil {
		return st, fmt.Errorf("export bank %s as %s: %w", bankID, format, err)
	}
	// The counts are recorded once the file is out, beside the event above.
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hashbank.export_done", ObjectType: "hash_bank", ObjectID: bankID,
			Details: map[string]string{"format": format, "written": strconv.FormatInt(st.Written, 10), "skipped": strconv.FormatInt(st.Skipped, 10)}})
	})
	return st, err
}

// exportRecord is the record an entry becomes in format.
func exportRecord(e *haven.HashEntry, format string) hashlist.Record {
	rec := hashlist.Record{Hashes: []hashlist.Hash{{Algo: e.Algo, Value: e.Value}}, Classification: e.Classification,
		SeriesID: e.SeriesID, Viral: e.Viral, PotentialMeme: e.PotentialMeme, ExternalID: e.ExternalID}
	if e.Algo == haven.AlgoVPDQ {
		rec.MediaType = "video"
	}
	switch format {
	case "ncmec-xml":
		if m, id, ok := strings.Cut(e.ExternalID, ":"); !ok || m == "" || id == "" {
			rec.ExternalID = "haven:" + strconv.FormatInt(e.ID, 10)
		}
	case "vics-json":
		if rec.ExternalID == "" {
			rec.ExternalID = strconv.FormatInt(e.ID, 10)
		}
	}
	return rec
}
