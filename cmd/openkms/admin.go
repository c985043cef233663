package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/backup"
	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server"
)

// adminCommand is one 'openkms admin' subcommand.
type adminCommand struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

// adminCommands lists the subcommands in the order the usage shows them.
// A new one is a new entry here.
func adminCommands() []adminCommand {
	return []adminCommand{
		{"backup", "download a backup of a running server (online)", runAdminBackup},
		{"restore", "restore a backup into a stopped server's store (offline)", runAdminRestore},
		{"migrate", "copy a stopped server's embedded store into PostgreSQL (offline)", runAdminMigrate},
		{"account", "create an account on a running server (account create)", runAccount},
		{"audit", "verify, query or print the key of the audit log (offline)", runAudit},
		{"policy", "explain an authorization decision (policy explain)", runPolicy},
		{"root-key", "move the root key from its file into an HSM (root-key adopt-hsm, offline)", runRootKey},
	}
}

func adminUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: openkms admin COMMAND [flags]

Operator commands. Run 'openkms admin COMMAND --help' for a command's flags.

Commands:
`)
	for _, c := range adminCommands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Examples:
  # root credentials of the bootstrap account
  export AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=...
  openkms admin backup --endpoint-url http://127.0.0.1:8080 --output kms.backup
  openkms admin restore --input kms.backup --data-dir ./openkms-data
  OPENKMS_STORAGE=postgres://openkms@db.internal/openkms \
    openkms admin restore --input kms.backup --root-key-file /etc/openkms/root.key
  openkms admin migrate --data-dir ./openkms-data --storage postgres://openkms@db.internal/openkms
`)
	return b.String()
}

func runAdmin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage())
		return 2
	}
	switch args[0] {
	case "help", "--help", "-h", "-help":
		fmt.Fprint(stdout, adminUsage())
		return 0
	}
	for _, c := range adminCommands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	return failf(stderr, 2, "run 'openkms admin help' for the list of commands", "unknown admin command %q", args[0])
}

// failf prints an error and a hint and returns code.
func failf(stderr io.Writer, code int, hint, format string, args ...any) int {
	fmt.Fprintf(stderr, "openkms: error: "+format+"\n", args...)
	if hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", hint)
	}
	return code
}

// parseFlags parses a subcommand's flags. It prints the help for --help
// and returns (exit code, false) when the command should stop.
func parseFlags(fs *flag.FlagSet, args []string, help string, stdout, stderr io.Writer) (int, bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, help)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0, false
	}
	if err != nil {
		return failf(stderr, 2, "run 'openkms admin "+fs.Name()+" --help' for its flags", "%v", err), false
	}
	if fs.NArg() > 0 {
		return failf(stderr, 2, "run 'openkms admin "+fs.Name()+" --help' for its flags", "unexpected argument %q", fs.Arg(0)), false
	}
	return 0, true
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// --- backup ------------------------------------------------------------------

const backupHelp = `Usage: openkms admin backup --endpoint-url URL [--output FILE]

Downloads a backup of every key, alias, account and access key of a running
server, taken from one consistent snapshot while it keeps serving. The backup
is sealed under the server's root key: it can only be restored with that root
key, which is not in the backup. Keep the root key safe, separately.

The request is signed with the root credentials of the server's bootstrap
account, from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN;
the region from AWS_REGION or AWS_DEFAULT_REGION (default us-east-1); the
endpoint from --endpoint-url, AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL. The
file is written with mode 0600 and never overwrites an existing file; "-"
writes to stdout.

Examples:
  openkms admin backup --endpoint-url http://127.0.0.1:8080
  openkms admin backup --endpoint-url https://kms.internal:8443 --ca-bundle ca.pem --output /backups/kms.backup

Flags:
`

func runAdminBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	endpoint := fs.String("endpoint-url", "", "server URL (env AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL)")
	output := fs.String("output", "", `file to write (default openkms-backup-<UTC time>.backup; "-" for stdout)`)
	caBundle := fs.String("ca-bundle", "", "PEM file of CA certificates to trust for https (env AWS_CA_BUNDLE)")
	if code, ok := parseFlags(fs, args, backupHelp, stdout, stderr); !ok {
		return code
	}
	*endpoint = firstNonEmpty(*endpoint, os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL"))
	if *endpoint == "" {
		return failf(stderr, 2, "pass --endpoint-url http://HOST:PORT of the server", "no endpoint")
	}
	u, err := url.Parse(*endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return failf(stderr, 2, "pass --endpoint-url http://HOST:PORT or https://HOST:PORT", "invalid endpoint %q", *endpoint)
	}
	creds := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return failf(stderr, 2, "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with the root credentials of the server's bootstrap account",
			"no credentials")
	}
	region := firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	client, err := httpClient(firstNonEmpty(*caBundle, os.Getenv("AWS_CA_BUNDLE")))
	if err != nil {
		return failf(stderr, 2, "--ca-bundle must be a PEM file of CA certificates", "%v", err)
	}
	toStdout := *output == "-"
	if *output == "" {
		*output = "openkms-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".backup"
	}
	if !toStdout {
		if _, err := os.Lstat(*output); err == nil {
			return failf(stderr, 1, "choose another --output: a backup never overwrites a file", "%s already exists", *output)
		}
	}

	ctx, stop := signalContext()
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u.String(), "/")+server.AdminBackupPath, nil)
	if err != nil {
		return failf(stderr, 2, "", "%v", err)
	}
	empty := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "kms", region, time.Now()); err != nil {
		return failf(stderr, 1, "", "signing the request: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return failf(stderr, 1, "is the server running at "+u.String()+"?", "requesting the backup: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return backupRefused(stderr, resp)
	}

	report := stdout
	var info backup.Info
	if toStdout {
		report = stderr
		info, err = backup.Inspect(io.TeeReader(resp.Body, stdout))
		if err == nil {
			err = checkTrailer(resp)
		}
		if err != nil {
			return failf(stderr, 1, "the output is incomplete: discard it and run the backup again", "the backup transfer failed: %v", err)
		}
	} else {
		if info, err = download(resp, *output); err != nil {
			return failf(stderr, 1, "nothing was written; run the backup again", "%v", err)
		}
	}
	fmt.Fprintf(report, "Backup %s of %s taken %s: %s records, %d bytes, written to %s.\n"+
		"It is sealed under the server's root key, which is not in it: keep the root key safe, separately.\n",
		info.ID, u.Host, info.Created.Format(time.RFC3339), resp.Trailer.Get(server.AdminBackupRecordsHeader), info.Size, displayName(*output, toStdout))
	return 0
}

