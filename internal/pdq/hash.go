package pdq

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Size is the length of a PDQ hash in bytes (256 bits).
const Size = 32

// Hash is a 256-bit PDQ hash.
//
// The bytes are in the order of the reference's text form: Hash[0] holds the
// first two hex digits and Hash[31] the last two, so the hash is the
// big-endian encoding of a 256-bit number in which bit k has weight 2^k.
// Bit k = 16·i + j is the sign of DCT coefficient (row i, column j) against
// the median; it lives in Hash[31-k/8], bit k%8. This is the byte order of
// hex.DecodeString and of Python's bytes.fromhex on the reference text, so
// hashes move between Haven, the C++ tools, pytx and FAISS unchanged.
//
// The zero Hash is what the reference returns for images too small to hash.
type Hash [Size]byte

// ErrInvalidHash is wrapped by the errors of ParseHash and UnmarshalText.
var ErrInvalidHash = errors.New("pdq: invalid hash")

// String returns the reference's text form: 64 lower-case hex digits, the
// reference's 16-bit word 15 first and word 0 last.
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}

// ParseHash parses the 64-hex-digit text form written by String and by the
// reference tools. Upper- and lower-case digits are accepted; anything else,
// including surrounding space or a "0x" prefix, is refused with an error
// wrapping ErrInvalidHash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*Size {
		return h, fmt.Errorf("%w: want %d hex digits, got %d characters", ErrInvalidHash, 2*Size, len(s))
	}
	for i := 0; i < len(s); i++ {
		if unhex(s[i]) < 0 {
			return h, fmt.Errorf("%w: character %d is not a hex digit", ErrInvalidHash, i+1)
		}
	}
	for i := range h {
		h[i] = byte(unhex(s[2*i])<<4 | unhex(s[2*i+1]))
	}
	return h, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// MarshalText implements encoding.TextMarshaler with the String form.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(h.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseHash.
func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// Distance returns the Hamming distance between a and b: the number of bits
// in which they differ, 0 to 256. The reference treats two hashes as the
// same picture at a distance of 31 or less (see MatchThreshold).
func Distance(a, b Hash) int {
	n := 0
	for i := 0; i < Size; i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]))
	}
	return n
}

// Int64s returns the "int64 form" of the hash used by the reference's
// --int64 output and its SQL examples (pdq/sql/README.md): the text form cut
// into four 16-hex-digit chunks, in text order, each read as a big-endian
// two's-complement int64. Element 0 therefore holds bits 255..192 (DCT rows
// 15..12) and element 3 holds bits 63..0 (DCT rows 3..0). The Hamming
// distance is the sum of the popcounts of the four XORed pairs.
func (h Hash) Int64s() [4]int64 {
	var w [4]int64
	for i := range w {
		w[i] = int64(binary.BigEndian.Uint64(h[8*i:]))
	}
	return w
}

// FromInt64s is the inverse of Hash.Int64s.
func FromInt64s(w [4]int64) Hash {
	var h Hash
	for i, v := range w {
		binary.BigEndian.PutUint64(h[8*i:], uint64(v))
	}
	return h
}

// Bit reports whether bit k (0..255) is set, where k = 16·i + j names DCT
// row i and column j. It panics if k is out of range.
func (h Hash) Bit(k int) bool {
	return h[Size-1-k/8]>>(k%8)&1 == 1
}

func (h *Hash) setBit(k int) {
	h[Size-1-k/8] |= 1 << (k % 8)
}

// OnesCount returns the number of set bits (the reference's "norm"). A hash
// computed from coefficients without ties has exactly 128.
func (h Hash) OnesCount() int {
	return Distance(h, Hash{})
}

// Thresholds the reference recommends (pdq/README.md, python-threatexchange).
const (
	// MatchThreshold is the largest Hamming distance at which two hashes
	// are taken to show the same picture.
	MatchThreshold = 31
	// MinQuality is the lowest quality at which a hash is worth matching;
	// hashes of quality 49 or less should be discarded.
	MinQuality = 50
)
