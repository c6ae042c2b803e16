package offender

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
)

// Fields are the record fields a mapping can fill. A mapping names, for
// each field it uses, the column (CSV header) or the key path (JSON,
// dotted for nested objects) that holds it.
var Fields = []string{
	"key", "name", "aliases", "dob", "sex", "height_cm", "weight_kg", "eyes", "hair", "marks",
	"tier", "status", "jurisdiction", "registered_on", "last_verified",
	"address", "address_type", "address_since", "lat", "lon",
	"employer", "employer_address", "employer_since", "school",
	"vehicle_plates", "vehicle_descriptions", "phones", "emails", "internet_ids",
	"offence", "offence_jurisdiction", "offence_date", "photo_items",
}

// listFields hold several values: a JSON array, or a CSV cell split on
// the mapping's list separator.
var listFields = map[string]bool{"aliases": true, "dob": true, "vehicle_plates": true, "vehicle_descriptions": true,
	"phones": true, "emails": true, "internet_ids": true, "photo_items": true}

// Mapping is how one registry source's export maps to record fields. It
// is saved per source, so the next export of the source imports as the
// last one did.
type Mapping struct {
	Source       string            `json:"source"` // a short code: state-a
	Name         string            `json:"name"`
	Format       string            `json:"format"`       // csv or json
	Jurisdiction string            `json:"jurisdiction"` // when no column gives it
	Columns      map[string]string `json:"columns"`      // field -> column or key path
	// Records is the key path of the record array in a JSON export (""
	// when the export is an array).
	Records string `json:"records,omitempty"`
	// DateLayout is the Go layout of the export's dates (default
	// 2006-01-02).
	DateLayout string `json:"date_layout,omitempty"`
	// ListSeparator splits list cells of a CSV export (default ";").
	ListSeparator string `json:"list_separator,omitempty"`
	// Statuses maps the source's status values (compared without case)
	// to Haven's registry statuses.
	Statuses map[string]string `json:"statuses,omitempty"`
	// Tiers maps the source's tier values to 1, 2 or 3 (I, II, III, 1, 2,
	// 3 and "tier II" are understood without it).
	Tiers map[string]int `json:"tiers,omitempty"`
}

// Limits of what an import accepts.
const (
	MaxImportBytes = 16 << 20
	MaxImportRows  = 200000
	maxCell        = 2000
)

// Validate checks a mapping.
func (m *Mapping) Validate() error {
	m.Source = strings.ToLower(strings.TrimSpace(m.Source))
	if m.Source == "" || len(m.Source) > 40 || strings.Trim(m.Source, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" || m.Source == "manual" {
		return haven.Invalidf("source", "give the source a short code of letters, digits and dashes")
	}
	var err error
	if m.Name, err = haven.CleanText("name", m.Name, 200, true); err != nil {
		return err
	}
	if m.Format != "csv" && m.Format != "json" {
		return haven.Invalidf("format", "choose csv or json")
	}
	if m.Jurisdiction, err = haven.CleanText("jurisdiction", m.Jurisdiction, 20, m.Columns["jurisdiction"] == ""); err != nil {
		return err
	}
	if m.Columns["key"] == "" || m.Columns["name"] == "" {
		return haven.Invalidf("columns", "map at least the source's identifier (key) and the name")
	}
	for f, c := range m.Columns {
		if !slices.Contains(Fields, f) {
			return haven.Invalidf("columns", "unknown field %q", f)
		}
		if c == "" {
			delete(m.Columns, f)
		} else if len(c) > 200 || !utf8.ValidString(c) {
			return haven.Invalidf("columns", "the column of %s is too long", f)
		}
	}
	for from, to := range m.Statuses {
		if !validStatus(to) {
			return haven.Invalidf("statuses", "status %q maps to an unknown status", from)
		}
	}
	for from, to := range m.Tiers {
		if to < 1 || to > 3 {
			return haven.Invalidf("tiers", "tier %q maps to %d: use 1, 2 or 3", from, to)
		}
	}
	if m.DateLayout != "" {
		if _, err := time.Parse(m.DateLayout, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC).Format(m.DateLayout)); err != nil {
			return haven.Invalidf("date_layout", "the date layout does not read its own dates")
		}
	}
	if len(m.ListSeparator) > 3 {
		return haven.Invalidf("list_separator", "use a separator of one to three characters")
	}
	return nil
}