// download writes the backup in resp to a temporary file next to path,
// checks that it arrived whole, and links it to path (failing if path
// exists meanwhile).
func download(resp *http.Response, path string) (backup.Info, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".openkms-backup-*.tmp") // mode 0600
	if err != nil {
		return backup.Info{}, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return backup.Info{}, err
	}
	n, err := io.Copy(f, resp.Body)
	if err != nil {
		return backup.Info{}, fmt.Errorf("the backup transfer failed after %d bytes: %v", n, err)
	}
	if err := checkTrailer(resp); err != nil {
		return backup.Info{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return backup.Info{}, err
	}
	info, err := backup.Inspect(f)
	if err != nil {
		return backup.Info{}, fmt.Errorf("the downloaded backup is incomplete: %v", err)
	}
	if err := f.Sync(); err != nil {
		return backup.Info{}, err
	}
	if err := f.Close(); err != nil {
		return backup.Info{}, err
	}
	if err := os.Link(f.Name(), path); err != nil {
		return backup.Info{}, fmt.Errorf("writing %s: %v", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return info, nil
}

func checkTrailer(resp *http.Response) error {
	if s := resp.Trailer.Get(server.AdminBackupStatusHeader); s != "complete" {
		return fmt.Errorf("the server did not confirm the backup as complete (trailer %s %q)", server.AdminBackupStatusHeader, s)
	}
	return nil
}

// backupRefused reports a non-200 answer.
func backupRefused(stderr io.Writer, resp *http.Response) int {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil || e.Type == "" {
		return failf(stderr, 1, "is the endpoint an OpenKMS server with the admin API?", "the server answered %s", resp.Status)
	}
	hint := ""
	switch e.Type {
	case "AccessDeniedException":
		hint = "only the root credentials of the server's bootstrap account may take backups"
	case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException", "MissingAuthenticationTokenException":
		hint = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case "KMSInternalException":
		hint = "see the server's log"
	}
	msg := e.Type
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return failf(stderr, 1, hint, "the server refused the backup (%s): %s", resp.Status, msg)
}

func httpClient(caBundle string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 2 * time.Minute
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caBundle)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

func displayName(path string, stdout bool) string {
	if stdout {
		return "stdout"
	}
	return path
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// --- restore and migrate: offline, on the store itself ------------------------

// storeFlags are the flags that name a store and its root key, read like
// the server's settings: flags, then OPENKMS_* variables, then --config.
type storeFlags struct {
	configFile, dataDir, storage, schema, rootKeyFile *string
}

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	return &storeFlags{
		configFile:  fs.String("config", "", "the server's JSON config file, for the settings not given as flags"),
		dataDir:     fs.String("data-dir", "", "data directory: the embedded store, and root.key unless --root-key-file (env OPENKMS_DATA_DIR)"),
		storage:     fs.String("storage", "", "postgres://... URL of a PostgreSQL store (env OPENKMS_STORAGE)"),
		schema:      fs.String("storage-schema", "", "PostgreSQL schema (env OPENKMS_STORAGE_SCHEMA)"),
		rootKeyFile: fs.String("root-key-file", "", "root key file (default DATA_DIR/root.key; env OPENKMS_ROOT_KEY_FILE)"),
	}
}

// config builds the server configuration the flags describe. It fails if
// neither a data directory nor a PostgreSQL store was named anywhere.
func (f *storeFlags) config(fs *flag.FlagSet) (config.Server, error) {
	cfg := config.Defaults()
	named := false
	if *f.configFile != "" {
		if err := config.LoadFile(*f.configFile, &cfg); err != nil {
			return cfg, err
		}
		named = true
	}
	if err := config.LoadEnv(&cfg, os.LookupEnv); err != nil {
		return cfg, err
	}
	for _, v := range []string{"OPENKMS_DATA_DIR", "OPENKMS_STORAGE"} {
		if _, ok := os.LookupEnv(v); ok {
			named = true
		}
	}
	for name, field := range map[string]string{"data-dir": "data_dir", "storage": "storage", "storage-schema": "storage_schema", "root-key-file": "root_key_file"} {
		if fl := fs.Lookup(name); fl != nil && isSet(fs, name) {
			if err := cfg.Set(field, fl.Value.String()); err != nil {
				return cfg, fmt.Errorf("--%s: %w", name, err)
			}
			named = named || name == "data-dir" || name == "storage"
		}
	}
	if !named {
		return cfg, errors.New("no target: pass --data-dir DIR or --storage postgres://...")
	}
	return cfg, cfg.Validate()
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// describeStore names a store for messages without the DSN (which may hold
// a password).
func describeStore(cfg config.Server) string {
	if cfg.Storage == "" {
		return "the embedded store in " + cfg.DataDir
	}
	schema := cfg.StorageSchema
	if schema == "" {
		schema = "the connection's default schema"
	} else {
		schema = "schema " + schema
	}
	host := "PostgreSQL"
	if u, err := url.Parse(cfg.Storage); err == nil && u.Host != "" {
		host += " at " + u.Host
	}
	return host + ", " + schema
}

func describeRootKey(cfg config.Server) string {
	if cfg.RootKeyProvider == "pkcs11" {
		return "the PKCS#11 root key " + cfg.PKCS11KeyLabel
	}
	return server.RootKeyPath(cfg)
}

// storeErrorHint returns the hint for an error of restore or migrate.
func storeErrorHint(err error, migrate bool) string {
	switch {
	case errors.Is(err, backup.ErrIncomplete) && migrate:
		return "no server may use the target until a migration into an emptied schema succeeds; drop the schema's contents (or pick a new --storage-schema) and migrate again"
	case errors.Is(err, backup.ErrIncomplete):
		return "no server may use the store until a restore succeeds; run the restore again with --force"
	case errors.Is(err, backup.ErrNotEmpty) && migrate:
		return "migrate only into an empty PostgreSQL schema (--storage-schema)"
	case errors.Is(err, backup.ErrNotEmpty):
		return "the target already holds data; stop its servers and add --force to replace everything in it with the backup"
	case errors.Is(err, backup.ErrWrongRootKey):
		return "pass --root-key-file with the root key of the server the backup was taken from"
	case errors.Is(err, backup.ErrTampered), errors.Is(err, backup.ErrTruncated), errors.Is(err, backup.ErrNotBackup), errors.Is(err, backup.ErrVersion):
		return "nothing was written; the file is damaged, incomplete or not an OpenKMS backup: use another backup"
	case strings.Contains(err.Error(), "root key"):
		return "pass --root-key-file with the root key of the server the data comes from"
	case strings.Contains(err.Error(), "in use"):
		return "stop the server that uses this data directory first"
	}
	return ""
}

const restoreHelp = `Usage: openkms admin restore --input FILE (--data-dir DIR | --storage postgres://...) [flags]

Restores a backup from 'openkms admin backup' into the store of a stopped
server: the embedded store in --data-dir, or the PostgreSQL store --storage
names (then --data-dir only locates root.key). The root key must be the one
of the server the backup was taken from (--root-key-file, default
DATA_DIR/root.key); it is never created here.

The whole backup is read and verified before anything is written, so a
damaged or foreign backup changes nothing. The target must be empty unless
--force, which deletes everything in it first. If writing fails part way
(for example the database goes away), the store is left marked as partially
restored and the command says so; run it again with --force.

Settings not given as flags are read as the server reads them: OPENKMS_*
environment variables, then --config. Prefer OPENKMS_STORAGE to --storage
when the URL holds a password.

Examples:
  openkms admin restore --input kms.backup --data-dir ./openkms-data
  openkms admin restore --input kms.backup --data-dir ./openkms-data --force
  OPENKMS_STORAGE=postgres://openkms:...@db.internal/openkms \
    openkms admin restore --input kms.backup --storage-schema openkms --root-key-file /etc/openkms/root.key

Flags:
`

func runAdminRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	input := fs.String("input", "", `backup file ("-" for stdin)`)
	force := fs.Bool("force", false, "replace the contents of a target that is not empty")
	sf := addStoreFlags(fs)
	if code, ok := parseFlags(fs, args, restoreHelp, stdout, stderr); !ok {
		return code
	}
	if *input == "" {
		return failf(stderr, 2, "pass --input FILE, a file from 'openkms admin backup'", "no input")
	}
	cfg, err := sf.config(fs)
	if err != nil {
		return failf(stderr, 2, "run 'openkms admin restore --help' for its flags", "%v", err)
	}
	var in io.Reader = os.Stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return failf(stderr, 1, "", "%v", err)
		}
		defer f.Close()
		in = f
	}
	ctx, stop := signalContext()
	defer stop()
	st, err := server.Restore(ctx, cfg, in, *force)
	if err != nil {
		return failf(stderr, 1, storeErrorHint(err, false), "restore into %s: %v", describeStore(cfg), err)
	}
	fmt.Fprintf(stdout, "Restored backup %s (taken %s): %d records into %s.\n",
		st.ID, st.Created.Format(time.RFC3339), st.Records, describeStore(cfg))
	return 0
}

