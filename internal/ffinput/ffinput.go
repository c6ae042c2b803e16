// Package ffinput holds what Haven's two ffmpeg users (video hashing in
// internal/vpdq, video renditions in internal/viewer) share: serving
// decrypted bytes to ffmpeg without a clear file, and reading the PAM
// frames ffmpeg writes.
package ffinput

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Protocols is the -protocol_whitelist for an input served by Serve.
const Protocols = "http,tcp"

// Serve serves size bytes of r to ffmpeg over HTTP from a listener on the
// loopback interface, at a path holding 128 random bits, so that ffmpeg can
// seek (an MP4 with its moov atom at the end needs to) while no clear copy
// is written to a disk. It returns the URL to pass to -i and a function
// that stops the server.
func Serve(r io.ReaderAt, size int64) (url string, stop func(), err error) {
	if r == nil || size < 0 {
		return "", nil, errors.New("ffinput: nil reader or negative size")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("ffinput: loopback listener: %w", err)
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
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + path, func() { srv.Close() }, nil
}

// ReadPAMHeader parses the header ffmpeg's pam encoder writes, e.g.
// "P7\nWIDTH w\nHEIGHT h\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n",
// and checks the depth (4 for RGBA, 1 for grey), 8-bit samples and that
// neither side exceeds maxDim. At the end of the stream it returns io.EOF.
func ReadPAMHeader(br *bufio.Reader, depth, maxDim int) (w, h int, err error) {
	line, err := br.ReadString('\n')
	if err == io.EOF && line == "" {
		return 0, 0, io.EOF
	}
	if err != nil || line != "P7\n" {
		return 0, 0, fmt.Errorf("bad PAM magic %q", line)
	}
	gotDepth, maxval := 0, 0
	for n := 0; ; n++ {
		if n > 16 {
			return 0, 0, errors.New("PAM header too long")
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("PAM header: %w", err)
		}
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		num := func() int { x, _ := strconv.Atoi(val); return x }
		switch key {
		case "WIDTH":
			w = num()
		case "HEIGHT":
			h = num()
		case "DEPTH":
			gotDepth = num()
		case "MAXVAL":
			maxval = num()
		case "ENDHDR":
			if gotDepth != depth || maxval != 255 || w <= 0 || h <= 0 || w > maxDim || h > maxDim {
				return 0, 0, fmt.Errorf("unexpected PAM frame %dx%d depth %d maxval %d", w, h, gotDepth, maxval)
			}
			return w, h, nil
		}
	}
}
