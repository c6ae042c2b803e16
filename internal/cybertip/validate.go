package cybertip

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// walker checks a node tree against the schema table and, when given a
// destination, stores the values into Go structs as it goes. The encoder
// runs it without a destination to prove its output valid.
type walker struct {
	stack []pathElem
}

type pathElem struct {
	name  string
	index int // 1-based position among repeated siblings; 0 when not repeatable
}

// path renders the position of the current element, e.g.
// report/victim[2]/victimPerson.
func (w *walker) path() string {
	var b strings.Builder
	for i, e := range w.stack {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(e.name)
		if e.index > 0 {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		}
	}
	return b.String()
}

// fail reports a validation error at the current path; at is the node
// whose line is reported.
func (w *walker) fail(at *node, format string, args ...any) *Error {
	msg := w.path() + ": " + fmt.Sprintf(format, args...)
	if at != nil && at.line > 0 {
		msg += fmt.Sprintf(" (line %d)", at.line)
	}
	return &Error{Code: CodeValidation, Description: msg}
}

// root validates the root element n as p into v (which may be invalid to
// validate only).
func (w *walker) root(n *node, p *particle, v reflect.Value) *Error {
	w.stack = append(w.stack[:0], pathElem{name: p.name})
	return w.complex(n, p.name, p.complex, v)
}

// element validates n as p. dst is the Go field p maps to, or the parent
// struct when p.field is empty; it is invalid when only validating.
func (w *walker) element(n *node, p *particle, dst reflect.Value) *Error {
	if p.simple != nil {
		if len(n.attrs) > 0 {
			return w.fail(n, "<%s> has attribute %s but allows no attributes", p.name, n.attrs[0].display())
		}
		if len(n.children) > 0 {
			return w.fail(n.children[0], "<%s> must contain text only, found element <%s>", p.name, n.children[0].display())
		}
		v, problem := p.simple.parse(n.text, !p.personal)
		if problem != "" {
			return w.fail(n, "<%s> %s", p.name, problem)
		}
		if dst.IsValid() {
			store(dst, v)
		}
		return nil
	}
	target := dst
	if dst.IsValid() && p.field != "" {
		target = structFor(dst)
	}
	return w.complex(n, p.name, p.complex, target)
}

func (w *walker) complex(n *node, name string, ct *complexType, v reflect.Value) *Error {
	if v.IsValid() {
		for _, c := range ct.consts {
			v.FieldByIndex(c.index).SetString(c.value)
		}
	}
	var seen uint64
	for _, a := range n.attrs {
		if a.space != "" {
			if a.space == xsiNS && len(w.stack) == 1 && (a.name == "noNamespaceSchemaLocation" || a.name == "schemaLocation") {
				continue
			}
			return w.fail(n, "<%s> has unknown attribute %s", name, a.display())
		}
		i := ct.attrIndex(a.name)
		if i < 0 {
			if len(ct.attrs) == 0 {
				return w.fail(n, "<%s> has attribute %s but allows no attributes", name, a.display())
			}
			return w.fail(n, "<%s> has unknown attribute %s; allowed: %s", name, snippetRaw(a.name, 40), ct.attrNames())
		}
		decl := ct.attrs[i]
		val, problem := decl.typ.parse(a.value, !decl.personal)
		if problem != "" {
			return w.fail(n, "<%s> attribute %s %s", name, decl.name, problem)
		}
		seen |= 1 << i
		if v.IsValid() {
			store(v.FieldByIndex(decl.index), val)
		}
	}
	for i, decl := range ct.attrs {
		if decl.required && seen&(1<<i) == 0 {
			hint := ""
			if decl.typ.enum != nil {
				hint = ", one of " + decl.typ.enumDescription()
			}
			return w.fail(n, "<%s> is missing the required attribute %s%s", name, decl.name, hint)
		}
	}
	if ct.text != nil {
		if len(n.children) > 0 {
			return w.fail(n.children[0], "<%s> must contain text only, found element <%s>", name, n.children[0].display())
		}
		val, problem := ct.text.parse(n.text, ct.text.base != kindString)
		if problem != "" {
			return w.fail(n, "<%s> %s", name, problem)
		}
		if v.IsValid() {
			store(v.FieldByIndex(ct.textIndex), val)
		}
		return nil
	}
	if !onlySpace(n.text) {
		return w.fail(n, "<%s> must contain only elements, found text %s", name, snippet(strings.TrimSpace(n.text)))
	}
	switch ct.model {
	case modelAll:
		return w.all(n, name, ct, v)
	case modelChoice:
		return w.choice(n, name, ct, v)
	}
	return w.sequence(n, name, ct, v)
}

