package haven

import (
	"strings"
	"unicode/utf8"
)

// CleanText trims a text a person typed and checks it: present when
// required, valid UTF-8, at most max characters. The error names field,
// for the form to show beside it.
func CleanText(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", Invalidf(field, "fill in this field")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", Invalidf(field, "the text is longer than %d characters or not valid UTF-8", max)
	}
	return s, nil
}
