package cybertip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
)

// This file maps the CyberTipline documents to JSON, for Haven's JSON API.
// The JSON is converted into the same element tree the XML decoder
// builds, in schema order and driven by the schema table, and then
// checked and decoded by the same walker and business rules, so the two
// forms accept exactly the same content.

// DecodeReportJSON reads a report sent as JSON (the body of POST
// /api/v1/reports), validates it with the rules of DecodeReport and
// returns its content. The JSON form of the CyberTipline documents (the
// JSON API's OpenAPI description promises it) is:
//
//   - The root object is the <report>, or the <fileDetails> without
//     reportId and fileId (they come from the URL); there is no wrapper
//     member.
//   - An element is a member named like the element. A repeatable element
//     (maxOccurs > 1) is an array, also for one item; any other element is
//     a single value. An empty array is the same as no member.
//   - Simple content is a JSON string, except that xs:int, xs:long and
//     xs:double values may be JSON numbers (or strings), xs:boolean values
//     JSON true or false (or the strings "true", "false", "1", "0"), and
//     a presence flag is true (false is refused, as in XML: leave the
//     member out). A JSON number for an integer may be written 14.0 or
//     1e3 if it is an exact integer.
//   - An attribute is a member named "@" + the attribute's name. An
//     element with attributes and text is an object holding the
//     attributes and the member "#text" for the text (always required,
//     also when no attribute is given); an element with attributes and
//     children holds both kinds of member.
//   - The xs:choice of internetDetails is an object with exactly one
//     member, the chosen element.
//   - Member order is irrelevant. null, duplicate members and unknown
//     members are refused.
//
// Errors are *Error: CodeMalformed (4110) for a body that is not
// well-formed JSON, is not UTF-8 (a UTF-8 byte order mark is skipped), or
// is too large, too deep or has too many values (the limits of Options,
// as for XML: the depth counts elements, so an array that is a member's
// value and the scalar value of an attribute or "#text" add no level;
// MaxElements counts every JSON value); CodeValidation (4100) for
// everything else, including JSON types that do not fit the schema.
// Descriptions start with the element path in the style of the XML
// errors (report/victim[2]/victimPerson/email[1]/@type; array positions
// are 1-based like XPath's), never quote a personal value and say what
// was expected; the checks shared with XML word their messages with
// element names, such as "<incidentType> value "x" is not one of the 8
// incident types". A failure of r itself (such as *http.MaxBytesError) is
// returned wrapped, not as an *Error.
func DecodeReportJSON(r io.Reader, opt Options) (*haven.Report, error) {
	opt.defaults()
	v, err := readJSON(r, opt)
	if err != nil {
		return nil, err
	}
	var c jconv
	root, cerr := c.root(v, tables.report, nil)
	if cerr != nil {
		return nil, cerr
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

// fromURL are the fileDetails elements that the JSON API takes from the
// URL: the JSON form has no such members.
var fromURL = map[string]bool{"reportId": true, "fileId": true}

// DecodeFileDetailsJSON reads the metadata of a file sent as JSON (the
// body of PUT /api/v1/reports/{id}/files/{fileId}): a fileDetails object
// without reportId and fileId, in the JSON form described at
// DecodeReportJSON. It validates like DecodeFileDetails; the errors are
// those of DecodeReportJSON.
func DecodeFileDetailsJSON(r io.Reader, opt Options) (*haven.FileDetails, error) {
	opt.defaults()
	v, err := readJSON(r, opt)
	if err != nil {
		return nil, err
	}
	var c jconv
	root, cerr := c.root(v, tables.fileDetails, fromURL)
	if cerr != nil {
		return nil, cerr
	}
	var doc fileDoc
	var w walker
	if err := w.root(root, tables.fileDetails, reflect.ValueOf(&doc).Elem()); err != nil {
		return nil, err
	}
	if err := fileRules(root, &doc.FileDetails); err != nil {
		return nil, err
	}
	return &doc.FileDetails, nil
}

// EncodeReportJSON writes r as the JSON form of a <report>: members in
// schema order ("#text" first, attributes last), two-space indentation,
// numbers and booleans as JSON numbers and booleans (an integer kept in a
// non-canonical spelling, such as +007, as a string), presence flags as
// true, times in UTC. Like EncodeReport it validates first: a report that
// cannot be expressed validly gives an error wrapping an *Error and
// writes nothing.
func EncodeReportJSON(w io.Writer, r *haven.Report) error {
	if r == nil {
		return errors.New("encode report JSON: nil report")
	}
	root := buildRoot(tables.report, reflect.ValueOf(r).Elem())
	var wk walker
	if err := wk.root(root, tables.report, reflect.Value{}); err != nil {
		return fmt.Errorf("encode report JSON: %w", err)
	}
	return writeJSONDocument(w, root, tables.report.complex, nil)
}

// EncodeFileDetailsJSON writes d as the JSON form of a <fileDetails>
// without reportId and fileId, like EncodeReportJSON. A nil d is written
// as an empty object.
func EncodeFileDetailsJSON(w io.Writer, d *haven.FileDetails) error {
	if d == nil {
		d = new(haven.FileDetails)
	}
	doc := fileDoc{FileDetails: *d}
	root := buildRoot(tables.fileDetails, reflect.ValueOf(&doc).Elem())
	var wk walker
	if err := wk.root(root, tables.fileDetails, reflect.Value{}); err != nil {
		return fmt.Errorf("encode file details JSON: %w", err)
	}
	return writeJSONDocument(w, root, tables.fileDetails.complex, fromURL)
}

// ---------------------------------------------------------------------
// Reading JSON into a small value tree, under the limits of Options.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jObject
	jArray
)

// jval is a parsed JSON value. Objects keep their members in document
// order, duplicates included (dup names the first repeated name).
type jval struct {
	kind    jkind
	s       string // a string, or the literal of a number
	b       bool
	members []jmember
	items   []*jval
	dup     string
}

type jmember struct {
	name string
	v    *jval
}

// describe names the JSON type of v for messages (never its value).
func (v *jval) describe() string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jObject:
		return "an object"
	}
	return "an array"
}

