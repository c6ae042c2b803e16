package server

import (
	"net/http"
	"testing"
)

func TestRouteWithoutRuleIsRejected(t *testing.T) {
	noop := func(http.ResponseWriter, *request) error { return nil }
	bad := []Route{
		{Method: "GET", Path: "/app/new", Surface: SurfaceStaff, Handler: noop},
		{Method: "GET", Path: "/app/open", Surface: SurfaceStaff, Public: true, Handler: noop},
		{Method: "GET", Path: "/x", Handler: noop, Public: true},
		{Method: "GET", Path: "/y", Surface: SurfaceOps, Public: true},
	}
	for _, rt := range bad {
		if err := rt.check(); err == nil {
			t.Errorf("route %s %s was accepted without a valid rule", rt.Method, rt.Path)
		}
	}
	ok := Route{Method: "GET", Path: "/app/fine", Surface: SurfaceStaff, Perm: "staff.home", Handler: noop}
	if err := ok.check(); err != nil {
		t.Errorf("a complete route was rejected: %v", err)
	}
}
