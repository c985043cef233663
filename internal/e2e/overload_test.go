package e2e_test

import (
	"errors"
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
