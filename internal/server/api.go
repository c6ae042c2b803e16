package server

import (
	"encoding/hex"
	"net/http"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/upload"
)

func (s *Server) apiWhoami(w http.ResponseWriter, r *request) error {
	u, err := s.app.Accounts.User(r.Context(), r.actor, r.actor.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": u.ID, "login": u.Login, "name": u.DisplayName,
		"role": string(u.Role), "agency_id": u.AgencyID})
	return nil
}

func (s *Server) apiAgency(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var ag *haven.Agency
	var err error
	if r.actor.Role == haven.RoleLE || r.actor.Can(haven.PermViewAgencies) {
		ag, err = s.app.Accounts.Agency(r.Context(), r.actor, id)
	} else {
		err = haven.ErrNotFound
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": ag.ID, "name": ag.Name, "kind": string(ag.Kind), "jurisdiction": ag.Jurisdiction})
	return nil
}

// apiEvidence acquires one file sent as multipart/form-data (field
// "file"; optional text fields "context_type" and "context_id" sent
// before it). The body is streamed into the vault, never parsed into
// memory or temporary files.
func (s *Server) apiEvidence(w http.ResponseWriter, r *request) error {
	var acq *haven.Acquisition
	_, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 8, MaxFieldBytes: 1 << 10},
		func(fields map[string][]string, f *upload.File) error {
			if f.Field != "file" {
				return haven.Invalidf(f.Field, "the file must be sent in the field named file")
			}
			first := func(k string) string {
				if v := fields[k]; len(v) > 0 {
					return v[0]
				}
				return ""
			}
			source := "api"
			if r.actor.Role == haven.RoleESP {
				source = "esp"
			}
			var err error
			acq, err = s.app.Custody.Acquire(r.Context(), r.actor, f, custody.Source{Kind: source, Filename: f.Name,
				ContentType: f.ContentType, ContextType: first("context_type"), ContextID: first("context_id")})
			return err
		})
	if err != nil {
		return err
	}
	if acq == nil {
		return haven.Invalidf("file", "no file was sent: use multipart/form-data with a part named file")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"acquisition_id": acq.ID, "item_id": acq.ItemID, "size": acq.Size,
		"md5": hex.EncodeToString(acq.MD5), "sha1": hex.EncodeToString(acq.SHA1), "sha256": hex.EncodeToString(acq.SHA256)})
	return nil
}
