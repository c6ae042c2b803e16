// Package jpeg is a copy of the Go standard library's JPEG decoder
// (image/jpeg of Go 1.26.10; files reader.go, scan.go, huffman.go and the
// inverse DCT of dct.go; BSD licence, see LICENSE), made faster for PDQ
// hashing without changing its output: for any input it returns the same
// image, pixel for pixel, as image/jpeg.Decode, or fails where it fails.
// The PDQ conformance data was measured with image/jpeg's pixels, so that is
// the property that matters. The tests check it on the reference photos, on
// truncated and damaged copies of them, and by fuzzing
// (FuzzSameAsStdlib).
//
// Changes, each marked "NOTE (fork)" in the code:
//
//   - The file is decoded from memory. Entropy-coded data is read through a
//     64-bit bit buffer refilled eight bytes at a time, and the AC
//     coefficient loop (decodeBlock) keeps it in registers, with a table
//     that decodes a short code and its extra bits in one step.
//   - Blocks with no AC coefficient, and rows or columns with only their
//     first coefficient, skip the butterflies of the inverse DCT whose
//     result is known to be flat. Dequantisation uses a table in natural
//     order; progressive coefficients are updated in place.
//   - A Decoder reuses its pixel and coefficient buffers (cleared) between
//     files.
//   - Deliberate difference: a file with more than MaxScans scans is
//     refused (each scan walks the whole image, so a small file of many
//     scans could keep a decoder busy for hours).
//   - No encoder, and no registration with image.RegisterFormat.
//
// To follow a change of image/jpeg in a later Go release, diff that release
// against Go 1.26.10 and apply the change here; the differential tests tell
// whether the output still matches (run them with the new toolchain: they
// compare against the image/jpeg it ships).
package jpeg
