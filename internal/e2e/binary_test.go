package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/server/servertest"
)

// binDir holds the openkms binary built for this test binary run; TestMain
// removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var build struct {
	once sync.Once
	path string
	err  error
}

// openkmsBinary builds ./cmd/openkms once per test binary run and returns
// the path of the executable.
func openkmsBinary(t testing.TB) string {
	t.Helper()
	requireTool(t, "go")
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "openkms-e2e-bin-")
		if err != nil {
			build.err = err
			return
		}
		binDir = dir
		path := filepath.Join(dir, "openkms")
		out, err := exec.Command("go", "build", "-o", path, "github.com/openkms/openkms/cmd/openkms").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./cmd/openkms: %v\n%s", err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// requireTool skips the test if the named program is not on PATH, or fails
// it if OPENKMS_REQUIRE_ALL=1 (as in CI), where every test must run.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("OPENKMS_REQUIRE_ALL") == "1" {
			t.Fatalf("%s not found on PATH (OPENKMS_REQUIRE_ALL=1): %v", name, err)
		}
		t.Skipf("%s not found on PATH: %v", name, err)
	}
}

// process is what the harness knows about a server it started.
type process struct {
	done   chan struct{} // closed once the process has exited and been reaped
	err    error         // cmd.Wait's result, valid after done
	output *syncBuffer   // stdout and stderr
}

var processes sync.Map // *exec.Cmd → *process

func processOf(t testing.TB, cmd *exec.Cmd) *process {
	t.Helper()
	p, ok := processes.Load(cmd)
	if !ok {
		t.Fatalf("process %v was not started by startProcess", cmd.Args)
	}
	return p.(*process)
}

// waitExit waits up to timeout for a process from startProcess to exit and
// returns cmd.Wait's result; it fails the test if the process is still
// running after timeout.
func waitExit(t testing.TB, cmd *exec.Cmd, timeout time.Duration) error {
	t.Helper()
	p := processOf(t, cmd)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("openkms (pid %d) still running after %v; output:\n%s", cmd.Process.Pid, timeout, p.output)
		return nil
	}
}

// killProcess sends SIGKILL to a process from startProcess and waits until
// it is reaped, so its file locks are released.
func killProcess(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill openkms: %v", err)
	}
	waitExit(t, cmd, 10*time.Second)
}

// processOutput returns what a process from startProcess has written to
// stdout and stderr so far.
func processOutput(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	return processOf(t, cmd).output.String()
}

// startProcess runs `openkms server` on dataDir and a free loopback port
// and waits until GET /healthz answers 200. The bootstrap identity is
// servertest's (Account, AccessKeyID, Secret), so servertest.NewClient
// signs for it. env entries (KEY=VALUE) are added last and override. The
// process is killed when the test ends.
func startProcess(t testing.TB, dataDir string, env ...string) (endpoint string, cmd *exec.Cmd) {
	t.Helper()
	bin := openkmsBinary(t)
	// The port is picked by listening and closing, so another process can
	// take it in between; retry when that happens.
	for attempt := 1; ; attempt++ {
		endpoint, cmd, err := tryStartProcess(t, bin, dataDir, env)
		if err == nil {
			return endpoint, cmd
		}
		if attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			continue
		}
		t.Fatal(err)
	}
}

func tryStartProcess(t testing.TB, bin, dataDir string, env []string) (string, *exec.Cmd, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, "server", "--listen", addr, "--data-dir", dataDir)
	cmd.Env = append(os.Environ(),
		"OPENKMS_ACCOUNT_ID="+servertest.Account,
		"OPENKMS_BOOTSTRAP_ACCESS_KEY_ID="+servertest.AccessKeyID,
		"OPENKMS_BOOTSTRAP_SECRET_ACCESS_KEY="+servertest.Secret,
		"OPENKMS_LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, env...) // later entries win
	p := &process{done: make(chan struct{}), output: new(syncBuffer)}
	cmd.Stdout = p.output
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting openkms: %v", err)
	}
	processes.Store(cmd, p)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		processes.Delete(cmd)
	})

	endpoint := "http://" + addr
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.done:
			return "", nil, fmt.Errorf("openkms exited before it was healthy (%v); output:\n%s", p.err, p.output)
		default:
		}
		if resp, err := hc.Get(endpoint + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return endpoint, cmd, nil
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.done
			return "", nil, fmt.Errorf("openkms not healthy at %s/healthz within 20s; output:\n%s", endpoint, p.output)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// awsCLIEnv is the environment for running the AWS CLI in a test: the
// caller's own AWS settings (profiles, config and credentials files) are
// dropped, and only the default test identity is set.
func awsCLIEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+servertest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+servertest.Secret,
		"AWS_DEFAULT_REGION="+servertest.Region,
		"AWS_PAGER=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}
