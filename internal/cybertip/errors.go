package cybertip

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The response codes this package returns (§1.5 of the protocol notes).
const (
	// CodeValidation (4100, "Validation failed") is returned for a
	// well-formed document that breaks the schema or a business rule.
	CodeValidation = 4100
	// CodeMalformed (4110, "Malformed XML submittal") is returned for a
	// document that is not well-formed XML, declares a DTD, is too large or
	// too deep, uses an unsupported character encoding or has the wrong
	// root element.
	CodeMalformed = 4110
)

// Error is a rejected document: Code is CodeValidation or CodeMalformed and
// Description tells the ESP's developer what to fix (the element path, what
// was found and what was expected). Descriptions quote at most a short
// snippet of a client value and never a personal one, so they are safe to
// send back to the client and to log.
type Error struct {
	Code        int
	Description string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("cybertip %d: %s", e.Code, e.Description)
}

func malformed(format string, args ...any) *Error {
	return &Error{Code: CodeMalformed, Description: fmt.Sprintf(format, args...)}
}

// maxSnippet is how many characters of a client value an error may quote.
const maxSnippet = 80

// snippet quotes at most maxSnippet characters of a client value.
func snippet(s string) string {
	if utf8.RuneCountInString(s) > maxSnippet {
		n := 0
		for i := range s {
			if n == maxSnippet {
				s = s[:i] + "…"
				break
			}
			n++
		}
	}
	return fmt.Sprintf("%q", s)
}

// elementList renders names as "<a>, <b> or <c>".
func elementList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString("<" + n + ">")
	}
	return b.String()
}