const migrateHelp = `Usage: openkms admin migrate --data-dir DIR --storage postgres://... [flags]

Copies the embedded store of a stopped server (DIR/openkms.db) into an empty
PostgreSQL store, then reads it back and checks that it holds exactly the
records copied. Values are copied as they are: they stay sealed under the
same root key (--root-key-file, default DIR/root.key), which must open the
source store and which every server of the PostgreSQL store must use. The
source is not changed.

Settings not given as flags are read as the server reads them: OPENKMS_*
environment variables, then --config.

Examples:
  openkms admin migrate --data-dir ./openkms-data --storage postgres://openkms@db.internal/openkms
  OPENKMS_STORAGE=postgres://openkms:...@db.internal/openkms \
    openkms admin migrate --data-dir ./openkms-data --storage-schema openkms

Flags:
`

func runAdminMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	sf := addStoreFlags(fs)
	if code, ok := parseFlags(fs, args, migrateHelp, stdout, stderr); !ok {
		return code
	}
	cfg, err := sf.config(fs)
	if err != nil {
		return failf(stderr, 2, "run 'openkms admin migrate --help' for its flags", "%v", err)
	}
	if !isSet(fs, "data-dir") && os.Getenv("OPENKMS_DATA_DIR") == "" && *sf.configFile == "" {
		return failf(stderr, 2, "pass --data-dir DIR, the data directory of the stopped server", "no source data directory")
	}
	if cfg.Storage == "" {
		return failf(stderr, 2, "pass --storage postgres://... (or set OPENKMS_STORAGE)", "no target PostgreSQL store")
	}
	ctx, stop := signalContext()
	defer stop()
	st, err := server.Migrate(ctx, cfg)
	if err != nil {
		return failf(stderr, 1, storeErrorHint(err, true), "migrate %s to %s: %v", cfg.DataDir, describeStore(cfg), err)
	}
	fmt.Fprintf(stdout, "Copied and verified %d records (%d bytes) from %s to %s.\n"+
		"Start every node with this storage and the same root key (%s).\n",
		st.Records, st.Bytes, cfg.DataDir, describeStore(cfg), describeRootKey(cfg))
	return 0
}
