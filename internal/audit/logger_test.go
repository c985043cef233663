package audit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
)

func TestRecordShape(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{}, FileOptions{})
	ev := sampleEvent(1)
	ev.EventTime = time.Date(2026, 11, 28, 16, 0, 0, 123456789, time.FixedZone("x", 3600))
	if err := l.Log(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines, _ := readLines(t, filepath.Join(dir, logFileNames(t, dir)[0]))
	if len(lines) != 3 { // start digest, event, close digest
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal(lines[1], &rec); err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly",
		"resources", "eventType", "managementEvent", "recipientAccountId", "eventCategory", "openkms"}
	if got := slices.Sorted(maps.Keys(rec)); !slices.Equal(got, slices.Sorted(slices.Values(wantKeys))) {
		t.Errorf("top-level keys: got %v, want %v", got, wantKeys)
	}
	for k, want := range map[string]any{
		"eventVersion": "1.11", "eventTime": "2026-11-28T15:00:00Z", "eventSource": "kms.amazonaws.com",
		"eventType": "AwsApiCall", "managementEvent": true, "eventCategory": "Management", "readOnly": true,
		"recipientAccountId": testAccount, "responseElements": nil, "eventName": "Encrypt",
	} {
		if rec[k] != want {
			t.Errorf("%s: got %#v, want %#v", k, rec[k], want)
		}
	}
	if id, _ := rec["eventID"].(string); len(id) != 36 || id[14] != '4' {
		t.Errorf("eventID: got %q, want a version 4 UUID", id)
	}
	ui := rec["userIdentity"].(map[string]any)
	for k, want := range map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice",
		"accountId": testAccount, "accessKeyId": "AKIAEXAMPLE", "userName": "alice"} {
		if ui[k] != want {
			t.Errorf("userIdentity.%s: got %#v, want %#v", k, ui[k], want)
		}
	}
	res := rec["resources"].([]any)[0].(map[string]any)
	if res["ARN"] != testKeyARN || res["type"] != "AWS::KMS::Key" || res["accountId"] != testAccount {
		t.Errorf("resources: got %v", res)
	}
	ok := rec["openkms"].(map[string]any)
	if ok["outcome"] != "allowed" {
		t.Errorf("openkms.outcome: got %v, want allowed", ok["outcome"])
	}
	chain := ok["chain"].(map[string]any)
	if chain["seq"] != float64(2) || len(chain["hash"].(string)) != 64 {
		t.Errorf("openkms.chain: got %v", chain)
	}
	if bytes.Contains(lines[1], []byte("top secret")) || bytes.Contains(lines[1], []byte("dG9wIHNlY3JldA")) {
		t.Error("plaintext in the record")
	}
	verifyOK(t, dir)
}

func TestIdentityFromPrincipal(t *testing.T) {
	got := IdentityFromPrincipal(principal.Principal{Account: testAccount, Type: principal.TypeAssumedRole,
		ARN: "arn:aws:sts::111122223333:assumed-role/Admin/alice-session", UserID: "AROAEXAMPLE:alice-session", AccessKeyID: "ASIAEXAMPLE"})
	if got.Type != "AssumedRole" || got.SessionContext == nil || got.SessionContext.SessionIssuer == nil {
		t.Fatalf("got %+v", got)
	}
	iss := got.SessionContext.SessionIssuer
	if iss.ARN != "arn:aws:iam::111122223333:role/Admin" || iss.UserName != "Admin" || iss.PrincipalID != "AROAEXAMPLE" {
		t.Errorf("session issuer: got %+v", iss)
	}
	root := IdentityFromPrincipal(principal.Principal{Account: testAccount, Type: principal.TypeRoot, ARN: "arn:aws:iam::111122223333:root", UserID: testAccount})
	if root.Type != "Root" || root.UserName != "" {
		t.Errorf("root: got %+v", root)
	}
	if d := TLSDetailsFrom(&tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}, "kms.local"); d.TLSVersion != "TLSv1.3" ||
		d.CipherSuite != "TLS_AES_128_GCM_SHA256" || d.ClientProvidedHostHeader != "kms.local" {
		t.Errorf("TLSDetailsFrom: got %+v", d)
	}
	if TLSDetailsFrom(nil, "x") != nil {
		t.Error("TLSDetailsFrom(nil): want nil")
	}
	if u := UnauthenticatedIdentity("AKIABOGUS"); u.Type != "Unknown" || u.AccessKeyID != "AKIABOGUS" {
		t.Errorf("unauthenticated: got %+v", u)
	}
	for code, want := range map[string]Outcome{"": OutcomeAllowed, "AccessDeniedException": OutcomeDenied,
		"UnrecognizedClientException": OutcomeDenied, "ValidationException": OutcomeError} {
		if got := OutcomeFromErrorCode(code); got != want {
			t.Errorf("OutcomeFromErrorCode(%q): got %v, want %v", code, got, want)
		}
	}
}