type jparser struct {
	dec    *json.Decoder
	data   []byte
	opt    Options
	values int
}

// readJSON reads and parses a JSON document under the limits of opt.
// Every error is an *Error with CodeMalformed, except a failure of r
// itself, which is returned wrapped.
func readJSON(r io.Reader, opt Options) (*jval, error) {
	data, err := io.ReadAll(io.LimitReader(r, opt.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read JSON document: %w", err)
	}
	if int64(len(data)) > opt.MaxBytes {
		return nil, malformed("the document is larger than %d bytes", opt.MaxBytes)
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:] // a UTF-8 byte order mark
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return nil, malformed("the document is encoded in UTF-16, which is not supported: send UTF-8")
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		line, col := position(data, off)
		return nil, malformed("line %d, column %d: invalid UTF-8: JSON documents must be sent in UTF-8", line, col)
	}
	if onlySpace(string(data)) {
		return nil, malformed("the document is empty: send a JSON object")
	}
	p := &jparser{dec: json.NewDecoder(bytes.NewReader(data)), data: data, opt: opt}
	p.dec.UseNumber()
	v, err := p.value(1, false, false)
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		line, col := position(data, int(p.dec.InputOffset()))
		return nil, malformed("line %d, column %d: not well-formed JSON: more data after the end of the top-level value; a document is exactly one JSON object", line, col)
	}
	return v, nil
}

// position turns a byte offset into a 1-based line and column (counted
// in characters).
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[start:]) + 1
}

func (p *jparser) syntax(err error) *Error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := position(p.data, int(se.Offset))
		return malformed("line %d, column %d: not well-formed JSON: %s", line, col, snippetRaw(se.Error(), 120))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return malformed("not well-formed JSON: the document ends in the middle of a value")
	}
	return malformed("not well-formed JSON: %s", snippetRaw(err.Error(), 120))
}

