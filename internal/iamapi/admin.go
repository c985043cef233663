package iamapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/principal"
)

// The OpenKMS admin actions live on the Query endpoint with their own
// Version (AdminVersion) and are signed like IAM requests (service "iam").
// Only the bootstrap account's root user may call them. docs/IAM.md
// documents the wire format.

type createAccountResult struct {
	AccountID       string `xml:"AccountId"`
	Arn             string `xml:"Arn"`
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	CreateDate      string `xml:"CreateDate"`
}

// maxAccountIDTries bounds the attempts to pick an unused random account id.
const maxAccountIDTries = 8

func (h *Handler) createAccount(c *call) (any, error) {
	p := c.principal
	if h.admin == "" || p.Type != principal.TypeRoot || p.Account != h.admin {
		return nil, accessDenied("User: %s is not authorized to perform: openkms:CreateAccount (only the root user of the bootstrap account is)", p.ARN)
	}
	id := c.params.get("AccountId")
	if c.params.has("AccountId") && !arn.IsAccountID(id) {
		return nil, validationError("1 validation error detected: Value '%s' at 'accountId' failed to satisfy constraint: Member must be 12 digits", clipParam(id))
	}
	var ak identity.AccessKey
	var err error
	for try := 0; ; try++ {
		pick := id
		if pick == "" {
			if pick, err = identity.NewAccountID(); err != nil {
				return nil, err
			}
		}
		ak, err = h.ids.CreateAccount(c.ctx, pick, "", "")
		if errors.Is(err, identity.ErrAccountExists) {
			if id != "" {
				return nil, &apiError{status: http.StatusConflict, code: string(identity.CodeEntityAlreadyExists),
					message: fmt.Sprintf("Account %s already exists.", id)}
			}
			if try < maxAccountIDTries {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		break
	}
	h.log.Info("account created", "account", ak.Principal.Account, "accessKeyId", ak.AccessKeyID, "by", p.ARN)
	return createAccountResult{
		AccountID: ak.Principal.Account, Arn: ak.Principal.ARN, AccessKeyID: ak.AccessKeyID,
		SecretAccessKey: ak.Secret, CreateDate: isoTime(ak.Created),
	}, nil
}

// Result is what CreateAccount returns: the new account and its root access
// key. SecretAccessKey is shown once; Result formats without it.
type Result struct {
	AccountID       string
	ARN             string
	AccessKeyID     string
	SecretAccessKey string
	Created         time.Time
}

// String describes the result without the secret.
func (r Result) String() string {
	return "account " + r.AccountID + " (root access key " + r.AccessKeyID + ", secret REDACTED)"
}

// GoString describes the result without the secret.
func (r Result) GoString() string { return r.String() }

// APIError is an error response of the Query API.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d, request %s)", e.Code, e.Message, e.StatusCode, e.RequestID)
}

// maxResponseBytes bounds a response body read by the client.
const maxResponseBytes = 1 << 20

// CreateAccount asks an OpenKMS server at endpoint (e.g.
// "http://127.0.0.1:8080") to create an account and a root access key for
// it, signing the request with SigV4 (service "iam") as the bootstrap
// account's root user (accessKeyID, secret). accountID may be empty for a
// random id. region is the signing region ("us-east-1" when empty). Server
// errors are *APIError.
func CreateAccount(ctx context.Context, endpoint, region, accessKeyID, secret string, accountID string) (Result, error) {
	if region == "" {
		region = "us-east-1"
	}
	form := url.Values{"Action": {"CreateAccount"}, "Version": {AdminVersion}}
	if accountID != "" {
		form.Set("AccountId", accountID)
	}
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/", strings.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iam", region, time.Now()); err != nil {
		return Result{}, fmt.Errorf("signing the request: %w", err)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Result{}, err
	}
	if resp.StatusCode != http.StatusOK {
		var e xmlErrorResponse
		if xml.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return Result{}, &APIError{StatusCode: resp.StatusCode, Code: "UnknownError", Message: http.StatusText(resp.StatusCode)}
		}
		return Result{}, &APIError{StatusCode: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, RequestID: e.RequestID}
	}
	var out struct {
		Result createAccountResult `xml:"CreateAccountResult"`
	}
	if err := xml.Unmarshal(b, &out); err != nil || out.Result.AccessKeyID == "" {
		return Result{}, errors.New("the server's CreateAccount response is not well-formed")
	}
	created, _ := time.Parse(timeLayout, out.Result.CreateDate)
	return Result{
		AccountID: out.Result.AccountID, ARN: out.Result.Arn, AccessKeyID: out.Result.AccessKeyID,
		SecretAccessKey: out.Result.SecretAccessKey, Created: created,
	}, nil
}
