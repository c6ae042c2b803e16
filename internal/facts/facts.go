// Package facts lists the non-empty fields of a record as labelled rows,
// so that a page or a document can show every element of a report
// without a template per element. The staff report page and the referral
// package (page and PDF) use the same walk, so both show the same rows.
package facts

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Fact is one row: a label made of the field names on the way to a value,
// and the value as text.
type Fact struct{ Label, Value string }

// Of lists every non-empty field of v (structs, pointers, slices, in field
// order) as facts. Zero strings and false booleans are left out; a pointer
// to a bool or a string is shown even when false or empty, since it was
// given; times are written in UTC; byte slices are left out.
func Of(v any) []Fact {
	var rows []Fact
	walk("", reflect.ValueOf(v), &rows)
	return rows
}

// Label turns a Go field name into words: "DateTimeDescription" → "Date
// time description", keeping acronyms together ("ESPName" → "ESP name").
func Label(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, c := range rs {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte(' ')
			c = unicode.ToLower(c)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// YesNo writes a boolean as "yes" or "no".
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func walk(prefix string, v reflect.Value, rows *[]Fact) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		switch v.Elem().Kind() {
		case reflect.Bool:
			*rows = append(*rows, Fact{prefix, YesNo(v.Elem().Bool())})
			return
		case reflect.String:
			text := v.Elem().String()
			if text == "" {
				text = "(yes, no text)"
			}
			*rows = append(*rows, Fact{prefix, text})
			return
		case reflect.Int, reflect.Int64:
			*rows = append(*rows, Fact{prefix, strconv.FormatInt(v.Elem().Int(), 10)})
			return
		}
		walk(prefix, v.Elem(), rows)
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			if !t.IsZero() {
				*rows = append(*rows, Fact{prefix, t.UTC().Format("2006-01-02 15:04:05 UTC")})
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := Label(f.Name)
			if prefix != "" {
				name = prefix + " › " + name
			}
			walk(name, v.Field(i), rows)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			walk(fmt.Sprintf("%s %d", prefix, i+1), v.Index(i), rows)
		}
	case reflect.String:
		if v.String() != "" {
			*rows = append(*rows, Fact{prefix, v.String()})
		}
	case reflect.Bool:
		if v.Bool() {
			*rows = append(*rows, Fact{prefix, "yes"})
		}
	case reflect.Int, reflect.Int64:
		*rows = append(*rows, Fact{prefix, strconv.FormatInt(v.Int(), 10)})
	case reflect.Float64:
		*rows = append(*rows, Fact{prefix, strconv.FormatFloat(v.Float(), 'f', -1, 64)})
	}
}
