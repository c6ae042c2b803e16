package evidence_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"testing"

	"github.com/haven-hotline/haven/internal/evidence"
)

const benchSize = 64 << 20

// BenchmarkSeal64MiB measures Seal end to end: MD5, SHA-1, SHA-256,
// encryption and the write (with fsync) to a Local backend.
func BenchmarkSeal64MiB(b *testing.B) {
	local, err := evidence.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	benchSeal(b, local, -1)
}

// BenchmarkMD5Only64MiB is MD5 alone over the same bytes, the yardstick for
// BenchmarkSeal64MiB in the same run.
func BenchmarkMD5Only64MiB(b *testing.B) {
	data := synthetic(benchSize, 1, nil)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		md5.Sum(data)
	}
}

// BenchmarkSealModes64MiB compares how many hashes run on a second
// goroutine (side0: none, side1: MD5, side2: MD5 and SHA-1), writing to disk
// or to a backend that discards, to separate CPU from I/O.
func BenchmarkSealModes64MiB(b *testing.B) {
	for _, backend := range []string{"local", "discard"} {
		for _, side := range []int{0, 1, 2} {
			b.Run(fmt.Sprintf("%s/side%d", backend, side), func(b *testing.B) {
				var be evidence.Backend = discardBackend{}
				if backend == "local" {
					l, err := evidence.NewLocal(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					be = l
				}
				benchSeal(b, be, side)
			})
		}
	}
}

func benchSeal(b *testing.B, be evidence.Backend, side int) {
	v := evidence.NewVault(be, newMaster(b))
	if side >= 0 {
		evidence.SetSideHashes(v, side)
	}
	data := synthetic(benchSize, 1, nil)
	ctx := context.Background()
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		id := newID()
		if _, err := v.Seal(ctx, id, bytes.NewReader(data), 1<<30); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := v.Delete(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

type discardBackend struct{}

func (discardBackend) Put(ctx context.Context, key string, r io.Reader) error {
	_, err := io.CopyBuffer(io.Discard, r, make([]byte, 1<<20))
	return err
}
func (discardBackend) Get(context.Context, string) (io.ReadCloser, error) { return nil, io.EOF }
func (discardBackend) Delete(context.Context, string) error               { return nil }
func (discardBackend) List(context.Context, func(string) error) error     { return nil }
func (discardBackend) Ping(context.Context) error                         { return nil }
