package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/intake"
	"github.com/haven-hotline/haven/internal/upload"
)

// The JSON API for reports: the capability of the ESP API for new
// integrations, with the report document as JSON whose names are the
// CyberTipline element names (validated by the same schema), bearer
// tokens, Idempotency-Key and problem+json errors.

// apiReportStatus is what GET /api/v1/reports/{id} answers.
type apiReportStatus struct {
	ID         int64           `json:"id"`
	Status     string          `json:"status"`
	Source     string          `json:"source"`
	OpenedAt   time.Time       `json:"openedAt"`
	ModifiedAt time.Time       `json:"modifiedAt"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
	ExpiresAt  *time.Time      `json:"expiresAt,omitempty"`
	Files      []apiFileStatus `json:"files"`
}

type apiFileStatus struct {
	ID         string `json:"fileId"`
	Filename   string `json:"filename,omitempty"`
	Size       int64  `json:"size"`
	MD5        string `json:"md5"`
	SHA1       string `json:"sha1"`
	SHA256     string `json:"sha256"`
	HasDetails bool   `json:"hasDetails"`
}

func fileStatus(f *haven.ReportFile) apiFileStatus {
	return apiFileStatus{ID: f.ID, Filename: f.Filename, Size: f.Size, MD5: hex.EncodeToString(f.MD5),
		SHA1: hex.EncodeToString(f.SHA1), SHA256: hex.EncodeToString(f.SHA256), HasDetails: f.Details != nil}
}

func reportStatus(r *haven.Report) apiReportStatus {
	out := apiReportStatus{ID: r.ID, Status: string(r.Status), Source: string(r.Source), OpenedAt: r.OpenedAt,
		ModifiedAt: r.ModifiedAt, Files: []apiFileStatus{}}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt
		out.FinishedAt = &t
	}
	if r.Status == haven.ReportOpen {
		t := intake.Expiry(r.OpenedAt, r.ModifiedAt)
		out.ExpiresAt = &t
	}
	for _, f := range r.Files {
		out.Files = append(out.Files, fileStatus(f))
	}
	return out
}

func apiReportID(r *request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, intake.ErrReportNotFound
	}
	return id, nil
}

const maxIdempotencyKey = 200

func (s *Server) apiReportCreate(w http.ResponseWriter, r *request) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return haven.Invalidf("Content-Type", "send the report as application/json")
	}
	rep, err := cybertip.DecodeReportJSON(r.Body, cybertip.Options{Now: s.app.Clock.Now(), MaxBytes: s.app.Config.MaxBodyBytes})
	if err != nil {
		return err
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey {
		return haven.Invalidf("Idempotency-Key", "the Idempotency-Key header is longer than %d characters", maxIdempotencyKey)
	}
	rep.IdempotencyKey = key
	sub, err := s.app.Intake.Submit(r.Context(), r.actor, haven.SourceAPI, rep)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if sub.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/reports/%d", sub.Report.ID))
	writeJSON(w, status, reportStatus(sub.Report))
	return nil
}

func (s *Server) apiReportGet(w http.ResponseWriter, r *request) error {
	id, err := apiReportID(r)
	if err != nil {
		return err
	}
	rep, err := s.app.Intake.Get(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	if rep.SubmitterID != r.actor.UserID {
		return intake.ErrReportNotFound // the JSON API serves status to the submitter only
	}
	writeJSON(w, http.StatusOK, reportStatus(rep))
	return nil
}

func (s *Server) apiReportFile(w http.ResponseWriter, r *request) error {
	id, err := apiReportID(r)
	if err != nil {
		return err
	}
	var f *haven.ReportFile
	_, err = upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 4, MaxFieldBytes: 1 << 10},
		func(_ map[string][]string, part *upload.File) error {
			if part.Field != "file" {
				return haven.Invalidf(part.Field, "send the file in the field named file")
			}
			var err error
			f, err = s.app.Intake.AddFile(r.Context(), r.actor, id, part, part.Name, part.ContentType)
			return err
		})
	if err != nil {
		return err
	}
	if f == nil {
		return haven.Invalidf("file", "no file was sent: use multipart/form-data with a part named file")
	}
	writeJSON(w, http.StatusCreated, fileStatus(f))
	return nil
}

func (s *Server) apiReportFileDetails(w http.ResponseWriter, r *request) error {
	id, err := apiReportID(r)
	if err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return haven.Invalidf("Content-Type", "send the file details as application/json")
	}
	d, err := cybertip.DecodeFileDetailsJSON(r.Body, cybertip.Options{Now: s.app.Clock.Now(), MaxBytes: s.app.Config.MaxBodyBytes})
	if err != nil {
		return err
	}
	if err := s.app.Intake.SetFileDetails(r.Context(), r.actor, id, r.PathValue("fileId"), d); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiReportFinish(w http.ResponseWriter, r *request) error {
	id, err := apiReportID(r)
	if err != nil {
		return err
	}
	rep, err := s.app.Intake.Finish(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reportStatus(rep))
	return nil
}

func (s *Server) apiReportRetract(w http.ResponseWriter, r *request) error {
	id, err := apiReportID(r)
	if err != nil {
		return err
	}
	if err := s.app.Intake.Retract(r.Context(), r.actor, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// problem writes an RFC 9457 problem document.
func (s *Server) problem(w http.ResponseWriter, r *request, err error) {
	status := statusOf(err)
	detail := safeMessage(err)
	kind := haven.ErrorKind(err).String()
	var ce *cybertip.Error
	code := 0
	switch {
	case errors.As(err, &ce):
		status, kind, detail, code = http.StatusUnprocessableEntity, "invalid", ce.Description, ce.Code
		if ce.Code == 4110 {
			status = http.StatusBadRequest
		}
	case errors.Is(err, intake.ErrReportNotFound):
		code = 5001
	case errors.Is(err, intake.ErrFileNotFound):
		code = 5002
	case errors.Is(err, intake.ErrRetracted):
		code = 5101
	case errors.Is(err, intake.ErrFinished):
		code = 5102
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", r.id, "method", r.Method, "route", r.route.Path, "err", err)
	}
	body := map[string]any{
		"type":      "https://haven.invalid/problems/" + kind,
		"title":     http.StatusText(status),
		"status":    status,
		"detail":    detail,
		"requestId": r.id,
	}
	var he *haven.Error
	if errors.As(err, &he) && he.Field != "" {
		body["field"] = he.Field
	}
	if code != 0 {
		body["cybertipCode"] = code
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	enc := jsonEncoder(w)
	_ = enc.Encode(body)
}
