package server

// offenderRoutes lists the routes of sex-offender tracking (issue 7).
func (s *Server) offenderRoutes() []Route {
	return nil
}
