package server

// caseRoutes lists the routes of casework: cases, recovery plans, Hope Bags and assistance requests (issue 8).
func (s *Server) caseRoutes() []Route {
	return nil
}
