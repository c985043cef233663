package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/backup"
	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
)

const adminAcct = "111122223333"

// creds is a sigv4.CredentialSource with fixed keys.
type creds map[string]sigv4.Credential

func (c creds) LookupAccessKey(_ context.Context, id string) (sigv4.Credential, error) {
	if id == "AKIABROKEN0000000000" {
		return sigv4.Credential{}, errors.New("credential store down")
	}
	cr, ok := c[id]
	if !ok {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	return cr, nil
}

var testCreds = creds{
	"AKIAROOT000000000000": {Secret: sigv4.NewSecret("root-secret"), Principal: principal.Principal{
		Account: adminAcct, ARN: identity.RootARN(adminAcct), UserID: adminAcct, Type: principal.TypeRoot}},
	"AKIAUSER000000000000": {Secret: sigv4.NewSecret("user-secret"), Principal: principal.Principal{
		Account: adminAcct, ARN: "arn:aws:iam::" + adminAcct + ":user/admin", UserID: "AIDAEXAMPLE", Type: principal.TypeIAMUser, UserName: "admin"}},
	"AKIAOTHERROOT0000000": {Secret: sigv4.NewSecret("other-secret"), Principal: principal.Principal{
		Account: "444455556666", ARN: identity.RootARN("444455556666"), UserID: "444455556666", Type: principal.TypeRoot}},
}

func secretOf(id string) string {
	switch id {
	case "AKIAROOT000000000000":
		return "root-secret"
	case "AKIAUSER000000000000":
		return "user-secret"
	case "AKIAOTHERROOT0000000":
		return "other-secret"
	}
	return "whatever"
}

type adminFixture struct {
	store  storage.Store
	sealer rootkey.Sealer
	h      http.Handler
}

func newAdmin(t *testing.T) *adminFixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(w storage.Writer) error {
		for _, k := range []string{"a", "b", "c"} {
			if err := w.Put(k, []byte("value "+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Source: testCreds, Service: "kms"}
	return &adminFixture{store: st, sealer: sealer, h: adminHandler(v, st, sealer, adminAcct, nil)}
}

// request builds a request signed by accessKeyID (unsigned if empty).
func request(t *testing.T, method, path, accessKeyID string, body []byte) *http.Request {
	t.Helper()
	return sign(t, httptest.NewRequest(method, "http://openkms.test"+path, bytes.NewReader(body)), accessKeyID, body)
}

func sign(t *testing.T, r *http.Request, accessKeyID string, body []byte) *http.Request {
	t.Helper()
	if accessKeyID != "" {
		sum := sha256.Sum256(body)
		c := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secretOf(accessKeyID)}
		if err := v4.NewSigner().SignHTTP(context.Background(), c, r, hex.EncodeToString(sum[:]), "kms", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("got status %d (%s), want %d", w.Code, w.Body, status)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if e.Type != code {
		t.Fatalf("got error %s (%q), want %s", e.Type, e.Message, code)
	}
	if ct := w.Header().Get("Content-Type"); ct != adminContentType {
		t.Fatalf("got Content-Type %q, want %q", ct, adminContentType)
	}
}

func TestAdminBackup(t *testing.T) {
	f := newAdmin(t)
	w := serve(f.h, request(t, http.MethodGet, AdminBackupPath, "AKIAROOT000000000000", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("got status %d (%s), want 200", w.Code, w.Body)
	}
	if got := w.Result().Trailer.Get(AdminBackupStatusHeader); got != "complete" {
		t.Fatalf("got trailer %s %q, want %q", AdminBackupStatusHeader, got, "complete")
	}
	if got := w.Result().Trailer.Get(AdminBackupRecordsHeader); got != "3" {
		t.Fatalf("got trailer %s %q, want %q", AdminBackupRecordsHeader, got, "3")
	}
	st, err := backup.Verify(context.Background(), w.Body, f.sealer)
	if err != nil {
		t.Fatalf("backup.Verify: got error %v, want nil", err)
	}
	if st.Records != 3 {
		t.Fatalf("got %d records, want 3", st.Records)
	}
}

func TestAdminRefusals(t *testing.T) {
	f := newAdmin(t)
	cases := []struct {
		name   string
		r      *http.Request
		status int
		code   string
	}{
		{"unsigned", request(t, http.MethodGet, AdminBackupPath, "", nil), 400, "MissingAuthenticationTokenException"},
		{"unknown key", request(t, http.MethodGet, AdminBackupPath, "AKIAUNKNOWN000000000", nil), 400, "UnrecognizedClientException"},
		{"IAM user of the admin account", request(t, http.MethodGet, AdminBackupPath, "AKIAUSER000000000000", nil), 403, "AccessDeniedException"},
		{"root of another account", request(t, http.MethodGet, AdminBackupPath, "AKIAOTHERROOT0000000", nil), 403, "AccessDeniedException"},
		{"body", request(t, http.MethodGet, AdminBackupPath, "AKIAROOT000000000000", []byte("{}")), 400, "SerializationException"},
		{"POST", request(t, http.MethodPost, AdminBackupPath, "AKIAROOT000000000000", nil), 405, "UnsupportedOperationException"},
		{"unknown path", request(t, http.MethodGet, AdminPathPrefix+"nope", "AKIAROOT000000000000", nil), 404, "UnknownOperationException"},
		{"credential store down", request(t, http.MethodGet, AdminBackupPath, "AKIABROKEN0000000000", nil), 500, "KMSInternalException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := serve(f.h, c.r)
			wantError(t, w, c.status, c.code)
			if strings.Contains(w.Body.String(), "value a") {
				t.Fatal("refused request got store contents")
			}
		})
	}
}

func TestAdminDeniedMessage(t *testing.T) {
	f := newAdmin(t)
	w := serve(f.h, request(t, http.MethodGet, AdminBackupPath, "AKIAUSER000000000000", nil))
	want := "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: openkms:Admin"
	if !strings.Contains(w.Body.String(), want) {
		t.Fatalf("got body %s, want it to contain %q", w.Body, want)
	}
}

func TestAdminOneBackupAtATime(t *testing.T) {
	st, _ := boltstore.Open(filepath.Join(t.TempDir(), "db"), nil)
	defer st.Close()
	sealer, _ := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{9}, 32))
	a := &admin{verifier: &sigv4.Verifier{Source: testCreds}, store: st, sealer: sealer, account: adminAcct,
		log: slog.New(slog.DiscardHandler), backups: make(chan struct{}, 1)}
	a.backups <- struct{}{} // a backup is running
	w := serve(http.HandlerFunc(a.serve), request(t, http.MethodGet, AdminBackupPath, "AKIAROOT000000000000", nil))
	wantError(t, w, http.StatusTooManyRequests, "ThrottlingException")
}

// brokenStore fails every transaction.
type brokenStore struct{ storage.Store }

func (brokenStore) View(context.Context, func(storage.Reader) error) error {
	return errors.New("database unavailable")
}

func TestAdminBackupStoreDown(t *testing.T) {
	f := newAdmin(t)
	v := &sigv4.Verifier{Source: testCreds}
	h := adminHandler(v, brokenStore{f.store}, f.sealer, adminAcct, nil)
	w := serve(h, request(t, http.MethodGet, AdminBackupPath, "AKIAROOT000000000000", nil))
	wantError(t, w, http.StatusInternalServerError, "KMSInternalException")
	if w.Header().Get("Trailer") != "" {
		t.Fatalf("got Trailer header %q on an error, want none", w.Header().Get("Trailer"))
	}
}

func TestRestoreNeedsRootKey(t *testing.T) {
	cfg := testConfig(t)
	_, err := Restore(context.Background(), cfg, bytes.NewReader(nil), false)
	if err == nil || !strings.Contains(err.Error(), "root key file") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Restore without a root key: got error %v, want one saying the root key file does not exist", err)
	}
	_, err = Migrate(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "target storage") {
		t.Fatalf("Migrate without storage: got error %v, want one asking for the target storage", err)
	}
}

func testConfig(t *testing.T) config.Server {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	return cfg
}

// slowStore makes every Scan callback wait, so a backup takes a while.
type slowStore struct{ storage.Store }

func (s slowStore) View(ctx context.Context, fn func(storage.Reader) error) error {
	return s.Store.View(ctx, func(r storage.Reader) error { return fn(slowReader{r}) })
}

type slowReader struct{ storage.Reader }

func (r slowReader) Scan(prefix, after string, fn func(string, []byte) (bool, error)) error {
	return r.Reader.Scan(prefix, after, func(k string, v []byte) (bool, error) {
		time.Sleep(2 * time.Millisecond)
		return fn(k, v)
	})
}

// TestAdminBackupOutlastsServerTimeouts streams a backup that takes longer
// than the server's ReadTimeout and WriteTimeout.
func TestAdminBackupOutlastsServerTimeouts(t *testing.T) {
	f := newAdmin(t)
	err := f.store.Update(context.Background(), func(w storage.Writer) error {
		for i := range 400 {
			if err := w.Put(fmt.Sprintf("k/%04d", i), bytes.Repeat([]byte{byte(i)}, 4<<10)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Source: testCreds}
	srv := httptest.NewUnstartedServer(adminHandler(v, slowStore{f.store}, f.sealer, adminAcct, nil))
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+AdminBackupPath, nil)
	sign(t, req, "AKIAROOT000000000000", nil)
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %s, want 200", resp.Status)
	}
	st, err := backup.Verify(context.Background(), resp.Body, f.sealer)
	if err != nil {
		t.Fatalf("backup taking %v with 200ms server timeouts: got error %v, want a whole backup", time.Since(start), err)
	}
	if st.Records != 403 || resp.Trailer.Get(AdminBackupStatusHeader) != "complete" {
		t.Fatalf("got %d records, trailer %q; want 403 and complete", st.Records, resp.Trailer.Get(AdminBackupStatusHeader))
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("backup took %v, want longer than the server timeouts for this test to mean anything", d)
	}
}
