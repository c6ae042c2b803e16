package resilience_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/store/storetest"
)

// binary builds cmd/haven once per test run.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "haven-resilience-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "haven")
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build haven: %w", err)
	}
	cmd := exec.Command(goBin, "build", "-o", out, "github.com/haven-hotline/haven/cmd/haven")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build haven: %v\n%s", err, msg)
	}
	return out, nil
})

// install is one installation: a data folder, a database and the
// environment of every command run on it.
type install struct {
	t   *testing.T
	bin string
	env []string
}

func newInstall(t *testing.T, engine string) *install {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HAVEN_DATA_DIR="+t.TempDir(), "HAVEN_LOG_LEVEL=error")
	if engine == "postgres" {
		env = append(env, "HAVEN_DATABASE_URL="+storetest.PostgresURL(t))
	}
	return &install{t: t, bin: bin, env: env}
}

// with returns a copy of the installation with more environment.
func (in *install) with(kv ...string) *install {
	c := *in
	c.env = append(append([]string(nil), in.env...), kv...)
	return &c
}

// run runs a haven command and returns its standard output.
func (in *install) run(args ...string) string {
	in.t.Helper()
	cmd := exec.Command(in.bin, args...)
	cmd.Env = in.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		in.t.Fatalf("haven %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// espToken makes an ESP account and a bearer token for it.
func (in *install) espToken(name string) string {
	in.t.Helper()
	var creds struct{ Username string }
	if err := json.Unmarshal([]byte(in.run("esp", "create", name, "--json")), &creds); err != nil {
		in.t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(in.run("token", "create", "--user", creds.Username, "--json")), &tok); err != nil {
		in.t.Fatal(err)
	}
	return tok.Token
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a running `haven serve`.
type server struct {
	in   *install
	port int
	cmd  *exec.Cmd
	done chan error
}

// URL is the server's base URL.
func (s *server) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

// start starts the server on its port and waits until /readyz answers 200.
func (in *install) start(port int) *server {
	in.t.Helper()
	s := &server{in: in, port: port}
	s.launch()
	return s
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (s *server) launch() {
	t := s.in.t
	t.Helper()
	s.cmd = exec.Command(s.in.bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", s.port))
	s.cmd.Env = s.in.env
	logs := &lockedBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(s.cmd, s.done)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-s.done:
			logs.mu.Lock()
			defer logs.mu.Unlock()
			t.Fatalf("haven serve exited at start: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("haven serve was not ready within 60 s")
}

// kill stops the server with SIGKILL and waits for it to be gone.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop stops the server gracefully.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.kill()
	}
}

// errDown is a request that found no server or a server that could not
// answer (a transport error or a 5xx while it starts): the client tries
// again.
var errDown = errors.New("server unavailable")

// api is a JSON-API client of one ESP.
type api struct {
	base  func() string
	token string
	http  *http.Client
}

// call sends a request and decodes a JSON answer into out. It returns
// errDown for a transport error or a 5xx, and the status otherwise.
func (c *api) call(ctx context.Context, method, path, ct string, body []byte, hdr map[string]string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, errDown
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, errDown
	}
	if resp.StatusCode >= 500 {
		return resp.StatusCode, errDown
	}
	if out != nil && len(b) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode, nil
}
