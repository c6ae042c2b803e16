package server

// viewerRoutes lists the routes of this part of issue 5.
func (s *Server) viewerRoutes() []Route {
	return nil
}
