package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/rootkey"
)

const (
	testKey1 = "arn:aws:kms:us-east-1:111122223333:key/11111111-1111-4111-8111-111111111111"
	testKey2 = "arn:aws:kms:us-east-1:111122223333:key/22222222-2222-4222-8222-222222222222"
)

func user(name string) audit.UserIdentity {
	return audit.UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + strings.ToUpper(name), AccountID: "111122223333",
		ARN: "arn:aws:iam::111122223333:user/" + name, UserName: name, AccessKeyID: "AKIA" + strings.ToUpper(name)}
}

// writeTestLog writes three events (allowed, denied, error) to a new audit
// log and closes it. It returns the directory.
func writeTestLog(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sealer, err := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(dir, sealer, audit.Config{Logger: slog.New(slog.DiscardHandler)}, audit.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []audit.Event{
		{EventName: "Encrypt", AWSRegion: "us-east-1", UserIdentity: user("alice"), SourceIPAddress: "192.0.2.10",
			Resources: audit.KeyResources(testKey1)},
		{EventName: "Decrypt", AWSRegion: "us-east-1", UserIdentity: user("bob"), SourceIPAddress: "192.0.2.11",
			Resources: audit.KeyResources(testKey2), ErrorCode: "AccessDeniedException", ErrorMessage: "not allowed"},
		{EventName: "Encrypt", AWSRegion: "us-east-1", UserIdentity: user("alice"), SourceIPAddress: "192.0.2.10",
			Resources: audit.KeyResources(testKey2), ErrorCode: "NotFoundException", ErrorMessage: "no such key"},
	} {
		if err := l.Log(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runAuditCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = runAudit(args, &o, &e)
	return code, o.String(), e.String()
}

func TestAuditCommands(t *testing.T) {
	dir := writeTestLog(t)
	pinned := filepath.Join(t.TempDir(), "audit.pub.pem")
	pem, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pinned, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	otherKey := filepath.Join(t.TempDir(), "other.pub.pem")
	k, _ := audit.GenerateSigningKey()
	os.WriteFile(otherKey, k.PublicKeyPEM(), 0o600)
	notPEM := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	empty := t.TempDir()

	cases := []struct {
		args               []string
		code               int
		out, err, notInErr string
	}{
		{args: nil, code: 2, err: "Usage: openkms admin audit"},
		{args: []string{"help"}, code: 0, out: "Examples:"},
		{args: []string{"fly"}, code: 2, err: "openkms: error: unknown audit command \"fly\"\nhint: run 'openkms admin audit help'"},
		{args: []string{"verify", "--help"}, code: 0, out: "--public-key"},
		{args: []string{"query", "--help"}, code: 0, out: "--outcome"},
		{args: []string{"public-key", "--help"}, code: 0, out: "Example:"},
		{args: []string{"verify"}, code: 2, err: "openkms: error: no audit directory\nhint: pass --dir"},
		{args: []string{"verify", "--dir", dir, "--bogus"}, code: 2, err: "hint: run 'openkms admin audit verify --help'"},
		{args: []string{"verify", "--dir", dir, "--public-key", pinned}, code: 0, out: "OK: 1 files, 3 records", notInErr: "warning"},
		{args: []string{"verify", "--dir", dir}, code: 0, out: "OK:", err: "openkms: warning: verifying with the public key stored in the audit directory"},
		{args: []string{"verify", "--dir", dir, "--public-key", otherKey}, code: 1, out: "error bad-signature", err: "failed verification"},
		{args: []string{"verify", "--dir", dir, "--public-key", notPEM}, code: 1, err: "openkms: error: " + notPEM},
		{args: []string{"verify", "--dir", dir, "--public-key", filepath.Join(empty, "missing.pem")}, code: 1, err: "reading the public key"},
		{args: []string{"verify", "--dir", empty, "--public-key", pinned}, code: 1, err: "no audit files in " + empty},
		{args: []string{"query"}, code: 2, err: "no audit directory"},
		{args: []string{"query", "--dir", dir, "--outcome", "maybe"}, code: 2, err: "invalid outcome \"maybe\"\nhint: --outcome is one of allowed, denied, error"},
		{args: []string{"query", "--dir", dir, "--outcome", "unknown"}, code: 2, err: "invalid outcome"},
		{args: []string{"query", "--dir", dir, "--from", "yesterday"}, code: 2, err: "invalid --from \"yesterday\""},
		{args: []string{"query", "--dir", dir, "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}, code: 2, err: "empty time range"},
		{args: []string{"query", "--dir", filepath.Join(empty, "nope")}, code: 1, err: "is not a readable directory"},
		{args: []string{"query", "--dir", dir, "--from", "2999-01-01T00:00:00Z"}, code: 0, out: "TIME "},
		{args: []string{"public-key"}, code: 2, err: "no audit directory"},
		{args: []string{"public-key", "--dir", dir}, code: 0, out: string(pem)},
		{args: []string{"public-key", "--dir", empty}, code: 1, err: "no such file"},
	}
	for _, tc := range cases {
		code, stdout, stderr := runAuditCmd(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.out) || !strings.Contains(stderr, tc.err) ||
			(tc.notInErr != "" && strings.Contains(stderr, tc.notInErr)) {
			t.Errorf("openkms admin audit %s:\ngot exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout containing %q, stderr containing %q (and not %q)",
				strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.out, tc.err, tc.notInErr)
		}
	}
}

func TestAuditQuery(t *testing.T) {
	dir := writeTestLog(t)
	rows := func(args ...string) []string {
		t.Helper()
		code, stdout, stderr := runAuditCmd(append([]string{"query", "--dir", dir}, args...)...)
		if code != 0 {
			t.Fatalf("query %v: exit %d: %s", args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if !strings.HasPrefix(lines[0], "TIME") {
			t.Fatalf("query %v: no table header:\n%s", args, stdout)
		}
		return lines[1:]
	}
	if got := rows(); len(got) != 3 {
		t.Errorf("all events: got %d rows, want 3:\n%s", len(got), strings.Join(got, "\n"))
	}
	if got := rows("--key", testKey1); len(got) != 1 || !strings.Contains(got[0], "Encrypt") || !strings.Contains(got[0], "allowed") {
		t.Errorf("--key: got %q, want the one allowed Encrypt", got)
	}
	if got := rows("--principal", "arn:aws:iam::111122223333:user/alice", "--action", "kms:encrypt"); len(got) != 2 {
		t.Errorf("--principal --action: got %d rows, want 2", len(got))
	}
	if got := rows("--outcome", "error"); len(got) != 1 || !strings.Contains(got[0], "NotFoundException") {
		t.Errorf("--outcome error: got %q", got)
	}
	if got := rows("--from", "2000-01-01T00:00:00Z", "--to", "2999-01-01T00:00:00Z", "--principal", "bob"); len(got) != 1 {
		t.Errorf("--from --to --principal: got %d rows, want 1", len(got))
	}

	code, stdout, stderr := runAuditCmd("query", "--dir", dir, "--outcome", "denied", "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("--json: got %d lines, want 1:\n%s", len(lines), stdout)
	}
	var rec struct {
		EventName    string `json:"eventName"`
		ErrorCode    string `json:"errorCode"`
		UserIdentity struct {
			UserName string `json:"userName"`
		} `json:"userIdentity"`
		OpenKMS struct {
			Outcome string `json:"outcome"`
			Chain   struct {
				Seq uint64 `json:"seq"`
			} `json:"chain"`
		} `json:"openkms"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("--json line does not decode: %v\n%s", err, lines[0])
	}
	if rec.EventName != "Decrypt" || rec.ErrorCode != "AccessDeniedException" || rec.UserIdentity.UserName != "bob" ||
		rec.OpenKMS.Outcome != "denied" || rec.OpenKMS.Chain.Seq == 0 {
		t.Errorf("--json: got %+v, want bob's denied Decrypt with its chain", rec)
	}
}

func TestAuditVerifyTampered(t *testing.T) {
	dir := writeTestLog(t)
	pinned := filepath.Join(t.TempDir(), "audit.pub.pem")
	pem, _ := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	os.WriteFile(pinned, pem, 0o600)
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("got %d audit files, want 1", len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// Make bob's denied Decrypt look like eve's: same length, hash left as is.
	lines := bytes.Split(data, []byte("\n"))
	lineNo, seq := 0, ""
	for i, l := range lines {
		if bytes.Contains(l, []byte(`"userName":"bob"`)) {
			lines[i] = bytes.ReplaceAll(l, []byte("bob"), []byte("eve"))
			lineNo = i + 1
			seq = regexp.MustCompile(`"seq":(\d+)`).FindStringSubmatch(string(l))[1]
		}
	}
	if lineNo == 0 {
		t.Fatal("bob's record not found")
	}
	if err := os.WriteFile(files[0], bytes.Join(lines, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runAuditCmd("verify", "--dir", dir, "--public-key", pinned)
	want := fmt.Sprintf("error modified: seq %s %s line %d", seq, filepath.Base(files[0]), lineNo)
	if code != 1 || !strings.HasPrefix(stdout, "FAILED:") || !strings.Contains(stdout, want) {
		t.Errorf("verify of a tampered log: got exit %d, stdout:\n%s\nwant exit 1 and a line %q", code, stdout, want)
	}
	if !strings.Contains(stderr, "openkms: error: the audit log in "+dir+" failed verification") || !strings.Contains(stderr, "hint:") {
		t.Errorf("verify of a tampered log: stderr %q", stderr)
	}
}
