package postgres_test

import (
	"context"
	"testing"

	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/postgres"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.PostgresURL(t) // skips (or fails in CI) before any subtest without a server
	t.Log("running the store conformance suite on PostgreSQL")
	storetest.Run(t, func(t testing.TB) *store.Store {
		url := storetest.PostgresURL(t)
		s, err := postgres.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