// ParseMapping reads a mapping from JSON.
func ParseMapping(b []byte) (*Mapping, error) {
	var m Mapping
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, haven.Invalidf("mapping", "the mapping is not valid JSON")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Row is one record of an export, read through a mapping: the raw
// values of each mapped field.
type Row struct {
	N      int // 1-based record number (a CSV data line, or the JSON array index + 1)
	Values map[string][]string
}

// get returns a field's first value.
func (r Row) get(f string) string {
	if v := r.Values[f]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// RowError is a record the export holds but Haven refuses; Reason never
// contains the record's values.
type RowError struct {
	N      int
	Reason string
}

// Error describes the record and the reason.
func (e *RowError) Error() string { return fmt.Sprintf("record %d: %s", e.N, e.Reason) }

// ParseExport reads an export through its mapping. Records that cannot be
// read are returned as RowErrors beside the rows; a file that cannot be
// read at all is an error.
func ParseExport(m *Mapping, body []byte) ([]Row, []*RowError, error) {
	if len(body) > MaxImportBytes {
		return nil, nil, haven.Errorf(haven.KindTooLarge, "the export is larger than %d MB", MaxImportBytes>>20)
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	switch m.Format {
	case "csv":
		return parseCSV(m, body)
	case "json":
		return parseJSON(m, body)
	}
	return nil, nil, haven.Invalidf("format", "unknown format")
}

func parseCSV(m *Mapping, body []byte) ([]Row, []*RowError, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, nil, haven.Invalidf("file", "the CSV export has no header line")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, f := range []string{"key", "name"} {
		if _, ok := col[m.Columns[f]]; !ok {
			return nil, nil, haven.Invalidf("file", "the CSV header has no column %q (mapped to %s)", m.Columns[f], f)
		}
	}
	sep := m.ListSeparator
	if sep == "" {
		sep = ";"
	}
	var rows []Row
	var bad []*RowError
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if n > MaxImportRows {
			return nil, nil, haven.Errorf(haven.KindTooLarge, "the export has more than %d records", MaxImportRows)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrQuote) && !errors.Is(pe.Err, csv.ErrBareQuote) {
				return nil, nil, haven.Invalidf("file", "the CSV export cannot be read")
			}
			if errors.As(err, &pe) {
				bad = append(bad, &RowError{N: n, Reason: "the line is not valid CSV (" + pe.Err.Error() + ")"})
				continue
			}
			return nil, nil, haven.Invalidf("file", "the CSV export cannot be read")
		}
		row := Row{N: n, Values: map[string][]string{}}
		for f, c := range m.Columns {
			i, ok := col[c]
			if !ok || i >= len(rec) {
				continue
			}
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue
			}
			if listFields[f] {
				for _, part := range strings.Split(v, sep) {
					if part = strings.TrimSpace(part); part != "" {
						row.Values[f] = append(row.Values[f], part)
					}
				}
			} else {
				row.Values[f] = []string{v}
			}
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func parseJSON(m *Mapping, body []byte) ([]Row, []*RowError, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil, nil, haven.Invalidf("file", "the JSON export cannot be read")
	}
	if m.Records != "" {
		doc = lookup(doc, m.Records)
	}
	list, ok := doc.([]any)
	if !ok {
		return nil, nil, haven.Invalidf("file", "the JSON export has no record array at %q", m.Records)
	}
	if len(list) > MaxImportRows {
		return nil, nil, haven.Errorf(haven.KindTooLarge, "the export has more than %d records", MaxImportRows)
	}
	var rows []Row
	var bad []*RowError
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			bad = append(bad, &RowError{N: i + 1, Reason: "the record is not a JSON object"})
			continue
		}
		row := Row{N: i + 1, Values: map[string][]string{}}
		for f, path := range m.Columns {
			for _, v := range scalars(lookup(obj, path)) {
				if v = strings.TrimSpace(v); v != "" {
					row.Values[f] = append(row.Values[f], v)
				}
			}
			if !listFields[f] && len(row.Values[f]) > 1 {
				row.Values[f] = row.Values[f][:1]
			}
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

// lookup follows a dotted key path through nested objects.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

// scalars returns the text of a scalar, or of each scalar of an array.
func scalars(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []any:
		var out []string
		for _, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				continue
			}
			out = append(out, scalars(e)...)
		}
		return out
	}
	return nil
}

