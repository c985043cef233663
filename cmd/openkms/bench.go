package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/openkms/openkms/internal/loadgen"
)

const benchHelp = `Usage: openkms bench [flags]

Puts load on an AWS-KMS-compatible endpoint (OpenKMS, AWS KMS, an emulator)
and reports throughput, latency percentiles (p50, p90, p99, p99.9, max) and
errors by AWS exception. Requests are AWS JSON 1.1, signed with SigV4, over
keep-alive connections; every response is checked (Decrypt must return the
plaintext that was encrypted), so a broken server cannot look fast.

Setup creates the keys the mix needs (or uses --key-id) and, for decrypt,
re-encrypt, verify and verify-mac, a pool of ciphertexts, signatures or MACs.
Keys it created are scheduled for deletion (7 days) at the end unless
--keep-keys. create-key in the mix makes a key per request, never deleted:
mind the cost on AWS.

Load models:
  closed loop (default)  --concurrency workers, each sending its next request
                         when the previous one is answered: capacity.
  open loop (--rate R)   R requests per second at fixed intervals whatever the
                         server does; latency counts from the scheduled time,
                         so queueing is not hidden. --concurrency caps the
                         requests in flight.

Credentials come from the flags or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN; the region from --region, AWS_REGION or AWS_DEFAULT_REGION
(default us-east-1); the endpoint from --endpoint-url, AWS_ENDPOINT_URL_KMS or
AWS_ENDPOINT_URL. For https with a private CA, set SSL_CERT_FILE.

A progress line goes to stderr each second (ops/s, errors, p99 of that
second); the report goes to stdout.

Operations: ` + "%s" + `
  --payload is the Plaintext/Message size; for generate-data-key and
  generate-random it is NumberOfBytes (at most 1024).

Key specs: SYMMETRIC_DEFAULT (default), RSA_2048/3072/4096, ECC_NIST_P256/
P384/P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519, ML_DSA_44/65/87, SM2,
HMAC_224/256/384/512. Each operation gets a key of --key-spec if the spec can
do it, else the default for its kind (SYMMETRIC_DEFAULT, ECC_NIST_P256,
HMAC_256).

Flags:
%s
Examples:
  export AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=...
  openkms bench --endpoint-url http://127.0.0.1:8080 --mix encrypt --concurrency 32 --duration 10s
  openkms bench --endpoint-url http://127.0.0.1:8080 --mix encrypt=70,decrypt=20,generate-data-key=10 --json
  openkms bench --endpoint-url http://127.0.0.1:8080 --mix sign=80,verify=20 --key-spec ECC_NIST_P256
  openkms bench --endpoint-url http://127.0.0.1:8080 --mix encrypt --rate 2000 --concurrency 256 --duration 30s
  openkms bench --endpoint-url https://kms.eu-west-1.amazonaws.com --region eu-west-1 \
    --mix decrypt --key-id alias/my-key --count 1000
`

// keyIDs is a repeatable, comma-separated --key-id.
type keyIDs []string

func (k *keyIDs) String() string { return strings.Join(*k, ",") }

