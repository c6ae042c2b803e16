package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/intake"
	"github.com/haven-hotline/haven/internal/upload"
)

// The CyberTipline-compatible ESP API (../shared/specs/cybertipline-ispws.md):
// HTTP Basic per ESP account, XML in, reportResponse / reportDoneResponse
// out, with the response codes of the protocol.

// ispwsRealm is the realm of the Basic challenge, as the original API sent.
const ispwsRealm = `Basic realm="ESP Web Services"`

// ispwsError carries a protocol response code to the error writer.
type ispwsError struct {
	code   int
	status int
	msg    string
}

func (e *ispwsError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

var errISPWSAuth = &ispwsError{code: 2000, status: http.StatusUnauthorized, msg: "Authentication required"}

// ispwsCode maps an error to the protocol's response code and HTTP status.
func ispwsCode(r *request, err error) (int, int, string) {
	var ie *ispwsError
	var ce *cybertip.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ie):
		return ie.code, ie.status, ie.msg
	case errors.As(err, &ce):
		status := http.StatusBadRequest
		if ce.Code == 4100 {
			status = http.StatusUnprocessableEntity
		}
		return ce.Code, status, ce.Description
	case errors.As(err, &mbe):
		code := 4000
		switch {
		case strings.HasSuffix(r.URL.Path, "/upload"):
			code = 4200
		case strings.HasSuffix(r.URL.Path, "/submit"), strings.HasSuffix(r.URL.Path, "/fileinfo"):
			code = 4110
		}
		return code, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than the limit of %d bytes", mbe.Limit)
	case errors.Is(err, intake.ErrReportNotFound):
		return 5001, http.StatusNotFound, "Report does not exist"
	case errors.Is(err, intake.ErrFileNotFound):
		return 5002, http.StatusNotFound, "File does not exist"
	case errors.Is(err, intake.ErrRetracted):
		return 5101, http.StatusConflict, "Report already retracted"
	case errors.Is(err, intake.ErrFinished):
		return 5102, http.StatusConflict, "Report already finished"
	}
	switch haven.ErrorKind(err) {
	case haven.KindUnauthenticated:
		return 2000, http.StatusUnauthorized, "Authentication required"
	case haven.KindForbidden:
		return 3000, http.StatusForbidden, "User is not authorized to perform this action"
	case haven.KindInvalid:
		return 4000, http.StatusBadRequest, "Invalid request: " + haven.ErrorMessage(err)
	case haven.KindTooLarge:
		return 4200, http.StatusRequestEntityTooLarge, "Malformed file submittal: " + haven.ErrorMessage(err)
	case haven.KindNotFound:
		return 1210, http.StatusNotFound, "Resource not found"
	}
	if strings.HasSuffix(r.URL.Path, "/upload") {
		return 1111, http.StatusInternalServerError, "File upload failed"
	}
	return 1000, http.StatusInternalServerError, "Server error"
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) ispwsFail(w http.ResponseWriter, r *request, err error) {
	code, status, msg := ispwsCode(r, err)
	if status >= 500 {
		s.log.Error("ESP API request failed", "request_id", r.id, "route", r.route.Path, "err", err)
	}
	if code == 2000 {
		w.Header().Set("WWW-Authenticate", ispwsRealm)
	}
	writeXML(w, status, cybertip.ReportResponse{Code: code, Description: msg}.Marshal())
}

// ispwsAuthenticate checks the ESP account's Basic credentials.
func (s *Server) ispwsAuthenticate(r *request) error {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return errISPWSAuth
	}
	a, err := s.app.Accounts.AuthenticateBasic(r.Context(), r.client, user, pass)
	if err != nil {
		if haven.IsKind(err, haven.KindUnauthenticated) {
			return errISPWSAuth
		}
		return err
	}
	r.actor = a
	return nil
}

func (s *Server) ispwsStatus(w http.ResponseWriter, r *request) error {
	u, err := s.app.Accounts.User(r.Context(), r.actor, r.actor.UserID)
	if err != nil {
		return err
	}
	desc := fmt.Sprintf("Remote User : %s, Remote Ip : %s", u.Login, r.client.Addr)
	writeXML(w, http.StatusOK, cybertip.ReportResponse{Code: 0, Description: desc}.Marshal())
	return nil
}

func (s *Server) ispwsXSD(w http.ResponseWriter, r *request) error {
	writeXML(w, http.StatusOK, cybertip.XSD())
	return nil
}

func (s *Server) ispwsSubmit(w http.ResponseWriter, r *request) error {
	rep, err := cybertip.DecodeReport(r.Body, cybertip.Options{Now: s.app.Clock.Now(), MaxBytes: s.app.Config.MaxBodyBytes})
	if err != nil {
		return err
	}
	sub, err := s.app.Intake.Submit(r.Context(), r.actor, haven.SourceESP, rep)
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, cybertip.ReportResponse{Code: 0, Description: "Success", ReportID: sub.Report.ID}.Marshal())
	return nil
}

