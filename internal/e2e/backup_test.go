package e2e_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/server/servertest"
)

// Backup, restore and migration with the real binary: `openkms server`,
// `openkms admin backup` against it while it serves, then `openkms admin
// restore` / `migrate` into new stores and a server on each.

// estate is what a test puts into a server before backing it up.
type estate struct {
	keys    []string
	aliases map[string]string // alias → key id
	msgs    []sealedMessage
	late    string // a key made after the backup, which must not come back
}

func populate(t *testing.T, c *kms.Client) *estate {
	t.Helper()
	e := &estate{aliases: map[string]string{}}
	for i := range 5 {
		md := createKey(t, c)
		e.keys = append(e.keys, aws.ToString(md.KeyId))
		alias := fmt.Sprintf("alias/backup-%d", i)
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: md.KeyId}); err != nil {
			t.Fatalf("CreateAlias: %v", err)
		}
		e.aliases[alias] = aws.ToString(md.KeyId)
		for j := range 3 {
			e.msgs = append(e.msgs, encryptNote(t, c, md.KeyId, fmt.Sprintf("key %d message %d", i, j)))
		}
	}
	// A rotated key: ciphertexts under both materials must survive.
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: &e.keys[0]}); err != nil {
		t.Fatalf("RotateKeyOnDemand: %v", err)
	}
	e.msgs = append(e.msgs, encryptNote(t, c, &e.keys[0], "after rotation"))
	return e
}

// check verifies that a server holds the estate: keys, aliases, and every
// ciphertext decrypts.
func (e *estate) check(t *testing.T, c *kms.Client) {
	t.Helper()
	for _, id := range e.keys {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil || d.KeyMetadata.KeyState != types.KeyStateEnabled {
			t.Fatalf("DescribeKey(%s) after restore: got %v, %v; want an enabled key", id, d, err)
		}
	}
	for alias, id := range e.aliases {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
		if err != nil || aws.ToString(d.KeyMetadata.KeyId) != id {
			t.Fatalf("DescribeKey(%s) after restore: got %v, %v; want key %s", alias, d, err, id)
		}
	}
	checkDecrypts(t, c, e.msgs)
	if e.late != "" {
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(e.late)})
		wantAPIError(t, err, "NotFoundException", "")
	}
}

// runOpenKMS runs the openkms binary with env added and returns its exit
// code, stdout and stderr.
func runOpenKMS(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(openkmsBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("running openkms %v: %v", args, err)
	return 0, "", ""
}

// mustRun runs openkms and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	code, stdout, stderr := runOpenKMS(t, env, args...)
	if code != 0 {
		t.Fatalf("openkms %s: got exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// mustFail runs openkms and fails the test unless it exits 1 with stderr
// containing every one of want.
func mustFail(t *testing.T, env []string, args []string, want ...string) {
	t.Helper()
	code, _, stderr := runOpenKMS(t, env, args...)
	if code != 1 {
		t.Fatalf("openkms %s: got exit %d (stderr %q), want 1", strings.Join(args, " "), code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Fatalf("openkms %s: got stderr %q, want it to contain %q", strings.Join(args, " "), stderr, w)
		}
	}
}

var adminCreds = []string{
	"AWS_ACCESS_KEY_ID=" + servertest.AccessKeyID,
	"AWS_SECRET_ACCESS_KEY=" + servertest.Secret,
	"AWS_REGION=" + servertest.Region,
}

// stopProcess stops a server from startProcess with SIGTERM.
func stopProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, cmd, 30*time.Second); err != nil {
		t.Fatalf("server exited with %v; output:\n%s", err, processOutput(t, cmd))
	}
}

// backupLive populates a server, takes a backup with `openkms admin
// backup` while clients keep encrypting, and returns the file, the estate
// and the root key file.
func backupLive(t *testing.T) (file string, e *estate, rootKey string) {
	t.Helper()
	rootKey = filepath.Join(t.TempDir(), "root.key")
	dataDir := t.TempDir()
	endpoint, cmd := startProcess(t, dataDir, "OPENKMS_ROOT_KEY_FILE="+rootKey)
	c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	e = populate(t, c)

	// Online: the server keeps answering while the backup streams.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadErr error
	var mu sync.Mutex
	served := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &e.keys[1], Plaintext: []byte("during backup")})
			mu.Lock()
			if err != nil && loadErr == nil {
				loadErr = err
			}
			served++
			mu.Unlock()
		}
	})
	file = filepath.Join(t.TempDir(), "kms.backup")
	out := mustRun(t, adminCreds, "admin", "backup", "--endpoint-url", endpoint, "--output", file)
	close(stop)
	wg.Wait()
	if loadErr != nil {
		t.Fatalf("Encrypt while the backup ran: got %v, want success", loadErr)
	}
	t.Logf("backup: %s(%d Encrypts served meanwhile)", out, served)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: got %v, %v; want mode 0600", fi, err)
	}
	e.late = aws.ToString(createKey(t, c).KeyId) // after the backup
	stopProcess(t, cmd)
	if err := os.RemoveAll(dataDir); err != nil { // wipe; the root key stays
		t.Fatal(err)
	}
	return file, e, rootKey
}

