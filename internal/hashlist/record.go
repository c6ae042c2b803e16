package hashlist

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	haven "github.com/haven-hotline/haven"
)

// Hash is one digest of a file.
type Hash struct {
	Algo  haven.HashAlgo
	Value []byte
}

// Record is one entry of a hash list: the hashes of one file and what is
// known about it. The importer stores one haven.HashEntry per hash, all with
// the same ExternalID.
type Record struct {
	// Hashes holds at most one hash per algorithm. Readers return them in
	// the order of haven.HashAlgos; nil when the record has none (a deletion
	// by ExternalID).
	Hashes         []Hash
	Classification haven.Classification
	SeriesID       string
	Viral          bool
	PotentialMeme  bool
	// ExternalID is the supplier's identifier of the file.
	ExternalID string
	// Deleted marks a deletion instruction from a feed: the supplier
	// withdrew the entry identified by ExternalID (or by its hashes).
	Deleted bool
	// MediaType is "image", "video" or "" (unknown).
	MediaType string
}

// RecordError reports one rejected record. Readers yield it and go on with
// the next record, so an import can list the rejected rows and continue.
type RecordError struct {
	Line   int // 1-based line where the record starts
	Reason string
}

func (e *RecordError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// IsRecordError reports whether err rejects only one record (the stream
// goes on) rather than ending the stream.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}

// Limits and defaults of the readers.
const (
	// MaxTextLen is the maximum length, in characters, of a text field.
	MaxTextLen = 200
	// DefaultMaxRecords is the record cap when Options.MaxRecords is 0.
	DefaultMaxRecords = 100_000_000
	// DefaultMaxElementBytes is the line/element cap when
	// Options.MaxElementBytes is 0.
	DefaultMaxElementBytes = 1 << 20
)

// Options bound a reader and configure the VICS category mapping. The zero
// value uses the defaults.
type Options struct {
	// MaxRecords ends the stream with a KindTooLarge error once that many
	// records (good or rejected) were read. 0 means DefaultMaxRecords.
	MaxRecords int
	// MaxElementBytes caps one CSV line, one XML entry element (or any
	// other single token), one JSON array element. A longer one ends the
	// stream with a KindTooLarge error. 0 means DefaultMaxElementBytes.
	MaxElementBytes int
	// MaxBytes caps the whole input; 0 means no cap.
	MaxBytes int64
	// VICSCategories maps VICS category numbers to classifications; nil
	// means DefaultVICSCategories. A number not in the table becomes
	// {Scheme: "vics", Code: "<number>"}.
	VICSCategories map[int]haven.Classification
}

func (o Options) maxRecords() int {
	if o.MaxRecords <= 0 {
		return DefaultMaxRecords
	}
	return o.MaxRecords
}

func (o Options) maxElement() int {
	if o.MaxElementBytes <= 0 {
		return DefaultMaxElementBytes
	}
	return o.MaxElementBytes
}

var errTooManyRecords = func(n int) error {
	return haven.Errorf(haven.KindTooLarge, "the list has more than %d records", n)
}

var errTooLarge = haven.Errorf(haven.KindTooLarge, "the list is larger than allowed")

// algoIndex orders algorithms as in haven.HashAlgos.
func algoIndex(a haven.HashAlgo) int {
	for i, v := range haven.HashAlgos {
		if v == a {
			return i
		}
	}
	return -1
}

// parseHex decodes a hex digest of algorithm a and checks its length.
func parseHex(a haven.HashAlgo, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty %s value", a)
	}
	if size := a.DigestSize(); size > 0 && len(s) != 2*size {
		return nil, fmt.Errorf("%s must be %d hex characters, got %d", a, 2*size, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not hexadecimal", a)
	}
	return b, nil
}

// checkText validates a text field: valid UTF-8, at most MaxTextLen
// characters, no control or non-XML characters, no surrounding space (the
// readers trim it).
func checkText(field, s string) error {
	if s == "" {
		return nil
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > MaxTextLen {
		return fmt.Errorf("%s is longer than %d characters", field, MaxTextLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("%s contains a control character", field)
		}
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s has surrounding spaces", field)
	}
	return nil
}

// Validate checks a record as every reader and writer does.
func (r *Record) Validate() error {
	seen := 0
	for _, h := range r.Hashes {
		i := algoIndex(h.Algo)
		if i < 0 {
			return fmt.Errorf("unknown hash algorithm %q", h.Algo)
		}
		if seen&(1<<i) != 0 {
			return fmt.Errorf("two %s hashes in one record", h.Algo)
		}
		seen |= 1 << i
		if size := h.Algo.DigestSize(); size > 0 && len(h.Value) != size {
			return fmt.Errorf("%s must be %d bytes, got %d", h.Algo, size, len(h.Value))
		}
		if len(h.Value) == 0 {
			return fmt.Errorf("empty %s value", h.Algo)
		}
	}
	for _, f := range [...]struct{ name, v string }{
		{"classification scheme", r.Classification.Scheme},
		{"classification code", r.Classification.Code},
		{"series", r.SeriesID},
		{"external id", r.ExternalID},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if (r.Classification.Scheme == "") != (r.Classification.Code == "") {
		return errors.New("give both the classification scheme and code, or neither")
	}
	switch r.MediaType {
	case "", "image", "video":
	default:
		return fmt.Errorf("unknown media type %q", r.MediaType)
	}
	if len(r.Hashes) == 0 && !(r.Deleted && r.ExternalID != "") {
		if r.Deleted {
			return errors.New("a deletion needs an external id or a hash")
		}
		return errors.New("the record has no hash")
	}
	return nil
}

// limitReader enforces Options.MaxBytes and, for the streaming decoders, a
// per-element budget. It implements io.ByteReader so encoding/xml reads it
// byte by byte without its own read-ahead, making the budget exact.
type limitReader struct {
	br       *bufio.Reader
	n        int64 // bytes read so far
	maxBytes int64 // 0: no cap
	budget   int64 // absolute offset past which reading fails; 0: none
	nl       nlTracker
}

func newLimitReader(r io.Reader, maxBytes int64) *limitReader {
	return &limitReader{br: bufio.NewReaderSize(r, 64<<10), maxBytes: maxBytes}
}

// setBudget allows n more bytes before reads fail with errTooLarge.
func (l *limitReader) setBudget(n int) { l.budget = l.n + int64(n) }

func (l *limitReader) check() error {
	if l.maxBytes > 0 && l.n >= l.maxBytes {
		return errTooLarge
	}
	if l.budget > 0 && l.n >= l.budget {
		return haven.Errorf(haven.KindTooLarge, "an element of the list is larger than allowed")
	}
	return nil
}

func (l *limitReader) ReadByte() (byte, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	b, err := l.br.ReadByte()
	if err == nil {
		if b == '\n' {
			l.nl.add(l.n)
		}
		l.n++
	}
	return b, err
}

func (l *limitReader) Read(p []byte) (int, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	if l.maxBytes > 0 && int64(len(p)) > l.maxBytes-l.n {
		p = p[:l.maxBytes-l.n]
	}
	if l.budget > 0 && int64(len(p)) > l.budget-l.n {
		p = p[:l.budget-l.n]
	}
	n, err := l.br.Read(p)
	if l.nl.on {
		for i, c := range p[:n] {
			if c == '\n' {
				l.nl.add(l.n + int64(i))
			}
		}
	}
	l.n += int64(n)
	return n, err
}

// nlTracker maps input offsets to line numbers for decoders that read
// ahead (encoding/json): it keeps the offsets of newlines read but not yet
// passed, so its memory is bounded by the decoder's buffer.
type nlTracker struct {
	on      bool
	pending []int64
	line    int // newlines before the last offset asked for
}

func (t *nlTracker) add(off int64) {
	if t.on {
		t.pending = append(t.pending, off)
	}
}

// lineAt returns the 1-based line of offset off; offsets must not decrease.
func (t *nlTracker) lineAt(off int64) int {
	i := 0
	for i < len(t.pending) && t.pending[i] < off {
		i++
	}
	t.line += i
	t.pending = append(t.pending[:0], t.pending[i:]...)
	return t.line + 1
}

// Expressible reports whether a record can be written in format ("csv",
// "ncmec-xml" or "vics-json"), and if not, why. Exporters use it to leave
// out the entries a format has no place for instead of failing half-way.
func Expressible(format string, rec Record, opt Options) error {
	switch format {
	case "csv":
		return rec.Validate()
	case "ncmec-xml":
		_, _, err := ncmecEncode(&rec)
		return err
	case "vics-json":
		table := opt.VICSCategories
		if table == nil {
			table = DefaultVICSCategories
		}
		_, err := vicsEncode(&rec, table)
		return err
	}
	return fmt.Errorf("unknown format %q", format)
}
