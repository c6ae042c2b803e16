package server

// identifierRoutes lists the routes of this part of issue 5.
func (s *Server) identifierRoutes() []Route {
	return nil
}
