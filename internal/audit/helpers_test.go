package audit

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
)

// testSealer is one root key for the whole test binary, so that a log
// reopened in a test finds its signing key.
var testSealer = func() rootkey.Sealer {
	s, err := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	return s
}()

var quiet = slog.New(slog.DiscardHandler)

const (
	testAccount = "111122223333"
	testKeyARN  = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// sampleEvent is an Encrypt call by an IAM user.
func sampleEvent(i int) Event {
	p := principal.Principal{Account: testAccount, ARN: "arn:aws:iam::111122223333:user/alice",
		UserID: "AIDAEXAMPLE", Type: principal.TypeIAMUser, AccessKeyID: "AKIAEXAMPLE"}
	return Event{
		UserIdentity:    IdentityFromPrincipal(p),
		EventName:       "Encrypt",
		AWSRegion:       "us-east-1",
		SourceIPAddress: "192.0.2.10",
		UserAgent:       fmt.Sprintf("aws-sdk-go-v2/1.0 test/%d", i),
		RequestParameters: SanitizeRequest("Encrypt", map[string]any{
			"KeyId": testKeyARN, "Plaintext": []byte("top secret"), "EncryptionContext": map[string]string{"n": fmt.Sprint(i)},
		}),
		RequestID: fmt.Sprintf("req-%06d", i),
		Resources: KeyResources(testKeyARN),
		OpenKMS: Extension{Authorization: &Authorization{Decision: DecisionAllow,
			Reasons: []Reason{{Source: SourceKeyPolicy, Policy: testKeyARN + "/default", StatementSID: "Enable IAM User Permissions"}}}},
	}
}

// openLog opens a Logger on dir with test defaults.
func openLog(t testing.TB, dir string, cfg Config, files FileOptions) *Logger {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	l, err := Open(dir, testSealer, cfg, files)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return l
}

// pubKey returns the public key of the log in dir.
func pubKey(t testing.TB, dir string) ed25519.PublicKey {
	t.Helper()
	k, err := LoadOrCreateSigningKey(dir, testSealer)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

// logFileNames returns the log files of dir in order.
func logFileNames(t testing.TB, dir string) []string {
	t.Helper()
	files, err := listLogFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, f.name)
	}
	return out
}

// readLines returns the newline-terminated lines of a file, without their
// newlines, and any trailing bytes.
func readLines(t testing.TB, path string) (lines [][]byte, tail []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return lines, b
		}
		lines = append(lines, b[:i])
		b = b[i+1:]
	}
}

func writeLines(t testing.TB, path string, lines [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the flat directory src to a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// verifyOK runs Verify and fails unless the report has no error issue.
func verifyOK(t testing.TB, dir string) Report {
	t.Helper()
	rep, err := Verify(dir, pubKey(t, dir))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("Verify: got errors, want none:\n%s", rep)
	}
	return rep
}
