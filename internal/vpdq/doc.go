// Package vpdq hashes videos the vPDQ way: one PDQ hash per sampled frame,
// compared as a "bag of hashes" (facebook/ThreatExchange vpdq; see
// /work/shared/specs/pdq.md §2.2).
//
// # Hashing
//
// HashFile and HashReader run ffmpeg as a subprocess (never through a
// shell, with a time limit and a frame cap, see Options). ffmpeg samples
// ONE FRAME PER SECOND itself (-vf fps=1, frames at t = 0, 1, 2 … s from
// the start of the stream), scales each frame so that its longer side is
// at most Options.MaxDim (512 by default, the size of PDQ's reference
// pre-shrink; smaller videos are not upscaled; the aspect ratio is kept)
// and writes it as a PAM image (RGBA) on its stdout. Each PAM header gives
// the frame size, so no ffprobe run is needed and size changes mid-stream
// are handled. The pixels are read straight into the Pix buffer of one
// reused *image.NRGBA and hashed with pdq.HashImage: one copy, from the
// pipe into the image.
//
// Because ffmpeg scales with aspect ratio kept (area filter) instead of
// the C++ reference's 512×512 nearest-neighbour squash, hashes of frames
// over 512 pixels can differ by a few bits from the reference vpdq tool's;
// frames at most 512 pixels on each side are hashed at their own size.
//
// # Inputs from a pipe
//
// HashReader feeds the bytes to ffmpeg's stdin (-i pipe:0), so the
// evidence vault never has to write a clear file. A pipe cannot seek, so:
//
//   - Matroska / WebM and MPEG-TS work from a pipe (tested); FLV, MPEG-PS
//     and raw elementary streams should too (not tested);
//   - MP4 / MOV work only when the moov atom comes before the media data
//     ("fast start", -movflags +faststart) or when the file is fragmented
//     (-movflags frag_keyframe+empty_moov); fast start was checked by
//     hand, not in the tests. A plain MP4 with the moov
//     atom at the end (what most cameras and phones write) fails: ffmpeg
//     reports "moov atom not found" or "partial file", and HashReader
//     returns an error wrapping ErrNotStreamable. Use HashFile (a seekable
//     file) for those, or remux them to a streamable form first.
//
// Every ffmpeg failure is returned with the tail of its stderr (bounded).
// Inputs are restricted to the file and pipe protocols, so a playlist
// inside the evidence cannot make ffmpeg fetch URLs. HashFile still lets
// ffmpeg's playlist demuxers (HLS, concat) open other local files named in
// the input; hash evidence through HashReader when that matters.
//
// # Matching
//
// Match returns the two shares of the vPDQ algorithm: the share of the
// query's usable frames (quality ≥ 50) that have a target frame within
// PDQ distance 31, and the same for the target. Frame order and
// timestamps are ignored, so a clip cut from a longer video has a high
// query share and a target share near its share of the length. Optional
// pruning (MatchOptions.Dedupe) drops frames within a distance of the
// previous kept frame of the same video before counting, as the vPDQ
// README suggests; it is off by default. If either side has no usable
// frame the score is 0 and Score.Empty is set.
//
// # Storage
//
// (*Video).MarshalBinary is a compact form for hash banks (37 bytes per
// frame); MarshalText writes the reference tool's text format, one line
// per frame "frameNumber,quality,pdqHex,timestamp".
package vpdq