// value reads the next value, which stands for an element at the given
// depth, so that the depth counts elements as in XML: the items of an
// array that is a member's value stand at the array's own depth (they
// are repetitions of one element), those of any other array one level
// deeper; the scalar value of an attribute or "#text" member stands at
// its object's depth (flat is true), but an object or array there is one
// level deeper.
func (p *jparser) value(depth int, memberValue, flat bool) (*jval, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	if _, container := tok.(json.Delim); container && flat {
		depth++
	}
	if depth > p.opt.MaxDepth {
		line, col := position(p.data, int(p.dec.InputOffset()))
		return nil, malformed("line %d, column %d: values are nested more than %d deep", line, col, p.opt.MaxDepth)
	}
	p.values++
	if p.values > p.opt.MaxElements {
		line, col := position(p.data, int(p.dec.InputOffset()))
		return nil, malformed("line %d, column %d: the document has more than %d values", line, col, p.opt.MaxElements)
	}
	switch t := tok.(type) {
	case nil:
		return &jval{kind: jNull}, nil
	case bool:
		return &jval{kind: jBool, b: t}, nil
	case json.Number:
		return &jval{kind: jNumber, s: string(t)}, nil
	case string:
		return &jval{kind: jString, s: t}, nil
	case json.Delim:
		switch t {
		case '{':
			v := &jval{kind: jObject}
			var seen map[string]bool
			for p.dec.More() {
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.syntax(err)
				}
				name, ok := kt.(string)
				if !ok { // encoding/json reports this as a syntax error already
					return nil, malformed("not well-formed JSON: an object member name is not a string")
				}
				if seen == nil {
					seen = map[string]bool{}
				}
				if seen[name] && v.dup == "" {
					v.dup = name
				}
				seen[name] = true
				flat := name == "#text" || strings.HasPrefix(name, "@")
				childDepth := depth + 1
				if flat {
					childDepth = depth
				}
				mv, err := p.value(childDepth, true, flat)
				if err != nil {
					return nil, err
				}
				v.members = append(v.members, jmember{name: name, v: mv})
			}
			if _, err := p.dec.Token(); err != nil {
				return nil, p.syntax(err)
			}
			return v, nil
		case '[':
			v := &jval{kind: jArray}
			itemDepth := depth + 1
			if memberValue {
				itemDepth = depth
			}
			for p.dec.More() {
				iv, err := p.value(itemDepth, false, false)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, iv)
			}
			if _, err := p.dec.Token(); err != nil {
				return nil, p.syntax(err)
			}
			return v, nil
		}
	}
	return nil, malformed("not well-formed JSON: unexpected %v", tok)
}

// ---------------------------------------------------------------------
// Converting the value tree into the element tree of the XML decoder.

// jconv converts JSON values into nodes, checking what only the JSON form
// can get wrong: JSON types, unknown and duplicate members, missing
// required members and the choices. Everything else is left to the
// walker, which sees the same tree as for an XML document.
type jconv struct {
	stack []pathElem
}

func (c *jconv) path() string {
	w := walker{stack: c.stack}
	return w.path()
}

func (c *jconv) fail(format string, args ...any) *Error {
	return &Error{Code: CodeValidation, Description: c.path() + ": " + fmt.Sprintf(format, args...)}
}

func (c *jconv) push(name string, index int) {
	c.stack = append(c.stack, pathElem{name: name, index: index})
}
func (c *jconv) pop() { c.stack = c.stack[:len(c.stack)-1] }

// root converts the root object as p. omit names elements that have no
// member in the JSON form; they get placeholder values for the walker.
func (c *jconv) root(v *jval, p *particle, omit map[string]bool) (*node, *Error) {
	c.stack = append(c.stack[:0], pathElem{name: p.name})
	if v.kind != jObject {
		return nil, c.fail("expected a JSON object (the %s itself, without a wrapper member), found %s", p.name, v.describe())
	}
	return c.complex(v, p.name, p.complex, omit)
}

// element converts v as the element p (the path already names it).
func (c *jconv) element(v *jval, p *particle) (*node, *Error) {
	if p.simple != nil {
		text, err := c.scalar(v, p.simple)
		if err != nil {
			return nil, err
		}
		return &node{name: p.name, text: text}, nil
	}
	if v.kind != jObject {
		return nil, c.fail("expected %s, found %s", objectHint(p.complex), v.describe())
	}
	return c.complex(v, p.name, p.complex, nil)
}

// objectHint says what object an element of ct is written as.
func objectHint(ct *complexType) string {
	if ct.text == nil {
		return "an object"
	}
	names := make([]string, len(ct.attrs))
	for i, a := range ct.attrs {
		names[i] = `"@` + a.name + `"`
	}
	return `an object with the text in the member "#text" and the attributes in ` + strings.Join(names, ", ")
}

