package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/server/servertest"
)

// clearAWSEnv unsets the variables the admin commands read.
func clearAWSEnv(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_CA_BUNDLE",
		"OPENKMS_DATA_DIR", "OPENKMS_STORAGE", "OPENKMS_STORAGE_SCHEMA", "OPENKMS_ROOT_KEY_FILE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestAdminCommands(t *testing.T) {
	clearAWSEnv(t)
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.backup")
	os.WriteFile(exists, []byte("x"), 0o600)
	garbage := filepath.Join(dir, "garbage.backup")
	os.WriteFile(garbage, []byte("this is not a backup"), 0o600)
	keyDir := t.TempDir()
	// A root key, so restore gets as far as reading the input.
	if code, _, stderr := runCmd("admin", "restore", "--input", garbage, "--data-dir", keyDir); code != 1 {
		t.Fatalf("restore without a root key: got exit %d (%s), want 1", code, stderr)
	}
	if _, err := fileroot.NewProvider(filepath.Join(keyDir, "root.key")).Open(context.Background()); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		args     []string
		env      map[string]string
		code     int
		out, err string
	}{
		{args: []string{"admin"}, code: 2, err: "Usage: openkms admin"},
		{args: []string{"admin", "help"}, code: 0, out: "restore"},
		{args: []string{"admin", "fly"}, code: 2, err: "openkms: error: unknown admin command \"fly\"\nhint:"},
		{args: []string{"admin", "backup", "--help"}, code: 0, out: "Examples:"},
		{args: []string{"admin", "restore", "--help"}, code: 0, out: "--force"},
		{args: []string{"admin", "migrate", "--help"}, code: 0, out: "--storage"},
		{args: []string{"admin", "backup"}, code: 2, err: "openkms: error: no endpoint\nhint: pass --endpoint-url"},
		{args: []string{"admin", "backup", "--endpoint-url", "ftp://x"}, code: 2, err: "invalid endpoint"},
		{args: []string{"admin", "backup", "--endpoint-url", "http://127.0.0.1:1"}, code: 2, err: "no credentials\nhint: export AWS_ACCESS_KEY_ID"},
		{args: []string{"admin", "backup", "--bogus"}, code: 2, err: "openkms: error: flag provided but not defined"},
		{args: []string{"admin", "backup", "--output", exists}, env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1",
			"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE00000001", "AWS_SECRET_ACCESS_KEY": "secretsecretsecret"}, code: 1, err: "already exists"},
		{args: []string{"admin", "backup", "--output", filepath.Join(dir, "new.backup")}, env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1",
			"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE00000001", "AWS_SECRET_ACCESS_KEY": "secretsecretsecret"}, code: 1, err: "hint: is the server running"},
		{args: []string{"admin", "restore", "--data-dir", keyDir}, code: 2, err: "no input"},
		{args: []string{"admin", "restore", "--input", garbage}, code: 2, err: "no target"},
		{args: []string{"admin", "restore", "--input", garbage, "--data-dir", keyDir, "extra"}, code: 2, err: "unexpected argument"},
		{args: []string{"admin", "restore", "--input", filepath.Join(dir, "missing"), "--data-dir", keyDir}, code: 1, err: "no such file"},
		{args: []string{"admin", "restore", "--input", garbage, "--data-dir", keyDir}, code: 1,
			err: "not an OpenKMS backup: header at byte 0: the input does not start with \"OPENKMS-BACKUP\"\nhint: nothing was written"},
		{args: []string{"admin", "restore", "--input", garbage, "--data-dir", t.TempDir()}, code: 1, err: "root.key does not exist"},
		{args: []string{"admin", "restore", "--input", garbage, "--storage", "mysql://x"}, code: 2, err: "storage: must be empty"},
		{args: []string{"admin", "migrate", "--data-dir", keyDir}, code: 2, err: "no target PostgreSQL store"},
		{args: []string{"admin", "migrate", "--storage", "postgres://127.0.0.1:1/x"}, code: 2, err: "no source data directory"},
	}
	for _, tc := range cases {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		code, stdout, stderr := runCmd(tc.args...)
		if code != tc.code {
			t.Errorf("%v: got exit code %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
		if tc.out != "" && !strings.Contains(stdout, tc.out) {
			t.Errorf("%v: got stdout %q, want it to contain %q", tc.args, stdout, tc.out)
		}
		if tc.err != "" && !strings.Contains(stderr, tc.err) {
			t.Errorf("%v: got stderr %q, want it to contain %q", tc.args, stderr, tc.err)
		}
		for k := range tc.env {
			os.Unsetenv(k)
		}
	}
}

// TestAdminBackupRestore runs backup against an in-process server and
// restores the file into a new data directory.
func TestAdminBackupRestore(t *testing.T) {
	clearAWSEnv(t)
	s := servertest.Start(t, servertest.Options{})
	out := filepath.Join(t.TempDir(), "kms.backup")
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.Secret)
	code, stdout, stderr := runCmd("admin", "backup", "--endpoint-url", s.Endpoint, "--output", out)
	if code != 0 {
		t.Fatalf("admin backup: got exit %d (%s), want 0", code, stderr)
	}
	if !strings.Contains(stdout, "written to "+out) {
		t.Fatalf("admin backup: got stdout %q, want it to name %s", stdout, out)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: got %v, want 0600", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Fatalf("output directory: got %d entries, want only the backup", len(ents))
	}

	// Another account's root may not take backups.
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.OtherAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.OtherSecret)
	code, _, stderr = runCmd("admin", "backup", "--endpoint-url", s.Endpoint, "--output", out+"2")
	if code != 1 || !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, "hint: only the root credentials") {
		t.Fatalf("admin backup as another account: got exit %d, stderr %q; want 1 and AccessDeniedException with a hint", code, stderr)
	}
	if _, err := os.Stat(out + "2"); err == nil {
		t.Fatal("refused backup left a file, want none")
	}

	dir := t.TempDir()
	key := filepath.Join(s.DataDir, "root.key")
	code, stdout, stderr = runCmd("admin", "restore", "--input", out, "--data-dir", dir, "--root-key-file", key)
	if code != 0 {
		t.Fatalf("admin restore: got exit %d (%s), want 0", code, stderr)
	}
	if !strings.Contains(stdout, "Restored backup") {
		t.Fatalf("admin restore: got stdout %q, want it to report the restore", stdout)
	}
	code, _, stderr = runCmd("admin", "restore", "--input", out, "--data-dir", dir, "--root-key-file", key)
	if code != 1 || !strings.Contains(stderr, "not empty") || !strings.Contains(stderr, "hint:") || !strings.Contains(stderr, "--force") {
		t.Fatalf("second restore: got exit %d, stderr %q; want 1, 'not empty' and a hint naming --force", code, stderr)
	}
	code, _, stderr = runCmd("admin", "restore", "--input", out, "--data-dir", dir, "--root-key-file", key, "--force")
	if code != 0 {
		t.Fatalf("restore --force: got exit %d (%s), want 0", code, stderr)
	}

	// To stdout, and back in from a pipe (restore then spools it).
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.Secret)
	code, stdout, stderr = runCmd("admin", "backup", "--endpoint-url", s.Endpoint, "--output", "-")
	if code != 0 || !strings.HasPrefix(stdout, "OPENKMS-BACKUP") || !strings.Contains(stderr, "written to stdout") {
		t.Fatalf("admin backup --output -: got exit %d, %d bytes on stdout, stderr %q; want 0, the backup, a report on stderr", code, len(stdout), stderr)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.WriteString(stdout); w.Close() }()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin; r.Close() }()
	dir2 := t.TempDir()
	code, _, stderr = runCmd("admin", "restore", "--input", "-", "--data-dir", dir2, "--root-key-file", key)
	if code != 0 {
		t.Fatalf("restore --input -: got exit %d (%s), want 0", code, stderr)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir2, "openkms-restore-*")); len(ents) != 0 {
		t.Fatalf("restore from a pipe left %v, want the spool file removed", ents)
	}
}
