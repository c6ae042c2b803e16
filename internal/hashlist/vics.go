package hashlist

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	haven "github.com/haven-hotline/haven"
)

// DefaultVICSCategories is the category table used when
// Options.VICSCategories is nil: category 0 (uncategorised) becomes no
// classification; 1 to 4 keep Project VIC's numbers under Scheme "vics".
// Any number missing from a table also becomes {"vics", "<number>"}.
var DefaultVICSCategories = map[int]haven.Classification{
	0: {},
	1: {Scheme: "vics", Code: "1"},
	2: {Scheme: "vics", Code: "2"},
	3: {Scheme: "vics", Code: "3"},
	4: {Scheme: "vics", Code: "4"},
}

type vicsIn struct {
	MediaID  json.RawMessage
	Category json.RawMessage
	MD5      string
	SHA1     string
	SHA256   string
	PhotoDNA string
	Series   string
}

type vicsOut struct {
	MediaID  json.RawMessage
	Category int
	MD5      string `json:",omitempty"`
	SHA1     string `json:",omitempty"`
	SHA256   string `json:",omitempty"`
	PhotoDNA string `json:",omitempty"`
	Series   string `json:",omitempty"`
}

// ReadVICS streams the media entries of a VICS-style (Project VIC, OData)
// JSON document, described in the package documentation. A rejected entry
// yields a *RecordError and the stream goes on; broken JSON, a document
// without a "value" array, an unreadable input or a cap ends it.
func ReadVICS(r io.Reader, opt Options) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		table := opt.VICSCategories
		if table == nil {
			table = DefaultVICSCategories
		}
		lr := newLimitReader(r, opt.MaxBytes)
		lr.nl.on = true
		dec := json.NewDecoder(lr)
		max := opt.maxElement() + 4096 // room for separators and read-ahead
		fail := func(err error) {
			if !isTooLarge(err) {
				err = haven.Invalidf("json", "broken JSON: %v", err)
			}
			yield(Record{}, err)
		}
		expect := func(want json.Delim) bool {
			lr.setBudget(max)
			tok, err := dec.Token()
			if err != nil {
				fail(err)
				return false
			}
			if d, ok := tok.(json.Delim); !ok || d != want {
				yield(Record{}, haven.Invalidf("json", "expected %q in the document structure", want))
				return false
			}
			return true
		}
		if !expect('{') {
			return
		}
		sawValue := false
		count := 0
		for dec.More() {
			lr.setBudget(max)
			tok, err := dec.Token()
			if err != nil {
				fail(err)
				return
			}
			if key, _ := tok.(string); key != "value" {
				var skip json.RawMessage
				lr.setBudget(max)
				if err := dec.Decode(&skip); err != nil {
					fail(err)
					return
				}
				continue
			}
			sawValue = true
			if !expect('[') {
				return
			}
			for dec.More() {
				count++
				if count > opt.maxRecords() {
					yield(Record{}, errTooManyRecords(opt.maxRecords()))
					return
				}
				lr.setBudget(max)
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					fail(err)
					return
				}
				line := lr.nl.lineAt(dec.InputOffset() - int64(len(raw)))
				rec, reason := vicsRecord(raw, table)
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
			if !expect(']') {
				return
			}
		}
		if !expect('}') {
			return
		}
		if !sawValue {
			yield(Record{}, haven.Invalidf("json", `the document has no "value" array`))
			return
		}
		lr.setBudget(max)
		if _, err := dec.Token(); err != io.EOF {
			if err == nil {
				err = errors.New("data after the document")
			}
			fail(err)
		}
	}
}

