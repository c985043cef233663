package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxResponse bounds a response body; KMS responses are a few KiB.
const maxResponse = 1 << 20

// client sends AWS JSON 1.1 requests, SigV4-signed unless unsigned, over
// a keep-alive connection pool sized for the load. It is safe for
// concurrent use.
type client struct {
	http     *http.Client
	url      string
	region   string
	creds    aws.Credentials
	signer   *v4.Signer
	unsigned bool
}

func newClient(cfg *Config) *client {
	n := max(cfg.Concurrency, 1)
	tr := &http.Transport{
		// No proxy from the environment: a benchmark measures the path to
		// the endpoint it names.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          n,
		MaxIdleConnsPerHost:   n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	return &client{
		http:     &http.Client{Transport: tr, Timeout: cfg.Timeout},
		url:      strings.TrimRight(cfg.Endpoint, "/") + "/",
		region:   cfg.Region,
		creds:    aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, SessionToken: cfg.SessionToken},
		signer:   v4.NewSigner(),
		unsigned: cfg.Unsigned,
	}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// request is a prepared request body with its SHA-256 (the SigV4 payload
// hash), computed once so the hot loop only signs and sends.
type request struct {
	body []byte
	hash string
	want []byte // Decrypt: the plaintext the response must carry
}

func newRequest(in any) (request, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return request{}, err
	}
	sum := sha256.Sum256(b)
	return request{body: b, hash: hex.EncodeToString(sum[:])}, nil
}

// do sends the prepared body to target (the X-Amz-Target header,
// "TrentService.Encrypt") and reads the response into buf. It returns
// buf's bytes for a 200 response, an *APIError for an error response, or
// a transport error.
func (c *client) do(ctx context.Context, target string, r *request, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if !c.unsigned {
		if err := c.signer.SignHTTP(ctx, c.creds, req, r.hash, "kms", c.region, time.Now()); err != nil {
			return nil, fmt.Errorf("signing: %w", err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp, buf.Bytes())
	}
	return buf.Bytes(), nil
}

// call is do for setup: it sends in to the operation named (AWS name,
// "Encrypt") and decodes the response into out.
func (c *client) call(ctx context.Context, name string, in, out any) error {
	r, err := newRequest(in)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	body, err := c.do(ctx, "TrentService."+name, &r, &buf)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w", name, &ResponseError{Reason: "undecodable JSON: " + err.Error()})
	}
	return nil
}

// APIError is an AWS error response: {"__type": ..., "message": ...}.
type APIError struct {
	Type    string // the exception name, without any "namespace#" prefix
	Message string
	Status  int
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Type, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

func apiError(resp *http.Response, body []byte) *APIError {
	var wire struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &wire)
	e := &APIError{Type: wire.Type, Message: wire.Message, Status: resp.StatusCode}
	if e.Message == "" {
		e.Message = wire.MessageU
	}
	if e.Type == "" {
		e.Type = resp.Header.Get("X-Amzn-ErrorType")
	}
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	if i := strings.IndexByte(e.Type, ':'); i >= 0 { // "Type:http://internal..." header form
		e.Type = e.Type[:i]
	}
	if e.Type == "" {
		e.Type = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	return e
}

// ResponseError is a 200 response that does not carry what the request
// asked for (a wrong plaintext, an invalid signature, missing fields): a
// server answering fast but wrongly must not look fast.
type ResponseError struct{ Reason string }

func (e *ResponseError) Error() string { return "invalid response: " + e.Reason }

// errorType names the class of err for the report: the AWS exception, or
// a transport failure.
func errorType(err error) string {
	var ae *APIError
	var re *ResponseError
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return ae.Type
	case errors.As(err, &re):
		return "InvalidResponse"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "ConnectionRefused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "ConnectionReset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "Timeout"
	default:
		return "TransportError"
	}
}
