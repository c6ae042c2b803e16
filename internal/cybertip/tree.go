package cybertip

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// xsiNS is the XML Schema instance namespace, whose schemaLocation
// attributes clients put on the root element.
const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// node is an element of the small tree the decoder builds before
// validating. Only what the schema can use is kept.
type node struct {
	space    string // namespace; never set for a valid document
	name     string
	attrs    []nodeAttr
	text     string // the character data directly inside the element
	children []*node
	line     int // where the start tag is; 0 for a tree built by the encoder
}

type nodeAttr struct {
	space, name, value string
}

// display names the element as messages show it.
func (n *node) display() string {
	if n.space != "" {
		return "{" + snippetRaw(n.space, 60) + "}" + snippetRaw(n.name, 60)
	}
	return snippetRaw(n.name, 60)
}

func (a nodeAttr) display() string {
	switch a.space {
	case "":
		return snippetRaw(a.name, 60)
	case xsiNS:
		return "xsi:" + snippetRaw(a.name, 60)
	}
	return "{" + snippetRaw(a.space, 60) + "}" + snippetRaw(a.name, 60)
}

// snippetRaw shortens s to at most n characters, without quoting.
func snippetRaw(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// maxAttrs caps the attributes of one element: the schema needs at most
// five, plus namespace declarations, and the duplicate check is quadratic.
const maxAttrs = 32

var (
	errTooLarge       = errors.New("document too large")
	errUnsupportedEnc = errors.New("unsupported character encoding")
)

// capReader returns errTooLarge once more than left bytes would be read,
// and remembers a failure of the underlying reader.
type capReader struct {
	r       io.Reader
	left    int64
	readErr error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// Probe for one more byte: at the limit exactly is fine.
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return 0, io.EOF
		}
		c.readErr = err
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.readErr = err
	}
	return n, err
}

// latin1Reader decodes ISO-8859-1 (every byte is the code point of the
// same number) into UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 2048)
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		for _, b := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(b))
		}
		if err != nil {
			if len(l.out) > 0 {
				break
			}
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// asciiReader passes US-ASCII through and fails on any other byte.
type asciiReader struct{ r io.Reader }

var errNotASCII = errors.New("a byte outside US-ASCII in a document declared US-ASCII")

func (a asciiReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	for _, b := range p[:n] {
		if b >= 0x80 {
			return 0, errNotASCII
		}
	}
	return n, err
}

// readTree parses a document into a node tree under the limits of opt,
// refusing DTDs, processing instructions other than the XML declaration
// and default namespaces. Every error is an *Error with CodeMalformed,
// except a failure of r itself, which is returned wrapped.
func readTree(r io.Reader, opt Options) (*node, error) {
	cr := &capReader{r: r, left: opt.MaxBytes}
	br := bufio.NewReaderSize(cr, 4096)
	if head, _ := br.Peek(3); bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3) // a UTF-8 byte order mark
	} else if bytes.HasPrefix(head, []byte{0xFE, 0xFF}) || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) {
		return nil, malformed("the document is encoded in UTF-16, which is not supported: send UTF-8")
	}
	var badEncoding string
	d := xml.NewDecoder(br)
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf8":
			return in, nil
		case "iso-8859-1", "iso_8859-1", "iso8859-1", "latin1", "l1":
			return &latin1Reader{r: in}, nil
		case "us-ascii", "ascii":
			return asciiReader{r: in}, nil
		}
		badEncoding = label
		return nil, errUnsupportedEnc
	}

	var (
		root     *node
		stack    []*node
		texts    [][]byte // character data of the open elements
		elements int
		tokens   int
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, treeError(err, cr, badEncoding, opt)
		}
		tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, malformed("line %d: element <%s> after the end of the root element: a document has exactly one root element", line, snippetRaw(t.Name.Local, 40))
			}
			if len(stack) >= opt.MaxDepth {
				return nil, malformed("line %d: elements are nested more than %d deep", line, opt.MaxDepth)
			}
			elements++
			if elements > opt.MaxElements {
				return nil, malformed("line %d: the document has more than %d elements", line, opt.MaxElements)
			}
			if len(t.Attr) > maxAttrs {
				return nil, malformed("line %d: element <%s> has more than %d attributes", line, snippetRaw(t.Name.Local, 40), maxAttrs)
			}
			n := &node{space: t.Name.Space, name: t.Name.Local, line: line}
			for i, a := range t.Attr {
				for _, b := range t.Attr[:i] {
					if a.Name == b.Name {
						return nil, malformed("line %d: element <%s> has attribute %s twice", line, snippetRaw(t.Name.Local, 40), snippetRaw(a.Name.Local, 40))
					}
				}
				switch {
				case a.Name.Space == "xmlns":
					continue // a namespace prefix declaration, such as xmlns:xsi
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if a.Value != "" {
						return nil, malformed("line %d: element <%s> declares the default namespace %s; the CyberTipline schema has no namespace: remove the xmlns attribute", line, snippetRaw(t.Name.Local, 40), snippet(a.Value))
					}
					continue
				}
				n.attrs = append(n.attrs, nodeAttr{space: a.Name.Space, name: a.Name.Local, value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			texts = append(texts, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = string(texts[len(texts)-1])
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if !onlySpace(string(t)) {
					return nil, malformed("line %d: text outside the root element", line)
				}
				continue
			}
			texts[len(texts)-1] = append(texts[len(texts)-1], t...)
		case xml.Comment:
		case xml.ProcInst:
			if strings.EqualFold(t.Target, "xml") {
				if tokens == 1 && line == 1 {
					continue // the XML declaration, checked by encoding/xml
				}
				return nil, malformed("line %d: the XML declaration must be at the very start of the document", line)
			}
			return nil, malformed("line %d: processing instruction <?%s?> is not allowed", line, snippetRaw(t.Target, 40))
		case xml.Directive:
			what := "<!" + snippetRaw(strings.Fields(string(t) + " x")[0], 20) + ">"
			return nil, malformed("line %d: %s declarations are not allowed: DTDs and entities are refused; remove the DOCTYPE", line, what)
		}
	}
	if root == nil {
		return nil, malformed("the document is empty: it has no root element")
	}
	return root, nil
}

// treeError turns a failure of encoding/xml into an *Error, or returns a
// failure of the underlying reader wrapped.
func treeError(err error, cr *capReader, badEncoding string, opt Options) error {
	var se *xml.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		return malformed("the document is larger than %d bytes", opt.MaxBytes)
	case errors.Is(err, errUnsupportedEnc):
		return malformed("the character encoding %s is not supported: send UTF-8 (ISO-8859-1 and US-ASCII are accepted too)", snippet(badEncoding))
	case errors.Is(err, errNotASCII):
		return malformed("the document declares US-ASCII but contains other bytes: send UTF-8")
	case cr.readErr != nil:
		return fmt.Errorf("read XML document: %w", cr.readErr)
	case errors.As(err, &se):
		return malformed("line %d: not well-formed XML: %s", se.Line, snippetRaw(se.Msg, 120))
	}
	return malformed("not well-formed XML: %s", snippetRaw(strings.TrimPrefix(err.Error(), "xml: "), 120))
}
