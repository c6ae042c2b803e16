package server

import (
	"net/http"

	"github.com/haven-hotline/haven"
)

// leHomeData is the portal's home page: the agency and how many of its
// referrals there are and await acknowledgement.
type leHomeData struct {
	*haven.Agency
	Referrals int
	New       int
	// More is true when the agency has more referrals than were counted.
	More bool
}

// leHomeCount caps the referrals counted for the home page.
const leHomeCount = 500

func (s *Server) leHome(w http.ResponseWriter, r *request) error {
	ag, err := s.app.Accounts.Agency(r.Context(), r.actor, r.actor.AgencyID)
	if err != nil {
		return err
	}
	rows, err := s.app.Referrals.AgencyReferrals(r.Context(), r.actor, "", leHomeCount)
	if err != nil {
		return err
	}
	d := &leHomeData{Agency: ag, Referrals: len(rows), More: len(rows) == leHomeCount}
	for _, row := range rows {
		if !row.Acknowledged() {
			d.New++
		}
	}
	return s.render(w, http.StatusOK, "le_home", s.newPage(r, "Referrals", d))
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
