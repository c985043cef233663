// Command barehandler is the reference point of `scripts/bench`: a plain
// net/http server that reads each request body and answers one fixed AWS
// JSON 1.1 body, doing no authentication and no cryptography. Load against
// it measures the floor that loopback HTTP, net/http and the load tool set
// on this machine; a KMS server's throughput is read as a fraction of it.
//
// The body satisfies the load tool's checks for Encrypt, DescribeKey and
// CreateKey (a CiphertextBlob the size of a 256-byte Encrypt's, and a
// KeyMetadata), so `openkms bench --mix encrypt` runs against it unchanged.
//
//	barehandler [--listen 127.0.0.1:0]
//	barehandler --rsa2048-signs 5s
//
// It prints "listening on http://ADDR" once it accepts connections and
// serves until interrupted. With --rsa2048-signs it serves nothing and
// instead measures the machine's raw RSA-2048 signing rate (PKCS#1 v1.5,
// SHA-256, Go's crypto/rsa, one goroutine per CPU) for that long, printing
// "rsa2048 signs/s N": the reference for Sign RSA_2048.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	rsaFor := flag.Duration("rsa2048-signs", 0, "measure the raw RSA-2048 signing rate for this long instead of serving")
	flag.Parse()
	if *rsaFor > 0 {
		rate, err := rsaSignRate(*rsaFor)
		if err != nil {
			fmt.Fprintf(os.Stderr, "barehandler: error: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("rsa2048 signs/s %.0f\n", rate)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "barehandler: error: %v\n", err)
		os.Exit(1)
	}
}

// rsaSignRate signs with one RSA-2048 key on GOMAXPROCS goroutines for d
// and returns signatures per second.
func rsaSignRate(d time.Duration) (float64, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("openkms bench"))
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds(), nil
}

// body is the one response: ~330 bytes of CiphertextBlob, as a 256-byte
// plaintext's OpenKMS ciphertext, and the metadata of a symmetric key.
var body = []byte(`{"CiphertextBlob":"` + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x5a", 330))) +
	`","KeyId":"arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000",` +
	`"EncryptionAlgorithm":"SYMMETRIC_DEFAULT",` +
	`"KeyMetadata":{"KeyId":"00000000-0000-4000-8000-000000000000","KeySpec":"SYMMETRIC_DEFAULT",` +
	`"KeyUsage":"ENCRYPT_DECRYPT","EncryptionAlgorithms":["SYMMETRIC_DEFAULT"]}}`)

func handle(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 256<<10)); err != nil {
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/x-amz-json-1.1"}
	h["X-Amzn-Requestid"] = []string{"00000000-0000-4000-8000-000000000000"}
	_, _ = w.Write(body)
}

func run(ctx context.Context, listen string, out io.Writer) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(handle), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(out, "listening on http://%s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
