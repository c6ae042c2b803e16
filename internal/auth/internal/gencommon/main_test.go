package main

import (
	"slices"
	"testing"
)

func TestFilter(t *testing.T) {
	in := []string{"123456", "password", "Password", "11111111", "ééééééééé", "cafe\u0301 noir", "café noir", "a\nbcdefghi", "iloveyou1", "password"}
	got := filter(in)
	want := []string{"password", "café noir", "iloveyou1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheckIntegrity(t *testing.T) {
	// sha512("") in npm's integrity notation.
	const empty = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
	if err := checkIntegrity(nil, empty); err != nil {
		t.Errorf("matching integrity: got %v, want nil", err)
	}
	if err := checkIntegrity([]byte("x"), empty); err == nil {
		t.Errorf("mismatched integrity: got nil, want an error")
	}
	if err := checkIntegrity(nil, "sha1-abc"); err == nil {
		t.Errorf("non-sha512 integrity: got nil, want an error")
	}
}
