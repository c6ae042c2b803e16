package hashlist

import (
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"strings"

	haven "github.com/haven-hotline/haven"
)

// industryCodes are the codes of the industry classification scheme; the
// NCMEC reader maps them to Scheme "industry" and any other code to
// Scheme "ncmec".
var industryCodes = map[string]bool{"A1": true, "A2": true, "B1": true, "B2": true}

type ncmecMember struct {
	ID   string `xml:"id,attr"`
	Name string `xml:",chardata"`
}

type ncmecIn struct {
	Member         ncmecMember `xml:"member"`
	ID             string      `xml:"id"`
	Classification string      `xml:"classification"`
	Fingerprints   struct {
		MD5  []string `xml:"md5"`
		SHA1 []string `xml:"sha1"`
		PDQ  []string `xml:"pdq"`
	} `xml:"fingerprints"`
}

type ncmecFingerprints struct {
	MD5  string `xml:"md5,omitempty"`
	SHA1 string `xml:"sha1,omitempty"`
	PDQ  string `xml:"pdq,omitempty"`
}

type ncmecOut struct {
	XMLName        xml.Name
	Member         ncmecMember        `xml:"member"`
	ID             string             `xml:"id"`
	Classification string             `xml:"classification,omitempty"`
	Fingerprints   *ncmecFingerprints `xml:"fingerprints,omitempty"`
}

// ReadNCMEC streams the entries and deletions of an NCMEC hash-sharing
// feed document in the shape described in the package documentation. A
// rejected entry yields a *RecordError and the stream goes on; broken XML,
// a DOCTYPE or other directive, an unexpected root, an unreadable input or
// a cap ends it.
func ReadNCMEC(r io.Reader, opt Options) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		lr := newLimitReader(r, opt.MaxBytes)
		dec := xml.NewDecoder(lr)
		dec.Strict = true
		max := opt.maxElement()
		fatal := func(format string, args ...any) {
			yield(Record{}, haven.Invalidf("xml", format, args...))
		}
		var (
			depth   int
			section string // local name of the open depth-1 element
			rootEnd bool
			count   int
		)
		for {
			lr.setBudget(max)
			tok, err := dec.Token()
			if err == io.EOF {
				if !rootEnd {
					fatal("the document has no complete queryResult element")
				}
				return
			}
			if err != nil {
				if isTooLarge(err) {
					yield(Record{}, err)
				} else {
					fatal("broken XML: %v", err)
				}
				return
			}
			switch t := tok.(type) {
			case xml.Directive:
				fatal("DOCTYPE and other directives are not allowed")
				return
			case xml.EndElement:
				depth--
				if depth == 0 {
					rootEnd = true
				}
			case xml.StartElement:
				name := t.Name.Local
				switch depth {
				case 0:
					if rootEnd || name != "queryResult" {
						fatal("the root element must be a single queryResult, not %q", truncate(name, 40))
						return
					}
					depth++
					continue
				case 1:
					switch name {
					case "images", "videos", "deletedEntries":
						section = name
						depth++
						continue
					}
				case 2:
					deleted := section == "deletedEntries"
					media := ""
					switch {
					case name == "image" && (section == "images" || deleted):
						media = "image"
					case name == "video" && (section == "videos" || deleted):
						media = "video"
					}
					if media == "" {
						break
					}
					count++
					if count > opt.maxRecords() {
						yield(Record{}, errTooManyRecords(opt.maxRecords()))
						return
					}
					line, _ := dec.InputPos()
					lr.setBudget(max)
					var e ncmecIn
					if err := dec.DecodeElement(&e, &t); err != nil {
						if isTooLarge(err) {
							yield(Record{}, err)
						} else {
							fatal("broken XML: %v", err)
						}
						return
					}
					rec, reason := ncmecRecord(&e, media, deleted)
					if reason != "" {
						if !yield(Record{}, &RecordError{Line: line, Reason: reason}) {
							return
						}
						continue
					}
					if !yield(rec, nil) {
						return
					}
					continue
				}
				// An element Haven does not know: skip it, within the
				// element budget, for forward compatibility.
				lr.setBudget(max)
				if err := dec.Skip(); err != nil {
					if isTooLarge(err) {
						yield(Record{}, err)
					} else {
						fatal("broken XML: %v", err)
					}
					return
				}
			}
		}
	}
}