func vicsRecord(raw json.RawMessage, table map[int]haven.Classification) (Record, string) {
	if len(raw) == 0 || raw[0] != '{' {
		return Record{}, "the entry is not an object"
	}
	var e vicsIn
	if err := json.Unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Record{}, fmt.Sprintf("field %s has the wrong type", te.Field)
		}
		return Record{}, "malformed entry"
	}
	var rec Record
	id, ok := jsonID(e.MediaID)
	if !ok {
		return Record{}, "missing or malformed MediaID"
	}
	rec.ExternalID = id
	cat := 0
	if c := strings.TrimSpace(string(e.Category)); c != "" && c != "null" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return Record{}, "Category must be a whole number ≥ 0"
		}
		cat = n
	}
	if c, ok := table[cat]; ok {
		rec.Classification = c
	} else {
		rec.Classification = haven.Classification{Scheme: "vics", Code: strconv.Itoa(cat)}
	}
	for _, f := range [...]struct {
		algo haven.HashAlgo
		v    string
	}{
		{haven.AlgoMD5, e.MD5},
		{haven.AlgoSHA1, e.SHA1},
		{haven.AlgoSHA256, e.SHA256},
	} {
		v := strings.TrimSpace(f.v)
		if v == "" {
			continue
		}
		b, err := parseHex(f.algo, v)
		if err != nil {
			return Record{}, err.Error()
		}
		rec.Hashes = append(rec.Hashes, Hash{Algo: f.algo, Value: b})
	}
	if v := strings.TrimSpace(e.PhotoDNA); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return Record{}, "PhotoDNA is not base64"
		}
		rec.Hashes = append(rec.Hashes, Hash{Algo: haven.AlgoPhotoDNA, Value: b})
	}
	rec.SeriesID = strings.TrimSpace(e.Series)
	if err := rec.Validate(); err != nil {
		return Record{}, err.Error()
	}
	return rec, ""
}

// jsonID reads a MediaID: an integer, or a non-empty string.
func jsonID(raw json.RawMessage) (string, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return "", false
	}
	if s[0] == '"' {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		v = strings.TrimSpace(v)
		return v, v != ""
	}
	body := strings.TrimPrefix(s, "-")
	if body == "" {
		return "", false
	}
	for _, c := range body {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s, true
}

// vicsCategory finds the category number of a classification: the smallest
// number the table maps to it, else the number of a "vics" code the table
// does not map elsewhere.
func vicsCategory(c haven.Classification, table map[int]haven.Classification) (int, error) {
	best := -1
	for n, v := range table {
		if v == c && (best < 0 || n < best) {
			best = n
		}
	}
	if best >= 0 {
		return best, nil
	}
	if c.Scheme == "vics" {
		if n, err := strconv.Atoi(c.Code); err == nil && n >= 0 && strconv.Itoa(n) == c.Code {
			if _, taken := table[n]; !taken {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("classification %s/%s has no VICS category", c.Scheme, c.Code)
}

// WriteVICS writes records as a VICS-style JSON document for export, with
// the category table of opt (DefaultVICSCategories when nil). MD5, SHA-1,
// SHA-256 and PhotoDNA hashes can be expressed; another hash, a deletion
// or a classification without a category is an error. Viral,
// PotentialMeme and MediaType are left out.
func WriteVICS(w io.Writer, records iter.Seq[Record], opt Options) error {
	table := opt.VICSCategories
	if table == nil {
		table = DefaultVICSCategories
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("{\"value\": [")
	n := 0
	for rec := range records {
		n++
		out, err := vicsEncode(&rec, table)
		if err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if n > 1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		bw.Write(b)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

func vicsEncode(rec *Record, table map[int]haven.Classification) (*vicsOut, error) {
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, errors.New("the VICS format has no deletions")
	}
	if rec.ExternalID == "" {
		return nil, errors.New("the VICS format needs an external id (MediaID)")
	}
	out := &vicsOut{Series: rec.SeriesID}
	if v, err := strconv.ParseInt(rec.ExternalID, 10, 64); err == nil && strconv.FormatInt(v, 10) == rec.ExternalID {
		out.MediaID = json.RawMessage(rec.ExternalID)
	} else {
		b, _ := json.Marshal(rec.ExternalID)
		out.MediaID = b
	}
	cat, err := vicsCategory(rec.Classification, table)
	if err != nil {
		return nil, err
	}
	out.Category = cat
	for _, h := range rec.Hashes {
		switch h.Algo {
		case haven.AlgoMD5:
			out.MD5 = hex.EncodeToString(h.Value)
		case haven.AlgoSHA1:
			out.SHA1 = hex.EncodeToString(h.Value)
		case haven.AlgoSHA256:
			out.SHA256 = hex.EncodeToString(h.Value)
		case haven.AlgoPhotoDNA:
			out.PhotoDNA = base64.StdEncoding.EncodeToString(h.Value)
		default:
			return nil, fmt.Errorf("%s hashes cannot be expressed in the VICS format", h.Algo)
		}
	}
	return out, nil
}
