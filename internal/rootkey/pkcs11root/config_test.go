package pkcs11root_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/rootkey/pkcs11root"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		cfg  pkcs11root.Config
		want string
	}{
		{pkcs11root.Config{HSM: hsm.Config{TokenLabel: "openkms"}}, "pkcs11:token=openkms;object=openkms-root-key"},
		{pkcs11root.Config{HSM: hsm.Config{TokenLabel: "my token;x=y"}, KeyLabel: "k/1"}, "pkcs11:token=my%20token%3Bx%3Dy;object=k%2F1"},
	} {
		if got := pkcs11root.NewProvider(tc.cfg).Name(); got != tc.want {
			t.Errorf("Name: got %q, want %q", got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := pkcs11root.NewProvider(pkcs11root.Config{HSM: hsm.Config{ModulePath: "/x.so", TokenLabel: "t", PIN: "p"}}).Open(t.Context())
	if !errors.Is(err, pkcs11root.ErrConfig) || !strings.Contains(err.Error(), "wrapped root key path") {
		t.Fatalf("Open without a wrapped key path: got %v, want ErrConfig", err)
	}
	if err := pkcs11root.AdoptFileKey(t.Context(), pkcs11root.Config{}, "/x/root.key"); !errors.Is(err, pkcs11root.ErrConfig) {
		t.Fatalf("AdoptFileKey without a wrapped key path: got %v, want ErrConfig", err)
	}
}

func TestConfigNeverShowsPIN(t *testing.T) {
	const pin = "pin-that-must-not-leak"
	cfg := pkcs11root.Config{HSM: hsm.Config{ModulePath: "/m.so", TokenLabel: "t", PIN: pin}, WrappedKeyPath: "/d/w"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, pin) || strings.Contains(s, fmt.Sprintf("%x", pin)) {
			t.Fatalf("Sprintf(%s, Config) shows the PIN: %s", verb, s)
		}
	}
}
