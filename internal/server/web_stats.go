package server

// statsRoutes lists the routes of statistics and transparency (issue 9):
// the internal dashboards, the public data releases and research exports.
func (s *Server) statsRoutes() []Route {
	return nil
}
