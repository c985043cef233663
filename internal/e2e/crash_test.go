package e2e_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/server/servertest"
)

// ackedKey is a key whose CreateKey the server acknowledged and, if ct is
// not nil, a ciphertext of pt whose Encrypt it acknowledged.
type ackedKey struct {
	id     string
	pt, ct []byte
}

// TestCrashDurability kills the real server with SIGKILL while clients
// create keys and encrypt under them, restarts it on the same data
// directory, and checks that everything the server acknowledged survived.
func TestCrashDurability(t *testing.T) {
	const (
		rounds  = 3
		workers = 4
		maxLoad = 1500 * time.Millisecond // per round, once some key is acknowledged
		maxKeys = 200                     // per round
	)
	dir := t.TempDir()
	endpoint, cmd := startProcess(t, dir)
	var acked []*ackedKey // all rounds
	for round := 1; round <= rounds; round++ {
		c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
		var (
			mu     sync.Mutex
			keys   []*ackedKey // this round
			killed atomic.Bool
			wg     sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				for i := 0; ; i++ {
					out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("crash")})
					if err != nil {
						if !killed.Load() {
							t.Errorf("round %d: CreateKey before the kill: %v", round, err)
						}
						return
					}
					k := &ackedKey{id: aws.ToString(out.KeyMetadata.KeyId), pt: fmt.Appendf(nil, "round %d worker %d key %d", round, w, i)}
					mu.Lock()
					keys = append(keys, k)
					mu.Unlock()
					enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &k.id, Plaintext: k.pt})
					if err != nil {
						if !killed.Load() {
							t.Errorf("round %d: Encrypt before the kill: %v", round, err)
						}
						return
					}
					mu.Lock()
					k.ct = enc.CiphertextBlob
					mu.Unlock()
				}
			})
		}
		// Kill mid-load: after maxLoad or maxKeys, once at least one key is
		// acknowledged (bounded by a 15s wait for the first).
		begin := time.Now()
		for {
			mu.Lock()
			n := len(keys)
			mu.Unlock()
			elapsed := time.Since(begin)
			if n >= maxKeys || (n > 0 && elapsed >= maxLoad) {
				break
			}
			if elapsed > 15*time.Second {
				killed.Store(true)
				killProcess(t, cmd)
				wg.Wait()
				t.Fatalf("round %d: got no acknowledged CreateKey within 15s, want at least one; output:\n%s", round, processOutput(t, cmd))
			}
			time.Sleep(10 * time.Millisecond)
		}
		killed.Store(true)
		killProcess(t, cmd)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		encrypted := 0
		for _, k := range keys {
			if k.ct != nil {
				encrypted++
			}
		}
		t.Logf("round %d: killed after %d acknowledged keys, %d acknowledged ciphertexts", round, len(keys), encrypted)
		acked = append(acked, keys...)

		endpoint, cmd = startProcess(t, dir)
		verifyAcked(t, servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret), acked)
		if t.Failed() {
			t.Fatalf("round %d: acknowledged data lost after SIGKILL and restart; output of the restarted server:\n%s", round, processOutput(t, cmd))
		}
	}
}

// verifyAcked checks, with a few concurrent clients, that every key exists
// and is enabled and that every ciphertext decrypts to its plaintext.
func verifyAcked(t *testing.T, c *kms.Client, keys []*ackedKey) {
	t.Helper()
	work := make(chan *ackedKey)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for k := range work {
				d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &k.id})
				if err != nil {
					t.Errorf("DescribeKey(%s): got %v, want the acknowledged key", k.id, err)
					continue
				}
				if d.KeyMetadata.KeyState != types.KeyStateEnabled {
					t.Errorf("DescribeKey(%s): got state %s, want Enabled", k.id, d.KeyMetadata.KeyState)
				}
				if k.ct == nil {
					continue
				}
				dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: k.ct})
				if err != nil {
					t.Errorf("Decrypt(ciphertext under %s): got %v, want %q", k.id, err, k.pt)
					continue
				}
				if !bytes.Equal(dec.Plaintext, k.pt) || !strings.HasSuffix(aws.ToString(dec.KeyId), "/"+k.id) {
					t.Errorf("Decrypt(ciphertext under %s): got %q from %s, want %q", k.id, dec.Plaintext, aws.ToString(dec.KeyId), k.pt)
				}
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
}

// TestGracefulShutdown stops the real server with SIGTERM and checks that
// it exits 0 promptly and releases the data directory, so a new server can
// open it and serve the keys the first one made.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	endpoint, cmd := startProcess(t, dir)
	c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	md := createKey(t, c)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, cmd, 10*time.Second); err != nil {
		t.Fatalf("after SIGTERM: got %v, want exit status 0; output:\n%s", err, processOutput(t, cmd))
	}

	endpoint, _ = startProcess(t, dir)
	c = servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatalf("DescribeKey after restart: got %v, want key %s", err, aws.ToString(md.KeyId))
	}
	if got, want := aws.ToString(d.KeyMetadata.Arn), aws.ToString(md.Arn); got != want {
		t.Errorf("DescribeKey after restart: got %s, want %s", got, want)
	}
}