// TestGroupCommit logs from many goroutines at once: every record is
// written exactly once, the chain is valid, and records share batches.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{DigestEvery: 100}, FileOptions{MaxFileBytes: 256 << 10})
	const workers, each = 64, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := l.Log(context.Background(), sampleEvent(w*each+i)); err != nil {
					t.Errorf("Log: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Records != workers*each {
		t.Errorf("Stats.Records: got %d, want %d", st.Records, workers*each)
	}
	if st.Batches >= st.Records {
		t.Errorf("Stats.Batches: got %d for %d records, want fewer batches than records", st.Batches, st.Records)
	}
	if st.WriteLatency.Count != st.Batches || st.WriteLatency.Buckets[len(st.WriteLatency.Buckets)-1].Count != st.Batches {
		t.Errorf("latency histogram: got %+v, want %d observations", st.WriteLatency, st.Batches)
	}
	t.Logf("%d records in %d batches, %d digests, %d rotations", st.Records, st.Batches, st.Digests, st.Rotations)
	rep := verifyOK(t, dir)
	if rep.Records != workers*each {
		t.Errorf("Verify: got %d records, want %d", rep.Records, workers*each)
	}
	if len(rep.Files) < 2 {
		t.Errorf("got %d files, want rotation to several", len(rep.Files))
	}
	seen := map[string]bool{}
	n := 0
	for ev, err := range Query(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[ev.RequestID] {
			t.Fatalf("request %s logged twice", ev.RequestID)
		}
		seen[ev.RequestID] = true
		n++
	}
	if n != workers*each {
		t.Errorf("Query: got %d events, want %d", n, workers*each)
	}
}

// faultSink wraps a Sink and fails Write and Sync while fail is set.
type faultSink struct {
	SegmentedSink
	fail   atomic.Bool
	writes atomic.Int64
}

var errInjected = errors.New("injected: permission denied")

func (s *faultSink) Write(ctx context.Context, records [][]byte) error {
	s.writes.Add(1)
	if s.fail.Load() {
		return errInjected
	}
	return s.SegmentedSink.Write(ctx, records)
}

func (s *faultSink) Sync() error {
	if s.fail.Load() {
		return errInjected
	}
	return s.SegmentedSink.Sync()
}