func TestBackupRestoreEmbedded(t *testing.T) {
	file, e, rootKey := backupLive(t)
	dir := filepath.Join(t.TempDir(), "restored")
	out := mustRun(t, nil, "admin", "restore", "--input", file, "--data-dir", dir, "--root-key-file", rootKey)
	if !strings.Contains(out, "Restored backup") {
		t.Fatalf("restore: got stdout %q, want a report", out)
	}
	endpoint, cmd := startProcess(t, dir, "OPENKMS_ROOT_KEY_FILE="+rootKey)
	c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	e.check(t, c)

	// The store is in use by the running server.
	mustFail(t, nil, []string{"admin", "restore", "--input", file, "--data-dir", dir, "--root-key-file", rootKey, "--force"},
		"in use", "hint: stop the server")
	stopProcess(t, cmd)

	// Not empty: refused without --force, then replaced with it.
	mustFail(t, nil, []string{"admin", "restore", "--input", file, "--data-dir", dir, "--root-key-file", rootKey},
		"not empty", "hint:", "--force")
	mustRun(t, nil, "admin", "restore", "--input", file, "--data-dir", dir, "--root-key-file", rootKey, "--force")
	endpoint, _ = startProcess(t, dir, "OPENKMS_ROOT_KEY_FILE="+rootKey)
	e.check(t, servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret))
}

func TestBackupRestoreRefusesDamage(t *testing.T) {
	file, _, rootKey := backupLive(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(b)
	flipped[len(b)/2] ^= 0x01
	otherKey := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(otherKey, []byte("openkms-root-key-v1\n"+strings.Repeat("ab", 32)+"\n"), 0o600)
	cases := []struct {
		name, input, rootKey string
		want                 []string
	}{
		{"tampered", write("tampered", flipped), rootKey, []string{"the backup was modified: chunk", "does not authenticate", "hint: nothing was written"}},
		{"truncated", write("truncated", b[:len(b)-10]), rootKey, []string{"truncated", "hint: nothing was written"}},
		{"not a backup", write("junk", []byte("{}")), rootKey, []string{"not an OpenKMS backup"}},
		{"other root key", file, otherKey, []string{"different root key", "hint: pass --root-key-file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			mustFail(t, nil, []string{"admin", "restore", "--input", c.input, "--data-dir", dir, "--root-key-file", c.rootKey}, c.want...)
			// Nothing was written: a restore of the good backup needs no --force.
			mustRun(t, nil, "admin", "restore", "--input", file, "--data-dir", dir, "--root-key-file", rootKey)
		})
	}
}

func TestBackupRestorePostgres(t *testing.T) {
	dsn := postgresDSN(t)
	file, e, rootKey := backupLive(t)
	schema := freshSchema(t, dsn)
	pg := []string{"OPENKMS_STORAGE=" + dsn, "OPENKMS_STORAGE_SCHEMA=" + schema}
	mustRun(t, pg, "admin", "restore", "--input", file, "--root-key-file", rootKey)
	endpoint, cmd := startProcess(t, t.TempDir(), append(pg, "OPENKMS_ROOT_KEY_FILE="+rootKey)...)
	c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	e.check(t, c)
	stopProcess(t, cmd)
	mustFail(t, pg, []string{"admin", "restore", "--input", file, "--root-key-file", rootKey}, "not empty", "--force")
}

func TestMigrateEmbeddedToPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	rootKey := filepath.Join(t.TempDir(), "root.key")
	dataDir := t.TempDir()
	endpoint, cmd := startProcess(t, dataDir, "OPENKMS_ROOT_KEY_FILE="+rootKey)
	e := populate(t, servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret))

	schema := freshSchema(t, dsn)
	args := []string{"admin", "migrate", "--data-dir", dataDir, "--storage", dsn, "--storage-schema", schema, "--root-key-file", rootKey}
	mustFail(t, nil, args, "in use", "hint: stop the server")
	stopProcess(t, cmd)
	out := mustRun(t, nil, args...)
	if !strings.Contains(out, "Copied and verified") {
		t.Fatalf("migrate: got stdout %q, want a report", out)
	}
	mustFail(t, nil, args, "not empty", "hint: migrate only into an empty")

	// Two nodes serve the migrated store; the source is unchanged.
	pg := []string{"OPENKMS_STORAGE=" + dsn, "OPENKMS_STORAGE_SCHEMA=" + schema, "OPENKMS_ROOT_KEY_FILE=" + rootKey}
	for range 2 {
		ep, _ := startProcess(t, t.TempDir(), pg...)
		e.check(t, servertest.NewClient(ep, servertest.Region, servertest.AccessKeyID, servertest.Secret))
	}
	ep, _ := startProcess(t, dataDir, "OPENKMS_ROOT_KEY_FILE="+rootKey)
	e.check(t, servertest.NewClient(ep, servertest.Region, servertest.AccessKeyID, servertest.Secret))
}
