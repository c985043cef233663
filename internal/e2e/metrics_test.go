package e2e_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/server/servertest"
)

// scrapeMetrics GETs /metrics and returns its samples ("name{labels}" as
// written -> value). It skips the test while the server has no /metrics.
func scrapeMetrics(t *testing.T, s *servertest.Server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: got %s, want 200:\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: Content-Type %q, want text/plain; version=0.0.4", ct)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("GET /metrics: malformed line %q", line)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetrics(t *testing.T) {
	s, c := start(t)
	md := createKey(t, c) // before the first scrape: the key count is cached for a few seconds

	const (
		encryptOK       = `openkms_requests_total{operation="Encrypt",outcome="success",error_code=""}`
		encryptNotFound = `openkms_requests_total{operation="Encrypt",outcome="client_error",error_code="NotFoundException"}`
		encryptTimed    = `openkms_request_duration_seconds_count{operation="Encrypt"}`
	)
	before := scrapeMetrics(t, s)
	for range 3 {
		if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("metrics")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("11111111-2222-3333-4444-555555555555"), Plaintext: []byte("x")})
	wantAPIError(t, err, "NotFoundException", "")

	after := scrapeMetrics(t, s)
	for _, d := range []struct {
		sample string
		want   float64
	}{{encryptOK, 3}, {encryptNotFound, 1}, {encryptTimed, 4}} {
		if got := after[d.sample] - before[d.sample]; got != d.want {
			t.Errorf("%s: went up by %v, want %v", d.sample, got, d.want)
		}
	}
	if got := after[`openkms_keys{state="Enabled"}`]; got < 1 {
		t.Errorf(`openkms_keys{state="Enabled"}: got %v, want >= 1`, got)
	}
	if _, ok := after[`openkms_storage_operation_seconds_count{op="view"}`]; !ok {
		t.Error("no storage metrics: is the store wrapped with metrics.InstrumentStore?")
	}
	if _, ok := after["openkms_audit_queue_depth"]; !ok {
		t.Error("no audit metrics: is SetAuditStats wired?")
	}
}
