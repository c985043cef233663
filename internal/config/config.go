// Package config describes how an OpenKMS server is configured: the
// settings, their defaults, and how they are read from a config file and
// from environment variables. Command-line flags are bound in package main;
// precedence is flags, then environment, then file, then defaults.
//
// The file format is JSON, decoded strictly: an unknown key is an error
// that names it.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Server is the server's configuration.
type Server struct {
	// Listen is the TCP address to serve on.
	Listen string `json:"listen"`
	// TLSCert and TLSKey are PEM files; both or neither.
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// DataDir holds the embedded store, the root key file and the
	// bootstrap credentials file.
	DataDir string `json:"data_dir"`
	// Storage selects the store: empty for the embedded bbolt store in
	// DataDir, or a PostgreSQL URL (postgres://...) shared by many nodes.
	Storage string `json:"storage"`
	// StorageSchema is the PostgreSQL schema to use (default: the
	// connection's current schema).
	StorageSchema string `json:"storage_schema"`
	// RootKeyFile is the file root key (default DataDir/root.key). Every
	// node of a cluster must use the same root key.
	RootKeyFile string `json:"root_key_file"`
	// RootKeyProvider is "file" (default) or "pkcs11": the root key lives
	// non-extractable in an HSM token and wraps the data-encryption key
	// kept in DataDir/root-dek.wrapped.
	RootKeyProvider string `json:"root_key_provider"`
	// PKCS11Module, PKCS11Token, PKCS11PIN and PKCS11KeyLabel configure the
	// pkcs11 provider. Prefer OPENKMS_PKCS11_PIN or PKCS11PINFile to a PIN
	// in a config file.
	PKCS11Module   string `json:"pkcs11_module"`
	PKCS11Token    string `json:"pkcs11_token"`
	PKCS11PIN      string `json:"pkcs11_pin"`
	PKCS11PINFile  string `json:"pkcs11_pin_file"`
	PKCS11KeyLabel string `json:"pkcs11_key_label"`
	// HSMClusters are the PKCS#11 tokens custom key stores may use; a
	// store's CloudHsmClusterId names one of them and its
	// KeyStorePassword is the token's user PIN (see docs/HSM.md).
	HSMClusters []HSMCluster `json:"hsm_clusters"`
	// AccountID is the account created on first start.
	AccountID string `json:"account_id"`
	// BootstrapAccessKeyID and BootstrapSecretAccessKey pin the first
	// account's root credentials; generated when empty.
	BootstrapAccessKeyID     string `json:"bootstrap_access_key_id"`
	BootstrapSecretAccessKey string `json:"bootstrap_secret_access_key"`
	// Regions limits the regions served; empty serves every region.
	Regions []string `json:"regions"`
	// AuditSink is where audit records go: "file" (JSON Lines in AuditDir,
	// the default), "stdout", or "off".
	AuditSink string `json:"audit_sink"`
	// AuditDir holds audit files and the sealed audit signing key (default
	// DataDir/audit).
	AuditDir string `json:"audit_dir"`
	// AuditDurability is "async" (the default: a request's record is
	// written before its response, so a killed process loses nothing, and
	// fsynced within a second) or "sync" (fsynced before the response, so
	// it also survives a machine crash; costs an fsync per serial request).
	AuditDurability string `json:"audit_durability"`
	// AuditFailure is "fail-closed" (a request whose record cannot be
	// written fails, the default) or "fail-open".
	AuditFailure string `json:"audit_failure"`
	// TrustedProxies are the CIDR ranges of reverse proxies whose
	// X-Forwarded-For header names the client (aws:SourceIp); requests
	// from anywhere else use the connection's address.
	TrustedProxies []string `json:"trusted_proxies"`
	// Networks declare address ranges as VPCs and VPC endpoints: a request
	// from a range carries its aws:SourceVpc and aws:SourceVpce.
	Networks []Network `json:"networks"`
	// IntegratedServices are the identities allowed to call on behalf of
	// a user (kms:ViaService); see docs/VIA-SERVICE.md.
	IntegratedServices []IntegratedService `json:"integrated_services"`
	// Quotas are per-account request quotas like AWS KMS's: "off" (the
	// default), "on" (AWS's default rates), or per-category rates such as
	// "symmetric=10000,rsa=500,CreateKey=10" (see package quota).
	Quotas string `json:"quotas"`
	// MaxInFlight bounds the requests served at once (default 1024);
	// beyond it requests get ThrottlingException at once.
	MaxInFlight int `json:"max_in_flight"`
	// MaxConnections bounds the client connections held open at once
	// (default 4096); beyond it new connections wait in the listen backlog
	// until one closes.
	MaxConnections int `json:"max_connections"`
	// Metrics is "on" (the default: GET /metrics, unauthenticated, on the
	// API listener; restrict it to scrapers) or "off".
	Metrics string `json:"metrics"`
	// PprofListen, when set, serves Go's net/http/pprof profiles on this
	// separate address (e.g. 127.0.0.1:6060), unauthenticated: bind it to
	// loopback or an operator-only network. Empty (the default) serves
	// none.
	PprofListen string `json:"pprof_listen"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// LogFormat is text or json.
	LogFormat string `json:"log_format"`
	// SchedulerInterval is how often the scheduled jobs run: deleting keys
	// past their deletion date, automatic rotation, expiry of imported key
	// material (a Go duration, e.g. "1m").
	SchedulerInterval Duration `json:"scheduler_interval"`
	// MaxClockSkew bounds the difference between X-Amz-Date and the
	// server's clock.
	MaxClockSkew Duration `json:"max_clock_skew"`
}

// HSMCluster declares a PKCS#11 token that custom key stores may use
// under the AWS name of a CloudHSM cluster.
type HSMCluster struct {
	// ClusterID is the CloudHsmClusterId that names the token in the API,
	// "cluster-" followed by 11 to 16 lowercase letters or digits.
	ClusterID string `json:"cluster_id"`
	// Module is the vendor's PKCS#11 library.
	Module string `json:"module"`
	// TokenLabel is the token's label.
	TokenLabel string `json:"token_label"`
}

// Network declares an address range as a VPC (and optionally a VPC
// endpoint).
type Network struct {
	CIDR string `json:"cidr"`
	VPC  string `json:"vpc"`
	VPCE string `json:"vpce"`
}

// IntegratedService is an AWS-service-like identity (a storage service
// that encrypts for its users, say) allowed to make requests on behalf of
// an authenticated user. Its requests name the user's access key id in
// the signed header X-OpenKMS-On-Behalf-Of and are evaluated as that user
// with kms:ViaService = "<Name>.<region>.amazonaws.com".
type IntegratedService struct {
	// Name is the service name, e.g. "s3" or "secretsmanager".
	Name string `json:"name"`
	// PrincipalARN is the IAM identity the service signs its requests as.
	PrincipalARN string `json:"principal_arn"`
}

// Defaults returns the default configuration.
func Defaults() Server {
	return Server{
		Listen:            "127.0.0.1:8080",
		DataDir:           "./openkms-data",
		AccountID:         "000000000000",
		LogLevel:          "info",
		LogFormat:         "text",
		SchedulerInterval: Duration(time.Minute),
		MaxClockSkew:      Duration(15 * time.Minute),
	}
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("must be a duration string such as \"1m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// LoadFile reads a JSON config file over cfg. Unknown keys are errors.
func LoadFile(path string, cfg *Server) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%s: field %q: wrong type, want %s", path, typeErr.Field, typeErr.Type)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: unexpected data after the JSON object", path)
	}
	return nil
}

// EnvVars maps each environment variable to the setting it sets.
var EnvVars = []struct {
	Name, Field, Help string
}{
	{"OPENKMS_LISTEN", "listen", "address to listen on"},
	{"OPENKMS_TLS_CERT", "tls_cert", "TLS certificate (PEM)"},
	{"OPENKMS_TLS_KEY", "tls_key", "TLS private key (PEM)"},
	{"OPENKMS_DATA_DIR", "data_dir", "data directory"},
	{"OPENKMS_STORAGE", "storage", "empty for the embedded store, or postgres://... (shared by many nodes)"},
	{"OPENKMS_STORAGE_SCHEMA", "storage_schema", "PostgreSQL schema (default: the connection's current schema)"},
	{"OPENKMS_ROOT_KEY_FILE", "root_key_file", "root key file (default DATA_DIR/root.key); the same on every node"},
	{"OPENKMS_ROOT_KEY_PROVIDER", "root_key_provider", "file (default) or pkcs11"},
	{"OPENKMS_PKCS11_MODULE", "pkcs11_module", "PKCS#11 module (.so) for the pkcs11 root key provider"},
	{"OPENKMS_PKCS11_TOKEN", "pkcs11_token", "PKCS#11 token label"},
	{"OPENKMS_PKCS11_PIN", "pkcs11_pin", "PKCS#11 user PIN"},
	{"OPENKMS_PKCS11_PIN_FILE", "pkcs11_pin_file", "file holding the PKCS#11 user PIN"},
	{"OPENKMS_PKCS11_KEY_LABEL", "pkcs11_key_label", "label of the root key in the token (default openkms-root-key)"},
	{"OPENKMS_ACCOUNT_ID", "account_id", "account created on first start"},
	{"OPENKMS_BOOTSTRAP_ACCESS_KEY_ID", "bootstrap_access_key_id", "bootstrap access key id"},
	{"OPENKMS_BOOTSTRAP_SECRET_ACCESS_KEY", "bootstrap_secret_access_key", "bootstrap secret access key"},
	{"OPENKMS_REGIONS", "regions", "comma-separated regions to serve (default: all)"},
	{"OPENKMS_AUDIT_SINK", "audit_sink", "file (default), stdout or off"},
	{"OPENKMS_AUDIT_DIR", "audit_dir", "audit directory (default DATA_DIR/audit)"},
	{"OPENKMS_AUDIT_DURABILITY", "audit_durability", "async (default: written before the response, fsynced each second) or sync (fsynced before the response)"},
	{"OPENKMS_AUDIT_FAILURE", "audit_failure", "fail-closed (default) or fail-open"},
	{"OPENKMS_QUOTAS", "quotas", "off (default), on (AWS's default rates), or rates such as symmetric=10000,rsa=500"},
	{"OPENKMS_MAX_IN_FLIGHT", "max_in_flight", "requests served at once before ThrottlingException (default 1024)"},
	{"OPENKMS_MAX_CONNECTIONS", "max_connections", "client connections held open at once (default 4096)"},
	{"OPENKMS_METRICS", "metrics", "on (default): serve GET /metrics, unauthenticated; or off"},
	{"OPENKMS_PPROF_LISTEN", "pprof_listen", "address for Go's pprof profiles (unauthenticated; loopback only), empty (default) for none"},
	{"OPENKMS_LOG_LEVEL", "log_level", "debug, info, warn or error"},
	{"OPENKMS_LOG_FORMAT", "log_format", "text or json"},
	{"OPENKMS_SCHEDULER_INTERVAL", "scheduler_interval", "how often scheduled deletion, rotation and expiry run"},
	{"OPENKMS_MAX_CLOCK_SKEW", "max_clock_skew", "allowed request clock skew"},
}

// LoadEnv applies the OPENKMS_* environment variables over cfg, using
// lookup (os.LookupEnv in production).
func LoadEnv(cfg *Server, lookup func(string) (string, bool)) error {
	for _, v := range EnvVars {
		val, ok := lookup(v.Name)
		if !ok {
			continue
		}
		if err := cfg.Set(v.Field, val); err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
	}
	return nil
}

// Set sets one setting by its file key from a string value.
func (c *Server) Set(field, val string) error {
	switch field {
	case "listen":
		c.Listen = val
	case "tls_cert":
		c.TLSCert = val
	case "tls_key":
		c.TLSKey = val
	case "data_dir":
		c.DataDir = val
	case "storage":
		c.Storage = val
	case "storage_schema":
		c.StorageSchema = val
	case "root_key_file":
		c.RootKeyFile = val
	case "root_key_provider":
		c.RootKeyProvider = val
	case "pkcs11_module":
		c.PKCS11Module = val
	case "pkcs11_token":
		c.PKCS11Token = val
	case "pkcs11_pin":
		c.PKCS11PIN = val
	case "pkcs11_pin_file":
		c.PKCS11PINFile = val
	case "pkcs11_key_label":
		c.PKCS11KeyLabel = val
	case "account_id":
		c.AccountID = val
	case "bootstrap_access_key_id":
		c.BootstrapAccessKeyID = val
	case "bootstrap_secret_access_key":
		c.BootstrapSecretAccessKey = val
	case "regions":
		c.Regions = nil
		for _, r := range strings.Split(val, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.Regions = append(c.Regions, r)
			}
		}
	case "audit_sink":
		c.AuditSink = val
	case "audit_dir":
		c.AuditDir = val
	case "audit_durability":
		c.AuditDurability = val
	case "audit_failure":
		c.AuditFailure = val
	case "metrics":
		c.Metrics = val
	case "quotas":
		c.Quotas = val
	case "pprof_listen":
		c.PprofListen = val
	case "max_in_flight":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer")
		}
		c.MaxInFlight = n
	case "max_connections":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer")
		}
		c.MaxConnections = n
	case "log_level":
		c.LogLevel = val
	case "log_format":
		c.LogFormat = val
	case "scheduler_interval", "max_clock_skew":
		d, err := time.ParseDuration(val)
		if err != nil {
			return err
		}
		if field == "scheduler_interval" {
			c.SchedulerInterval = Duration(d)
		} else {
			c.MaxClockSkew = Duration(d)
		}
	default:
		return fmt.Errorf("unknown setting %q", field)
	}
	return nil
}

// Validate checks the configuration as a whole.
func (c *Server) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: must not be empty")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key must be given together")
	}
	if c.DataDir == "" {
		return errors.New("data_dir: must not be empty")
	}
	if c.Storage != "" && !strings.HasPrefix(c.Storage, "postgres://") && !strings.HasPrefix(c.Storage, "postgresql://") {
		return errors.New("storage: must be empty (embedded store) or a postgres:// URL")
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		return fmt.Errorf("account_id: %q is not a 12-digit account id", c.AccountID)
	}
	switch c.RootKeyProvider {
	case "", "file":
	case "pkcs11":
		if c.PKCS11Module == "" || c.PKCS11Token == "" {
			return errors.New("root_key_provider pkcs11 needs pkcs11_module and pkcs11_token")
		}
		if c.PKCS11PIN == "" && c.PKCS11PINFile == "" {
			return errors.New("root_key_provider pkcs11 needs pkcs11_pin or pkcs11_pin_file")
		}
	default:
		return fmt.Errorf("root_key_provider: %q is not one of file, pkcs11", c.RootKeyProvider)
	}
	seen := map[string]bool{}
	for i, h := range c.HSMClusters {
		id := strings.TrimPrefix(h.ClusterID, "cluster-")
		if !strings.HasPrefix(h.ClusterID, "cluster-") || len(h.ClusterID) < 19 || len(h.ClusterID) > 24 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return fmt.Errorf("hsm_clusters[%d].cluster_id: %q is not \"cluster-\" followed by 11 to 16 lowercase letters or digits", i, h.ClusterID)
		}
		if seen[h.ClusterID] {
			return fmt.Errorf("hsm_clusters[%d].cluster_id: %q is declared twice", i, h.ClusterID)
		}
		seen[h.ClusterID] = true
		if h.Module == "" || h.TokenLabel == "" {
			return fmt.Errorf("hsm_clusters[%d]: module and token_label must both be set", i)
		}
	}
	if (c.BootstrapAccessKeyID == "") != (c.BootstrapSecretAccessKey == "") {
		return errors.New("bootstrap_access_key_id and bootstrap_secret_access_key must be given together")
	}
	switch c.AuditSink {
	case "", "file", "stdout", "off":
	default:
		return fmt.Errorf("audit_sink: %q is not one of file, stdout, off", c.AuditSink)
	}
	switch c.AuditDurability {
	case "", "sync", "async":
	default:
		return fmt.Errorf("audit_durability: %q is not one of sync, async", c.AuditDurability)
	}
	switch c.AuditFailure {
	case "", "fail-closed", "fail-open":
	default:
		return fmt.Errorf("audit_failure: %q is not one of fail-closed, fail-open", c.AuditFailure)
	}
	for i, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("trusted_proxies[%d]: %q is not a CIDR range", i, p)
		}
	}
	for i, n := range c.Networks {
		if _, _, err := net.ParseCIDR(n.CIDR); err != nil {
			return fmt.Errorf("networks[%d].cidr: %q is not a CIDR range", i, n.CIDR)
		}
		if !strings.HasPrefix(n.VPC, "vpc-") || n.VPCE != "" && !strings.HasPrefix(n.VPCE, "vpce-") {
			return fmt.Errorf("networks[%d]: vpc must start with vpc- and vpce with vpce-", i)
		}
	}
	for i, s := range c.IntegratedServices {
		if s.Name == "" || strings.ContainsAny(s.Name, "./ ") {
			return fmt.Errorf("integrated_services[%d].name: %q must be a bare service name such as s3", i, s.Name)
		}
		if !strings.HasPrefix(s.PrincipalARN, "arn:aws:iam::") {
			return fmt.Errorf("integrated_services[%d].principal_arn: %q is not an IAM ARN", i, s.PrincipalARN)
		}
	}
	switch c.Metrics {
	case "", "on", "off":
	default:
		return fmt.Errorf("metrics: %q is not one of on, off", c.Metrics)
	}
	if c.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			return fmt.Errorf("pprof_listen: %q is not a host:port address", c.PprofListen)
		}
		if c.PprofListen == c.Listen {
			return errors.New("pprof_listen: must differ from listen")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log_format: %q is not one of text, json", c.LogFormat)
	}
	if c.SchedulerInterval <= 0 {
		return errors.New("scheduler_interval: must be positive")
	}
	if c.MaxClockSkew <= 0 {
		return errors.New("max_clock_skew: must be positive")
	}
	return nil
}

// String is never used to print secrets: the bootstrap secret is redacted.
func (c Server) String() string {
	c.BootstrapSecretAccessKey = redact(c.BootstrapSecretAccessKey)
	c.PKCS11PIN = redact(c.PKCS11PIN)
	if c.Storage != "" {
		c.Storage = "postgres://REDACTED"
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}
