// Package server is OpenKMS's composition root: it opens the configured
// backends (storage, root key), wires the identity store, the service core
// and the HTTP API together, runs background jobs, and serves until its
// context is cancelled. Only this package imports concrete backends.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/api"
	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/iamapi"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/metrics"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/quota"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/rootkey/pkcs11root"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
	"github.com/openkms/openkms/internal/storage/pgstore"
	"github.com/openkms/openkms/internal/usage"
)

// File names inside the data directory.
const (
	DBFile          = "openkms.db"
	RootKeyFile     = "root.key"
	CredentialsFile = "bootstrap-credentials.json"
)

// Options are the parts of a server that tests replace.
type Options struct {
	// Now is the service clock (nil: time.Now).
	Now func() time.Time
	// Listener, if set, is served instead of listening on cfg.Listen.
	Listener net.Listener
	// Out receives the start-up banner (nil: os.Stdout).
	Out io.Writer
	// Logger receives logs (nil: built from cfg).
	Logger *slog.Logger
	// Ready, if set, is called with the served address once the server
	// accepts connections.
	Ready func(addr string)
}

// Run starts the server and blocks until ctx is cancelled, then shuts down
// gracefully. It returns an error if start-up fails.
func Run(ctx context.Context, cfg config.Server, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	log := opts.Logger
	if log == nil {
		log = NewLogger(cfg, os.Stderr)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	provider, err := RootKeyProvider(cfg)
	if err != nil {
		return err
	}
	sealer, err := provider.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening root key (%s): %w", provider.Name(), err)
	}
	store, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := checkRootKey(ctx, store, sealer); err != nil {
		return err
	}
	var reg *metrics.Registry
	if cfg.Metrics != "off" {
		reg = metrics.New()
	}
	store = metrics.InstrumentStore(store, reg)
	tracker, err := usage.New(ctx, usage.Config{Store: store, Now: opts.Now, Logger: log})
	if err != nil {
		return err
	}
	defer func() { // before store.Close (deferred calls run last-in, first-out)
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tracker.Close(c); err != nil {
			log.Error("flushing key usage", "error", err)
		}
	}()

	ids := identity.New(store, sealer, identity.WithClock(opts.Now))
	creds, err := bootstrap(ctx, cfg, ids)
	if err != nil {
		return err
	}
	svc := kms.New(kms.Config{Store: store, Sealer: sealer, Now: opts.Now, Logger: log, Policies: identityPolicies{ids}, Usage: tracker,
		HSMClusters: newHSMClusters(cfg.HSMClusters)})
	defer svc.CloseCustomKeyStores()
	verifier := &sigv4.Verifier{Source: ids, Service: "kms", MaxSkew: time.Duration(cfg.MaxClockSkew)}
	auditLog, err := openAudit(cfg, sealer, opts.Now, log)
	if err != nil {
		return err
	}
	if auditLog != nil {
		defer func() {
			if err := auditLog.Close(); err != nil {
				log.Error("closing the audit log", "error", err)
			}
		}()
	}
	reg.SetKeyStates(svc.CountKeysByState)
	if auditLog != nil {
		reg.SetAuditStats(auditLog.Stats)
	}
	netCfg, err := networkConfig(cfg)
	if err != nil {
		return err
	}
	var limiter *quota.Limiter
	if cfg.Quotas != "" && cfg.Quotas != "off" {
		qcfg, err := quota.Parse(cfg.Quotas)
		if err != nil {
			return fmt.Errorf("quotas: %w", err)
		}
		if limiter, err = quota.New(qcfg); err != nil {
			return fmt.Errorf("quotas: %w", err)
		}
	}
	handler := api.New(api.Config{Service: svc, Verifier: verifier, Regions: cfg.Regions, Audit: auditLog, Logger: log,
		Metrics: reg, Usage: tracker, Now: opts.Now,
		TrustedProxies: netCfg.proxies, Networks: netCfg.networks, ViaServices: netCfg.via, Quota: limiter, MaxInFlight: cfg.MaxInFlight})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := store.View(r.Context(), func(storage.Reader) error { return nil }); err != nil {
			http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	if reg != nil {
		mux.Handle("GET /metrics", reg.Handler())
	}
	admin := adminHandler(verifier, store, sealer, cfg.AccountID, log)
	admin.explain = svc.Explain
	mux.Handle(AdminPathPrefix, admin)
	iamCfg := iamapi.Config{Identity: ids, AdminAccount: cfg.AccountID,
		MaxSkew: time.Duration(cfg.MaxClockSkew), Logger: log}
	if auditLog != nil {
		iamCfg.Audit = auditLog
	}
	iamHandler := iamapi.New(iamCfg)
	mux.Handle("/", withIAM(handler, iamHandler))

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
		}
	}
	maxConns := cfg.MaxConnections
	if maxConns == 0 {
		maxConns = DefaultMaxConnections
	}
	ln = newLimitListener(ln, maxConns)
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("loading TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}

	if cfg.PprofListen != "" {
		stopPprof, err := startPprof(cfg.PprofListen, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}

	jobs, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		runScheduledJobs(jobs, store, svc, ids, time.Duration(cfg.SchedulerInterval), log)
	}()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	endpoint := scheme + "://" + ln.Addr().String()
	printBanner(out, endpoint, cfg, creds)
	log.Info("openkms serving", "endpoint", endpoint, "data_dir", cfg.DataDir)
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	log.Info("openkms shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "error", err)
	}
	stopJobs()
	<-jobsDone
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// runScheduledJobs runs the schedules kept in storage at start and then
// every interval: key deletion, automatic rotation, and expiry of imported
// key material. The schedules are in storage, so they survive restarts.
//
// On a shared store (PostgreSQL) only the node holding the scheduler lock
// runs them, so each key is rotated, expired or deleted once per due date,
// not once per node. (Each step is also transactional and re-checks its
// record, so a lost lock never makes a job run twice.)
func runScheduledJobs(ctx context.Context, store storage.Store, svc *kms.Service, ids *identity.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	jobs := []struct {
		name string
		run  func(context.Context) (int, error)
	}{
		{"deleted keys past their deletion date", svc.DeleteDueKeys},
		{"rotated keys due for automatic rotation", svc.RotateDueKeys},
		{"expired imported key material", svc.ExpireDueMaterial},
		{"expired STS sessions", ids.DeleteExpiredSessions},
	}
	locker, _ := store.(clusterLocker)
	runAll := func() {
		for _, j := range jobs {
			if n, err := j.run(ctx); err != nil && ctx.Err() == nil {
				log.Error("scheduled job failed", "job", j.name, "error", err)
			} else if n > 0 {
				log.Info(j.name, "count", n)
			}
		}
	}
	for {
		if locker == nil {
			runAll()
		} else if unlock, ok, err := locker.TryLock(ctx, "openkms-scheduler"); err != nil {
			if ctx.Err() == nil {
				log.Warn("scheduler lock unavailable", "error", err)
			}
		} else if ok {
			runAll()
			unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// bootstrapCredentials is what the server prints once and writes to the
// credentials file when it generates the first account's access key.
type bootstrapCredentials struct {
	AccountID       string `json:"AccountId"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// bootstrap creates the first account on first start, or pins the
// configured bootstrap access key. It returns generated credentials to
// print, or nil.
func bootstrap(ctx context.Context, cfg config.Server, ids *identity.Store) (*bootstrapCredentials, error) {
	if cfg.BootstrapAccessKeyID != "" {
		if _, err := ids.EnsureAccessKey(ctx, cfg.AccountID, cfg.BootstrapAccessKeyID, cfg.BootstrapSecretAccessKey); err != nil {
			return nil, fmt.Errorf("bootstrap access key: %w", err)
		}
		return nil, nil
	}
	has, err := ids.HasAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	if has {
		return nil, nil
	}
	ak, err := ids.CreateAccount(ctx, cfg.AccountID, "", "")
	if err != nil {
		return nil, fmt.Errorf("creating the first account: %w", err)
	}
	creds := &bootstrapCredentials{AccountID: cfg.AccountID, AccessKeyID: ak.AccessKeyID, SecretAccessKey: ak.Secret}
	b, _ := json.MarshalIndent(creds, "", "  ")
	path := filepath.Join(cfg.DataDir, CredentialsFile)
	if err := writeFileSync(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return creds, nil
}

func writeFileSync(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func printBanner(w io.Writer, endpoint string, cfg config.Server, creds *bootstrapCredentials) {
	fmt.Fprintf(w, "OpenKMS is listening on %s (data directory %s)\n", endpoint, cfg.DataDir)
	if creds != nil {
		fmt.Fprintf(w, "\nCreated account %s. Its root credentials are shown once (also saved, mode 0600, in %s):\n",
			creds.AccountID, filepath.Join(cfg.DataDir, CredentialsFile))
		fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n", creds.AccessKeyID, creds.SecretAccessKey)
	}
	fmt.Fprintf(w, "\nConnect with:\n  aws --endpoint-url %s --region us-east-1 kms list-keys\n", endpoint)
}

// NewLogger builds the structured logger the configuration asks for.
func NewLogger(cfg config.Server, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// clusterLocker is implemented by stores shared by many nodes.
type clusterLocker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// RootKeyPath is where the file root key lives for cfg.
func RootKeyPath(cfg config.Server) string {
	if cfg.RootKeyFile != "" {
		return cfg.RootKeyFile
	}
	return filepath.Join(cfg.DataDir, RootKeyFile)
}

// OpenStore opens the store cfg names: the embedded bbolt store in the
// data directory, or PostgreSQL.
func OpenStore(ctx context.Context, cfg config.Server) (storage.Store, error) {
	if cfg.Storage != "" {
		st, err := pgstore.Open(ctx, cfg.Storage, &pgstore.Options{Schema: cfg.StorageSchema})
		if err != nil {
			return nil, fmt.Errorf("opening PostgreSQL store: %w", err)
		}
		return st, nil
	}
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, DBFile), nil)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	return st, nil
}

// rootKeyCheckKey holds a value sealed under the root key when the store
// was first used, so a node started with another root key refuses to
// serve instead of failing every request (or, worse, sealing new records
// under a key the other nodes cannot open).
const rootKeyCheckKey = "meta/root-key-check"

var rootKeyCheckAAD = []byte("openkms:root-key-check:v1")

func checkRootKey(ctx context.Context, store storage.Store, sealer rootkey.Sealer) error {
	return store.Update(ctx, func(w storage.Writer) error {
		sealed, err := w.Get(rootKeyCheckKey)
		if errors.Is(err, storage.ErrNotFound) {
			sealed, err := sealer.Seal([]byte("openkms"), rootKeyCheckAAD)
			if err != nil {
				return err
			}
			return w.Put(rootKeyCheckKey, sealed)
		}
		if err != nil {
			return fmt.Errorf("reading the root key check: %w", err)
		}
		if _, err := sealer.Open(sealed, rootKeyCheckAAD); err != nil {
			return errors.New("the root key does not open this store: this node has a different root key than the one the data was sealed with; refusing to start")
		}
		return nil
	})
}

// RootKeyProvider builds the root key provider cfg names.
func RootKeyProvider(cfg config.Server) (rootkey.Provider, error) {
	if cfg.RootKeyProvider != "pkcs11" {
		return fileroot.NewProvider(RootKeyPath(cfg)), nil
	}
	pin := cfg.PKCS11PIN
	if cfg.PKCS11PINFile != "" {
		b, err := os.ReadFile(cfg.PKCS11PINFile)
		if err != nil {
			return nil, fmt.Errorf("reading pkcs11_pin_file: %w", err)
		}
		pin = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat(RootKeyPath(cfg)); err == nil {
		return nil, fmt.Errorf("root_key_provider is pkcs11 but a file root key exists at %s: adopt it into the HSM with 'openkms admin root-key adopt-hsm' and then delete it", RootKeyPath(cfg))
	}
	return pkcs11root.NewProvider(pkcs11root.Config{
		HSM:            hsm.Config{ModulePath: cfg.PKCS11Module, TokenLabel: cfg.PKCS11Token, PIN: pin},
		KeyLabel:       cfg.PKCS11KeyLabel,
		WrappedKeyPath: filepath.Join(cfg.DataDir, pkcs11root.WrappedKeyFileName),
	}), nil
}

// AuditDir is where the audit files and signing key live for cfg.
func AuditDir(cfg config.Server) string {
	if cfg.AuditDir != "" {
		return cfg.AuditDir
	}
	return filepath.Join(cfg.DataDir, "audit")
}

// openAudit opens the audit logger cfg asks for, or returns nil when
// auditing is off.
func openAudit(cfg config.Server, sealer rootkey.Sealer, now func() time.Time, log *slog.Logger) (*audit.Logger, error) {
	if cfg.AuditSink == "off" {
		log.Warn("audit is OFF: requests are not recorded")
		return nil, nil
	}
	// The default durability writes each record (write(2)) before the
	// response is sent, so a killed process loses nothing, and fsyncs every
	// second; "sync" fsyncs before each response (group commit), which
	// also survives a machine crash but costs an fsync per request when
	// requests are serial.
	acfg := audit.Config{Logger: log, Now: now, Durability: audit.DurabilityAsync, FailurePolicy: audit.FailClosed}
	if cfg.AuditDurability == "sync" {
		acfg.Durability = audit.DurabilitySync
	}
	if cfg.AuditFailure == "fail-open" {
		acfg.FailurePolicy = audit.FailOpen
	}
	dir := AuditDir(cfg)
	key, err := audit.LoadOrCreateSigningKey(dir, sealer)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	var l *audit.Logger
	if cfg.AuditSink == "stdout" {
		acfg.Sink, acfg.SigningKey = audit.NewStdoutSink(), key
		l, err = audit.New(acfg)
	} else {
		l, err = audit.Open(dir, sealer, acfg, audit.FileOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("opening the audit log: %w", err)
	}
	return l, nil
}

// identityPolicies gives the service core the IAM policies of a caller.
type identityPolicies struct{ ids *identity.Store }

func (p identityPolicies) IdentityPolicies(ctx context.Context, pr principal.Principal) ([]string, error) {
	named, err := p.ids.PoliciesFor(ctx, pr)
	if err != nil {
		return nil, err
	}
	docs := make([]string, len(named))
	for i, n := range named {
		docs[i] = n.Document
	}
	return docs, nil
}

type networks struct {
	proxies  []netip.Prefix
	networks []api.Network
	via      map[string]string
}

// networkConfig turns the configured trusted proxies, networks and
// integrated services into the API layer's form.
func networkConfig(cfg config.Server) (networks, error) {
	var n networks
	for _, p := range cfg.TrustedProxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return n, fmt.Errorf("trusted_proxies: %w", err)
		}
		n.proxies = append(n.proxies, pfx.Masked())
	}
	for _, nw := range cfg.Networks {
		pfx, err := netip.ParsePrefix(nw.CIDR)
		if err != nil {
			return n, fmt.Errorf("networks: %w", err)
		}
		n.networks = append(n.networks, api.Network{Prefix: pfx.Masked(), VPC: nw.VPC, VPCE: nw.VPCE})
	}
	if len(cfg.IntegratedServices) > 0 {
		n.via = make(map[string]string, len(cfg.IntegratedServices))
		for _, s := range cfg.IntegratedServices {
			n.via[s.PrincipalARN] = s.Name
		}
	}
	return n, nil
}

// hsmClusters are the PKCS#11 tokens of cfg.HSMClusters, for custom key
// stores.
type hsmClusters map[string]config.HSMCluster

var _ kms.HSMClusters = hsmClusters(nil)

func newHSMClusters(list []config.HSMCluster) hsmClusters {
	m := make(hsmClusters, len(list))
	for _, c := range list {
		m[c.ClusterID] = c
	}
	return m
}

func (h hsmClusters) Has(id string) bool { _, ok := h[id]; return ok }

func (h hsmClusters) Connect(ctx context.Context, id, pin string) (kms.HSMToken, error) {
	c, ok := h[id]
	if !ok {
		return nil, kms.ErrHSMClusterNotFound
	}
	t, err := hsm.Open(hsm.Config{ModulePath: c.Module, TokenLabel: c.TokenLabel, PIN: pin})
	switch {
	case err == nil:
		return &hsmToken{t: t}, nil
	case errors.Is(err, hsm.ErrPINIncorrect):
		return nil, fmt.Errorf("%w: %w", kms.ErrHSMInvalidCredentials, err)
	case errors.Is(err, hsm.ErrPINLocked):
		return nil, fmt.Errorf("%w: %w", kms.ErrHSMUserLockedOut, err)
	case errors.Is(err, hsm.ErrTokenNotFound), errors.Is(err, hsm.ErrModule):
		return nil, fmt.Errorf("%w: %w", kms.ErrHSMClusterNotFound, err)
	case errors.Is(err, hsm.ErrConfig):
		// A PIN the token cannot take (length, NUL) is a wrong password.
		return nil, fmt.Errorf("%w: %w", kms.ErrHSMInvalidCredentials, err)
	}
	return nil, err
}

// hsmToken adapts an hsm.Token to kms.HSMToken, naming keys by CKA_ID.
type hsmToken struct {
	t    *hsm.Token
	keys sync.Map // string(CKA_ID) -> hsm.Key
}

func (h *hsmToken) key(ctx context.Context, id []byte) (hsm.Key, error) {
	if k, ok := h.keys.Load(string(id)); ok {
		return k.(hsm.Key), nil
	}
	k, err := h.t.FindKeyByID(ctx, id)
	if err != nil {
		return hsm.Key{}, err
	}
	h.keys.Store(string(id), k)
	return k, nil
}

func (h *hsmToken) GenerateKey(ctx context.Context, label string) ([]byte, error) {
	k, err := h.t.GenerateAESKey(ctx, label)
	if err != nil {
		return nil, err
	}
	h.keys.Store(string(k.ID()), k)
	return k.ID(), nil
}

func (h *hsmToken) EncryptGCM(ctx context.Context, id, plaintext, aad []byte) ([]byte, error) {
	k, err := h.key(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.t.EncryptGCM(ctx, k, plaintext, aad)
}

func (h *hsmToken) DecryptGCM(ctx context.Context, id, sealed, aad []byte) ([]byte, error) {
	k, err := h.key(ctx, id)
	if err != nil {
		return nil, err
	}
	pt, err := h.t.DecryptGCM(ctx, k, sealed, aad)
	if errors.Is(err, hsm.ErrDecrypt) {
		return nil, kms.ErrHSMDecrypt
	}
	return pt, err
}

func (h *hsmToken) DestroyKey(ctx context.Context, id []byte) error {
	k, err := h.key(ctx, id)
	if err != nil {
		return err
	}
	h.keys.Delete(string(id))
	return h.t.DestroyKey(ctx, k)
}

func (h *hsmToken) Random(ctx context.Context, n int) ([]byte, error) { return h.t.Random(ctx, n) }

func (h *hsmToken) Close() error { return h.t.Close() }
