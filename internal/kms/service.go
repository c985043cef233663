// Package kms is the OpenKMS service core: one method per AWS KMS operation.
// Each method validates its input, authorizes the caller, acts on storage
// and returns a typed result or a *kmserr.Error carrying the AWS exception a
// client expects.
//
// The package knows nothing of HTTP or JSON; the api package speaks the
// wire protocol and calls in here. Key material is kept sealed under the
// root key in storage and is unsealed only in memory, for the duration of a
// call.
//
// Operations follow the AWS KMS API reference:
// https://docs.aws.amazon.com/kms/latest/APIReference/
package kms

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/usage"
)

// Caller is who makes a request and from where.
type Caller struct {
	Principal principal.Principal
	// Region is the region the request was signed for; keys live in it.
	Region string
	// SourceIP is the client's address (aws:SourceIp); SecureTransport is
	// whether the request came over TLS (aws:SecureTransport).
	SourceIP        string
	SecureTransport bool
	// SourceVpc and SourceVpce name the network the request came through,
	// as the server's configuration declares it (aws:SourceVpc,
	// aws:SourceVpce).
	SourceVpc, SourceVpce string
	// ViaService is set when an integrated service calls on the
	// principal's behalf: kms:ViaService ("s3.us-east-1.amazonaws.com"),
	// aws:CalledVia ("s3.amazonaws.com"), and the service's own principal.
	ViaService, CalledVia, InvokedBy string
}

// Config wires a Service.
type Config struct {
	Store  storage.Store
	Sealer rootkey.Sealer
	// Now is the clock; nil means time.Now. Tests inject a fake clock to
	// drive scheduled deletion.
	Now func() time.Time
	// Rand is the source of randomness for key material, nonces and
	// GenerateRandom; nil means crypto/rand.
	Rand io.Reader
	// Logger receives operational logs (never secrets); nil discards.
	Logger *slog.Logger
	// Policies returns callers' IAM identity policies; nil means callers
	// have none (only account root users then pass IAM checks).
	Policies PolicySource
	// Usage tracks each key's last successful cryptographic use (for
	// GetKeyLastUsage); nil means no tracking.
	Usage *usage.Tracker
	// HSMClusters are the PKCS#11 tokens custom key stores may use; nil
	// means none (CreateCustomKeyStore then fails with
	// CloudHsmClusterNotFoundException).
	HSMClusters HSMClusters
}

// Service implements the KMS operations. It is safe for concurrent use.
type Service struct {
	store   storage.Store
	sealer  rootkey.Sealer
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
	aeads   aeadCache
	keys    keyCache
	records recordCache

	policies    PolicySource
	policyCache policyCache
	usage       *usage.Tracker

	clusters HSMClusters
	cks      cksConns
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, sealer: cfg.Sealer, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger, policies: cfg.Policies, usage: cfg.Usage, clusters: cfg.HSMClusters}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// view and update run storage transactions, turning storage failures into
// KMSInternalException while passing *kmserr.Error values through.
func (s *Service) view(ctx context.Context, fn func(storage.Reader) error) error {
	return internalize(s.store.View(ctx, fn))
}

func (s *Service) update(ctx context.Context, fn func(storage.Writer) error) error {
	return internalize(s.store.Update(ctx, fn))
}

// Trace collects what a request touched, for the audit record: the keys it
// resolved. The HTTP layer attaches one to the request context with
// WithTrace; the service fills it. It is not safe for concurrent use (one
// request, one goroutine).
type Trace struct {
	KeyARNs []string
	// Decision is the last authorization decision the request made.
	Decision *Decision
}

type traceKey struct{}

// WithTrace returns a context carrying a fresh Trace.
func WithTrace(ctx context.Context) (context.Context, *Trace) {
	t := &Trace{}
	return context.WithValue(ctx, traceKey{}, t), t
}

// noteKey records that the request used a key.
func noteKey(ctx context.Context, keyARN string) {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	if t == nil {
		return
	}
	for _, a := range t.KeyARNs {
		if a == keyARN {
			return
		}
	}
	t.KeyARNs = append(t.KeyARNs, keyARN)
}

// noteDecision records an authorization decision on the request's trace.
func noteDecision(ctx context.Context, d Decision) {
	if t, _ := ctx.Value(traceKey{}).(*Trace); t != nil {
		t.Decision = &d
	}
}
