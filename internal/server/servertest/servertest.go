// Package servertest starts real OpenKMS servers for tests: the same
// server.Run that `openkms server` runs, on a loopback port, with a fresh
// data directory, and hands out AWS SDK clients pointed at it.
package servertest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/server"
)

// Default identities of a test server.
const (
	Account     = "111122223333"
	AccessKeyID = "AKIAOPENKMSTEST00001"
	Secret      = "openkms-test-secret-access-key-000000001"

	OtherAccount     = "444455556666"
	OtherAccessKeyID = "AKIAOPENKMSTEST00002"
	OtherSecret      = "openkms-test-secret-access-key-000000002"

	Region = "us-east-1"
)

// Clock is a settable clock for tests that drive time (deletion dates).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock set to now.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Options adjust a test server.
type Options struct {
	DataDir string // reuse a data directory (restart tests); empty: t.TempDir()
	Clock   *Clock // service clock; nil: real time
	Config  func(*config.Server)
}

// Server is a running test server.
type Server struct {
	Endpoint string
	DataDir  string
	stop     context.CancelFunc
	done     chan error
}

// Start starts a server and stops it when the test ends. Two accounts
// exist: Account (AccessKeyID/Secret) and OtherAccount.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := opts.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := config.Defaults()
	cfg.DataDir = dir
	cfg.AccountID = Account
	cfg.BootstrapAccessKeyID = AccessKeyID
	cfg.BootstrapSecretAccessKey = Secret
	cfg.LogLevel = "warn"
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	seedAccounts(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Endpoint: "http://" + ln.Addr().String(), DataDir: dir, stop: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	o := server.Options{Listener: ln, Out: testWriter{t}, Ready: func(string) { close(ready) }}
	if opts.Clock != nil {
		o.Now = opts.Clock.Now
	}
	go func() { s.done <- server.Run(ctx, cfg, o) }()
	select {
	case <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("server did not start within 20s")
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop shuts the server down gracefully; it is safe to call twice.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	if err := <-s.done; err != nil {
		t.Errorf("server exited with error: %v", err)
	}
}

// Client returns an AWS SDK KMS client for the default account.
func (s *Server) Client(region string) *kms.Client {
	return s.ClientAs(region, AccessKeyID, Secret)
}

// ClientAs returns an AWS SDK KMS client with the given credentials.
func (s *Server) ClientAs(region, accessKeyID, secret string) *kms.Client {
	return NewClient(s.Endpoint, region, accessKeyID, secret)
}

// NewClient returns an AWS SDK KMS client for any endpoint. Retries are
// off so tests see every error as the server sent it.
func NewClient(endpoint, region, accessKeyID, secret string) *kms.Client {
	return kms.New(kms.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
	})
}

// seedAccounts creates the second test account directly in the store,
// with the product's own root key and store, before the server opens it.
func seedAccounts(t testing.TB, cfg config.Server) {
	t.Helper()
	ctx := context.Background()
	provider, err := server.RootKeyProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := provider.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := identity.New(st, sealer).EnsureAccessKey(ctx, OtherAccount, OtherAccessKeyID, OtherSecret); err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}
