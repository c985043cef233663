package e2e_test

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

// TestQuotasThrottle drives an account far past its symmetric quota and
// checks that excess requests get ThrottlingException quickly, the rest
// succeed, other accounts and other categories are unaffected, and the
// server keeps answering.
func TestQuotasThrottle(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.Quotas = "symmetric=20,DescribeKey=1000" }})
	c := s.Client(servertest.Region)
	id := createKey(t, c).KeyId
	var mu sync.Mutex
	counts := map[string]int{}
	var slowest time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(1500 * time.Millisecond)
	for w := 0; w < 16; w++ {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				start := time.Now()
				_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
				d := time.Since(start)
				code := "ok"
				var apiErr smithy.APIError
				if errors.As(err, &apiErr) {
					code = apiErr.ErrorCode()
				} else if err != nil {
					code = err.Error()
				}
				mu.Lock()
				counts[code]++
				slowest = max(slowest, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("outcomes: %v, slowest %v", counts, slowest)
	if counts["ThrottlingException"] == 0 || counts["ok"] == 0 || len(counts) != 2 {
		t.Fatalf("got %v, want successes and ThrottlingException only", counts)
	}
	// About 20/s plus a one-second burst over 1.5 s: far fewer successes than attempts.
	if counts["ok"] > 80 {
		t.Errorf("got %d successes in 1.5 s under a 20/s quota", counts["ok"])
	}
	// Other categories and other accounts still answer.
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id}); err != nil {
		t.Errorf("DescribeKey while Encrypt is throttled: %v", err)
	}
	other := s.ClientAs(servertest.Region, servertest.OtherAccessKeyID, servertest.OtherSecret)
	if _, err := other.Encrypt(ctx, &kms.EncryptInput{KeyId: createKey(t, other).KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("another account while the first is throttled: %v", err)
	}
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	for i := 0; i < 100 && err == nil; i++ {
		_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	}
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded")
}

// TestMaxInFlight: with a bound of two requests at once, a burst of slow
// requests (RSA-4096 signing) gets ThrottlingException for the excess at
// once instead of queueing, and the server stays responsive.
func TestMaxInFlight(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.MaxInFlight = 2 }})
	c := s.Client(servertest.Region)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "RSA_4096", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Go(func() {
			for j := 0; j < 4; j++ {
				_, err := c.Sign(ctx, &kms.SignInput{KeyId: out.KeyMetadata.KeyId, Message: []byte("m"), SigningAlgorithm: "RSASSA_PSS_SHA_256"})
				code := "ok"
				var apiErr smithy.APIError
				if errors.As(err, &apiErr) {
					code = apiErr.ErrorCode()
				} else if err != nil {
					code = err.Error()
				}
				mu.Lock()
				counts[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("outcomes: %v", counts)
	if counts["ThrottlingException"] == 0 || counts["ok"] == 0 || len(counts) != 2 {
		t.Fatalf("got %v, want successes and ThrottlingException only", counts)
	}
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: out.KeyMetadata.KeyId}); err != nil {
		t.Errorf("DescribeKey after the burst: %v", err)
	}
}

// TestMaxConnections: with a bound of two connections, two idle clients
// hold both slots and a third client is not served; once one closes, the
// third is.
func TestMaxConnections(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.MaxConnections = 2 }})
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	var held []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		held = append(held, conn)
	}
	healthz := func(timeout time.Duration) error {
		hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Get(s.Endpoint + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	// Both slots are held (the server has accepted the two connections,
	// which sent nothing): a third is left in the backlog.
	time.Sleep(100 * time.Millisecond)
	if err := healthz(300 * time.Millisecond); err == nil {
		t.Fatal("a third connection was served while two of two slots were held")
	}
	held[0].Close()
	if err := healthz(5 * time.Second); err != nil {
		t.Fatalf("after a slot was freed: %v", err)
	}
}
