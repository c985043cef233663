package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNoSecretInFiles logs, for every KMS operation, an event built the way
// the HTTP layer builds it (raw request body and response through the
// sanitizers) from a request and response whose every field holds a known
// marker, allowed, denied and failed; then searches every file of the log
// directory for the markers of fields that must never be recorded, in raw,
// base64 and hex form.
func TestNoSecretInFiles(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{DigestEvery: 7}, FileOptions{MaxFileBytes: 64 << 10})
	ops := sdkOperations(t)
	var forbidden []string
	for op, types := range ops {
		reqBody, err := json.Marshal(filled(types[0], op))
		if err != nil {
			t.Fatal(err)
		}
		resp := filled(types[1], op)
		for _, typ := range types {
			for _, f := range fieldNames(typ) {
				if neverRecorded[f] {
					forbidden = append(forbidden, marker(op, f))
				}
			}
		}
		for _, code := range []string{"", "AccessDeniedException", "ValidationException"} {
			ev := sampleEvent(0)
			ev.EventName = op
			ev.RequestParameters = SanitizeRequest(op, reqBody)
			ev.ErrorCode = code
			if code == "" {
				ev.ResponseElements = SanitizeResponse(op, resp)
			}
			if err := l.Log(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(forbidden) < 60 {
		t.Fatalf("only %d forbidden markers: the test lost its teeth", len(forbidden))
	}
	entries, _ := os.ReadDir(dir)
	var all []byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for _, m := range forbidden {
		for _, form := range []string{m, base64.StdEncoding.EncodeToString([]byte(m)), hex.EncodeToString([]byte(m))} {
			if bytes.Contains(all, []byte(form)) {
				t.Errorf("secret marker %s found in the audit directory (form %q)", m, form)
			}
		}
	}
	// And the allowed fields are there: the test would notice a sanitizer
	// that drops everything.
	for _, want := range []string{marker("Encrypt", "keyId"), marker("Decrypt", "encryptionContext"), marker("CreateGrant", "grantId")} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("allowed field marker %s missing from the log", want)
		}
	}
	verifyOK(t, dir)
	if n := slices.Collect(func(yield func(string) bool) {
		for ev, err := range Query(dir, Filter{Outcome: OutcomeDenied}) {
			if err != nil || !yield(ev.EventName) {
				return
			}
		}
	}); len(n) != len(ops) {
		t.Errorf("denied events: got %d, want %d", len(n), len(ops))
	}
	if strings.Contains(string(all), "top secret") {
		t.Error("sample plaintext found")
	}
}
