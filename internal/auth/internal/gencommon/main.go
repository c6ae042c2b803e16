// Command gencommon builds the common-password list that package auth
// embeds. It reads the npm tarball of @zxcvbn-ts/language-common, checks it
// against the expected Subresource Integrity value, keeps only the entries
// that the other password rules would not already reject, and writes one
// password a line, most common first, plus the package's licence.
//
// It is run by commonpasswords_gen.sh (go generate); see
// docs/decisions/0003-password-list.md.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The rules of auth.CheckPassword that make an entry pointless to keep.
const (
	minRunes = 8
	maxBytes = 1024
	minKeep  = 10000
)

const (
	listPath    = "package/src/passwords.json"
	licencePath = "package/LICENSE.txt"
)

func main() {
	in := flag.String("in", "", "npm tarball of @zxcvbn-ts/language-common")
	integrity := flag.String("integrity", "", "expected npm integrity value (sha512-…)")
	out := flag.String("out", "commonpasswords.txt", "list to write")
	licOut := flag.String("license-out", "commonpasswords_LICENSE.txt", "attribution file to write")
	source := flag.String("source", "", "package name and version, for the attribution header")
	flag.Parse()
	if err := run(*in, *integrity, *out, *licOut, *source); err != nil {
		fmt.Fprintln(os.Stderr, "gencommon:", err)
		os.Exit(1)
	}
}

func run(in, integrity, out, licOut, source string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	if err := checkIntegrity(raw, integrity); err != nil {
		return err
	}
	files, err := readTarball(raw, listPath, licencePath)
	if err != nil {
		return err
	}
	var all []string
	if err := json.Unmarshal(files[listPath], &all); err != nil {
		return fmt.Errorf("decode %s: %w", listPath, err)
	}
	kept := filter(all)
	if len(kept) < minKeep {
		return fmt.Errorf("only %d entries kept, want at least %d", len(kept), minKeep)
	}
	var b strings.Builder
	for _, pw := range kept {
		b.WriteString(pw)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	header := fmt.Sprintf("%s is derived from the file %s of the npm package %s\n"+
		"(%d of its %d entries kept: those of at least %d characters that are not one\n"+
		"repeated character). Its licence follows.\n\n", out, strings.TrimPrefix(listPath, "package/"),
		source, len(kept), len(all), minRunes)
	if err := os.WriteFile(licOut, append([]byte(header), files[licencePath]...), 0o644); err != nil {
		return err
	}
	fmt.Printf("gencommon: kept %d of %d entries\n", len(kept), len(all))
	return nil
}

// checkIntegrity compares raw with an npm "sha512-<base64>" integrity value.
func checkIntegrity(raw []byte, want string) error {
	b64, ok := strings.CutPrefix(want, "sha512-")
	if !ok {
		return errors.New("-integrity must be a sha512- value")
	}
	sum := sha512.Sum512(raw)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != b64 {
		return fmt.Errorf("tarball integrity sha512-%s, want %s", got, want)
	}
	return nil
}

// readTarball returns the contents of the named files of a .tgz.
func readTarball(raw []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	files := make(map[string][]byte, len(names))
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !want[h.Name] {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return nil, err
		}
		files[h.Name] = data
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			return nil, fmt.Errorf("%s not in tarball", n)
		}
	}
	return files, nil
}

// filter keeps, in order and without duplicates, the NFC-normalised,
// lower-cased entries that the length and repeated-character rules of
// auth.CheckPassword would let through.
func filter(all []string) []string {
	seen := make(map[string]bool, len(all))
	var kept []string
	for _, pw := range all {
		pw = strings.ToLower(norm.NFC.String(pw))
		if !utf8.ValidString(pw) || strings.ContainsAny(pw, "\r\n") ||
			utf8.RuneCountInString(pw) < minRunes || len(pw) > maxBytes ||
			oneRune(pw) || seen[pw] {
			continue
		}
		seen[pw] = true
		kept = append(kept, pw)
	}
	return kept
}

func oneRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}
