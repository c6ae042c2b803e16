//go:build unix

// Package s3test starts a real S3-compatible server for tests: versitygw,
// with its posix backend on a temporary directory.
//
// The binary is taken from $HAVEN_VERSITYGW, else <repo root>/.bin/versitygw,
// else installed there with `go install` (about a minute, once; a file lock
// keeps parallel test binaries from building it twice). When it cannot be
// installed the test is skipped, unless the CI environment variable is
// "true", where it fails.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/evidence/s3"
)

// VersitygwModule is the `go install` argument for the server binary.
const VersitygwModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

const (
	// Bucket and Prefix are what the returned Config uses.
	Bucket = "haven-evidence-test"
	Prefix = "evidence/"
	Region = "us-east-1"

	installTimeout = 10 * time.Minute
	startTimeout   = 15 * time.Second
)

// Server is a running versitygw, stopped when the test ends.
type Server struct {
	// Config reaches the server; New creates Config.Bucket on first use.
	Config s3.Config
	// Dir is the posix backend's root: objects are files under
	// Dir/<bucket>/<prefix>, so tests can inspect what reached the disk.
	Dir string
}

// Start starts a server for tb and returns its Config.
func Start(tb testing.TB) s3.Config {
	tb.Helper()
	return StartServer(tb).Config
}

// StartServer starts a server for tb, listening on a free port of
// 127.0.0.1, and stops it in tb.Cleanup.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary(tb)
	dir := filepath.Join(tb.TempDir(), "s3")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	access, secret := "haventest", randomHex(tb, 16)

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // the free port may be taken meanwhile
		addr, err := freeAddr()
		if err != nil {
			tb.Fatalf("s3test: find a free port: %v", err)
		}
		if err := start(tb, bin, addr, dir, access, secret); err != nil {
			lastErr = err
			continue
		}
		return &Server{
			Config: s3.Config{
				Endpoint:  addr,
				Bucket:    Bucket,
				Prefix:    Prefix,
				AccessKey: access,
				SecretKey: secret,
				Region:    Region,
			},
			Dir: dir,
		}
	}
	tb.Fatalf("s3test: start versitygw: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin, addr, dir, access, secret string) error {
	tb.Helper()
	var out lockedBuffer
	cmd := exec.Command(bin, "--quiet", "--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+access, "ROOT_SECRET_ACCESS_KEY="+secret)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, tail(out.String()))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("versitygw did not answer on %s within %v: %s", addr, startTimeout, tail(out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			if s := tail(out.String()); s != "" {
				tb.Logf("versitygw output: %s", s)
			}
		}
	})
	return nil
}

// Binary returns the path of the versitygw binary, installing it into
// <repo root>/.bin if needed (see the package comment).
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("HAVEN_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("s3test: HAVEN_VERSITYGW=%s: %v", p, err)
		}
		return p
	}
	root, err := repoRoot()
	if err != nil {
		unavailable(tb, "find the repository root: %v", err)
	}
	binDir := filepath.Join(root, ".bin")
	bin := filepath.Join(binDir, "versitygw")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		unavailable(tb, "create %s: %v", binDir, err)
	}
	lock, err := os.OpenFile(filepath.Join(binDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		unavailable(tb, "open the install lock: %v", err)
	}
	defer lock.Close()
	// Held while checking too: a binary being installed is not yet usable.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		unavailable(tb, "lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin
	} else if !errors.Is(err, fs.ErrNotExist) && err != nil {
		unavailable(tb, "stat %s: %v", bin, err)
	}

	tb.Logf("s3test: installing %s into %s (about a minute, once)", VersitygwModule, binDir)
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", VersitygwModule)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable(tb, "go install %s: %v\n%s", VersitygwModule, err, tail(string(out)))
	}
	return bin
}

// unavailable skips the test, or fails it in CI, where the S3 tests must
// run.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := "s3test: versitygw unavailable: " + fmt.Sprintf(format, args...) +
		" (set HAVEN_VERSITYGW to a versitygw binary, or allow `go install`)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