// child descends into c, declared by ref, at the given repetition index.
func (w *walker) child(c *node, ref childRef, index int, v reflect.Value) *Error {
	var dst reflect.Value
	if v.IsValid() {
		dst = v
		if ref.p.field != "" {
			dst = v.FieldByIndex(ref.p.index)
		}
	}
	w.stack = append(w.stack, pathElem{name: c.name, index: index})
	err := w.element(c, ref.p, dst)
	w.stack = w.stack[:len(w.stack)-1]
	return err
}

func (ct *complexType) lookup(c *node) (childRef, bool) {
	if c.space != "" {
		return childRef{}, false
	}
	ref, ok := ct.children[c.name]
	return ref, ok
}

func (w *walker) sequence(n *node, name string, ct *complexType, v reflect.Value) *Error {
	var buf [32]int
	var counts []int
	if len(ct.items) <= len(buf) {
		counts = buf[:len(ct.items)]
	} else {
		counts = make([]int, len(ct.items))
	}
	chosen := ""
	pos := 0
	for i, c := range n.children {
		ref, ok := ct.lookup(c)
		if !ok {
			return w.unknown(c, name, ct.expectedAt(pos, counts))
		}
		for {
			if ref.item < pos {
				return w.fail(c, "element <%s> is out of order: it must come before <%s>", c.name, n.children[i-1].name)
			}
			it := ct.items[pos]
			if ref.item == pos {
				if it.max != unbounded && counts[pos] >= it.max {
					if it.choice != nil && chosen != c.name {
						return w.fail(c, "<%s> cannot be used together with <%s>: <%s> takes only one of %s", c.name, chosen, name, elementList(choiceNames(it)))
					}
					if it.max == 1 {
						return w.fail(c, "element <%s> appears more than once; it is allowed once", c.name)
					}
					return w.fail(c, "element <%s> appears more than %d times", c.name, it.max)
				}
				counts[pos]++
				if it.choice != nil {
					chosen = c.name
				}
				break
			}
			if counts[pos] < it.min {
				missing := it.name
				for _, later := range n.children[i+1:] {
					if later.space == "" && later.name == missing {
						return w.fail(c, "element <%s> is out of order: <%s> must come before it", c.name, missing)
					}
				}
				return w.fail(c, "missing required element <%s>: it must come before <%s>", missing, c.name)
			}
			pos++
		}
		index := 0
		if ref.p.max != 1 {
			index = counts[ref.item]
		}
		if err := w.child(c, ref, index, v); err != nil {
			return err
		}
	}
	for ; pos < len(ct.items); pos++ {
		if it := ct.items[pos]; counts[pos] < it.min {
			return w.fail(n, "<%s> is missing the required element <%s>", name, it.name)
		}
	}
	return nil
}

// expectedAt lists the elements that may come next in a sequence.
func (ct *complexType) expectedAt(pos int, counts []int) []string {
	var names []string
	for j := pos; j < len(ct.items); j++ {
		it := ct.items[j]
		if it.max == unbounded || counts[j] < it.max {
			names = append(names, choiceNames(it)...)
		}
		if counts[j] < it.min {
			break
		}
	}
	return names
}

