package cybertip

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// XSD returns the W3C XML Schema 1.0 document that Haven serves at
// /ispws/xsd. It is generated from the same table as the validator, so a
// document valid against it is accepted by DecodeReport and
// DecodeFileDetails except for the business rules (no future incident
// time, no classification on a supplemental file) and the limits of
// Options. The caller must not modify the returned slice.
func XSD() []byte { return xsdOnce() }

var xsdOnce = sync.OnceValue(func() []byte { return generateXSD(tables) })

type xsdWriter struct {
	b       bytes.Buffer
	done    map[string]bool
	types   []*complexType
	simples []*simpleType
}

func generateXSD(s *schema) []byte {
	x := &xsdWriter{done: map[string]bool{}}
	for _, root := range s.roots() {
		x.collect(root.complex)
	}
	b := &x.b
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!--
  CyberTipline-compatible reporting API (Haven): schema of the documents
  of /ispws. Written by the Haven project from the public facts of the
  protocol; generated from the table that Haven validates with.
  The documents use no namespace.
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="unqualified" attributeFormDefault="unqualified">
`)
	for _, root := range s.roots() {
		fmt.Fprintf(b, "  <xs:element name=%q type=%q/>\n", root.name, root.complex.name)
	}
	for _, ct := range x.types {
		x.complexType(ct)
	}
	for _, st := range x.simples {
		x.simpleType(st)
	}
	b.WriteString("</xs:schema>\n")
	return b.Bytes()
}

// collect lists the named types in the order they are first used.
func (x *xsdWriter) collect(ct *complexType) {
	if x.done[ct.name] {
		return
	}
	x.done[ct.name] = true
	x.types = append(x.types, ct)
	for _, a := range ct.attrs {
		x.collectSimple(a.typ)
	}
	if ct.text != nil {
		x.collectSimple(ct.text)
	}
	for _, it := range ct.items {
		for _, p := range append([]*particle{it}, it.choice...) {
			switch {
			case p.choice != nil:
			case p.simple != nil:
				x.collectSimple(p.simple)
			default:
				x.collect(p.complex)
			}
		}
	}
}

func (x *xsdWriter) collectSimple(st *simpleType) {
	if st.name == "" || x.done["simple:"+st.name] {
		return
	}
	x.done["simple:"+st.name] = true
	x.simples = append(x.simples, st)
}

func typeRef(st *simpleType) string {
	if st.name == "" {
		return st.base.xsdName()
	}
	return st.name
}

func xmlAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return `"` + b.String() + `"`
}

func (x *xsdWriter) doc(indent, text string) {
	if text != "" {
		fmt.Fprintf(&x.b, "%s<xs:annotation><xs:documentation>%s</xs:documentation></xs:annotation>\n", indent, strings.Trim(xmlAttr(text), `"`))
	}
}

func occurs(min, max int) string {
	s := ""
	if min != 1 {
		s += ` minOccurs="` + strconv.Itoa(min) + `"`
	}
	switch {
	case max == unbounded:
		s += ` maxOccurs="unbounded"`
	case max != 1:
		s += ` maxOccurs="` + strconv.Itoa(max) + `"`
	}
	return s
}

func (x *xsdWriter) complexType(ct *complexType) {
	b := &x.b
	fmt.Fprintf(b, "  <xs:complexType name=%s>\n", xmlAttr(ct.name))
	x.doc("    ", ct.doc)
	attrIndent := "    "
	if ct.text != nil {
		fmt.Fprintf(b, "    <xs:simpleContent>\n      <xs:extension base=%s>\n", xmlAttr(typeRef(ct.text)))
		attrIndent = "        "
	} else if len(ct.items) > 0 {
		group := map[model]string{modelSequence: "xs:sequence", modelAll: "xs:all", modelChoice: "xs:choice"}[ct.model]
		fmt.Fprintf(b, "    <%s>\n", group)
		for _, it := range ct.items {
			if it.choice != nil {
				fmt.Fprintf(b, "      <xs:choice%s>\n", occurs(it.min, it.max))
				for _, m := range it.choice {
					x.element("        ", m)
				}
				b.WriteString("      </xs:choice>\n")
				continue
			}
			x.element("      ", it)
		}
		fmt.Fprintf(b, "    </%s>\n", group)
	}
	for _, a := range ct.attrs {
		use := ""
		if a.required {
			use = ` use="required"`
		}
		fmt.Fprintf(b, "%s<xs:attribute name=%s type=%s%s/>\n", attrIndent, xmlAttr(a.name), xmlAttr(typeRef(a.typ)), use)
	}
	if ct.text != nil {
		b.WriteString("      </xs:extension>\n    </xs:simpleContent>\n")
	}
	b.WriteString("  </xs:complexType>\n")
}

func (x *xsdWriter) element(indent string, p *particle) {
	b := &x.b
	typ, fixed := "", ""
	switch {
	case p.complex != nil:
		typ = p.complex.name
	case p.simple.base == kindFlag:
		typ, fixed = "xs:boolean", ` fixed="true"`
	default:
		typ = typeRef(p.simple)
	}
	if p.doc == "" {
		fmt.Fprintf(b, "%s<xs:element name=%s type=%s%s%s/>\n", indent, xmlAttr(p.name), xmlAttr(typ), fixed, occurs(p.min, p.max))
		return
	}
	fmt.Fprintf(b, "%s<xs:element name=%s type=%s%s%s>\n", indent, xmlAttr(p.name), xmlAttr(typ), fixed, occurs(p.min, p.max))
	x.doc(indent+"  ", p.doc)
	fmt.Fprintf(b, "%s</xs:element>\n", indent)
}

func (x *xsdWriter) simpleType(st *simpleType) {
	b := &x.b
	fmt.Fprintf(b, "  <xs:simpleType name=%s>\n", xmlAttr(st.name))
	x.doc("    ", st.doc)
	fmt.Fprintf(b, "    <xs:restriction base=%s>\n", xmlAttr(st.base.xsdName()))
	if st.maxLen > 0 {
		fmt.Fprintf(b, "      <xs:maxLength value=\"%d\"/>\n", st.maxLen)
	}
	if st.hasRange {
		fmt.Fprintf(b, "      <xs:minInclusive value=\"%s\"/>\n      <xs:maxInclusive value=\"%s\"/>\n", num(st.min), num(st.max))
	}
	if st.pattern != "" {
		fmt.Fprintf(b, "      <xs:pattern value=%s/>\n", xmlAttr(st.pattern))
	}
	for _, v := range st.enum {
		fmt.Fprintf(b, "      <xs:enumeration value=%s/>\n", xmlAttr(v))
	}
	b.WriteString("    </xs:restriction>\n  </xs:simpleType>\n")
}