// memberNames lists the members an object of ct may have.
func memberNames(ct *complexType, omit map[string]bool) string {
	var names []string
	if ct.text != nil {
		names = append(names, "#text")
	}
	for _, n := range ct.allowed {
		if !omit[n] {
			names = append(names, n)
		}
	}
	for _, a := range ct.attrs {
		names = append(names, "@"+a.name)
	}
	return strings.Join(names, ", ")
}

func quoteName(name string) string { return strconv.Quote(snippetRaw(name, 60)) }

func (c *jconv) complex(v *jval, name string, ct *complexType, omit map[string]bool) (*node, *Error) {
	if v.dup != "" {
		return nil, c.fail("member %s appears more than once", quoteName(v.dup))
	}
	// First the names, in document order.
	var (
		text    *jval
		attrs   = make([]*jval, len(ct.attrs))
		members = make(map[string]*jval, len(v.members))
	)
	for _, m := range v.members {
		switch {
		case m.name == "#text":
			if ct.text == nil {
				if len(ct.attrs) == 0 {
					return nil, c.fail(`member "#text" is not allowed: <%s> has no text of its own; allowed: %s`, name, memberNames(ct, omit))
				}
				return nil, c.fail(`member "#text" is not allowed: <%s> has attributes but no text; allowed: %s`, name, memberNames(ct, omit))
			}
			text = m.v
		case strings.HasPrefix(m.name, "@"):
			i := ct.attrIndex(m.name[1:])
			if i < 0 {
				if len(ct.attrs) == 0 {
					return nil, c.fail("member %s is not allowed: <%s> has no attributes; allowed: %s", quoteName(m.name), name, memberNames(ct, omit))
				}
				return nil, c.fail("unknown attribute member %s; allowed: %s", quoteName(m.name), memberNames(ct, omit))
			}
			attrs[i] = m.v
		default:
			if omit[m.name] {
				return nil, c.fail("member %s is not allowed in the JSON form: the report and the file are named by the URL", quoteName(m.name))
			}
			if _, ok := ct.children[m.name]; !ok {
				return nil, c.fail("unknown member %s; allowed: %s", quoteName(m.name), memberNames(ct, omit))
			}
			members[m.name] = m.v
		}
	}

	// Then the structure.
	if ct.text != nil && text == nil {
		return nil, c.fail(`missing member "#text": the text of <%s>`, name)
	}
	for i, a := range ct.attrs {
		if a.required && attrs[i] == nil {
			hint := ""
			if a.typ.enum != nil {
				hint = ", one of " + a.typ.enumDescription()
			}
			return nil, c.fail(`missing required member "@%s"%s`, a.name, hint)
		}
	}
	if ct.model == modelChoice {
		var chosen []string
		for _, n := range ct.allowed {
			if members[n] != nil {
				chosen = append(chosen, n)
			}
		}
		switch {
		case len(chosen) == 0:
			return nil, c.fail("the object is empty: <%s> has exactly one member, one of %s", name, strings.Join(ct.allowed, ", "))
		case len(chosen) > 1:
			return nil, c.fail("members %q and %q cannot be used together: <%s> has exactly one member, one of %s; send one %s item for each",
				chosen[0], chosen[1], name, strings.Join(ct.allowed, ", "), name)
		}
	}
	for _, it := range ct.items {
		if it.choice != nil {
			var chosen []string
			for _, m := range it.choice {
				if members[m.name] != nil {
					chosen = append(chosen, m.name)
				}
			}
			names := strings.Join(choiceNames(it), ", ")
			if it.max == 1 && len(chosen) > 1 {
				return nil, c.fail("members %q and %q cannot be used together: <%s> takes only one of %s", chosen[0], chosen[1], name, names)
			}
			if len(chosen) == 0 && it.min > 0 {
				return nil, c.fail("missing a required member: one of %s", names)
			}
			continue
		}
		if ct.model != modelChoice && it.min > 0 && members[it.name] == nil && !omit[it.name] {
			return nil, c.fail("missing required member %q", it.name)
		}
	}

	// Then the values, in schema order.
	n := &node{name: name}
	if text != nil {
		c.push("#text", 0)
		t, err := c.scalar(text, ct.text)
		c.pop()
		if err != nil {
			return nil, err
		}
		n.text = t
	}
	for i, a := range ct.attrs {
		if attrs[i] == nil {
			continue
		}
		c.push("@"+a.name, 0)
		t, err := c.scalar(attrs[i], a.typ)
		c.pop()
		if err != nil {
			return nil, err
		}
		n.attrs = append(n.attrs, nodeAttr{name: a.name, value: t})
	}
	for _, childName := range ct.allowed {
		p := ct.children[childName].p
		if omit[childName] {
			// A placeholder that the walker accepts; the caller drops it.
			ph := &node{name: childName}
			if p.simple != nil && (p.simple.base == kindInt || p.simple.base == kindLong) {
				ph.text = "0"
			}
			n.children = append(n.children, ph)
			continue
		}
		mv := members[childName]
		if mv == nil {
			continue
		}
		if p.max != 1 {
			c.push(childName, 0)
			if mv.kind != jArray {
				err := c.fail("expected an array (<%s> may repeat: send an array, also for a single item), found %s", childName, mv.describe())
				c.pop()
				return nil, err
			}
			if len(mv.items) < p.min {
				items := "items"
				if p.min == 1 {
					items = "item"
				}
				err := c.fail("expected at least %d %s, found %d", p.min, items, len(mv.items))
				c.pop()
				return nil, err
			}
			c.pop()
			for i, item := range mv.items {
				c.push(childName, i+1)
				child, err := c.element(item, p)
				c.pop()
				if err != nil {
					return nil, err
				}
				n.children = append(n.children, child)
			}
			continue
		}
		c.push(childName, 0)
		var child *node
		var err *Error
		if mv.kind == jArray {
			err = c.fail("expected %s, found an array: <%s> is not repeatable", expectedOf(p), childName)
		} else {
			child, err = c.element(mv, p)
		}
		c.pop()
		if err != nil {
			return nil, err
		}
		n.children = append(n.children, child)
	}
	return n, nil
}

