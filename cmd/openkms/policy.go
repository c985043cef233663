package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/server"
)

const policyHelp = `Usage: openkms admin policy explain --principal ARN --action kms:OPERATION [--key KEY_ARN]
                                    [--condition KEY=VALUE ...] [--region REGION] [--json]

Asks a running server whether a principal may perform an action on a key,
and prints the decision with the statements, policies and grants that made
it, and why each other statement did not apply. Nothing is performed.
Credentials: the bootstrap account's root (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY); endpoint from --endpoint-url or AWS_ENDPOINT_URL.

Example:
  openkms admin policy explain --endpoint-url http://127.0.0.1:8080 \
    --principal arn:aws:iam::111122223333:user/bob --action kms:Decrypt \
    --key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab \
    --condition kms:EncryptionContext:tenant=acme

Flags:
`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runPolicy(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "explain" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			io.WriteString(stdout, policyHelp)
			return 0
		}
		return failf(stderr, 2, "run 'openkms admin policy explain --help'", "expected 'policy explain'")
	}
	fs := flag.NewFlagSet("policy explain", flag.ContinueOnError)
	endpoint := fs.String("endpoint-url", "", "server URL (env AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL)")
	principalARN := fs.String("principal", "", "the caller: account root, IAM user or assumed-role session ARN")
	action := fs.String("action", "", "the action, e.g. kms:Encrypt")
	key := fs.String("key", "", "the key ARN (omit for actions without a key, such as kms:CreateKey)")
	region := fs.String("region", "", "region for actions without a key (default us-east-1)")
	asJSON := fs.Bool("json", false, "print JSON")
	var conds multiFlag
	fs.Var(&conds, "condition", "a condition key and value, KEY=VALUE (repeatable)")
	if code, ok := parseFlags(fs, args[1:], policyHelp, stdout, stderr); !ok {
		return code
	}
	*endpoint = firstNonEmpty(*endpoint, os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL"))
	if *endpoint == "" || *principalARN == "" || *action == "" {
		return failf(stderr, 2, "run 'openkms admin policy explain --help'", "--endpoint-url, --principal and --action are required")
	}
	creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return failf(stderr, 2, "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with the bootstrap account's root credentials", "no credentials")
	}
	q := url.Values{"principal": {*principalARN}, "action": {*action}}
	if *key != "" {
		q.Set("key", *key)
	}
	if *region != "" {
		q.Set("region", *region)
	}
	for _, c := range conds {
		q.Add("condition", c)
	}
	ctx, stop := signalContext()
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*endpoint, "/")+server.AdminExplainPath+"?"+q.Encode(), nil)
	if err != nil {
		return failf(stderr, 2, "", "%v", err)
	}
	empty := sha256.Sum256(nil)
	signRegion := firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "kms", signRegion, time.Now()); err != nil {
		return failf(stderr, 1, "", "signing the request: %v", err)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return failf(stderr, 1, "is the server running at "+*endpoint+"?", "%v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return failf(stderr, 1, "", "the server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if *asJSON {
		stdout.Write(body)
		return 0
	}
	var e kms.Explanation
	if err := json.Unmarshal(body, &e); err != nil {
		return failf(stderr, 1, "", "decoding the answer: %v", err)
	}
	fmt.Fprint(stdout, e.String())
	return 0
}