func (k *keyIDs) Set(v string) error {
	for id := range strings.SplitSeq(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*k = append(*k, id)
		}
	}
	return nil
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("openkms bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		endpoint    = fs.String("endpoint-url", "", "KMS endpoint, http(s)://HOST[:PORT] (env AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL)")
		region      = fs.String("region", "", "SigV4 region (env AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)")
		accessKeyID = fs.String("access-key-id", "", "access key id (env AWS_ACCESS_KEY_ID)")
		secret      = fs.String("secret-access-key", "", "secret access key (env AWS_SECRET_ACCESS_KEY)")
		token       = fs.String("session-token", "", "session token (env AWS_SESSION_TOKEN)")
		noSign      = fs.Bool("no-sign", false, "send unsigned requests (for a bare HTTP baseline, not a KMS)")
		mix         = fs.String("mix", "encrypt", "operations and weights, e.g. encrypt=70,decrypt=20,generate-data-key=10")
		keySpec     = fs.String("key-spec", "", "spec of the keys to create (default SYMMETRIC_DEFAULT)")
		payload     = fs.Int("payload", 256, "plaintext/message bytes (NumberOfBytes for generate-data-key, generate-random)")
		pool        = fs.Int("pool", 100, "ciphertexts/signatures/MACs prepared for decrypt, re-encrypt, verify, verify-mac")
		concurrency = fs.Int("concurrency", 16, "closed loop: workers; open loop: max requests in flight")
		rate        = fs.Float64("rate", 0, "open loop: requests per second (0: closed loop)")
		duration    = fs.Duration("duration", 10*time.Second, "length of the measured run (default 10s, or until --count)")
		count       = fs.Uint64("count", 0, "stop after this many requests")
		warmup      = fs.Duration("warmup", time.Second, "unmeasured load before the run (default 1s, 0 with --count)")
		timeout     = fs.Duration("timeout", 30*time.Second, "per-request timeout")
		keepKeys    = fs.Bool("keep-keys", false, "do not schedule the deletion of the keys created at setup")
		asJSON      = fs.Bool("json", false, "print the report as JSON")
		quiet       = fs.Bool("quiet", false, "no progress lines on stderr")
		keys        = fs.Int("keys", 1, "keys of each kind to create at setup; requests go round robin over them")
		policyFile  = fs.String("key-policy", "", "file holding the key policy of the keys the run creates (default: the server's default policy)")
		ids         keyIDs
	)
	fs.Var(&ids, "key-id", "use this key (id, ARN or alias; repeatable or comma-separated) instead of creating any; requests go round robin over those that fit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, benchUsage(fs))
			return 0
		}
		return benchFail(stderr, 2, "run 'openkms bench --help' for the flags", "%v", err)
	}
	if fs.NArg() > 0 {
		return benchFail(stderr, 2, "run 'openkms bench --help' for the flags", "unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		return benchFail(stderr, 2, "operations: "+strings.Join(loadgen.OperationNames(), ", "), "--mix: %v", err)
	}
	var keyPolicy []byte
	if *policyFile != "" {
		if keyPolicy, err = os.ReadFile(*policyFile); err != nil {
			return benchFail(stderr, 2, "--key-policy names a JSON key policy document", "--key-policy: %v", err)
		}
	}
	cfg := loadgen.Config{
		Endpoint:        cmp.Or(*endpoint, os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL")),
		Region:          cmp.Or(*region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1"),
		AccessKeyID:     cmp.Or(*accessKeyID, os.Getenv("AWS_ACCESS_KEY_ID")),
		SecretAccessKey: cmp.Or(*secret, os.Getenv("AWS_SECRET_ACCESS_KEY")),
		SessionToken:    cmp.Or(*token, os.Getenv("AWS_SESSION_TOKEN")),
		Unsigned:        *noSign,
		Mix:             m,
		KeySpec:         strings.ToUpper(*keySpec),
		KeyIDs:          ids,
		Keys:            *keys,
		KeyPolicy:       string(keyPolicy),
		Payload:         *payload,
		Pool:            *pool,
		Concurrency:     *concurrency,
		Rate:            *rate,
		Duration:        *duration,
		Count:           *count,
		Warmup:          *warmup,
		Timeout:         *timeout,
		KeepKeys:        *keepKeys,
	}
	if set["count"] && !set["duration"] {
		cfg.Duration = 0 // exactly --count requests
	}
	if set["count"] && !set["warmup"] {
		cfg.Warmup = 0
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	if err := cfg.Validate(); err != nil {
		hint := "run 'openkms bench --help' for the flags"
		if strings.Contains(err.Error(), "endpoint") {
			hint = "pass --endpoint-url http://127.0.0.1:8080 (OpenKMS) or https://kms.REGION.amazonaws.com"
		}
		return benchFail(stderr, 2, hint, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		hint := "is the endpoint up, and are the credentials and region right?"
		var ae *loadgen.APIError
		if errors.As(err, &ae) {
			switch {
			case strings.Contains(ae.Type, "Signature"):
				hint = "check AWS_SECRET_ACCESS_KEY and the region"
			case ae.Type == "UnrecognizedClientException":
				hint = "check AWS_ACCESS_KEY_ID"
			}
		}
		return benchFail(stderr, 1, hint, "%v", err)
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return benchFail(stderr, 1, "", "writing the report: %v", err)
	}
	if rep.Requests > 0 && rep.Errors == rep.Requests {
		return benchFail(stderr, 1, "see the errors by type above", "every request failed")
	}
	return 0
}

func benchUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name := "--" + f.Name
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool {
			name += " VALUE"
		}
		usage := f.Usage
		if d := f.DefValue; d != "" && d != "0" && d != "false" && !strings.Contains(usage, "default") {
			usage += " (default " + d + ")"
		}
		fmt.Fprintf(&b, "  %-28s %s\n", name, usage)
	})
	return fmt.Sprintf(benchHelp, strings.Join(loadgen.OperationNames(), ", "), b.String())
}

func benchFail(stderr io.Writer, code int, hint, format string, args ...any) int {
	fmt.Fprintf(stderr, "openkms: error: "+format+"\n", args...)
	if hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", hint)
	}
	return code
}
