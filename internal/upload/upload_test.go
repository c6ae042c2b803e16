package upload

import (
	"bytes"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
)

func form(t testing.TB, build func(w *multipart.Writer)) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	build(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

func TestReadStreamsFiles(t *testing.T) {
	ct, body := form(t, func(w *multipart.Writer) {
		_ = w.WriteField("id", "42")
		fw, _ := w.CreateFormFile("file", "../../etc/passwd")
		_, _ = fw.Write(bytes.Repeat([]byte("synthetic "), 100_000))
		_ = w.WriteField("after", "yes")
	})
	var got []byte
	var sawID string
	fields, err := Read(ct, bytes.NewReader(body), Limits{}, func(fields map[string][]string, f *File) error {
		sawID = fields["id"][0]
		if f.Name != "passwd" || f.Field != "file" { // Go keeps only the base name
			t.Errorf("got file %q field %q", f.Name, f.Field)
		}
		var err error
		got, err = io.ReadAll(f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if sawID != "42" || fields["after"][0] != "yes" {
		t.Errorf("fields: %v (id seen by the callback %q)", fields, sawID)
	}
	if len(got) != 1_000_000 {
		t.Errorf("got %d file bytes, want 1000000", len(got))
	}
}

func TestReadLimitsAndErrors(t *testing.T) {
	noop := func(map[string][]string, *File) error { return nil }
	tests := []struct {
		name   string
		ct     string
		body   string
		limits Limits
		kind   haven.Kind
	}{
		{"not multipart", "application/json", "{}", Limits{}, haven.KindInvalid},
		{"no boundary", "multipart/form-data", "", Limits{}, haven.KindInvalid},
		{"unterminated", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", Limits{}, haven.KindInvalid},
		{"long field", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + strings.Repeat("v", 100) + "\r\n--x--\r\n", Limits{MaxFieldBytes: 10}, haven.KindTooLarge},
		{"too many parts", "multipart/form-data; boundary=x", strings.Repeat("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n", 3) + "--x--\r\n", Limits{MaxParts: 2}, haven.KindTooLarge},
		{"two files", "multipart/form-data; boundary=x", strings.Repeat("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nv\r\n", 2) + "--x--\r\n", Limits{}, haven.KindTooLarge},
		{"nameless part", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n", Limits{}, haven.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.ct, strings.NewReader(tt.body), tt.limits, noop)
			if haven.ErrorKind(err) != tt.kind || err == nil {
				t.Errorf("got %v, want kind %v", err, tt.kind)
			}
		})
	}
}

// FuzzRead feeds arbitrary bodies and boundaries: Read must never panic
// and must answer every bad input with an invalid or too-large error,
// never an internal one.
func FuzzRead(f *testing.F) {
	ct, body := form(f, func(w *multipart.Writer) {
		_ = w.WriteField("id", "7")
		fw, _ := w.CreateFormFile("file", "a.png")
		_, _ = fw.Write([]byte("\x89PNG synthetic"))
	})
	_, boundary, _ := strings.Cut(ct, "boundary=")
	f.Add(boundary, body)
	f.Add("x", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--x--\r\n"))
	f.Add("x", []byte("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\x00\"\r\nContent-Type: image/png\r\n\r\n\r\n--x--"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		_, err := Read("multipart/form-data; boundary=\""+boundary+"\"", bytes.NewReader(body), Limits{MaxFieldBytes: 1 << 10},
			func(_ map[string][]string, f *File) error {
				_, err := io.Copy(io.Discard, f)
				return err
			})
		if err != nil {
			if k := haven.ErrorKind(err); k != haven.KindInvalid && k != haven.KindTooLarge {
				t.Fatalf("got kind %v for bad input: %v", k, err)
			}
		}
	})
}