// parseReportID reads the id form field.
func parseReportID(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: the id field (the report ID) is missing"}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: the id field must be a report ID (a positive integer)"}
	}
	return id, nil
}

func first(fields map[string][]string, name string) string {
	if v := fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (s *Server) ispwsUpload(w http.ResponseWriter, r *request) error {
	var file *haven.ReportFile
	var reportID int64
	_, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 8, MaxFieldBytes: 1 << 10},
		func(fields map[string][]string, f *upload.File) error {
			if f.Field != "file" {
				return &ispwsError{code: 4200, status: http.StatusBadRequest, msg: fmt.Sprintf("Malformed file submittal: the file must be in the field named file, not %q", truncate(f.Field, 40))}
			}
			id, err := parseReportID(first(fields, "id"))
			if err != nil {
				if first(fields, "id") == "" {
					return &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: send the id field (the report ID) before the file part"}
				}
				return err
			}
			reportID = id
			file, err = s.app.Intake.AddFile(r.Context(), r.actor, id, f, f.Name, f.ContentType)
			return err
		})
	if err != nil {
		var he *haven.Error
		if errors.As(err, &he) && (he.Kind == haven.KindInvalid) {
			return &ispwsError{code: 4200, status: http.StatusBadRequest, msg: "Malformed file submittal: " + he.Message}
		}
		return err
	}
	if file == nil {
		return &ispwsError{code: 4200, status: http.StatusBadRequest, msg: "Malformed file submittal: no file part named file was sent"}
	}
	writeXML(w, http.StatusOK, cybertip.ReportResponse{Code: 0, Description: "Success", ReportID: reportID,
		FileID: file.ID, Hash: fmt.Sprintf("%x", file.MD5)}.Marshal())
	return nil
}

func (s *Server) ispwsFileinfo(w http.ResponseWriter, r *request) error {
	reportID, fileID, d, err := cybertip.DecodeFileDetails(r.Body, cybertip.Options{Now: s.app.Clock.Now(), MaxBytes: s.app.Config.MaxBodyBytes})
	if err != nil {
		return err
	}
	if err := s.app.Intake.SetFileDetails(r.Context(), r.actor, reportID, fileID, d); err != nil {
		return err
	}
	writeXML(w, http.StatusOK, cybertip.ReportResponse{Code: 0, Description: "Success", ReportID: reportID, FileID: fileID}.Marshal())
	return nil
}

// formID reads the id field of a finish or retract request, sent
// url-encoded or as multipart/form-data (both are in use).
func formID(r *request) (int64, error) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(ct), "multipart/") {
		fields, err := upload.Read(ct, r.Body, upload.Limits{MaxParts: 8, MaxFieldBytes: 1 << 10},
			func(map[string][]string, *upload.File) error {
				return &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: this endpoint takes no file"}
			})
		if err != nil {
			if _, ok := err.(*ispwsError); ok {
				return 0, err
			}
			return 0, &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: " + haven.ErrorMessage(err)}
		}
		return parseReportID(first(fields, "id"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return 0, err
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return 0, &ispwsError{code: 4000, status: http.StatusBadRequest, msg: "Invalid request: the form body cannot be parsed"}
	}
	id := vals.Get("id")
	if id == "" {
		id = r.URL.Query().Get("id")
	}
	return parseReportID(id)
}

func (s *Server) ispwsFinish(w http.ResponseWriter, r *request) error {
	id, err := formID(r)
	if err != nil {
		return err
	}
	rep, err := s.app.Intake.Finish(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(rep.Files))
	for _, f := range rep.Files {
		ids = append(ids, f.ID)
	}
	writeXML(w, http.StatusOK, cybertip.ReportDoneResponse{Code: 0, ReportID: id, FileIDs: ids}.Marshal())
	return nil
}

func (s *Server) ispwsRetract(w http.ResponseWriter, r *request) error {
	id, err := formID(r)
	if err != nil {
		return err
	}
	if err := s.app.Intake.Retract(r.Context(), r.actor, id); err != nil {
		return err
	}
	writeXML(w, http.StatusOK, cybertip.ReportResponse{Code: 0, Description: "Success", ReportID: id}.Marshal())
	return nil
}

func (s *Server) ispwsUnknown(w http.ResponseWriter, r *request) error {
	return &ispwsError{code: 1210, status: http.StatusNotFound, msg: "Resource not found: the ESP API has status, xsd, submit, upload, fileinfo, finish and retract"}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
