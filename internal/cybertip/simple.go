package cybertip

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// value is a parsed simple value.
type value struct {
	lex string // the lexical form: as sent for xs:string, whitespace collapsed otherwise
	i   int64
	f   float64
	b   bool
	t   time.Time
}

// parse checks raw against t. problem is empty when raw is valid;
// otherwise it says what is wrong, quoting a snippet of the value unless
// quote is false (personal data).
func (t *simpleType) parse(raw string, quote bool) (v value, problem string) {
	shown := "the value"
	if quote {
		shown = "value " + snippet(raw)
	}
	if r, ok := xmlChars(raw); !ok {
		return v, fmt.Sprintf("contains a character that XML does not allow (%U)", r)
	}
	if t.base == kindString {
		v.lex = raw
	} else {
		v.lex = collapse(raw)
		if quote {
			shown = "value " + snippet(v.lex)
		}
	}
	s := v.lex
	if t.maxLen > 0 {
		if n := utf8.RuneCountInString(s); n > t.maxLen {
			return v, fmt.Sprintf("is %d characters long; at most %d are allowed", n, t.maxLen)
		}
	}
	if t.re != nil && !t.re.MatchString(s) {
		return v, shown + " " + t.hintOr("does not match the pattern "+t.pattern)
	}
	if t.enumSet != nil && !t.enumSet[s] {
		return v, shown + " is not one of " + t.enumDescription()
	}
	switch t.base {
	case kindInt, kindLong:
		bits := 32
		if t.base == kindLong {
			bits = 64
		}
		if !isInteger(s) {
			return v, shown + " is not an integer"
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return v, fmt.Sprintf("%s is out of range for %s", shown, t.base.xsdName())
		}
		v.i = n
		if t.hasRange && (float64(n) < t.min || float64(n) > t.max) {
			return v, fmt.Sprintf("%s is out of range: expected %s to %s", shown, num(t.min), num(t.max))
		}
	case kindDouble:
		if !isDouble(s) {
			return v, shown + " is not a number (xs:double)"
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return v, shown + " is not a number (xs:double)"
		}
		v.f = f
		if t.hasRange && (math.IsNaN(f) || f < t.min || f > t.max) {
			return v, fmt.Sprintf("%s is out of range: expected %s to %s", shown, num(t.min), num(t.max))
		}
	case kindBool:
		switch s {
		case "true", "1":
			v.b = true
		case "false", "0":
		default:
			return v, shown + " is not a boolean: expected true, false, 1 or 0"
		}
	case kindFlag:
		switch {
		case raw == "", s == "true", s == "1":
			v.b = true
		case s == "false", s == "0":
			return v, shown + " is not allowed: a presence flag is written empty (<x/>) or true; leave the element out instead of sending false"
		default:
			return v, shown + " is not allowed: a presence flag is written empty (<x/>) or true"
		}
	case kindDateTime:
		tm, ok := parseDateTime(s)
		if !ok {
			return v, shown + " " + t.hint
		}
		v.t = tm
	case kindDate:
		if _, ok := parseDate(s); !ok {
			return v, shown + " " + t.hint
		}
	}
	return v, ""
}

func (t *simpleType) hintOr(def string) string {
	if t.hint != "" {
		return t.hint
	}
	return def
}

// enumDescription names the allowed values of an enumeration.
func (t *simpleType) enumDescription() string {
	if t.enumDesc != "" {
		return t.enumDesc
	}
	q := make([]string, len(t.enum))
	for i, e := range t.enum {
		q[i] = strconv.Quote(e)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// xmlChars reports whether s is valid UTF-8 made of characters XML 1.0
// allows; if not, it returns the first offending rune.
func xmlChars(s string) (rune, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return rune(c), false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return r, false
		}
		if (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFE || r == 0xFFFF {
			return r, false
		}
		i += size
	}
	return 0, true
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// onlySpace reports whether s is empty or XML whitespace.
func onlySpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isXMLSpace(s[i]) {
			return false
		}
	}
	return true
}

// collapse applies the XSD whiteSpace="collapse" rule: tabs and line
// breaks become spaces, runs of spaces become one, and the ends are
// trimmed.
func collapse(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\n' || c == '\r' || (c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isXMLSpace(c) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isInteger matches the lexical space of xs:integer: [+-]?[0-9]+.
func isInteger(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isDouble matches the lexical space of xs:double (XSD 1.0).
func isDouble(s string) bool {
	switch s {
	case "INF", "-INF", "NaN":
		return true
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseDate parses YYYY-MM-DD (already matched by the pattern) and checks
// that the day exists.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	y, m, d := atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// parseDateTime parses a value matched by dateTimePattern into UTC. A
// value without a zone is UTC. The instant must fall within the years 1
// to 9999 once converted.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	day, ok := parseDate(s[:10])
	if !ok {
		return time.Time{}, false
	}
	hh, mm, ss := atoi(s[11:13]), atoi(s[14:16]), atoi(s[17:19])
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		frac := rest[1:i]
		if len(frac) > 9 {
			frac = frac[:9] // time.Time keeps nanoseconds
		}
		nsec = atoi(frac)
		for range 9 - len(frac) {
			nsec *= 10
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6:
		offset = (atoi(rest[1:3])*60 + atoi(rest[4:6])) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), hh, mm, ss, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// formatDateTime writes t in UTC as RFC 3339, with a fraction only when
// it is not zero.
func formatDateTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
