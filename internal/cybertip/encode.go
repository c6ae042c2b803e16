package cybertip

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
)

// EncodeReport writes r as a <report> document: UTF-8, no namespace,
// elements in schema order, presence flags as <x/>, times in UTC. The
// document is validated against the schema before anything is written; a
// report that cannot be expressed validly (a missing incident type, an
// over-long name…) gives an error wrapping an *Error and writes nothing.
func EncodeReport(w io.Writer, r *haven.Report) error {
	if r == nil {
		return errors.New("encode report: nil report")
	}
	root := buildRoot(tables.report, reflect.ValueOf(r).Elem())
	var wk walker
	if err := wk.root(root, tables.report, reflect.Value{}); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return writeDocument(w, root)
}

// EncodeFileDetails writes a <fileDetails> document for the file fileID
// of report reportID, like EncodeReport.
func EncodeFileDetails(w io.Writer, reportID int64, fileID string, d *haven.FileDetails) error {
	if d == nil {
		d = new(haven.FileDetails)
	}
	doc := fileDoc{ReportID: reportID, FileID: fileID, FileDetails: *d}
	root := buildRoot(tables.fileDetails, reflect.ValueOf(&doc).Elem())
	var wk walker
	if err := wk.root(root, tables.fileDetails, reflect.Value{}); err != nil {
		return fmt.Errorf("encode file details: %w", err)
	}
	return writeDocument(w, root)
}

// buildRoot builds the node tree of a global element from v.
func buildRoot(p *particle, v reflect.Value) *node {
	return buildComplex(p.name, p.complex, v)
}

func buildComplex(name string, ct *complexType, v reflect.Value) *node {
	n := &node{name: name}
	for _, a := range ct.attrs {
		f := v.FieldByIndex(a.index)
		if !a.required && f.IsZero() { // nil, "" or the zero time: absent
			continue
		}
		n.attrs = append(n.attrs, nodeAttr{name: a.name, value: lexical(f, a.typ)})
	}
	if ct.text != nil {
		n.text = lexical(v.FieldByIndex(ct.textIndex), ct.text)
		return n
	}
	if ct.model == modelChoice {
		kind := v.FieldByIndex(ct.kindIndex).String()
		for _, it := range ct.items {
			if it.name == kind {
				n.children = append(n.children, buildComplex(it.name, it.complex, v))
			}
		}
		return n
	}
	for _, it := range ct.items {
		if it.choice != nil {
			for _, m := range it.choice {
				n.children = buildParticle(n.children, m, v, false)
			}
			continue
		}
		n.children = buildParticle(n.children, it, v, it.min > 0)
	}
	return n
}

// buildParticle appends the elements of p found in the struct v.
func buildParticle(out []*node, p *particle, v reflect.Value, required bool) []*node {
	if p.field == "" {
		if required || anySet(p.complex, v) {
			out = append(out, buildComplex(p.name, p.complex, v))
		}
		return out
	}
	f := v.FieldByIndex(p.index)
	if p.complex != nil {
		switch f.Kind() {
		case reflect.Slice:
			for i := 0; i < f.Len(); i++ {
				out = append(out, buildComplex(p.name, p.complex, f.Index(i)))
			}
		case reflect.Pointer:
			switch {
			case !f.IsNil():
				out = append(out, buildComplex(p.name, p.complex, f.Elem()))
			case required:
				out = append(out, buildComplex(p.name, p.complex, reflect.New(f.Type().Elem()).Elem()))
			}
		default:
			out = append(out, buildComplex(p.name, p.complex, f))
		}
		return out
	}
	switch f.Kind() {
	case reflect.Slice:
		for i := 0; i < f.Len(); i++ {
			out = append(out, &node{name: p.name, text: lexical(f.Index(i), p.simple)})
		}
	case reflect.Pointer:
		if !f.IsNil() {
			out = append(out, &node{name: p.name, text: lexical(f.Elem(), p.simple)})
		}
	default:
		if required || !f.IsZero() {
			out = append(out, &node{name: p.name, text: lexical(f, p.simple)})
		}
	}
	return out
}

// anySet reports whether any field that ct maps onto v is set: whether an
// optional element mapped onto its parent's struct is present.
func anySet(ct *complexType, v reflect.Value) bool {
	for _, a := range ct.attrs {
		if !v.FieldByIndex(a.index).IsZero() {
			return true
		}
	}
	if ct.text != nil && !v.FieldByIndex(ct.textIndex).IsZero() {
		return true
	}
	for _, it := range ct.items {
		for _, m := range append([]*particle{it}, it.choice...) {
			if m.name == "" {
				continue
			}
			if m.field == "" {
				if anySet(m.complex, v) {
					return true
				}
			} else if !v.FieldByIndex(m.index).IsZero() {
				return true
			}
		}
	}
	return false
}

// lexical renders a Go value as the text of st.
func lexical(f reflect.Value, st *simpleType) string {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	switch f.Kind() {
	case reflect.String:
		return f.String()
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(f.Float(), 'g', -1, 64)
	case reflect.Bool:
		if st.base == kindFlag {
			return "" // written <x/>; false is never written
		}
		return strconv.FormatBool(f.Bool())
	case reflect.Struct:
		if t, ok := f.Interface().(time.Time); ok {
			return formatDateTime(t)
		}
	}
	panic("cybertip: cannot render " + f.Type().String())
}

// writeDocument writes the XML declaration and the tree, indented.
func writeDocument(w io.Writer, root *node) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	writeNode(bw, root, 0)
	return bw.Flush()
}

func writeNode(bw *bufio.Writer, n *node, depth int) {
	for range depth {
		bw.WriteString("  ")
	}
	bw.WriteByte('<')
	bw.WriteString(n.name)
	for _, a := range n.attrs {
		bw.WriteByte(' ')
		bw.WriteString(a.name)
		bw.WriteString(`="`)
		escape(bw, a.value, true)
		bw.WriteByte('"')
	}
	switch {
	case len(n.children) > 0:
		bw.WriteString(">\n")
		for _, c := range n.children {
			writeNode(bw, c, depth+1)
		}
		for range depth {
			bw.WriteString("  ")
		}
	case n.text == "":
		bw.WriteString("/>\n")
		return
	default:
		bw.WriteByte('>')
		escape(bw, n.text, false)
	}
	bw.WriteString("</")
	bw.WriteString(n.name)
	bw.WriteString(">\n")
}

// escape writes s as character data or an attribute value. Characters
// XML cannot carry (only possible in server-made text, since the encoders
// validate first) become U+FFFD.
func escape(bw *bufio.Writer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			bw.WriteString("&amp;")
		case r == '<':
			bw.WriteString("&lt;")
		case r == '>':
			bw.WriteString("&gt;")
		case r == '"' && attr:
			bw.WriteString("&quot;")
		case r == '\r':
			bw.WriteString("&#xD;")
		case r == '\n' && attr:
			bw.WriteString("&#xA;")
		case r == '\t' && attr:
			bw.WriteString("&#x9;")
		case r == '\t' || r == '\n' || r >= 0x20 && r != utf8.RuneError && r != 0xFFFE && r != 0xFFFF:
			bw.WriteRune(r)
		default:
			bw.WriteRune(utf8.RuneError)
		}
	}
}
