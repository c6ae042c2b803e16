package server

// triageRoutes lists the routes of this part of issue 5.
func (s *Server) triageRoutes() []Route {
	return nil
}
