// Command openkms is the OpenKMS server and its operator tool.
//
//	openkms server [flags]     run the service
//	openkms version            print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `openkms: a self-hosted key management service that speaks the AWS KMS API.

Usage:
  openkms server [flags]    start the server (see 'openkms server --help')
  openkms admin COMMAND     operator commands: backup, restore, migrate, account, audit, policy
                            (see 'openkms admin help')
  openkms bench [flags]     load-test a KMS endpoint (see 'openkms bench --help')
  openkms version           print the version
  openkms help              show this help

Example:
  openkms server --data-dir ./openkms-data
  aws --endpoint-url http://127.0.0.1:8080 --region us-east-1 kms create-key
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr)
	case "admin":
		return runAdmin(args[1:], stdout, stderr)
	case "bench":
		return runBench(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "openkms %s\n", version)
		return 0
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "openkms: error: unknown command %q\nhint: run 'openkms help' for the list of commands\n", args[0])
		return 2
	}
}

// serverGCPercent is the server's GOGC unless the environment sets one.
// The server's live heap is small (a few MiB), so at Go's default of 100
// the collector runs many times a second under load; at 400 the heap grows
// to tens of MiB and the server spends about a quarter less CPU per
// request (docs/BENCHMARKS.md, "Profile-driven changes to the hot path").
const serverGCPercent = 400

// serverMemoryLimit is the server's soft memory limit unless GOMEMLIMIT is
// set. GOGC=400 lets the heap grow to five times what is live; this bound
// makes the collector run sooner instead once the Go heap nears 512 MiB
// (tens of thousands of keys in use: the key caches hold about 6 KiB per
// key, see docs/BENCHMARKS.md).
const serverMemoryLimit = 512 << 20

func runServer(args []string, stdout, stderr io.Writer) int {
	cfg, err := serverConfig(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "openkms: error: %v\nhint: run 'openkms server --help' for the settings\n", err)
		return 2
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(serverMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg, server.Options{Out: stdout, Logger: server.NewLogger(cfg, stderr)}); err != nil {
		fmt.Fprintf(stderr, "openkms: error: %v\n", err)
		return 1
	}
	return 0
}

// serverConfig builds the configuration: defaults, then the config file,
// then OPENKMS_* environment variables, then flags.
func serverConfig(args []string, stdout, stderr io.Writer) (config.Server, error) {
	fs := flag.NewFlagSet("openkms server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configFile := fs.String("config", "", "JSON config file (unknown keys are errors)")
	flagFor := map[string]string{
		"listen":                      "listen",
		"tls-cert":                    "tls_cert",
		"tls-key":                     "tls_key",
		"data-dir":                    "data_dir",
		"storage":                     "storage",
		"storage-schema":              "storage_schema",
		"root-key-file":               "root_key_file",
		"root-key-provider":           "root_key_provider",
		"pkcs11-module":               "pkcs11_module",
		"pkcs11-token":                "pkcs11_token",
		"pkcs11-pin-file":             "pkcs11_pin_file",
		"pkcs11-key-label":            "pkcs11_key_label",
		"account-id":                  "account_id",
		"bootstrap-access-key-id":     "bootstrap_access_key_id",
		"bootstrap-secret-access-key": "bootstrap_secret_access_key",
		"regions":                     "regions",
		"audit-sink":                  "audit_sink",
		"audit-dir":                   "audit_dir",
		"audit-durability":            "audit_durability",
		"audit-failure":               "audit_failure",
		"metrics":                     "metrics",
		"quotas":                      "quotas",
		"max-in-flight":               "max_in_flight",
		"max-connections":             "max_connections",
		"pprof-listen":                "pprof_listen",
		"log-level":                   "log_level",
		"log-format":                  "log_format",
		"scheduler-interval":          "scheduler_interval",
		"max-clock-skew":              "max_clock_skew",
	}
	values := map[string]*string{}
	defaults := config.Defaults()
	for name, field := range flagFor {
		values[name] = fs.String(name, "", helpFor(field, defaults))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printServerHelp(stdout, fs)
		}
		return config.Server{}, err
	}
	if fs.NArg() > 0 {
		return config.Server{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := defaults
	if *configFile != "" {
		if err := config.LoadFile(*configFile, &cfg); err != nil {
			return config.Server{}, err
		}
	}
	if err := config.LoadEnv(&cfg, os.LookupEnv); err != nil {
		return config.Server{}, err
	}
	var setErr error
	fs.Visit(func(f *flag.Flag) {
		if field, ok := flagFor[f.Name]; ok && setErr == nil {
			if err := cfg.Set(field, f.Value.String()); err != nil {
				setErr = fmt.Errorf("--%s: %w", f.Name, err)
			}
		}
	})
	if setErr != nil {
		return config.Server{}, setErr
	}
	return cfg, cfg.Validate()
}

func helpFor(field string, d config.Server) string {
	for _, v := range config.EnvVars {
		if v.Field == field {
			return v.Help + " (env " + v.Name + ")"
		}
	}
	return field
}

func printServerHelp(w io.Writer, fs *flag.FlagSet) {
	d := config.Defaults()
	fmt.Fprintf(w, `Usage: openkms server [flags]

Starts OpenKMS. With no settings it serves http://%s on an embedded store in
%s, creating the root key and a first account (with its root access key,
printed once) on first start.

Settings come from flags, then OPENKMS_* environment variables, then the
--config file (JSON, keys as named below), then defaults.

Flags:
`, d.Listen, d.DataDir)
	fs.VisitAll(func(f *flag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		fmt.Fprintf(w, "  --%-30s %s\n", f.Name+" VALUE", f.Usage)
		if key != "config" {
			fmt.Fprintf(w, "  %-32s config key %q%s\n", "", key, defaultNote(key, d))
		}
	})
	fmt.Fprint(w, `
Examples:
  openkms server
  openkms server --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  OPENKMS_ACCOUNT_ID=111122223333 OPENKMS_BOOTSTRAP_ACCESS_KEY_ID=AKIAEXAMPLE0000001 \
    OPENKMS_BOOTSTRAP_SECRET_ACCESS_KEY=... openkms server
`)
}

func defaultNote(key string, d config.Server) string {
	switch key {
	case "listen":
		return ", default " + d.Listen
	case "data_dir":
		return ", default " + d.DataDir
	case "account_id":
		return ", default " + d.AccountID
	case "log_level":
		return ", default " + d.LogLevel
	case "log_format":
		return ", default " + d.LogFormat
	case "scheduler_interval":
		return ", default 1m"
	case "max_clock_skew":
		return ", default 15m"
	}
	return ""
}
