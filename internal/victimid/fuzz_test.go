package victimid_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/haven-hotline/haven/internal/victimid"
)

// FuzzParseHashes: the single-hashes field of the identification form
// never panics, and what it accepts holds exactly one hash of the right
// size, which reads back the same when written as "algo:hex".
func FuzzParseHashes(f *testing.F) {
	f.Add("00112233445566778899aabbccddeeff\n")
	f.Add("pdq:" + strings.Repeat("ab", 32) + "\nsha1:" + strings.Repeat("01", 20))
	f.Add("sha256:" + strings.Repeat("0f", 32))
	f.Add("md5:zz\n")
	f.Add(":\n\n  \t")
	f.Fuzz(func(t *testing.T, text string) {
		items, err := victimid.ParseHashes(text)
		if err != nil {
			return
		}
		var again strings.Builder
		for _, it := range items {
			q := it.Query
			n := 0
			for _, set := range []bool{len(q.MD5) == 16, len(q.SHA1) == 20, len(q.SHA256) == 32, q.PDQ != nil} {
				if set {
					n++
				}
			}
			if n != 1 || (q.MD5 == nil && q.SHA1 == nil && q.SHA256 == nil && q.PDQ == nil) {
				t.Fatalf("an item holds %d hashes: %+v", n, q)
			}
			switch {
			case q.MD5 != nil:
				again.WriteString("md5:" + hex.EncodeToString(q.MD5))
			case q.SHA1 != nil:
				again.WriteString("sha1:" + hex.EncodeToString(q.SHA1))
			case q.SHA256 != nil:
				again.WriteString("sha256:" + hex.EncodeToString(q.SHA256))
			default:
				again.WriteString("pdq:" + q.PDQ.String())
			}
			again.WriteString("\n")
		}
		back, err := victimid.ParseHashes(again.String())
		if err != nil || len(back) != len(items) {
			t.Fatalf("written back %q: %d items, %v", again.String(), len(back), err)
		}
	})
}
