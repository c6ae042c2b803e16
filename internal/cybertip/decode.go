package cybertip

import (
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/haven-hotline/haven"
)

// Options bound what the decoders accept. Zero fields take the defaults.
type Options struct {
	// Now is the server's time, against which incidentDateTime must not
	// be in the future (5 minutes of clock skew are allowed). Zero means
	// time.Now().
	Now time.Time
	// MaxDepth is how deep elements may nest (default 24; the schema
	// itself needs 6).
	MaxDepth int
	// MaxElements is how many elements a document may have (default
	// 20000).
	MaxElements int
	// MaxBytes is the largest document accepted (default 4 MiB).
	MaxBytes int64
}

// The defaults of Options.
const (
	DefaultMaxDepth    = 24
	DefaultMaxElements = 20000
	DefaultMaxBytes    = 4 << 20
)

// clockSkew is how far in the future incidentDateTime may be, for clients
// whose clocks run ahead.
const clockSkew = 5 * time.Minute

func (o *Options) defaults() {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxElements <= 0 {
		o.MaxElements = DefaultMaxElements
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
}

// DecodeReport reads a <report> document (the body of POST /submit),
// validates it against the schema and the business rules and returns its
// content. Only the fields of the document are set; the caller sets the
// source, submitter and lifecycle.
//
// An invalid document gives an *Error: CodeMalformed when it is not
// well-formed, too large or too deep, declares a DTD, uses an unsupported
// encoding or has another root element; CodeValidation when it breaks the
// schema or a business rule. A failure of r itself is returned wrapped as
// it is (so that, for example, *http.MaxBytesError can be recognised).
func DecodeReport(r io.Reader, opt Options) (*haven.Report, error) {
	opt.defaults()
	root, err := readTree(r, opt)
	if err != nil {
		return nil, err
	}
	if err := checkRoot(root, tables.report, "/submit"); err != nil {
		return nil, err
	}
	rep := new(haven.Report)
	var w walker
	if err := w.root(root, tables.report, reflect.ValueOf(rep).Elem()); err != nil {
		return nil, err
	}
	if err := reportRules(root, rep, opt); err != nil {
		return nil, err
	}
	return rep, nil
}

// DecodeFileDetails reads a <fileDetails> document (the body of POST
// /fileinfo), validates it like DecodeReport and returns the report and
// file it names with the details. The errors are those of DecodeReport.
func DecodeFileDetails(r io.Reader, opt Options) (reportID int64, fileID string, d *haven.FileDetails, err error) {
	opt.defaults()
	root, err := readTree(r, opt)
	if err != nil {
		return 0, "", nil, err
	}
	if err := checkRoot(root, tables.fileDetails, "/fileinfo"); err != nil {
		return 0, "", nil, err
	}
	var doc fileDoc
	var w walker
	if err := w.root(root, tables.fileDetails, reflect.ValueOf(&doc).Elem()); err != nil {
		return 0, "", nil, err
	}
	if err := fileRules(root, &doc.FileDetails); err != nil {
		return 0, "", nil, err
	}
	return doc.ReportID, doc.FileID, &doc.FileDetails, nil
}

func checkRoot(root *node, p *particle, endpoint string) error {
	if root.space == "" && root.name == p.name {
		return nil
	}
	return malformed("line %d: the root element is <%s>; %s takes a <%s> document", root.line, snippetRaw(root.display(), 60), endpoint, p.name)
}

// reportRules checks what the schema cannot say about a report.
func reportRules(root *node, rep *haven.Report, opt Options) error {
	if t := rep.Incident.DateTime; t.After(opt.Now.Add(clockSkew)) {
		return ruleError(find(root, "incidentSummary", "incidentDateTime"), "report/incidentSummary/incidentDateTime",
			"<incidentDateTime> %s is in the future (server time %s): send when the incident happened",
			formatDateTime(t), formatDateTime(opt.Now.Truncate(time.Second)))
	}
	return nil
}

// fileRules checks what the schema cannot say about file details: only
// Reported files may carry an industry classification or the
// potential-meme flag.
func fileRules(root *node, d *haven.FileDetails) error {
	if d.Relevance != "Supplemental Reported" {
		return nil
	}
	const why = `is not allowed on a file whose <fileRelevance> is "Supplemental Reported": only Reported files may carry an industry classification or the potential-meme flag`
	switch {
	case d.IndustryClassification != "":
		return ruleError(find(root, "industryClassification"), "fileDetails/industryClassification", "<industryClassification> "+why)
	case d.PotentialMeme != nil:
		return ruleError(find(root, "potentialMeme"), "fileDetails/potentialMeme", "<potentialMeme> "+why)
	case d.Annotations != nil && d.Annotations.PotentialMeme:
		return ruleError(find(root, "fileAnnotations", "potentialMeme"), "fileDetails/fileAnnotations/potentialMeme", "<potentialMeme> "+why)
	}
	return nil
}

func ruleError(at *node, path, format string, args ...any) *Error {
	msg := path + ": " + fmt.Sprintf(format, args...)
	if at != nil && at.line > 0 {
		msg += fmt.Sprintf(" (line %d)", at.line)
	}
	return &Error{Code: CodeValidation, Description: msg}
}

// find follows the first child of each name.
func find(n *node, names ...string) *node {
	for _, name := range names {
		var next *node
		for _, c := range n.children {
			if c.name == name && c.space == "" {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
