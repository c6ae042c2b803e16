package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/haven-hotline/haven"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func asHaven(err error, target **haven.Error) bool { return errors.As(err, target) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}

func jsonEncoder(w http.ResponseWriter) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

func itoa(n int) string { return strconv.Itoa(n) }

// parseForm parses a url-encoded form body; a body over the limit keeps
// its *http.MaxBytesError (answered 413), anything else is invalid input.
func parseForm(r *request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &haven.Error{Kind: haven.KindInvalid, Message: "the form could not be read", Err: err}
	}
	return nil
}
