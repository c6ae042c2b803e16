// Package upload reads multipart/form-data request bodies as a stream.
//
// Go's Request.ParseMultipartForm keeps files larger than its memory limit
// in temporary files, in clear: evidence must never touch a disk
// unencrypted, so Haven never calls it. Read walks the parts in order,
// hands each file part to a callback as a reader (which the caller streams
// into the evidence vault), and collects small text fields under strict
// limits.
package upload

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/haven-hotline/haven"
)

// Limits bound what Read accepts besides file contents.
type Limits struct {
	MaxParts      int   // all parts, files and fields (default 32)
	MaxFiles      int   // file parts (default 1)
	MaxFieldBytes int64 // one text field (default 64 KiB)
}

func (l *Limits) defaults() {
	if l.MaxParts <= 0 {
		l.MaxParts = 32
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 1
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = 64 << 10
	}
}

// File is a file part being read.
type File struct {
	Field       string // the form field name
	Name        string // the client's file name; data, never a path
	ContentType string
	io.Reader
}

// Read reads the multipart body of the given Content-Type. Text fields
// are collected into the returned map (later values of a name are
// appended); each file part is passed to onFile, which must consume it
// before returning. Fields that come after a file part are still read, so
// clients may order parts as they like, but a caller that needs a field
// to process the file (a report ID, say) should ask clients to send it
// first and look it up in fields at the time onFile runs.
func Read(contentType string, body io.Reader, limits Limits, onFile func(fields map[string][]string, f *File) error) (map[string][]string, error) {
	limits.defaults()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, haven.Invalidf("Content-Type", "the body must be multipart/form-data")
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 70 {
		return nil, haven.Invalidf("Content-Type", "the multipart boundary is missing or longer than 70 characters")
	}
	mr := multipart.NewReader(body, boundary)
	fields := map[string][]string{}
	parts, files := 0, 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fields, malformed(err)
		}
		parts++
		if parts > limits.MaxParts {
			p.Close()
			return fields, &haven.Error{Kind: haven.KindTooLarge, Message: fmt.Sprintf("more than %d parts in the form", limits.MaxParts)}
		}
		name := p.FormName()
		if name == "" {
			p.Close()
			return fields, haven.Invalidf("", "a multipart part has no form field name")
		}
		if p.FileName() == "" && !isFileType(p.Header.Get("Content-Type")) {
			v, err := io.ReadAll(io.LimitReader(p, limits.MaxFieldBytes+1))
			p.Close()
			if err != nil {
				return fields, malformed(err)
			}
			if int64(len(v)) > limits.MaxFieldBytes {
				return fields, &haven.Error{Kind: haven.KindTooLarge, Field: name,
					Message: fmt.Sprintf("the field %q is longer than %d bytes", name, limits.MaxFieldBytes)}
			}
			fields[name] = append(fields[name], string(v))
			continue
		}
		files++
		if files > limits.MaxFiles {
			p.Close()
			return fields, &haven.Error{Kind: haven.KindTooLarge, Message: fmt.Sprintf("more than %d files in one request", limits.MaxFiles)}
		}
		f := &File{Field: name, Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Reader: &partReader{p: p}}
		err = onFile(fields, f)
		if err == nil {
			// The callback must have read the part to its end; drain
			// whatever remains so a bad client cannot desynchronise us.
			_, err = io.Copy(io.Discard, f.Reader)
		}
		p.Close()
		if err != nil {
			return fields, err
		}
	}
	return fields, nil
}

// partReader turns the multipart reader's parse errors into clear
// invalid-input errors.
type partReader struct{ p *multipart.Part }

func (r *partReader) Read(b []byte) (int, error) {
	n, err := r.p.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		var mbe interface{ Error() string }
		if errors.As(err, &mbe) && strings.Contains(err.Error(), "request body too large") {
			return n, err
		}
		return n, malformed(err)
	}
	return n, err
}

func isFileType(ct string) bool {
	return ct != "" && !strings.HasPrefix(ct, "text/plain")
}

func malformed(err error) error {
	if strings.Contains(err.Error(), "request body too large") {
		return &haven.Error{Kind: haven.KindTooLarge, Message: "the request body is larger than the limit", Err: err}
	}
	return &haven.Error{Kind: haven.KindInvalid, Message: "the multipart body is malformed (check the boundary and part headers)", Err: err}
}