// Incoming is a record of an export, validated: what the registry says
// today about one person.
type Incoming struct {
	Key          string
	Name         string
	Aliases      []string
	DOBs         []time.Time
	Sex          string
	HeightCM     int
	WeightKG     int
	Eyes, Hair   string
	Marks        string
	Tier         int
	Status       string
	Jurisdiction string
	RegisteredOn time.Time
	LastVerified time.Time
	Facts        []*factIn
}

// factIn is a fact an export states.
type factIn struct {
	Kind, Value, Detail, Norm string
	HasGeo                    bool
	Lat, Lon                  float64
	ValidFrom                 time.Time
}

// identity is what makes two facts the same fact.
func (f *factIn) identity() string {
	v := f.Norm
	if v == "" {
		v = strings.ToLower(f.Value)
	}
	return f.Kind + "\x00" + v + "\x00" + strings.ToLower(f.Detail)
}

// Convert validates a row into an incoming record. Its errors name the
// field at fault and never quote the value.
func Convert(m *Mapping, row Row, defaultCode string) (*Incoming, error) {
	layout := m.DateLayout
	if layout == "" {
		layout = "2006-01-02"
	}
	for f, vs := range row.Values {
		for _, v := range vs {
			if len(v) > maxCell || !utf8.ValidString(v) {
				return nil, fmt.Errorf("%s is longer than %d bytes or not valid UTF-8", f, maxCell)
			}
		}
		if len(vs) > 50 {
			return nil, fmt.Errorf("%s has more than 50 values", f)
		}
	}
	date := func(f string) (time.Time, error) {
		v := row.get(f)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(layout, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not a date in the layout %s", f, layout)
		}
		return t.UTC(), nil
	}
	in := &Incoming{Key: row.get("key"), Name: row.get("name"), Sex: row.get("sex"), Eyes: row.get("eyes"), Hair: row.get("hair"),
		Marks: row.get("marks"), Aliases: row.Values["aliases"], Jurisdiction: row.get("jurisdiction")}
	if in.Key == "" {
		return nil, errors.New("the source's identifier (key) is missing")
	}
	if len(in.Key) > 100 {
		return nil, errors.New("the source's identifier (key) is longer than 100 characters")
	}
	if in.Name == "" {
		return nil, errors.New("the name is missing")
	}
	if in.Jurisdiction == "" {
		in.Jurisdiction = m.Jurisdiction
	}
	if len(in.Jurisdiction) > 20 {
		return nil, errors.New("the jurisdiction is longer than 20 characters")
	}
	var err error
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"height_cm", &in.HeightCM, 300}, {"weight_kg", &in.WeightKG, 500}} {
		if v := row.get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > f.max {
				return nil, fmt.Errorf("%s is not a whole number between 0 and %d", f.name, f.max)
			}
			*f.dst = n
		}
	}
	if v := row.get("tier"); v != "" {
		if in.Tier = readTier(m, v); in.Tier == 0 {
			return nil, errors.New("tier is not I, II or III")
		}
	}
	in.Status = StatusCompliant
	if v := row.get("status"); v != "" {
		if in.Status = readStatus(m, v); in.Status == "" {
			return nil, errors.New("status is not a known registry status (add it to the mapping's statuses)")
		}
	}
	if in.RegisteredOn, err = date("registered_on"); err != nil {
		return nil, err
	}
	if in.LastVerified, err = date("last_verified"); err != nil {
		return nil, err
	}
	add := func(f *factIn) error {
		n, err := normalise(f.Kind, f.Value, defaultCode)
		if err != nil {
			return fmt.Errorf("a %s value cannot be read: %s", f.Kind, haven.ErrorMessage(err))
		}
		f.Norm = n
		in.Facts = append(in.Facts, f)
		return nil
	}
	for _, a := range in.Aliases {
		if err := add(&factIn{Kind: FactName, Value: a, Detail: "alias"}); err != nil {
			return nil, err
		}
	}
	for _, v := range row.Values["dob"] {
		t, err := time.Parse(layout, v)
		if err != nil {
			return nil, fmt.Errorf("dob is not a date in the layout %s", layout)
		}
		in.DOBs = append(in.DOBs, t.UTC())
		if err := add(&factIn{Kind: FactDOB, Value: t.UTC().Format("2006-01-02")}); err != nil {
			return nil, err
		}
	}
	if v := row.get("address"); v != "" {
		typ := strings.ToLower(row.get("address_type"))
		switch {
		case typ == "" || strings.HasPrefix(typ, "perm") || typ == "primary" || typ == "residence":
			typ = ResidencePermanent
		case strings.HasPrefix(typ, "temp") || strings.Contains(typ, "lodging"):
			typ = ResidenceTemporary
		case strings.HasPrefix(typ, "homeless") || typ == "transient" || typ == "area":
			typ = ResidenceHomeless
		default:
			return nil, errors.New("address_type is not permanent, temporary or homeless")
		}
		f := &factIn{Kind: FactResidence, Value: v, Detail: typ}
		if f.ValidFrom, err = date("address_since"); err != nil {
			return nil, err
		}
		if f.HasGeo, f.Lat, f.Lon, err = parseLatLon(row.get("lat"), row.get("lon")); err != nil {
			return nil, errors.New("lat and lon are not both coordinates in decimal degrees")
		}
		if err := add(f); err != nil {
			return nil, err
		}
	}
	if v := row.get("employer"); v != "" {
		f := &factIn{Kind: FactEmployment, Value: v, Detail: row.get("employer_address")}
		if f.ValidFrom, err = date("employer_since"); err != nil {
			return nil, err
		}
		if err := add(f); err != nil {
			return nil, err
		}
	}
	if v := row.get("school"); v != "" {
		if err := add(&factIn{Kind: FactSchool, Value: v}); err != nil {
			return nil, err
		}
	}
	descs := row.Values["vehicle_descriptions"]
	for i, p := range row.Values["vehicle_plates"] {
		f := &factIn{Kind: FactVehicle, Value: p}
		if i < len(descs) {
			f.Detail = descs[i]
		}
		if err := add(f); err != nil {
			return nil, err
		}
	}
	for field, kind := range map[string]string{"phones": FactPhone, "emails": FactEmail, "internet_ids": FactInternet, "photo_items": FactPhoto} {
		for _, v := range row.Values[field] {
			if err := add(&factIn{Kind: kind, Value: v}); err != nil {
				return nil, err
			}
		}
	}
	if v := row.get("offence"); v != "" {
		f := &factIn{Kind: FactOffence, Value: v, Detail: row.get("offence_jurisdiction")}
		if f.ValidFrom, err = date("offence_date"); err != nil {
			return nil, err
		}
		if err := add(f); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(in.Facts, func(x, y *factIn) int { return strings.Compare(x.identity(), y.identity()) })
	in.Facts = slices.CompactFunc(in.Facts, func(x, y *factIn) bool { return x.identity() == y.identity() })
	return in, nil
}

func readTier(m *Mapping, v string) int {
	if t, ok := m.Tiers[v]; ok {
		return t
	}
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSpace(strings.TrimPrefix(s, "TIER"))
	switch s {
	case "1", "I":
		return 1
	case "2", "II":
		return 2
	case "3", "III":
		return 3
	}
	return 0
}

func readStatus(m *Mapping, v string) string {
	for from, to := range m.Statuses {
		if strings.EqualFold(from, v) {
			return to
		}
	}
	s := strings.ToLower(strings.TrimSpace(v))
	s = strings.NewReplacer(" ", "_", "-", "_").Replace(s)
	switch s {
	case "moved_out_of_jurisdiction", "moved", "out_of_state":
		return StatusMovedOut
	case "non_compliant":
		return StatusNoncompliant
	}
	if validStatus(s) {
		return s
	}
	return ""
}
