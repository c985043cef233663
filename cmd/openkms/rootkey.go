package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/rootkey/pkcs11root"
	"github.com/openkms/openkms/internal/server"
)

const rootKeyHelp = `Usage: openkms admin root-key adopt-hsm --data-dir DIR --pkcs11-module LIB --pkcs11-token LABEL
                                      [--pkcs11-key-label LABEL] [--root-key-file FILE]

Moves a stopped server's root of trust from the root key file into a PKCS#11
token, without re-sealing anything: the file's key becomes the data-encryption
key, wrapped by a non-extractable key in the token (DIR/root-dek.wrapped).
It is idempotent. Afterwards start the server with root_key_provider pkcs11
and the same token settings, check it serves, then destroy the root key file
and its backups. The PIN comes from OPENKMS_PKCS11_PIN or --pkcs11-pin-file.

Example:
  OPENKMS_PKCS11_PIN=... openkms admin root-key adopt-hsm --data-dir ./openkms-data \
    --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token openkms

Flags:
`

func runRootKey(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "adopt-hsm" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			io.WriteString(stdout, rootKeyHelp)
			return 0
		}
		return failf(stderr, 2, "run 'openkms admin root-key adopt-hsm --help'", "expected 'root-key adopt-hsm'")
	}
	fs := flag.NewFlagSet("root-key adopt-hsm", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "", "the stopped server's data directory")
	keyFile := fs.String("root-key-file", "", "the root key file (default DIR/root.key)")
	module := fs.String("pkcs11-module", os.Getenv("OPENKMS_PKCS11_MODULE"), "PKCS#11 module (env OPENKMS_PKCS11_MODULE)")
	token := fs.String("pkcs11-token", os.Getenv("OPENKMS_PKCS11_TOKEN"), "token label (env OPENKMS_PKCS11_TOKEN)")
	label := fs.String("pkcs11-key-label", os.Getenv("OPENKMS_PKCS11_KEY_LABEL"), "root key label in the token (default openkms-root-key)")
	pinFile := fs.String("pkcs11-pin-file", os.Getenv("OPENKMS_PKCS11_PIN_FILE"), "file holding the user PIN (or env OPENKMS_PKCS11_PIN)")
	if code, ok := parseFlags(fs, args[1:], rootKeyHelp, stdout, stderr); !ok {
		return code
	}
	if *dataDir == "" || *module == "" || *token == "" {
		return failf(stderr, 2, "run 'openkms admin root-key adopt-hsm --help'", "--data-dir, --pkcs11-module and --pkcs11-token are required")
	}
	pin := os.Getenv("OPENKMS_PKCS11_PIN")
	if *pinFile != "" {
		b, err := os.ReadFile(*pinFile)
		if err != nil {
			return failf(stderr, 2, "", "reading --pkcs11-pin-file: %v", err)
		}
		pin = strings.TrimSpace(string(b))
	}
	if pin == "" {
		return failf(stderr, 2, "set OPENKMS_PKCS11_PIN or pass --pkcs11-pin-file", "no PIN")
	}
	cfg := config.Defaults()
	cfg.DataDir, cfg.RootKeyFile = *dataDir, *keyFile
	ctx, stop := signalContext()
	defer stop()
	err := pkcs11root.AdoptFileKey(ctx, pkcs11root.Config{
		HSM:            hsm.Config{ModulePath: *module, TokenLabel: *token, PIN: pin},
		KeyLabel:       *label,
		WrappedKeyPath: filepath.Join(*dataDir, pkcs11root.WrappedKeyFileName),
	}, server.RootKeyPath(cfg))
	if err != nil {
		return failf(stderr, 1, "check the token settings and that the server is stopped", "adopting the root key: %v", err)
	}
	io.WriteString(stdout, "The root key is now wrapped by the HSM ("+filepath.Join(*dataDir, pkcs11root.WrappedKeyFileName)+").\n"+
		"Start the server with root_key_provider pkcs11, check it serves, then destroy "+server.RootKeyPath(cfg)+" and its backups.\n")
	return 0
}
