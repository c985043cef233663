package main

import (
	"encoding/json"
	"flag"
	"io"
	"os"

	"github.com/openkms/openkms/internal/iamapi"
)

const accountHelp = `Usage: openkms admin account create [--id ACCOUNT_ID] [--endpoint-url URL]

Creates an account on a running server, with a root access key for it, and
prints the new account id and that access key's id and secret as JSON. Only
the root user of the server's bootstrap account may do this. Credentials come
from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region from AWS_REGION
or AWS_DEFAULT_REGION (default us-east-1), the endpoint from --endpoint-url,
AWS_ENDPOINT_URL_IAM or AWS_ENDPOINT_URL.

Example:
  export AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=...
  openkms admin account create --id 444455556666 --endpoint-url http://127.0.0.1:8080

Flags:
`

func runAccount(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			io.WriteString(stdout, accountHelp)
			return 0
		}
		return failf(stderr, 2, "run 'openkms admin account create --help'", "expected 'account create'")
	}
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	id := fs.String("id", "", "12-digit id of the new account (default: generated)")
	endpoint := fs.String("endpoint-url", "", "server URL (env AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL)")
	if code, ok := parseFlags(fs, args[1:], accountHelp, stdout, stderr); !ok {
		return code
	}
	*endpoint = firstNonEmpty(*endpoint, os.Getenv("AWS_ENDPOINT_URL_IAM"), os.Getenv("AWS_ENDPOINT_URL"))
	if *endpoint == "" {
		return failf(stderr, 2, "pass --endpoint-url or set AWS_ENDPOINT_URL", "no endpoint")
	}
	akid, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if akid == "" || secret == "" {
		return failf(stderr, 2, "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with the bootstrap account's root credentials", "no credentials")
	}
	region := firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	ctx, cancel := signalContext()
	defer cancel()
	res, err := iamapi.CreateAccount(ctx, *endpoint, region, akid, secret, *id)
	if err != nil {
		return failf(stderr, 1, "check the endpoint and that the credentials are the bootstrap account's root", "creating the account: %v", err)
	}
	out, _ := json.MarshalIndent(struct {
		AccountID       string `json:"AccountId"`
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
	}{res.AccountID, res.AccessKeyID, res.SecretAccessKey}, "", "  ")
	stdout.Write(append(out, '\n'))
	return 0
}