func newFaultLogger(t *testing.T, dir string, cfg Config) (*Logger, *faultSink) {
	t.Helper()
	fs, err := OpenFileSink(dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadOrCreateSigningKey(dir, testSealer)
	if err != nil {
		t.Fatal(err)
	}
	sink := &faultSink{SegmentedSink: fs}
	cfg.Sink, cfg.SigningKey = sink, key
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, sink
}

func TestFailClosed(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	var mu sync.Mutex
	l, sink := newFaultLogger(t, dir, Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	ctx := context.Background()
	if err := l.Log(ctx, sampleEvent(1)); err != nil {
		t.Fatal(err)
	}
	sink.fail.Store(true)
	err := l.Log(ctx, sampleEvent(2))
	if !errors.Is(err, ErrNotRecorded) || !errors.Is(err, errInjected) {
		t.Fatalf("Log with a failing sink: got %v, want ErrNotRecorded wrapping the sink error", err)
	}
	mu.Lock()
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "fail-closed") {
		t.Errorf("no loud log of the failure: %q", logs.String())
	}
	mu.Unlock()
	st := l.Stats()
	if st.Rejected != 1 || st.WriteFailures == 0 || st.FailedRecords != 1 {
		t.Errorf("stats: got rejected %d, failures %d, failed records %d; want 1, >0, 1", st.Rejected, st.WriteFailures, st.FailedRecords)
	}
	sink.fail.Store(false)
	if err := l.Log(ctx, sampleEvent(3)); err != nil {
		t.Fatalf("Log after the sink recovered: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Log(ctx, sampleEvent(4)); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrNotRecorded) {
		t.Errorf("Log after Close: got %v, want ErrClosed", err)
	}
	rep := verifyOK(t, dir)
	var ids []string
	for ev, err := range Query(dir, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.RequestID)
	}
	if want := []string{"req-000001", "req-000003"}; !slices.Equal(ids, want) {
		t.Errorf("logged requests: got %v, want %v (the failed one absent)", ids, want)
	}
	if rep.Records != 2 {
		t.Errorf("Verify: got %d records, want 2", rep.Records)
	}
	// The recovery digest notes the failure.
	found := false
	for _, name := range logFileNames(t, dir) {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		found = found || bytes.Contains(b, []byte(`"reason":"recovery"`)) && bytes.Contains(b, []byte("injected: permission denied"))
	}
	if !found {
		t.Error("no recovery digest noting the write error")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// TestFailClosedUnwritableDir makes the real directory unwritable between
// files: the next file cannot be created and Log fails.
func TestFailClosedUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{}, FileOptions{MaxFileBytes: 1})
	// Every batch rotates first, so each needs a new file. Replace the
	// directory with a file so creating one fails even for root.
	if err := l.Log(context.Background(), sampleEvent(1)); err != nil {
		t.Fatal(err)
	}
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := l.Log(context.Background(), sampleEvent(2))
	if !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("Log into an unwritable directory: got %v, want ErrNotRecorded", err)
	}
	os.Remove(dir)
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if err := l.Log(context.Background(), sampleEvent(3)); err != nil {
		t.Fatalf("Log after the directory is back: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, dir)
}

func TestFailOpen(t *testing.T) {
	dir := t.TempDir()
	l, sink := newFaultLogger(t, dir, Config{FailurePolicy: FailOpen})
	sink.fail.Store(true)
	for i := range 3 {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			t.Fatalf("fail-open Log: got %v, want nil", err)
		}
	}
	if st := l.Stats(); st.Dropped != 3 || st.Rejected != 0 {
		t.Errorf("stats: got dropped %d rejected %d, want 3 and 0", st.Dropped, st.Rejected)
	}
	sink.fail.Store(false)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, dir)
}

// blockSink blocks every Write until released.
type blockSink struct {
	Sink
	release chan struct{}
}

func (s *blockSink) Write(ctx context.Context, records [][]byte) error {
	<-s.release
	return s.Sink.Write(ctx, records)
}