func ncmecRecord(e *ncmecIn, media string, deleted bool) (Record, string) {
	member := strings.TrimSpace(e.Member.ID)
	id := strings.TrimSpace(e.ID)
	switch {
	case member == "":
		return Record{}, "missing member id"
	case strings.Contains(member, ":"):
		return Record{}, "the member id contains a colon"
	case id == "":
		return Record{}, "missing id"
	}
	rec := Record{ExternalID: member + ":" + id, Deleted: deleted, MediaType: media}
	if code := strings.TrimSpace(e.Classification); code != "" {
		scheme := "ncmec"
		if industryCodes[code] {
			scheme = "industry"
		}
		rec.Classification = haven.Classification{Scheme: scheme, Code: code}
	}
	for _, f := range [...]struct {
		algo haven.HashAlgo
		vals []string
	}{
		{haven.AlgoMD5, e.Fingerprints.MD5},
		{haven.AlgoSHA1, e.Fingerprints.SHA1},
		{haven.AlgoPDQ, e.Fingerprints.PDQ},
	} {
		if len(f.vals) > 1 {
			return Record{}, fmt.Sprintf("more than one %s fingerprint", f.algo)
		}
		if len(f.vals) == 0 {
			continue
		}
		b, err := parseHex(f.algo, strings.TrimSpace(f.vals[0]))
		if err != nil {
			return Record{}, err.Error()
		}
		rec.Hashes = append(rec.Hashes, Hash{Algo: f.algo, Value: b})
	}
	if err := rec.Validate(); err != nil {
		return Record{}, err.Error()
	}
	return rec, ""
}

// WriteNCMEC writes records as an NCMEC hash-sharing feed document, for
// export. ExternalID must be "member:id". Only MD5, SHA-1 and PDQ hashes
// and the "industry" and "ncmec" schemes can be expressed: another hash or
// scheme is an error. SeriesID, Viral and PotentialMeme have no place in
// the format and are left out. Records go to <images>, <videos> or
// <deletedEntries> sections in the order given; a new section opens each
// time the kind changes, which ReadNCMEC accepts.
func WriteNCMEC(w io.Writer, records iter.Seq[Record]) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	root := xml.StartElement{Name: xml.Name{Local: "queryResult"}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	section := ""
	n := 0
	for rec := range records {
		n++
		out, sec, err := ncmecEncode(&rec)
		if err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		if sec != section {
			if section != "" {
				if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: section}}); err != nil {
					return err
				}
			}
			section = sec
			if err := enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: section}}); err != nil {
				return err
			}
		}
		if err := enc.EncodeElement(out, xml.StartElement{Name: out.XMLName}); err != nil {
			return err
		}
	}
	if section != "" {
		if err := enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: section}}); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func ncmecEncode(rec *Record) (*ncmecOut, string, error) {
	if err := rec.Validate(); err != nil {
		return nil, "", err
	}
	member, id, ok := strings.Cut(rec.ExternalID, ":")
	if !ok || member == "" || id == "" || strings.TrimSpace(member) != member || strings.TrimSpace(id) != id {
		return nil, "", fmt.Errorf("the external id must be member:id")
	}
	out := &ncmecOut{Member: ncmecMember{ID: member}, ID: id}
	switch c := rec.Classification; {
	case c.Scheme == "":
	case c.Scheme == "industry" && industryCodes[c.Code], c.Scheme == "ncmec" && !industryCodes[c.Code]:
		out.Classification = c.Code
	default:
		return nil, "", fmt.Errorf("classification %s/%s cannot be expressed in the NCMEC format", c.Scheme, c.Code)
	}
	if len(rec.Hashes) > 0 {
		out.Fingerprints = &ncmecFingerprints{}
	}
	for _, h := range rec.Hashes {
		v := hex.EncodeToString(h.Value)
		switch h.Algo {
		case haven.AlgoMD5:
			out.Fingerprints.MD5 = v
		case haven.AlgoSHA1:
			out.Fingerprints.SHA1 = v
		case haven.AlgoPDQ:
			out.Fingerprints.PDQ = v
		default:
			return nil, "", fmt.Errorf("%s hashes cannot be expressed in the NCMEC format", h.Algo)
		}
	}
	media := "image"
	if rec.MediaType == "video" {
		media = "video"
	}
	out.XMLName = xml.Name{Local: media}
	sec := media + "s"
	if rec.Deleted {
		sec = "deletedEntries"
	}
	return out, sec, nil
}
