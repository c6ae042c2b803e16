package server

// supportRoutes lists the routes of family support: volunteers, matching and the provider network (issue 8).
func (s *Server) supportRoutes() []Route {
	return nil
}