func choiceNames(p *particle) []string {
	if p.choice == nil {
		return []string{p.name}
	}
	names := make([]string, len(p.choice))
	for i, m := range p.choice {
		names[i] = m.name
	}
	return names
}

func (w *walker) unknown(c *node, parent string, expected []string) *Error {
	switch len(expected) {
	case 0:
		return w.fail(c, "unknown element <%s> in <%s>; no more elements are allowed here", c.display(), parent)
	case 1:
		return w.fail(c, "unknown element <%s> in <%s>; expected <%s>", c.display(), parent, expected[0])
	}
	return w.fail(c, "unknown element <%s> in <%s>; expected one of %s", c.display(), parent, elementList(expected))
}

func (w *walker) all(n *node, name string, ct *complexType, v reflect.Value) *Error {
	var seen uint64
	for _, c := range n.children {
		ref, ok := ct.lookup(c)
		if !ok {
			var left []string
			for i, it := range ct.items {
				if seen&(1<<i) == 0 {
					left = append(left, it.name)
				}
			}
			return w.unknown(c, name, left)
		}
		if seen&(1<<ref.item) != 0 {
			return w.fail(c, "element <%s> appears more than once; it is allowed once", c.name)
		}
		seen |= 1 << ref.item
		if err := w.child(c, ref, 0, v); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) choice(n *node, name string, ct *complexType, v reflect.Value) *Error {
	if len(n.children) == 0 {
		return w.fail(n, "<%s> is empty: it must contain exactly one of %s", name, elementList(ct.allowed))
	}
	first := n.children[0]
	ref, ok := ct.lookup(first)
	if !ok {
		return w.unknown(first, name, ct.allowed)
	}
	if len(n.children) > 1 {
		second := n.children[1]
		if _, ok := ct.lookup(second); !ok {
			return w.unknown(second, name, nil)
		}
		return w.fail(second, "<%s> contains both <%s> and <%s>: it must contain exactly one of them; use one <%s> for each", name, first.name, second.name, name)
	}
	if v.IsValid() && ct.kindIndex != nil {
		v.FieldByIndex(ct.kindIndex).SetString(ref.p.name)
	}
	return w.child(first, ref, 0, v)
}

func (ct *complexType) attrIndex(name string) int {
	for i, a := range ct.attrs {
		if a.name == name {
			return i
		}
	}
	return -1
}

func (ct *complexType) attrNames() string {
	names := make([]string, len(ct.attrs))
	for i, a := range ct.attrs {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// structFor returns the struct a complex element decodes into: a new
// one behind a pointer field, a new element of a slice field, or the
// field itself.
func structFor(f reflect.Value) reflect.Value {
	switch f.Kind() {
	case reflect.Pointer:
		p := reflect.New(f.Type().Elem())
		f.Set(p)
		return p.Elem()
	case reflect.Slice:
		f.Set(reflect.Append(f, reflect.Zero(f.Type().Elem())))
		return f.Index(f.Len() - 1)
	}
	return f
}

// store puts a parsed value into a field: appended to a slice, behind a
// new pointer or directly.
func store(f reflect.Value, v value) {
	switch f.Kind() {
	case reflect.Slice:
		e := reflect.New(f.Type().Elem()).Elem()
		storeScalar(e, v)
		f.Set(reflect.Append(f, e))
	case reflect.Pointer:
		e := reflect.New(f.Type().Elem())
		storeScalar(e.Elem(), v)
		f.Set(e)
	default:
		storeScalar(f, v)
	}
}

func storeScalar(f reflect.Value, v value) {
	switch f.Kind() {
	case reflect.String:
		f.SetString(v.lex)
	case reflect.Int, reflect.Int64:
		f.SetInt(v.i)
	case reflect.Float64:
		f.SetFloat(v.f)
	case reflect.Bool:
		f.SetBool(v.b)
	case reflect.Struct:
		f.Set(reflect.ValueOf(v.t))
	}
}
