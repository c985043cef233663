package hsm_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
)

func TestOpenConfigErrors(t *testing.T) {
	ok := hsm.Config{ModulePath: "/nonexistent/libsofthsm2.so", TokenLabel: "openkms", PIN: "pin-that-must-not-leak"}
	for _, tc := range []struct {
		name   string
		change func(*hsm.Config)
		want   string
	}{
		{"no module", func(c *hsm.Config) { c.ModulePath = "" }, "no PKCS#11 module path"},
		{"NUL in module", func(c *hsm.Config) { c.ModulePath = "/a\x00b" }, "not a usable file name"},
		{"no token", func(c *hsm.Config) { c.TokenLabel = "" }, "no token label"},
		{"long token", func(c *hsm.Config) { c.TokenLabel = strings.Repeat("t", 33) }, "at most 32"},
		{"no PIN", func(c *hsm.Config) { c.PIN = "" }, "no PIN"},
		{"long PIN", func(c *hsm.Config) { c.PIN = strings.Repeat("p", hsm.MaxPINSize+1) }, "longer than"},
		{"negative sessions", func(c *hsm.Config) { c.Sessions = -1 }, "Sessions is -1"},
		{"too many sessions", func(c *hsm.Config) { c.Sessions = hsm.MaxSessions + 1 }, "Sessions is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.change(&cfg)
			tok, err := hsm.Open(cfg)
			if !errors.Is(err, hsm.ErrConfig) || tok != nil {
				t.Fatalf("Open: got (%v, %v), want ErrConfig", tok, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "pin-that") || (cfg.PIN != "" && strings.Contains(err.Error(), cfg.PIN)) {
				t.Errorf("Open: error %q contains the PIN", err)
			}
		})
	}
}

func TestConfigNeverShowsPIN(t *testing.T) {
	const pin = "pin-that-must-not-leak"
	cfg := hsm.Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "openkms", PIN: pin}
	type wrapper struct {
		HSM hsm.Config
		Ptr *hsm.Config
	}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out = append(out, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, wrapper{cfg, &cfg}))
	}
	out = append(out, fmt.Sprint(cfg), fmt.Sprintln(cfg), cfg.String())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("open", "hsm", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("open", "hsm", cfg)
	out = append(out, buf.String())
	for _, s := range out {
		if strings.Contains(s, pin) || strings.Contains(s, fmt.Sprintf("%x", pin)) || strings.Contains(s, fmt.Sprintf("%X", pin)) {
			t.Fatalf("formatted Config contains the PIN: %s", s)
		}
	}
	if s := cfg.String(); !strings.Contains(s, "openkms") || !strings.Contains(s, "libsofthsm2.so") || !strings.Contains(s, "PIN: <set>") {
		t.Fatalf("Config.String: got %q, want the module, token and <set> for the PIN", s)
	}
}

func TestErrorNamesCKR(t *testing.T) {
	err := fmt.Errorf("%w: %w", hsm.ErrPINIncorrect, &hsm.Error{Func: "C_Login", Code: 0xA0, Name: "CKR_PIN_INCORRECT"})
	if got, want := err.Error(), "hsm: PIN incorrect: hsm: C_Login: CKR_PIN_INCORRECT (0xA0)"; got != want {
		t.Fatalf("Error: got %q, want %q", got, want)
	}
}
