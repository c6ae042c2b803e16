package server

import (
	"net/http"

	"github.com/haven-hotline/haven"
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