func TestBackpressure(t *testing.T) {
	key, _ := GenerateSigningKey()
	release := make(chan struct{})
	close(release)
	bs := &blockSink{Sink: NewWriterSink(&bytes.Buffer{}), release: release}
	l, err := New(Config{Sink: bs, SigningKey: key, QueueSize: 2, MaxBatch: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	bs.release = make(chan struct{}) // block from now on (the writer reads it per Write)
	block := bs.release
	// Fill the writer and the queue with async-style callers that time out.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := range 8 {
		wg.Go(func() {
			if err := l.Log(ctx, sampleEvent(i)); err != nil {
				failures.Add(1)
				if !errors.Is(err, ErrNotRecorded) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got %v, want ErrNotRecorded and DeadlineExceeded", err)
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() != 8 {
		t.Errorf("got %d failed Log calls, want all 8", failures.Load())
	}
	if st := l.Stats(); st.QueueFull == 0 || st.QueueDepth > st.QueueCapacity {
		t.Errorf("stats: got %+v, want QueueFull > 0", st)
	}
	close(block)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAsyncDurability(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{Durability: DurabilityAsync, SyncInterval: 10 * time.Millisecond}, FileOptions{})
	for i := range 100 {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := verifyOK(t, dir); rep.Records != 100 {
		t.Errorf("got %d records, want 100", rep.Records)
	}
}

func TestDigestsByCountAndInterval(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{DigestEvery: 10, DigestInterval: 20 * time.Millisecond}, FileOptions{})
	for i := range 25 {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Digests < 4 && time.Now().Before(deadline) { // start, 2 by count, 1 by interval
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verifyOK(t, dir)
	if rep.Digests != 5 || rep.SignedThrough != rep.LastSeq {
		t.Errorf("got %d digests, signed through %d of %d; want 5 digests (start, 2 count, interval, close) covering all", rep.Digests, rep.SignedThrough, rep.LastSeq)
	}
	b, _ := os.ReadFile(filepath.Join(dir, logFileNames(t, dir)[0]))
	for _, reason := range []string{"start", "count", "interval", "close"} {
		if !bytes.Contains(b, []byte(`"reason":"`+reason+`"`)) {
			t.Errorf("no %s digest", reason)
		}
	}
}

func TestRestartContinuesChain(t *testing.T) {
	dir := t.TempDir()
	for run := range 3 {
		l := openLog(t, dir, Config{}, FileOptions{})
		for i := range 5 {
			if err := l.Log(context.Background(), sampleEvent(run*10+i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rep := verifyOK(t, dir)
	if len(rep.Files) != 3 || rep.Records != 15 || rep.FirstSeq != 1 || rep.LastSeq != 3*7 {
		t.Errorf("got %d files, %d records, seq %d..%d; want 3, 15, 1..21", len(rep.Files), rep.Records, rep.FirstSeq, rep.LastSeq)
	}
	if len(rep.Issues) != 0 {
		t.Errorf("clean restarts: got issues\n%s", rep)
	}
}

// TestCrashTruncation simulates kill -9 during a write: the newest file is
// cut at an arbitrary byte offset. The reopened logger continues the chain
// from the last complete record; Verify reports the truncation as a warning
// and the chain as valid.
func TestCrashTruncation(t *testing.T) {
	base := t.TempDir()
	l := openLog(t, base, Config{DigestEvery: 7}, FileOptions{})
	for i := range 20 {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	name := logFileNames(t, base)[0]
	full, _ := os.ReadFile(filepath.Join(base, name))
	lines, _ := readLines(t, filepath.Join(base, name))
	lastLen := len(lines[len(lines)-1]) + 1
	prevLen := len(lines[len(lines)-2]) + 1
	cuts := map[string]int{
		"mid last record":        len(full) - lastLen/2,
		"one byte into a record": len(full) - lastLen - prevLen + 1,
		"only the newline lost":  len(full) - 1,
		"mid earlier record":     len(full) - lastLen - prevLen/3,
		"at a line boundary":     len(full) - lastLen,
	}
	for what, cut := range cuts {
		t.Run(what, func(t *testing.T) {
			dir := copyDir(t, base)
			if err := os.Truncate(filepath.Join(dir, name), int64(cut)); err != nil {
				t.Fatal(err)
			}
			l := openLog(t, dir, Config{}, FileOptions{})
			for i := range 3 {
				if err := l.Log(context.Background(), sampleEvent(100+i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			rep := verifyOK(t, dir)
			torn := rep.IssuesOf(IssueTruncated)
			if what == "at a line boundary" {
				if len(torn) != 0 {
					t.Errorf("got truncation issues %v, want none", torn)
				}
				if len(rep.IssuesOf(IssueUnclosedFile)) != 1 {
					t.Errorf("want the cut file reported unclosed:\n%s", rep)
				}
				return
			}
			if len(torn) != 1 || torn[0].File != name || !strings.Contains(torn[0].Detail, "recovered") {
				t.Fatalf("got truncation issues %v, want one in %s noting recovery:\n%s", torn, name, rep)
			}
			if torn[0].Line != len(lines)-strings.Count(string(full[cut:]), "\n")+1 && what != "only the newline lost" {
				t.Logf("truncation reported at line %d", torn[0].Line)
			}
			if rep.SignedThrough != rep.LastSeq {
				t.Errorf("signed through %d, want %d", rep.SignedThrough, rep.LastSeq)
			}
		})
	}
}

func TestSigningKeyPersistence(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateSigningKey(dir, testSealer)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateSigningKey(dir, testSealer)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Public().Equal(k2.Public()) {
		t.Fatal("reloaded key differs")
	}
	sealed, _ := os.ReadFile(filepath.Join(dir, SigningKeyFile))
	if bytes.Contains(sealed, k1.priv.Seed()) {
		t.Fatal("signing key seed stored in the clear")
	}
	other, _ := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{9}, 32))
	if _, err := LoadOrCreateSigningKey(dir, other); !errors.Is(err, rootkey.ErrOpen) {
		t.Errorf("wrong root key: got %v, want ErrOpen", err)
	}
	pemBytes, _ := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	pub, err := ParsePublicKeyPEM(pemBytes)
	if err != nil || !pub.Equal(k1.Public()) {
		t.Errorf("public key file: got %v, %v", pub, err)
	}
	if strings.Contains(k1.String(), string(k1.priv)) || !strings.Contains(k1.String(), k1.ID()) {
		t.Errorf("String: %q", k1.String())
	}
	if _, err := ParsePublicKeyPEM([]byte("garbage")); err == nil {
		t.Error("ParsePublicKeyPEM(garbage): want an error")
	}
}

func TestQueryFilterAndTable(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{}, FileOptions{})
	ctx := context.Background()
	base := time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)
	denied := sampleEvent(2)
	denied.EventName, denied.ErrorCode, denied.ErrorMessage = "Decrypt", "AccessDeniedException", "not allowed"
	denied.EventTime = base.Add(time.Minute)
	other := sampleEvent(3)
	other.Resources = KeyResources("arn:aws:kms:us-east-1:111122223333:key/other")
	other.EventTime = base.Add(2 * time.Minute)
	failedAuth := Event{UserIdentity: UnauthenticatedIdentity("AKIABOGUS"), EventName: "ListKeys",
		ErrorCode: "UnrecognizedClientException", SourceIPAddress: "198.51.100.7\tx", EventTime: base.Add(3 * time.Minute)}
	first := sampleEvent(1)
	first.EventTime = base
	for _, ev := range []Event{first, denied, other, failedAuth} {
		if err := l.Log(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	ids := func(f Filter) []string {
		var out []string
		for ev, err := range Query(dir, f) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ev.EventName+"/"+ev.OpenKMS.Outcome.String())
		}
		return out
	}
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"Encrypt/allowed", "Decrypt/denied", "Encrypt/allowed", "ListKeys/denied"}},
		{Filter{KeyARN: testKeyARN}, []string{"Encrypt/allowed", "Decrypt/denied"}},
		{Filter{Outcome: OutcomeDenied}, []string{"Decrypt/denied", "ListKeys/denied"}},
		{Filter{Action: "kms:decrypt"}, []string{"Decrypt/denied"}},
		{Filter{Principal: "AKIABOGUS"}, []string{"ListKeys/denied"}},
		{Filter{Principal: "alice"}, []string{"Encrypt/allowed", "Decrypt/denied", "Encrypt/allowed"}},
		{Filter{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, []string{"Decrypt/denied", "Encrypt/allowed"}},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("Query(%+v): got %v, want %v", tc.f, got, tc.want)
		}
	}
	for ev := range Query(dir, Filter{Action: "Encrypt"}) {
		if v, ok := ev.RequestParameters.Get("keyId"); !ok || v != testKeyARN {
			t.Errorf("requestParameters.keyId: got %v", v)
		}
		if ev.OpenKMS.Chain == nil || ev.OpenKMS.Authorization == nil || ev.OpenKMS.Authorization.Reasons[0].Source != SourceKeyPolicy {
			t.Errorf("openkms extension not read back: %+v", ev.OpenKMS)
		}
		break
	}
	var out bytes.Buffer
	n, err := WriteTable(&out, Query(dir, Filter{}))
	if err != nil || n != 4 {
		t.Fatalf("WriteTable: got %d, %v", n, err)
	}
	rows := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "TIME") || !strings.Contains(rows[2], "AccessDeniedException") ||
		!strings.Contains(rows[4], "Unknown (AKIABOGUS)") || strings.Contains(out.String(), "\tx") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestEnums(t *testing.T) {
	for _, name := range outcomeNames[1:] {
		if o, err := ParseOutcome(name); err != nil || o.String() != name {
			t.Errorf("ParseOutcome(%q): got %v, %v", name, o, err)
		}
	}
	if _, err := ParseOutcome("unknown"); err == nil {
		t.Error("ParseOutcome(unknown): want an error")
	}
	for _, name := range issueKindNames[1:] {
		if k, err := ParseIssueKind(name); err != nil || k.String() != name {
			t.Errorf("ParseIssueKind(%q): got %v, %v", name, k, err)
		}
	}
	if p, err := ParseFailurePolicy("fail-open"); err != nil || p != FailOpen {
		t.Errorf("ParseFailurePolicy: got %v, %v", p, err)
	}
	if d, err := ParseDurability("async"); err != nil || d != DurabilityAsync {
		t.Errorf("ParseDurability: got %v, %v", d, err)
	}
	if Outcome(42).String() != "unknown" || Decision(0).String() != "Unknown" {
		t.Error("out-of-range enum names")
	}
}
