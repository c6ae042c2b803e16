package auth

import (
	_ "embed"
	"strings"
	"sync"
)

//go:generate sh commonpasswords_gen.sh

// commonPasswordsData is the bundled list of common passwords, one a line,
// lower case, most common first. See commonpasswords_LICENSE.txt and
// docs/decisions/0003-password-list.md for its source and licence.
//
//go:embed commonpasswords.txt
var commonPasswordsData string

// commonPasswords returns the bundled list as a set. It is built once, on
// first use, and never changed afterwards.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonPasswordsData, "\n")+1)
	for line := range strings.Lines(commonPasswordsData) {
		if pw := strings.TrimRight(line, "\r\n"); pw != "" {
			set[pw] = struct{}{}
		}
	}
	return set
})

// isCommonPassword reports whether pw, compared case-insensitively, is in the
// bundled list. pw must already be NFC-normalised.
func isCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}
