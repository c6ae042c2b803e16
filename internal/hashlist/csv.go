package hashlist

import (
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	haven "github.com/haven-hotline/haven"
)

// The columns of Haven's CSV format, in the order WriteCSV writes them.
var csvColumns = [...]string{
	"md5", "sha1", "sha256", "pdq", "vpdq", "photodna",
	"classification_scheme", "classification_code", "series",
	"viral", "potential_meme", "external_id", "deleted", "media_type",
}

const (
	colScheme = 6 + iota
	colCode
	colSeries
	colViral
	colMeme
	colExternalID
	colDeleted
	colMediaType
)

// ReadCSV streams the records of a CSV list in Haven's format (see the
// package documentation). A rejected row yields a *RecordError and the
// stream goes on; a bad header, an unreadable input or a cap ends it.
func ReadCSV(r io.Reader, opt Options) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		lr := newLimitReader(r, opt.MaxBytes)
		max := opt.maxElement()
		// csv.Reader reads ahead through its own 4 KiB buffer: the budget
		// allows for it.
		lr.setBudget(max + 4096)
		cr := csv.NewReader(lr)
		cr.ReuseRecord = true
		header, err := cr.Read()
		if err != nil {
			if err == io.EOF {
				err = haven.Invalidf("csv", "the file is empty: a header row is required")
			} else if !isTooLarge(err) {
				err = haven.Invalidf("csv", "the header row is unreadable: %v", err)
			}
			yield(Record{}, err)
			return
		}
		// pos[i] is the row index of column i, or -1.
		var pos [len(csvColumns)]int
		for i := range pos {
			pos[i] = -1
		}
		for i, name := range header {
			name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\uFEFF")))
			j := indexOf(csvColumns[:], name)
			if j < 0 {
				yield(Record{}, haven.Invalidf("csv", "unknown column %q", truncate(name, 40)))
				return
			}
			if pos[j] >= 0 {
				yield(Record{}, haven.Invalidf("csv", "column %q appears twice", name))
				return
			}
			pos[j] = i
		}
		hasHash := false
		for j := range 6 {
			hasHash = hasHash || pos[j] >= 0
		}
		if !hasHash && pos[colExternalID] < 0 {
			yield(Record{}, haven.Invalidf("csv", "the header names no hash column"))
			return
		}
		cr.FieldsPerRecord = len(header)
		count := 0
		for {
			lr.setBudget(max + 4096)
			row, err := cr.Read()
			if err == io.EOF {
				return
			}
			count++
			if count > opt.maxRecords() {
				yield(Record{}, errTooManyRecords(opt.maxRecords()))
				return
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) && pe.Err != nil && !isTooLarge(pe.Err) {
					if !yield(Record{}, &RecordError{Line: pe.StartLine, Reason: csvReason(pe.Err)}) {
						return
					}
					continue
				}
				if pe != nil && pe.Err != nil {
					err = pe.Err
				}
				yield(Record{}, err)
				return
			}
			line, _ := cr.FieldPos(0)
			rec, reason := csvRecord(row, &pos)
			if reason != "" {
				if !yield(Record{}, &RecordError{Line: line, Reason: reason}) {
					return
				}
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

func isTooLarge(err error) bool {
	var he *haven.Error
	return errors.As(err, &he) && he.Kind == haven.KindTooLarge
}

func csvReason(err error) string {
	switch {
	case errors.Is(err, csv.ErrFieldCount):
		return "wrong number of fields"
	case errors.Is(err, csv.ErrQuote), errors.Is(err, csv.ErrBareQuote):
		return "badly quoted field"
	}
	return "unreadable row"
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func parseBool(field, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s must be true or false", field)
}

// csvRecord converts one row; it returns a reason when the row is rejected.
func csvRecord(row []string, pos *[len(csvColumns)]int) (Record, string) {
	cell := func(j int) string {
		if pos[j] < 0 {
			return ""
		}
		return strings.TrimSpace(row[pos[j]])
	}
	var rec Record
	for j, a := range haven.HashAlgos {
		v := cell(j)
		if v == "" {
			continue
		}
		b, err := parseHex(a, v)
		if err != nil {
			return Record{}, err.Error()
		}
		rec.Hashes = append(rec.Hashes, Hash{Algo: a, Value: b})
	}
	rec.Classification = haven.Classification{Scheme: cell(colScheme), Code: cell(colCode)}
	rec.SeriesID = cell(colSeries)
	rec.ExternalID = cell(colExternalID)
	rec.MediaType = strings.ToLower(cell(colMediaType))
	var err error
	if rec.Viral, err = parseBool("viral", cell(colViral)); err != nil {
		return Record{}, err.Error()
	}
	if rec.PotentialMeme, err = parseBool("potential_meme", cell(colMeme)); err != nil {
		return Record{}, err.Error()
	}
	if rec.Deleted, err = parseBool("deleted", cell(colDeleted)); err != nil {
		return Record{}, err.Error()
	}
	if err := rec.Validate(); err != nil {
		return Record{}, err.Error()
	}
	return rec, ""
}

// WriteCSV writes records in Haven's CSV format with every column. It
// stops at the first record that fails Record.Validate and returns its
// error (the rows before it are written).
func WriteCSV(w io.Writer, records iter.Seq[Record]) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns[:]); err != nil {
		return err
	}
	row := make([]string, len(csvColumns))
	n := 0
	for rec := range records {
		n++
		if err := rec.Validate(); err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		clear(row)
		for _, h := range rec.Hashes {
			row[algoIndex(h.Algo)] = hex.EncodeToString(h.Value)
		}
		row[colScheme] = rec.Classification.Scheme
		row[colCode] = rec.Classification.Code
		row[colSeries] = rec.SeriesID
		row[colViral] = fmt.Sprint(rec.Viral)
		row[colMeme] = fmt.Sprint(rec.PotentialMeme)
		row[colExternalID] = rec.ExternalID
		row[colDeleted] = fmt.Sprint(rec.Deleted)
		row[colMediaType] = rec.MediaType
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
