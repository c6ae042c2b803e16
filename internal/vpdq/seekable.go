package vpdq

import (
	"context"
	"io"

	"github.com/haven-hotline/haven/internal/ffinput"
)

// HashReaderAt hashes the video of size bytes readable at random from r,
// typically decrypted evidence held in memory. ffmpeg reads it over HTTP
// from a loopback server that lives only for this call (ffinput.Serve), so
// that it can seek (a plain MP4 with its moov atom at the end needs to)
// without a clear copy ever being written to a disk. Use HashReader for
// inputs that stream.
func HashReaderAt(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Video, error) {
	url, stop, err := ffinput.Serve(r, size)
	if err != nil {
		return nil, err
	}
	defer stop()
	return run(ctx, url, ffinput.Protocols, nil, opt)
}