// expectedOf says what value the element p takes.
func expectedOf(p *particle) string {
	if p.simple != nil {
		return expectedScalar(p.simple)
	}
	return objectHint(p.complex)
}

// expectedScalar says what JSON value a simple type takes.
func expectedScalar(st *simpleType) string {
	switch st.base {
	case kindInt, kindLong:
		return "an integer (a JSON number, or a string)"
	case kindDouble:
		return "a number (a JSON number, or a string)"
	case kindBool:
		return "true or false"
	case kindFlag:
		return "true"
	case kindDateTime:
		return "a string holding a date and time such as 2025-01-02T03:04:05Z"
	case kindDate:
		return "a string holding a date such as 2025-01-02"
	}
	if st.enum != nil {
		return "a string, one of " + st.enumDescription()
	}
	return "a string"
}

// scalar turns v into the text of an element or attribute of type st.
// The text is then checked by the walker like XML text.
func (c *jconv) scalar(v *jval, st *simpleType) (string, *Error) {
	switch v.kind {
	case jString:
		return v.s, nil
	case jNumber:
		switch st.base {
		case kindInt, kindLong:
			return integerLiteral(v.s), nil
		case kindDouble:
			return v.s, nil
		}
	case jBool:
		switch st.base {
		case kindBool:
			return strconv.FormatBool(v.b), nil
		case kindFlag:
			if v.b {
				return "true", nil
			}
			return "", c.fail("false is not allowed: a presence flag is true when it applies; leave the member out instead of sending false")
		}
	case jNull:
		return "", c.fail("null is not allowed: leave the member out, or send %s", expectedScalar(st))
	}
	return "", c.fail("expected %s, found %s", expectedScalar(st), v.describe())
}

