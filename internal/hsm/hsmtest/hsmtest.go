// Package hsmtest gives tests the PKCS#11 token that CI provides (SoftHSM2,
// set up by scripts/softhsm-setup.sh). Tests that need a token skip when
// none is configured, unless OPENKMS_REQUIRE_ALL=1, in which case they fail:
// CI must not pass by skipping.
package hsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
)

// Environment variables printed by scripts/softhsm-setup.sh.
const (
	EnvModule = "OPENKMS_TEST_PKCS11_MODULE"
	EnvToken  = "OPENKMS_TEST_PKCS11_TOKEN"
	EnvPIN    = "OPENKMS_TEST_PKCS11_PIN"
)

// Config returns the token configuration from the environment. It skips t
// (or fails it under OPENKMS_REQUIRE_ALL=1) when the variables are unset.
func Config(t testing.TB) hsm.Config {
	t.Helper()
	cfg := hsm.Config{
		ModulePath: os.Getenv(EnvModule),
		TokenLabel: os.Getenv(EnvToken),
		PIN:        os.Getenv(EnvPIN),
	}
	if cfg.ModulePath == "" || cfg.TokenLabel == "" || cfg.PIN == "" {
		unavailable(t, "no PKCS#11 token: set "+EnvModule+", "+EnvToken+" and "+EnvPIN+` (eval "$(bash scripts/softhsm-setup.sh | tail -4)")`)
	}
	return cfg
}

// Open opens the token from the environment and closes it when t ends. It
// skips (or fails, as Config) when no token is configured or the binary
// was built without cgo.
func Open(t testing.TB) *hsm.Token {
	t.Helper()
	return OpenConfig(t, Config(t))
}

// OpenConfig opens cfg and closes the Token when t ends. A binary built
// without cgo skips (or fails, as Config).
func OpenConfig(t testing.TB, cfg hsm.Config) *hsm.Token {
	t.Helper()
	tok, err := hsm.Open(cfg)
	if errors.Is(err, hsm.ErrNoCgo) {
		unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatalf("hsm.Open(%v): got error %v, want nil", cfg, err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// Label returns a key label unique to this run, starting with prefix, so
// that tests sharing one token never collide.
func Label(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Required reports whether OPENKMS_REQUIRE_ALL=1.
func Required() bool { return os.Getenv("OPENKMS_REQUIRE_ALL") == "1" }

func unavailable(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("OPENKMS_REQUIRE_ALL=1: CI must provide SoftHSM: %s", why)
	}
	t.Skip(why)
}
