package server

import (
	"net/http"
)

func (s *Server) leHome(w http.ResponseWriter, r *request) error {
	ag, err := s.app.Accounts.Agency(r.Context(), r.actor, r.actor.AgencyID)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_home", s.newPage(r, "Referrals", ag))
}

// leAgency shows an agency's profile to its own users; any other agency's
// ID answers exactly like one that does not exist.
func (s *Server) leAgency(w http.ResponseWriter, r *request) error {
	ag, err := s.app.Accounts.Agency(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_agency", s.newPage(r, ag.Name, ag))
}