// integerLiteral returns the literal of a JSON number for an integer
// type: as written when it is an integer literal, else the integer it
// equals exactly (1.0, 1e3), else as written (and the walker refuses it).
func integerLiteral(s string) string {
	if isInteger(s) {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return s
}

// ---------------------------------------------------------------------
// Writing the element tree as JSON.

func writeJSONDocument(w io.Writer, root *node, ct *complexType, omit map[string]bool) error {
	var b bytes.Buffer
	writeJSONComplex(&b, root, ct, 0, omit)
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func jsonIndent(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for range depth {
		b.WriteString("  ")
	}
}

func writeJSONComplex(b *bytes.Buffer, n *node, ct *complexType, depth int, omit map[string]bool) {
	b.WriteByte('{')
	first := true
	member := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		jsonIndent(b, depth+1)
		writeJSONString(b, name)
		b.WriteString(": ")
	}
	if ct.text != nil {
		member("#text")
		writeJSONScalar(b, n.text, ct.text)
	}
	for _, name := range ct.allowed {
		if omit[name] {
			continue
		}
		p := ct.children[name].p
		var kids []*node
		for _, k := range n.children {
			if k.name == name {
				kids = append(kids, k)
			}
		}
		if len(kids) == 0 {
			continue
		}
		member(name)
		if p.max == 1 {
			writeJSONElement(b, kids[0], p, depth+1)
			continue
		}
		b.WriteByte('[')
		for i, k := range kids {
			if i > 0 {
				b.WriteByte(',')
			}
			jsonIndent(b, depth+2)
			writeJSONElement(b, k, p, depth+2)
		}
		jsonIndent(b, depth+1)
		b.WriteByte(']')
	}
	for _, a := range ct.attrs {
		for _, na := range n.attrs {
			if na.space == "" && na.name == a.name {
				member("@" + a.name)
				writeJSONScalar(b, na.value, a.typ)
				break
			}
		}
	}
	if !first {
		jsonIndent(b, depth)
	}
	b.WriteByte('}')
}

func writeJSONElement(b *bytes.Buffer, n *node, p *particle, depth int) {
	if p.simple != nil {
		writeJSONScalar(b, n.text, p.simple)
		return
	}
	writeJSONComplex(b, n, p.complex, depth, nil)
}

// writeJSONScalar writes the text of a value of st: an integer or double
// in its canonical spelling as a JSON number (any other spelling as a
// string, so that it survives), a boolean as true or false, a flag as
// true and anything else as a string.
func writeJSONScalar(b *bytes.Buffer, text string, st *simpleType) {
	switch st.base {
	case kindInt, kindLong:
		s := collapse(text)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
			b.WriteString(s)
			return
		}
	case kindDouble:
		s := collapse(text)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) &&
			strconv.FormatFloat(f, 'g', -1, 64) == s && json.Valid([]byte(s)) {
			b.WriteString(s)
			return
		}
	case kindBool:
		switch collapse(text) {
		case "true", "1":
			b.WriteString("true")
			return
		case "false", "0":
			b.WriteString("false")
			return
		}
	case kindFlag:
		b.WriteString("true")
		return
	}
	writeJSONString(b, text)
}

// writeJSONString writes s as a JSON string. <, > and & are kept as they
// are; U+2028 and U+2029 are escaped for JavaScript.
func writeJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xF])
		case r == '\u2028':
			b.WriteString(`\u2028`)
		case r == '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// ---------------------------------------------------------------------
// JSON Schema.

// schemaRefPrefix is where the named schemas live: the components of the
// OpenAPI document that serves them.
const schemaRefPrefix = "#/components/schemas/"

// JSONSchemas returns every named JSON Schema of the JSON form: "Report"
// and "FileDetails", the bodies of the JSON API, and the types they
// share, named "CT_" and the capitalised XSD type name (CT_Person,
// CT_Address, CT_Email, CT_Phone, CT_IpCaptureEvent, CT_DeviceId,
// CT_Country, CT_DateTimeValue…). They use the JSON Schema 2020-12
// dialect of OpenAPI 3.1 and refer to one another as
// "#/components/schemas/NAME", so all of them must be put under
// components.schemas of the OpenAPI document together.
//
// They are generated from the schema table: objects with properties,
// required and additionalProperties false; arrays with items and
// minItems for repeatable elements; enumerations, maxLength, patterns
// (anchored) and ranges; "format": "date-time" and "date" on dates (the
// patterns say what is accepted: a date and time without a zone is taken
// as UTC); integers and numbers as "type": ["integer", "string"] or
// ["number", "string"] since strings are accepted too (a range only
// limits JSON numbers: the server checks a numeric string's range);
// booleans and flags as enumerations of the accepted values; the choice
// of internetDetails as minProperties = maxProperties = 1, and the choice
// of potentialMeme and fileAnnotations as a "not" of both. A document
// valid against the schemas is accepted unless it breaks a business rule
// (no incident time in the future, no classification or potential-meme
// flag on a supplemental file), a limit of Options, the range of a
// numeric string or the existence of a date; surrounding whitespace,
// which the server trims from tokens, enumerations, numbers and dates, is
// refused by the schemas. A new map is returned on every call.
func JSONSchemas() map[string]any {
	g := newSchemaGen()
	out := map[string]any{
		"Report":      g.object(tables.report.complex, nil),
		"FileDetails": g.object(tables.fileDetails.complex, fromURL),
	}
	withMapping := func(s map[string]any, what string) {
		s["description"] = s["description"].(string) + " " + what + " The JSON form of the CyberTipline element: members are named like the elements; repeatable elements are arrays; attributes are members named \"@\" + the attribute; the text of an element with attributes is the member \"#text\"; a presence flag is true."
	}
	withMapping(out["Report"].(map[string]any), "Sent as the body of POST /api/v1/reports.")
	withMapping(out["FileDetails"].(map[string]any), "Without reportId and fileId, which the URL gives.")
	for name, s := range g.defs {
		out[name] = s
	}
	return out
}

