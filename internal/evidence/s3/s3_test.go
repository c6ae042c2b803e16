package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence/s3"
	"github.com/haven-hotline/haven/internal/evidence/s3/s3test"
)

func TestNewCreatesBucketAndPrefixesKeys(t *testing.T) {
	srv := s3test.StartServer(t)
	ctx := context.Background()
	a, err := s3.New(ctx, srv.Config)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// A second backend on the same bucket (bucket exists now), other prefix.
	cfg := srv.Config
	cfg.Prefix = "renditions" // the trailing slash is added
	b, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New on an existing bucket: %v", err)
	}
	ka, kb := "0193abcd-0000-7000-8000-0000000000aa", "0193abcd-0000-7000-8000-0000000000bb"
	if err := a.Put(ctx, ka, bytes.NewReader([]byte("blob a"))); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, kb, bytes.NewReader([]byte("blob b"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		b    *s3.Backend
		want string
	}{{a, ka}, {b, kb}} {
		var got []string
		if err := tc.b.List(ctx, func(k string) error { got = append(got, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{tc.want}) {
			t.Fatalf("List = %v, want [%s]", got, tc.want)
		}
	}
	if _, err := b.Get(ctx, ka); !haven.IsKind(err, haven.KindNotFound) {
		t.Fatalf("Get across prefixes: err = %v, want kind not_found", err)
	}
	for _, p := range []string{
		filepath.Join(srv.Dir, s3test.Bucket, "evidence", ka),
		filepath.Join(srv.Dir, s3test.Bucket, "renditions", kb),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("object not where expected: %v", err)
		}
	}
}

// TestLargeMultipartPut streams more than two parts with unknown size.
func TestLargeMultipartPut(t *testing.T) {
	cfg := s3test.Start(t)
	ctx := context.Background()
	b, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*s3.PartSize + 12345
	src := io.LimitReader(rand.NewChaCha8([32]byte{1}), n)
	h := sha256.New()
	key := "0193abcd-0000-7000-8000-00000000001a"
	if err := b.Put(ctx, key, io.TeeReader(src, h)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	rc, err := b.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h2 := sha256.New()
	got, err := io.Copy(h2, rc)
	if err != nil || got != n {
		t.Fatalf("Get read %d bytes, %v; want %d", got, err, n)
	}
	if !bytes.Equal(h.Sum(nil), h2.Sum(nil)) {
		t.Fatal("object differs from what was put")
	}
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	var b *s3.Backend
	t.Run("server", func(t *testing.T) {
		var err error
		b, err = s3.New(ctx, s3test.Start(t))
		if err != nil {
			t.Fatal(err)
		}
	}) // the server stops here
	start := time.Now()
	if err := b.Ping(ctx); !haven.IsKind(err, haven.KindUnavailable) {
		t.Fatalf("Ping of a stopped server: err = %v, want kind unavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Ping of a stopped server took %v; a readiness check must answer fast", d)
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	good := s3test.Start(t)
	wrongSecret := good
	wrongSecret.SecretKey = "wrong"
	for name, cfg := range map[string]s3.Config{
		"no endpoint":     {Bucket: "b"},
		"no bucket":       {Endpoint: good.Endpoint},
		"absolute prefix": {Endpoint: good.Endpoint, Bucket: "b", Prefix: "/x"},
		"dotdot prefix":   {Endpoint: good.Endpoint, Bucket: "b", Prefix: "a/../b"},
		"wrong secret":    wrongSecret,
	} {
		if _, err := s3.New(ctx, cfg); err == nil {
			t.Errorf("New with %s succeeded", name)
		}
	}
}
