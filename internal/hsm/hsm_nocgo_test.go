//go:build !cgo

package hsm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
)

// Built without cgo, asking for an HSM fails loudly.
func TestOpenWithoutCgo(t *testing.T) {
	tok, err := hsm.Open(hsm.Config{ModulePath: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "openkms", PIN: "1234"})
	if !errors.Is(err, hsm.ErrNoCgo) || tok != nil {
		t.Fatalf("Open: got (%v, %v), want ErrNoCgo", tok, err)
	}
	if !strings.Contains(err.Error(), "openkms was built without cgo; PKCS#11 support needs cgo") {
		t.Fatalf("Open: got %q, want it to say cgo is needed", err)
	}
	var nilTok *hsm.Token
	if _, err := nilTok.Random(t.Context(), 8); !errors.Is(err, hsm.ErrNoCgo) {
		t.Fatalf("Random: got %v, want ErrNoCgo", err)
	}
}
