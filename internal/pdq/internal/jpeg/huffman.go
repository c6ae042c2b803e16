// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpeg

import (
	"encoding/binary"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutSize is the log-2 size of the Huffman decoder's look-up table.
const lutSize = 8

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// lut is the look-up table for the next lutSize bits in the bit-stream.
	// The high 8 bits of the uint16 are the encoded value. The low 8 bits
	// are 1 plus the code length, or 0 if the value is too large to fit in
	// lutSize bits.
	lut [1 << lutSize]uint16
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
	// fastAC (fork) is, for the next lutSize bits, an AC symbol with a
	// non-zero size whose code and extra bits both fit in them: the code
	// length (bits 0-3), the size (4-7), the run (8-11) and the extended
	// coefficient (16-31). 0 where the bits hold no such symbol.
	fastAC [1 << lutSize]int32
}

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData = FormatError("short Huffman data")

// refill loads entropy-coded bytes into d.bits until it holds more than 56
// bits or the segment ends, at a marker (0xff not followed by 0x00) or at the
// end of the data. Byte stuffing (0xff 0x00 for a data byte 0xff) is undone.
// d.pos never moves past a marker, so marker parsing resumes exactly where
// the entropy-coded data stopped.
func (d *decoder) refill() {
	if d.bits.end {
		return
	}
	a, n, pos, data := d.bits.a, d.bits.n, d.pos, d.data
	for n <= 56 {
		if pos+8 <= len(data) {
			v := binary.BigEndian.Uint64(data[pos:])
			if x := ^v; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
				// No 0xff among the next 8 bytes: take as many as fit.
				k := (64 - n) >> 3
				v &^= 1<<(64-8*k) - 1
				a |= v >> n
				n += 8 * k
				pos += int(k)
				continue
			}
		}
		if pos >= len(data) {
			d.bits.end = true
			break
		}
		c := data[pos]
		if c == 0xff {
			if pos+1 >= len(data) || data[pos+1] != 0x00 {
				d.bits.end = true
				break
			}
			pos += 2
		} else {
			pos++
		}
		a |= uint64(c) << (56 - n)
		n += 8
	}
	d.bits.a, d.bits.n, d.pos = a, n, pos
}

// errNoBits is the error for needing more bits than the segment has, as the
// standard library reports it: a missing 0xff00 sequence when the data stops
// at a marker, short Huffman data when the file ends.
func (d *decoder) errNoBits() error {
	if d.pos >= len(d.data) || d.pos+1 >= len(d.data) && d.data[d.pos] == 0xff {
		return errShortHuffmanData
	}
	return errMissingFF00
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if d.bits.n < int32(t) {
		d.refill()
		if d.bits.n < int32(t) {
			return 0, d.errNoBits()
		}
	}
	if t == 0 {
		return 0, nil
	}
	x := int32(d.bits.a >> (64 - t))
	d.bits.a <<= t
	d.bits.n -= int32(t)
	if x < 1<<(t-1) {
		x += ((-1) << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// Derive the look-up table.
		clear(h.lut[:])
		var x, code uint32
		for i := uint32(0); i < lutSize; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by 8-(1+i) to
				// calculate the high bits for every 8-bit sequence
				// whose codeLength's high bits matches code.
				// The high 8 bits of lutValue are the encoded value.
				// The low 8 bits are 1 plus the codeLength.
				base := uint8(code << (7 - i))
				lutValue := uint16(h.vals[x])<<8 | uint16(2+i)
				for k := uint8(0); k < 1<<(7-i); k++ {
					h.lut[base|k] = lutValue
				}
				code++
				x++
			}
		}

		// NOTE (fork): derive fastAC from the look-up table, so that it
		// decodes exactly what lut does.
		for p := range h.fastAC {
			h.fastAC[p] = 0
			v := h.lut[p]
			if v == 0 {
				continue
			}
			l, sym := int32(v&0xff)-1, int32(v>>8)
			run, size := sym>>4, sym&0x0f
			if size == 0 || l+size > lutSize {
				continue
			}
			x := int32(p>>(lutSize-l-size)) & (1<<size - 1)
			if x < 1<<(size-1) {
				x += ((-1) << size) + 1
			}
			h.fastAC[p] = x<<16 | run<<8 | size<<4 | l
		}

		// Derive minCodes, maxCodes, and valsIndices.
		var c, index int32
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
			}
			c <<= 1
		}
	}
	return nil
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.bits.n < maxCodeLength {
		d.refill()
	}
	if d.bits.n >= 8 {
		if v := h.lut[d.bits.a>>56]; v != 0 {
			n := (v & 0xff) - 1
			d.bits.a <<= n
			d.bits.n -= int32(n)
			return uint8(v >> 8), nil
		}
	}
	// Codes longer than lutSize bits, or the last bits of a segment.
	for i := int32(0); i < maxCodeLength; i++ {
		if i >= d.bits.n {
			return 0, d.errNoBits()
		}
		code := int32(d.bits.a >> (63 - i))
		if code <= h.maxCodes[i] {
			d.bits.a <<= i + 1
			d.bits.n -= i + 1
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
	}
	return 0, FormatError("bad Huffman code")
}

func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		d.refill()
		if d.bits.n == 0 {
			return false, d.errNoBits()
		}
	}
	ret := d.bits.a>>63 != 0
	d.bits.a <<= 1
	d.bits.n--
	return ret, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < n {
		d.refill()
		if d.bits.n < n {
			return 0, d.errNoBits()
		}
	}
	ret := uint32(d.bits.a >> (64 - n))
	d.bits.a <<= n
	d.bits.n -= n
	return ret, nil
}
