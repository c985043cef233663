package loadgen_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/loadgen"
	"github.com/openkms/openkms/internal/server/servertest"
)

func config(t *testing.T, endpoint, mix string) loadgen.Config {
	t.Helper()
	m, err := loadgen.ParseMix(mix)
	if err != nil {
		t.Fatal(err)
	}
	return loadgen.Config{
		Endpoint: endpoint, Region: servertest.Region,
		AccessKeyID: servertest.AccessKeyID, SecretAccessKey: servertest.Secret,
		Mix: m, Concurrency: 8, Pool: 10,
	}
}

func run(t *testing.T, cfg loadgen.Config) *loadgen.Report {
	t.Helper()
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.CleanupError != "" {
		t.Errorf("cleanup: %s", rep.CleanupError)
	}
	return rep
}

// wantClean fails unless the report counts n requests and no errors.
func wantClean(t *testing.T, rep *loadgen.Report, n uint64) {
	t.Helper()
	if rep.Requests != n || rep.Errors != 0 {
		var b strings.Builder
		rep.WriteText(&b)
		t.Fatalf("requests, errors = %d, %d, want %d, 0\n%s", rep.Requests, rep.Errors, n, b.String())
	}
	var sum uint64
	for _, o := range rep.Operations {
		sum += o.Requests
	}
	if sum != n {
		t.Errorf("operations add up to %d requests, want %d", sum, n)
	}
	if rep.OpsPerSecond <= 0 || rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99 {
		t.Errorf("implausible report: %.0f ops/s, latency %+v", rep.OpsPerSecond, rep.Latency)
	}
}

// TestSignedRequestsAgainstServer proves the SigV4 signing and the wire
// format against a real OpenKMS server: 200 requests, none refused.
func TestSignedRequestsAgainstServer(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt=70,decrypt=20,generate-data-key=10")
	cfg.Count = 200
	rep := run(t, cfg)
	wantClean(t, rep, 200)
	want := map[string]uint64{"encrypt": 140, "decrypt": 40, "generate-data-key": 20}
	for _, o := range rep.Operations {
		if o.Requests != want[o.Operation] {
			t.Errorf("%s: %d requests, want %d", o.Operation, o.Requests, want[o.Operation])
		}
	}
	if len(rep.Keys) != 1 || !rep.Keys[0].Created || rep.Keys[0].KeySpec != "SYMMETRIC_DEFAULT" {
		t.Errorf("keys = %+v, want one created SYMMETRIC_DEFAULT key", rep.Keys)
	}
	// The key made for the run is scheduled for deletion afterwards.
	d, err := s.Client(servertest.Region).DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: &rep.Keys[0].KeyID})
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyState != "PendingDeletion" {
		t.Errorf("bench key state = %s, want PendingDeletion", d.KeyMetadata.KeyState)
	}
}

func TestEveryOperation(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	for _, spec := range []string{"ECC_NIST_P256", "RSA_2048", "ML_DSA_65", "HMAC_256"} {
		t.Run(spec, func(t *testing.T) {
			mix := "encrypt,decrypt,re-encrypt,generate-data-key,sign,verify,generate-mac,verify-mac,describe-key,create-key,generate-random"
			if spec == "RSA_2048" {
				mix = "encrypt,decrypt,re-encrypt,sign,verify" // RSA keys both encrypt and sign
			}
			cfg := config(t, s.Endpoint, mix)
			cfg.KeySpec, cfg.Payload = spec, 100 // under RSA_2048's OAEP-SHA-256 limit of 190 bytes
			n := uint64(len(cfg.Mix) * 4)
			cfg.Count = n
			wantClean(t, run(t, cfg), n)
		})
	}
}

func TestOpenLoop(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt")
	cfg.Rate, cfg.Count = 2000, 100
	rep := run(t, cfg)
	wantClean(t, rep, 100)
	if rep.Mode != "open-loop" {
		t.Errorf("mode = %s, want open-loop", rep.Mode)
	}
}

func TestDurationAndWarmup(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt")
	cfg.Duration, cfg.Warmup = 300*time.Millisecond, 100*time.Millisecond
	var progress strings.Builder
	cfg.Progress = &progress
	rep := run(t, cfg)
	if rep.Requests == 0 || rep.Errors != 0 {
		t.Errorf("requests, errors = %d, %d, want some, 0", rep.Requests, rep.Errors)
	}
}

func TestExistingKeys(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	k, err := s.Client(servertest.Region).CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t, s.Endpoint, "encrypt,describe-key")
	cfg.KeyIDs, cfg.Count = []string{*k.KeyMetadata.KeyId}, 10
	rep := run(t, cfg)
	wantClean(t, rep, 10)
	if len(rep.Keys) != 1 || rep.Keys[0].Created {
		t.Errorf("keys = %+v, want the given key only", rep.Keys)
	}

	cfg.Mix, _ = loadgen.ParseMix("sign")
	if _, err := loadgen.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "SIGN_VERIFY") {
		t.Errorf("sign with a symmetric --key-id: error = %v, want one naming SIGN_VERIFY", err)
	}
}

