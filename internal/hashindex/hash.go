package hashindex

import (
	"encoding/binary"
	"math/bits"

	"github.com/haven-hotline/haven"
)

// PDQ is a 256-bit PDQ hash as 32 bytes in the order of its 64-digit hex
// form: byte 0 is the first two hex digits (DCT row 15, columns 15..8) and
// byte 31 the last two (row 0, columns 7..0). It is the layout
// hex.DecodeString gives. The index only needs the order to be the same on
// both sides of a comparison, since Hamming distance does not depend on it.
//
// The index does not import package pdq: callers convert a pdq.Hash to this
// type (for example by way of its hex form, or a byte copy when pdq.Hash uses
// the same order).
type PDQ [32]byte

// ParsePDQ reads a PDQ hash written as exactly 64 hex digits (either case).
// It returns an error of kind haven.KindInvalid otherwise; the message never
// quotes the input.
func ParsePDQ(s string) (PDQ, error) {
	var h PDQ
	if len(s) != 64 {
		return h, haven.Invalidf("hash", "a PDQ hash has 64 hex digits, got %d characters", len(s))
	}
	if !decodeHex(h[:], s) {
		return h, haven.Invalidf("hash", "a PDQ hash is written in hex digits only")
	}
	return h, nil
}

// String returns the hash as 64 lower-case hex digits.
func (h PDQ) String() string { return encodeHex(h[:]) }

// Distance returns the Hamming distance between two PDQ hashes: the number
// of bits in which they differ, 0 to 256.
func Distance(a, b PDQ) int {
	x, y := a.words(), b.words()
	return distance(&x, &y)
}

// words is h as four big-endian 64-bit words: word 0 holds bytes 0..7, and
// bit 0 of the hash in the index's numbering is the top bit of word 0.
func (h PDQ) words() hash256 {
	return hash256{
		binary.BigEndian.Uint64(h[0:8]),
		binary.BigEndian.Uint64(h[8:16]),
		binary.BigEndian.Uint64(h[16:24]),
		binary.BigEndian.Uint64(h[24:32]),
	}
}

// hash256 is the form in which segments store PDQ hashes: four words, so
// that a distance is four XORs and four popcounts.
type hash256 [4]uint64

func (w *hash256) pdq() PDQ {
	var h PDQ
	for i := range w {
		binary.BigEndian.PutUint64(h[8*i:], w[i])
	}
	return h
}

func distance(a, b *hash256) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// Algo names the hash algorithm of an entry.
type Algo uint8

// The algorithms the index knows. The zero value is not an algorithm, so a
// forgotten field is caught.
const (
	AlgoPDQ    Algo = iota + 1 // PDQ, 32 bytes, matched within a Hamming radius
	AlgoMD5                    // MD5, 16 bytes, matched exactly
	AlgoSHA1                   // SHA-1, 20 bytes, matched exactly
	AlgoSHA256                 // SHA-256, 32 bytes, matched exactly
)

// Size returns the length in bytes of a hash of the algorithm, or 0 for an
// unknown algorithm.
func (a Algo) Size() int {
	switch a {
	case AlgoPDQ, AlgoSHA256:
		return 32
	case AlgoMD5:
		return 16
	case AlgoSHA1:
		return 20
	}
	return 0
}

// String returns the algorithm's lower-case name.
func (a Algo) String() string {
	switch a {
	case AlgoPDQ:
		return "pdq"
	case AlgoMD5:
		return "md5"
	case AlgoSHA1:
		return "sha1"
	case AlgoSHA256:
		return "sha256"
	}
	return "unknown"
}

// exact reports whether a is matched by equality, and its table number.
func (a Algo) exact() (int, bool) {
	switch a {
	case AlgoMD5, AlgoSHA1, AlgoSHA256:
		return int(a - AlgoMD5), true
	}
	return 0, false
}

// ParseDigest reads an MD5, SHA-1 or SHA-256 digest written as hex digits
// (either case), exactly twice as many as the algorithm's size. It returns an
// error of kind haven.KindInvalid otherwise; the message never quotes the
// input.
func ParseDigest(algo Algo, s string) ([]byte, error) {
	if _, ok := algo.exact(); !ok {
		return nil, haven.Invalidf("algo", "not an exact-match algorithm")
	}
	n := algo.Size()
	if len(s) != 2*n {
		return nil, haven.Invalidf("hash", "a %s digest has %d hex digits, got %d characters", algo, 2*n, len(s))
	}
	d := make([]byte, n)
	if !decodeHex(d, s) {
		return nil, haven.Invalidf("hash", "a %s digest is written in hex digits only", algo)
	}
	return d, nil
}

// decodeHex fills dst from the 2*len(dst) hex digits of s. Unlike
// encoding/hex it takes a string without copying it and reports only success.
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func encodeHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&15]
	}
	return string(out)
}