// ReportJSONSchema returns the JSON Schema of a report: JSONSchemas()
// ["Report"], whose references need the other schemas of JSONSchemas.
func ReportJSONSchema() map[string]any { return JSONSchemas()["Report"].(map[string]any) }

// FileDetailsJSONSchema returns the JSON Schema of file details:
// JSONSchemas()["FileDetails"], whose references need the other schemas
// of JSONSchemas.
func FileDetailsJSONSchema() map[string]any {
	return JSONSchemas()["FileDetails"].(map[string]any)
}

type schemaGen struct {
	uses  map[any]int // *complexType and *simpleType: how many declarations use it
	names map[any]string
	defs  map[string]map[string]any
}

func newSchemaGen() *schemaGen {
	g := &schemaGen{uses: map[any]int{}, names: map[any]string{}, defs: map[string]map[string]any{}}
	seen := map[*complexType]bool{}
	g.count(tables.report.complex, seen)
	g.count(tables.fileDetails.complex, seen)
	return g
}

// count records how many declarations use each type, so that the types
// used more than once become named schemas.
func (g *schemaGen) count(ct *complexType, seen map[*complexType]bool) {
	if seen[ct] {
		return
	}
	seen[ct] = true
	for _, a := range ct.attrs {
		g.uses[a.typ]++
	}
	if ct.text != nil {
		g.uses[ct.text]++
	}
	for _, it := range ct.items {
		for _, p := range append([]*particle{it}, it.choice...) {
			switch {
			case p.choice != nil:
			case p.simple != nil:
				g.uses[p.simple]++
			default:
				g.uses[p.complex]++
				g.count(p.complex, seen)
			}
		}
	}
}

// defName is the component name of a type, or "" when it is inlined.
func (g *schemaGen) defName(t any, name string) string {
	if g.uses[t] < 2 || name == "" {
		return ""
	}
	if st, ok := t.(*simpleType); ok && st.enum == nil && st.pattern == "" && !st.hasRange {
		return "" // a plain length limit: not worth a name
	}
	n := "CT_" + strings.ToUpper(name[:1]) + name[1:]
	if prev, ok := g.names[t]; ok {
		return prev
	}
	for other, on := range g.names {
		if on == n && other != t {
			panic("cybertip: two JSON schemas named " + n)
		}
	}
	g.names[t] = n
	return n
}

func ref(name string) map[string]any { return map[string]any{"$ref": schemaRefPrefix + name} }

func (g *schemaGen) simple(st *simpleType) map[string]any {
	name := g.defName(st, st.name)
	if name == "" {
		return simpleSchema(st)
	}
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = simpleSchema(st)
	}
	return ref(name)
}

func (g *schemaGen) complex(ct *complexType) map[string]any {
	name := g.defName(ct, ct.name)
	if name == "" {
		return g.object(ct, nil)
	}
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = map[string]any{} // the schema has no recursion, but be safe
		g.defs[name] = g.object(ct, nil)
	}
	return ref(name)
}

func (g *schemaGen) element(p *particle) map[string]any {
	var s map[string]any
	if p.simple != nil {
		s = g.simple(p.simple)
	} else {
		s = g.complex(p.complex)
	}
	if p.doc != "" {
		s["description"] = p.doc
	}
	if p.max == 1 {
		return s
	}
	arr := map[string]any{"type": "array", "items": s}
	if p.min > 0 {
		arr["minItems"] = p.min
	}
	if p.max > 1 {
		arr["maxItems"] = p.max
	}
	return arr
}

