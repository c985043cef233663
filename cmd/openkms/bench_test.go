package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/server/servertest"
)

func TestBenchCommand(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.Secret)
	t.Setenv("AWS_REGION", servertest.Region)
	t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)

	var stdout, stderr bytes.Buffer
	code := runBench([]string{"--mix", "encrypt=3,decrypt=1", "--count", "40", "--concurrency", "4", "--json", "--quiet"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
	var rep struct {
		Requests     uint64  `json:"requests"`
		Errors       uint64  `json:"errors"`
		OpsPerSecond float64 `json:"ops_per_second"`
		Latency      struct {
			P99 float64 `json:"p99"`
		} `json:"latency_ms"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout.String())
	}
	if rep.Requests != 40 || rep.Errors != 0 || rep.OpsPerSecond <= 0 || rep.Latency.P99 <= 0 {
		t.Errorf("report = %+v, want 40 requests, no errors", rep)
	}

	stdout.Reset()
	stderr.Reset()
	code = runBench([]string{"--endpoint-url", s.Endpoint, "--mix", "sign", "--key-spec", "ecc_nist_p256", "--count", "5", "--warmup", "100ms"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("text report: exit code %d, stderr %q", code, stderr.String())
	}
	for _, want := range []string{"throughput", "p99.9", "ECC_NIST_P256 SIGN_VERIFY (created)", "5, 0 errors"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBenchCommandErrors(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_KMS", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--mix", "encrypt"}, 2, "--endpoint-url"},
		{[]string{"--endpoint-url", "http://127.0.0.1:1", "--mix", "fly=1"}, 2, `unknown operation "fly"`},
		{[]string{"--endpoint-url", "http://127.0.0.1:1", "--bogus"}, 2, "openkms: error:"},
		{[]string{"--endpoint-url", "http://127.0.0.1:1", "extra"}, 2, "unexpected argument"},
		{[]string{"--endpoint-url", "http://127.0.0.1:1", "--payload", "9000"}, 2, "--payload"},
		{[]string{"--endpoint-url", "http://127.0.0.1:1", "--count", "1", "--timeout", "2s"}, 1, "connection refused"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := runBench(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.err) || !strings.Contains(stderr.String(), "openkms: error:") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.err)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := runBench([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "--concurrency") ||
		!strings.Contains(stdout.String(), "generate-data-key") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout.String())
	}
}