func TestSetupErrors(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt")
	cfg.Count = 1
	cfg.SecretAccessKey = "wrong"
	_, err := loadgen.Run(context.Background(), cfg)
	var ae *loadgen.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("wrong secret: error = %v, want an AWS error response", err)
	}

	cfg = config(t, s.Endpoint, "encrypt")
	cfg.Count, cfg.KeySpec = 1, "ECC_NIST_P256"
	if _, err := loadgen.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "fits none") {
		t.Errorf("--key-spec ECC_NIST_P256 with encrypt: error = %v, want 'fits none'", err)
	}
}

// TestWrongAnswersAreErrors: a server that answers 200 with the wrong
// content is counted as failing, not as fast.
func TestWrongAnswersAreErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.Header.Get("X-Amz-Target") {
		case "TrentService.DescribeKey":
			io.WriteString(w, `{"KeyMetadata":{"KeyId":"k","KeySpec":"SYMMETRIC_DEFAULT","KeyUsage":"ENCRYPT_DECRYPT"}}`)
		case "TrentService.Encrypt":
			io.WriteString(w, `{"CiphertextBlob":"AAAA"}`)
		case "TrentService.GenerateDataKey":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"com.amazonaws.kms#LimitExceededException","message":"slow down"}`)
		default:
			io.WriteString(w, `{"Plaintext":"AAAA"}`)
		}
	}))
	defer srv.Close()
	cfg := config(t, srv.URL, "decrypt,generate-data-key")
	cfg.KeyIDs, cfg.Count = []string{"k"}, 20
	rep := run(t, cfg)
	if rep.Requests != 20 || rep.Errors != 20 || rep.OpsPerSecond != 0 {
		t.Fatalf("requests, errors, ops/s = %d, %d, %v, want 20, 20, 0", rep.Requests, rep.Errors, rep.OpsPerSecond)
	}
	got := map[string]uint64{}
	for _, e := range rep.ErrorsByType {
		got[e.Type] = e.Count
	}
	if got["InvalidResponse"] != 10 || got["LimitExceededException"] != 10 {
		t.Errorf("errors by type = %v, want InvalidResponse 10, LimitExceededException 10", got)
	}
}

func TestValidate(t *testing.T) {
	base := config(t, "http://127.0.0.1:1", "encrypt")
	base.Count = 1
	cases := []struct {
		mod  func(*loadgen.Config)
		want string
	}{
		{func(c *loadgen.Config) { c.Endpoint = "" }, "--endpoint-url"},
		{func(c *loadgen.Config) { c.Endpoint = "127.0.0.1:8080" }, "--endpoint-url"},
		{func(c *loadgen.Config) { c.SecretAccessKey = "" }, "credentials"},
		{func(c *loadgen.Config) { c.Count = 0 }, "--duration or --count"},
		{func(c *loadgen.Config) { c.Payload = 5000 }, "--payload"},
		{func(c *loadgen.Config) { c.Mix, _ = loadgen.ParseMix("generate-random"); c.Payload = 2000 }, "1024"},
		{func(c *loadgen.Config) { c.Rate = -1 }, "--rate"},
	}
	for _, tc := range cases {
		cfg := base
		tc.mod(&cfg)
		if _, err := loadgen.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error = %v, want one containing %q", err, tc.want)
		}
	}
}

// TestSpreadOverKeys checks that Keys makes that many keys of each kind at
// setup and that requests go to every one of them: the server's audit log
// must show Encrypt and GenerateMac on each.
func TestSpreadOverKeys(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt,decrypt,generate-mac")
	cfg.Keys, cfg.Count = 4, 24
	rep := run(t, cfg)
	wantClean(t, rep, 24)
	specs := map[string]int{}
	for _, k := range rep.Keys {
		if !k.Created {
			t.Errorf("key %s not created by the run", k.KeyID)
		}
		specs[k.KeySpec]++
	}
	if specs["SYMMETRIC_DEFAULT"] != 4 || specs["HMAC_256"] != 4 || len(rep.Keys) != 8 {
		t.Fatalf("keys by spec = %v, want 4 SYMMETRIC_DEFAULT and 4 HMAC_256", specs)
	}
	files, err := filepath.Glob(filepath.Join(s.DataDir, "audit", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("audit files: %v, %v", files, err)
	}
	used := map[string]map[string]bool{"Encrypt": {}, "GenerateMac": {}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			var ev struct {
				EventName string `json:"eventName"`
				Resources []struct {
					ARN string `json:"ARN"`
				} `json:"resources"`
			}
			if json.Unmarshal([]byte(line), &ev) == nil && used[ev.EventName] != nil && len(ev.Resources) == 1 {
				used[ev.EventName][ev.Resources[0].ARN] = true
			}
		}
	}
	for op, keys := range used {
		if len(keys) != 4 {
			t.Errorf("%s went to %d keys, want all 4", op, len(keys))
		}
	}
}

// TestKeyPolicy checks that KeyPolicy becomes the policy of the keys the
// run creates: one that denies Encrypt makes every Encrypt fail.
func TestKeyPolicy(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	cfg := config(t, s.Endpoint, "encrypt")
	cfg.Count = 5
	cfg.KeyPolicy = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + servertest.Account + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*"}]}`
	rep := run(t, cfg)
	if rep.Errors != 5 || len(rep.ErrorsByType) != 1 || rep.ErrorsByType[0].Type != "AccessDeniedException" {
		t.Fatalf("errors = %d %+v, want 5 AccessDeniedException", rep.Errors, rep.ErrorsByType)
	}
}
