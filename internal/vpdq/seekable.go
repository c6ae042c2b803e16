package vpdq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HashReaderAt hashes the video of size bytes readable at random from r,
// typically decrypted evidence held in memory. ffmpeg reads it over HTTP
// from a server on the loopback interface that lives only for this call,
// at a path holding 128 random bits, so that it can seek (a plain MP4 with
// its moov atom at the end needs to) without a clear copy ever being
// written to a disk. Use HashReader for inputs that stream.
func HashReaderAt(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Video, error) {
	if r == nil || size < 0 {
		return nil, errors.New("vpdq: nil reader or negative size")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("vpdq: loopback listener: %w", err)
	}
	var token [16]byte
	rand.Read(token[:])
	path := "/" + hex.EncodeToString(token[:])
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path != path || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
				http.NotFound(w, req)
				return
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, req, "", time.Time{}, io.NewSectionReader(r, 0, size))
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	go srv.Serve(ln)
	defer srv.Close()
	return run(ctx, "http://"+ln.Addr().String()+path, "http,tcp", nil, opt)
}
