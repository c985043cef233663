package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/server/servertest"
)

// auditDir is where a test server's audit files are.
func auditDir(s *servertest.Server) string { return filepath.Join(s.DataDir, "audit") }

// auditBytes returns the contents of every file in an audit directory, for
// searching them for secrets.
func auditBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// verifyAudit checks a stopped server's audit log with its public key and
// returns the records.
func verifyAudit(t *testing.T, dir string) []audit.Event {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := audit.ParsePublicKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(dir, pub)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range rep.Issues {
		if is.Severity == audit.SeverityError {
			t.Errorf("audit verify: %v", rep)
			break
		}
	}
	var events []audit.Event
	for ev, err := range audit.Query(dir, audit.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	return events
}

func TestAuditRecordsEveryOutcome(t *testing.T) {
	s, c := start(t)
	md := createKey(t, c)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	other := s.ClientAs(servertest.Region, servertest.OtherAccessKeyID, servertest.OtherSecret)
	_, err = other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantAPIError(t, err, "AccessDeniedException", "")
	bad := rawCall(t, s.Endpoint, "TrentService.ListKeys", []byte(`{}`), nil, &aws.Credentials{AccessKeyID: servertest.AccessKeyID, SecretAccessKey: "wrong"}, time.Now())
	if bad.errType != "InvalidSignatureException" {
		t.Fatalf("bad signature: got %s", bad.errType)
	}
	malformed := rawCall(t, s.Endpoint, "TrentService.Encrypt", []byte(`{"KeyId":`), nil, testCreds, time.Now())
	if malformed.errType != "SerializationException" {
		t.Fatalf("malformed body: got %s", malformed.errType)
	}
	unknown := rawCall(t, s.Endpoint, "TrentService.Nope", []byte(`{}`), nil, testCreds, time.Now())
	s.Stop(t)

	events := verifyAudit(t, auditDir(s))
	byReq := map[string]audit.Event{}
	for _, ev := range events {
		byReq[ev.RequestID] = ev
	}
	check := func(name, reqID, code string) audit.Event {
		t.Helper()
		ev, ok := byReq[reqID]
		if !ok {
			t.Fatalf("%s: no audit record for request %s", name, reqID)
		}
		if ev.ErrorCode != code {
			t.Errorf("%s: errorCode got %q, want %q", name, ev.ErrorCode, code)
		}
		return ev
	}
	check("bad signature", bad.requestID, "InvalidSignatureException")
	if ev := check("malformed body", malformed.requestID, "SerializationException"); ev.UserIdentity.AccountID != servertest.Account {
		t.Errorf("malformed body: identity %+v, want the signer", ev.UserIdentity)
	}
	check("unknown operation", unknown.requestID, "UnknownOperationException")
	var denied, encrypted bool
	for _, ev := range events {
		switch {
		case ev.EventName == "Decrypt" && ev.ErrorCode == "AccessDeniedException" && ev.UserIdentity.AccountID == servertest.OtherAccount:
			denied = true
		case ev.EventName == "Encrypt" && ev.ErrorCode == "" && len(ev.Resources) == 1 && ev.Resources[0].ARN == *md.Arn:
			encrypted = true
			if ev.EventSource != "kms.amazonaws.com" || ev.AWSRegion != servertest.Region || ev.UserIdentity.ARN != "arn:aws:iam::"+servertest.Account+":root" {
				t.Errorf("Encrypt record: got %+v", ev)
			}
		}
	}
	if !denied || !encrypted {
		t.Errorf("records: denied Decrypt found %v, successful Encrypt with its key found %v", denied, encrypted)
	}
}

// TestAuditHoldsNoSecrets runs a session that produces plaintexts, data
// keys, ciphertexts and a secret access key, then searches every audit file
// for each of them, raw and encoded.
func TestAuditHoldsNoSecrets(t *testing.T) {
	s, c := start(t)
	id := createKey(t, c).KeyId
	secrets := [][]byte{[]byte(servertest.Secret), []byte("plaintext-marker-5f3c9a")}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: secrets[1], EncryptionContext: map[string]string{"purpose": "audit"}})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, enc.CiphertextBlob)
	for i := 0; i < 5; i++ {
		dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, dk.Plaintext, dk.CiphertextBlob)
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, dec.Plaintext)
		r, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, r.Plaintext)
	}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: map[string]string{"purpose": "audit"}, DestinationKeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, re.CiphertextBlob)
	s.Stop(t)
	verifyAudit(t, auditDir(s))
	all := auditBytes(t, auditDir(s))
	if len(all) < 1000 {
		t.Fatalf("audit files hold %d bytes; the test would not find anything", len(all))
	}
	for i, sec := range secrets {
		for _, form := range []string{string(sec), base64.StdEncoding.EncodeToString(sec), hex.EncodeToString(sec)} {
			if bytes.Contains(all, []byte(form)) {
				t.Errorf("secret %d found in the audit files", i)
			}
		}
	}
	if !bytes.Contains(all, []byte(`"purpose":"audit"`)) {
		t.Errorf("the encryption context, which CloudTrail records, is missing")
	}
}

// TestAuditSurvivesKill kills the server under load and checks that every
// acknowledged request has its record after the restart, and that the
// chain still verifies (the torn tail is a warning, not corruption).
func TestAuditSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	endpoint, cmd := startProcess(t, dir)
	c := servertest.NewClient(endpoint, servertest.Region, servertest.AccessKeyID, servertest.Secret)
	id := createKey(t, c).KeyId
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
				if err != nil {
					return
				}
				if rid, ok := middleware.GetRequestIDMetadata(out.ResultMetadata); ok {
					mu.Lock()
					acked = append(acked, rid)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(800 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	waitExit(t, cmd, 10*time.Second)
	if len(acked) == 0 {
		t.Fatal("no request was acknowledged before the kill")
	}
	_, cmd2 := startProcess(t, dir)
	if err := cmd2.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd2, 10*time.Second)
	events := verifyAudit(t, filepath.Join(dir, "audit"))
	seen := make(map[string]bool, len(events))
	for _, ev := range events {
		seen[ev.RequestID] = true
	}
	missing := 0
	for _, rid := range acked {
		if !seen[rid] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged requests have no audit record", missing, len(acked))
	}
	t.Logf("%d acknowledged requests, all recorded", len(acked))
}
