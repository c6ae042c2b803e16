package sqlite_test

import (
	"context"
	"testing"

	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/sqlite"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) *store.Store {
		s, err := sqlite.Open(context.Background(), storetest.SQLitePath(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenIsIdempotent(t *testing.T) {
	path := storetest.SQLitePath(t)
	for range 2 {
		s, err := sqlite.Open(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
