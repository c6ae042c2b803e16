// Package pdq computes PDQ perceptual image hashes: Meta's open 256-bit
// hash with a 0–100 quality score, which hotlines and platforms exchange to
// recognise known pictures after resizing, re-encoding and small edits.
//
// The hashing core is a pure-Go port of the C++ reference
// (facebook/ThreatExchange, pdq/cpp) that reproduces it bit for bit: given
// the same 8-bit pixels it returns the same hash and quality, and the eight
// dihedral (rotated and flipped) hashes derived from the same DCT. The
// float32 arithmetic follows the reference operation by operation, with no
// fused multiply-adds on any platform. The pre-shrink the reference's I/O
// layer applies to images over 512 pixels is a named, versioned strategy
// (Shrink, Options.Version) so that stored hashes can say how they were
// made.
//
// Decode reads JPEG, PNG, GIF, WebP, BMP and TIFF with Go's decoders
// (golang.org/x/image for WebP, BMP and TIFF), checking the declared size
// against a limit before decoding any pixel and turning decoder panics into
// errors. JPEG goes through internal/jpeg, a faster copy of image/jpeg that
// returns the same pixels (and refuses files of more than 500 scans). Go's
// JPEG decoder rounds differently from libjpeg-turbo, which the reference
// tools use, so hashes of JPEG files can differ from the reference's by a
// few bits: the conformance rule for that case is a distance of at most 10
// on images of quality 80 or more, and the reference photos land at 0 to 2.
//
// HashReader keeps the file and the decoded image in pooled buffers, so
// hashing allocates almost nothing in the steady state.
//
// The package depends only on the standard library and golang.org/x/image,
// and can be used outside Haven.
package pdq
