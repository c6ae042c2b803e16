package server

// referralRoutes lists the routes of this part of issue 5.
func (s *Server) referralRoutes() []Route {
	return nil
}