func (g *schemaGen) object(ct *complexType, omit map[string]bool) map[string]any {
	props := map[string]any{}
	required := []string{}
	if ct.text != nil {
		props["#text"] = g.simple(ct.text)
		required = append(required, "#text")
	}
	for _, a := range ct.attrs {
		props["@"+a.name] = g.simple(a.typ)
		if a.required {
			required = append(required, "@"+a.name)
		}
	}
	var exclusive []any
	for _, it := range ct.items {
		if it.choice != nil {
			for _, m := range it.choice {
				props[m.name] = g.element(m)
			}
			names := choiceNames(it)
			if it.max == 1 {
				for i := range names {
					for j := i + 1; j < len(names); j++ {
						exclusive = append(exclusive, map[string]any{"required": []string{names[i], names[j]}})
					}
				}
			}
			if it.min > 0 {
				panic("cybertip: a required choice group has no JSON Schema yet")
			}
			continue
		}
		if omit[it.name] {
			continue
		}
		props[it.name] = g.element(it)
		if it.min > 0 && ct.model != modelChoice {
			required = append(required, it.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if ct.model == modelChoice {
		if len(ct.attrs) > 0 || ct.text != nil {
			panic("cybertip: a choice type with attributes has no JSON Schema yet")
		}
		s["minProperties"] = 1
		s["maxProperties"] = 1
	}
	if len(exclusive) > 0 {
		s["not"] = map[string]any{"anyOf": exclusive}
	}
	if ct.doc != "" {
		s["description"] = ct.doc
	}
	return s
}

// JSON Schema patterns of the numbers that strings may hold.
const (
	integerPattern = `^[+-]?[0-9]+$`
	doublePattern  = `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`
)

// simpleSchema is the JSON Schema of a simple type.
func simpleSchema(st *simpleType) map[string]any {
	s := map[string]any{}
	switch st.base {
	case kindString, kindToken:
		s["type"] = "string"
	case kindInt:
		s["type"] = []string{"integer", "string"}
		s["format"] = "int32"
		s["pattern"] = integerPattern
		s["minimum"], s["maximum"] = math.MinInt32, math.MaxInt32
	case kindLong:
		s["type"] = []string{"integer", "string"}
		s["format"] = "int64"
		s["pattern"] = integerPattern
	case kindDouble:
		s["type"] = []string{"number", "string"}
		s["format"] = "double"
		s["pattern"] = doublePattern
	case kindBool:
		s["type"] = []string{"boolean", "string"}
		s["enum"] = []any{true, false, "true", "false", "1", "0"}
	case kindFlag:
		s["type"] = []string{"boolean", "string"}
		s["enum"] = []any{true, "true", "1"}
		s["description"] = "A presence flag: true when it applies; leave the member out otherwise (false is refused)."
	case kindDateTime:
		s["type"] = "string"
		s["format"] = "date-time"
	case kindDate:
		s["type"] = "string"
		s["format"] = "date"
	}
	if st.hasRange {
		s["minimum"], s["maximum"] = st.min, st.max
		if st.base != kindDouble {
			s["minimum"], s["maximum"] = int(st.min), int(st.max)
		}
	}
	if st.maxLen > 0 {
		s["maxLength"] = st.maxLen
	}
	if st.pattern != "" {
		s["pattern"] = jsonPattern(st.pattern)
	}
	if st.enum != nil {
		s["enum"] = append([]string(nil), st.enum...)
	}
	if st.doc != "" {
		s["description"] = st.doc
	}
	return s
}

// jsonPattern turns an XSD pattern (implicitly anchored) into an anchored
// JSON Schema (ECMA-262) pattern. The only XSD-specific escapes the table
// uses are \s and \p{Cc} inside a negated class; they are spelled out as
// ranges that every regular expression dialect reads alike.
func jsonPattern(p string) string {
	p = strings.ReplaceAll(p, `[^\s\p{Cc}]`, `[^\x00-\x20\x7F-\x9F]`)
	if strings.Contains(p, `\p`) || strings.Contains(p, `\s`) {
		panic("cybertip: no JSON Schema spelling of the pattern " + p)
	}
	return "^(?:" + p + ")$"
}
