package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
	"github.com/openkms/openkms/internal/storage/storagetest"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteTo(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeSet(s *set) string {
	w := &writer{}
	for _, c := range s.collectors() {
		c.collect(context.Background(), w)
	}
	return string(w.b)
}

func TestExpositionGolden(t *testing.T) {
	var s set
	c := s.counterVec("test_requests_total", "Requests.\nSecond line with \\ backslash.", "op", "code")
	c.With("Encrypt", "").Add(3)
	c.With("Decrypt", "Not\"Found\"\n\\").Inc()
	g := s.gauge("test_temperature", "A gauge.")
	g.Set(-1.5)
	s.gaugeFunc("test_func", "A callback gauge.", func() float64 { return 42 })
	s.counterFunc("test_bytes_total", "A callback counter.", func() float64 { return 1e20 })
	h := s.histogramVec("test_seconds", "A histogram.", []time.Duration{time.Millisecond, 250 * time.Millisecond, 2 * time.Second}, "op")
	hv := h.With("view")
	hv.Observe(500 * time.Microsecond)
	hv.Observe(time.Millisecond) // on the bound: le is inclusive
	hv.Observe(100 * time.Millisecond)
	hv.Observe(3 * time.Second)
	s.histogramVec("test_empty_seconds", "No series yet.", []time.Duration{time.Second})

	const want = `# HELP test_requests_total Requests.\nSecond line with \\ backslash.
# TYPE test_requests_total counter
test_requests_total{op="Decrypt",code="Not\"Found\"\n\\"} 1
test_requests_total{op="Encrypt",code=""} 3
# HELP test_temperature A gauge.
# TYPE test_temperature gauge
test_temperature -1.5
# HELP test_func A callback gauge.
# TYPE test_func gauge
test_func 42
# HELP test_bytes_total A callback counter.
# TYPE test_bytes_total counter
test_bytes_total 1e+20
# HELP test_seconds A histogram.
# TYPE test_seconds histogram
test_seconds_bucket{op="view",le="0.001"} 2
test_seconds_bucket{op="view",le="0.25"} 3
test_seconds_bucket{op="view",le="2"} 3
test_seconds_bucket{op="view",le="+Inf"} 4
test_seconds_sum{op="view"} 3.1015
test_seconds_count{op="view"} 4
# HELP test_empty_seconds No series yet.
# TYPE test_empty_seconds histogram
`
	if got := writeSet(&s); got != want {
		t.Errorf("exposition:\ngot:\n%s\nwant:\n%s", got, want)
	}
	if _, err := parseExposition(writeSet(&s)); err != nil {
		t.Errorf("own output does not parse: %v", err)
	}
}

func TestRegistryExposition(t *testing.T) {
	r := New()
	r.ObserveRequest("Encrypt", "", false, 2*time.Millisecond)
	r.ObserveRequest("Encrypt", "", false, 3*time.Millisecond)
	r.ObserveRequest("Encrypt", "NotFoundException", false, time.Millisecond)
	r.ObserveRequest("Decrypt", "KMSInternalException", true, 10*time.Second)
	r.SetKeyStates(func(context.Context) (map[string]int, error) {
		return map[string]int{"Enabled": 3, "PendingDeletion": 1, "Creating": 2}, nil
	})
	r.SetAuditStats(func() audit.Stats {
		return audit.Stats{QueueDepth: 5, QueueCapacity: 4096, Records: 10, LastSeq: 12,
			WriteLatency: audit.Histogram{Count: 2, Sum: 3 * time.Millisecond, Buckets: []audit.Bucket{
				{UpperBound: time.Millisecond, Count: 1}, {UpperBound: 0, Count: 2}}}}
	})
	st := InstrumentStore(openBolt(t), r)
	if err := st.View(context.Background(), func(storage.Reader) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(context.Background(), func(w storage.Writer) error { return w.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}

	fams, err := parseExposition(scrape(t, r))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sample string
		want   float64
	}{
		{`openkms_requests_total{operation="Encrypt",outcome="success",error_code=""}`, 2},
		{`openkms_requests_total{operation="Encrypt",outcome="client_error",error_code="NotFoundException"}`, 1},
		{`openkms_requests_total{operation="Decrypt",outcome="server_error",error_code="KMSInternalException"}`, 1},
		{`openkms_request_duration_seconds_count{operation="Encrypt"}`, 3},
		{`openkms_request_duration_seconds_bucket{operation="Encrypt",le="0.0025"}`, 2},
		{`openkms_request_duration_seconds_bucket{operation="Decrypt",le="5"}`, 0},
		{`openkms_request_duration_seconds_bucket{operation="Decrypt",le="+Inf"}`, 1},
		{`openkms_keys{state="Enabled"}`, 3},
		{`openkms_keys{state="Disabled"}`, 0},
		{`openkms_keys{state="Creating"}`, 2},
		{`openkms_audit_queue_depth`, 5},
		{`openkms_audit_records_total`, 10},
		{`openkms_audit_write_seconds_bucket{le="0.001"}`, 1},
		{`openkms_audit_write_seconds_count`, 2},
		{`openkms_storage_operation_seconds_count{op="view"}`, 1},
		{`openkms_storage_operation_seconds_count{op="update"}`, 1},
	} {
		got, ok := fams.value(c.sample)
		if !ok {
			t.Errorf("%s: missing", c.sample)
		} else if got != c.want {
			t.Errorf("%s: got %v, want %v", c.sample, got, c.want)
		}
	}
	for name, typ := range map[string]string{"openkms_requests_total": "counter", "openkms_keys": "gauge",
		"openkms_request_duration_seconds": "histogram", "openkms_audit_write_seconds": "histogram",
		"openkms_audit_queue_depth": "gauge", "openkms_storage_operation_seconds": "histogram"} {
		if fams.types[name] != typ {
			t.Errorf("TYPE of %s: got %q, want %q", name, fams.types[name], typ)
		}
	}
}

func TestNilRegistry(t *testing.T) {
	var r *Registry
	r.ObserveRequest("Encrypt", "", false, time.Millisecond)
	r.SetKeyStates(nil)
	r.SetAuditStats(nil)
	st := openBolt(t)
	if got := InstrumentStore(st, nil); got != st {
		t.Errorf("InstrumentStore(st, nil) = %T, want the store itself", got)
	}
}

func TestKeyStatesCachedAndErrors(t *testing.T) {
	r := New()
	calls := 0
	r.SetKeyStates(func(context.Context) (map[string]int, error) {
		calls++
		return nil, errors.New("storage down")
	})
	for range 3 {
		out := scrape(t, r)
		if strings.Contains(out, "openkms_keys{") {
			t.Fatalf("series exported after a failed count:\n%s", out)
		}
	}
	if calls != 1 {
		t.Errorf("callback called %d times in one TTL, want 1", calls)
	}
	fams, err := parseExposition(scrape(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fams.value(`openkms_metrics_collect_errors_total{collector="keys"}`); v != 1 {
		t.Errorf("collect errors: got %v, want 1", v)
	}
}

func TestSeriesOverflow(t *testing.T) {
	var s set
	c := s.counterVec("x_total", "x", "op")
	for i := range maxSeries + 10 {
		c.With(strconv.Itoa(i)).Inc()
	}
	if n := len(*c.v.m.Load()); n != maxSeries+1 {
		t.Errorf("series: got %d, want %d", n, maxSeries+1)
	}
	if got := c.With(overflowLabel).Value(); got != 10 {
		t.Errorf("overflow series: got %d, want 10", got)
	}
}

func TestWrongLabelCountPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a wrong number of label values")
		}
	}()
	New().requests.With("Encrypt")
}

func TestConcurrent(t *testing.T) {
	r := New()
	r.SetKeyStates(func(context.Context) (map[string]int, error) { return map[string]int{"Enabled": 1}, nil })
	ops := []string{"Encrypt", "Decrypt", "Sign", "GenerateDataKey"}
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				code := ""
				if i%10 == 0 {
					code = "NotFoundException"
				}
				r.ObserveRequest(ops[(w+i)%len(ops)], code, false, time.Duration(i)*time.Microsecond)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := parseExposition(scrape(t, r)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	fams, err := parseExposition(scrape(t, r))
	if err != nil {
		t.Fatal(err)
	}
	var total, durations float64
	for name, v := range fams.samples {
		if strings.HasPrefix(name, "openkms_requests_total{") {
			total += v
		}
		if strings.HasPrefix(name, "openkms_request_duration_seconds_count{") {
			durations += v
		}
	}
	if total != workers*each || durations != workers*each {
		t.Errorf("requests: got %v counted, %v timed, want %d", total, durations, workers*each)
	}
}

func TestObserveDoesNotAllocate(t *testing.T) {
	r := New()
	r.ObserveRequest("Encrypt", "", false, time.Millisecond)
	op, code := strings.Clone("Encrypt"), ""
	if n := testing.AllocsPerRun(1000, func() { r.ObserveRequest(op, code, false, time.Millisecond) }); n != 0 {
		t.Errorf("ObserveRequest allocates %v times per call, want 0", n)
	}
}

func TestHandler(t *testing.T) {
	r := New()
	r.ObserveRequest("Encrypt", "", false, time.Millisecond)
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentType {
		t.Errorf("GET: got %d %q, want 200 %q", resp.StatusCode, resp.Header.Get("Content-Type"), ContentType)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if !strings.Contains(b.String(), `openkms_requests_total{operation="Encrypt",outcome="success",error_code=""} 1`) {
		t.Errorf("GET body lacks the request counter:\n%s", b.String())
	}
	resp2, err := http.Post(srv.URL+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: got %d, want 405", resp2.StatusCode)
	}
}

func openBolt(t *testing.T) storage.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestInstrumentedStoreConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return InstrumentStore(openBolt(t), New()) })
}

type fakeLocker struct{ storage.Store }

func (fakeLocker) TryLock(context.Context, string) (func(), bool, error) { return func() {}, true, nil }

func TestInstrumentStorePassesThroughInterfaces(t *testing.T) {
	bolt := openBolt(t)
	r := New()
	plain := InstrumentStore(bolt, r)
	if _, ok := plain.(locker); ok {
		t.Error("an instrumented bbolt store claims TryLock")
	}
	if Unwrap(plain) != bolt {
		t.Error("Unwrap does not return the inner store")
	}
	if Unwrap(bolt) != bolt {
		t.Error("Unwrap of a plain store is not the store")
	}
	inner := fakeLocker{bolt}
	wrapped := InstrumentStore(inner, r)
	l, ok := wrapped.(locker)
	if !ok {
		t.Fatal("the instrumented store lost TryLock")
	}
	if _, ok, err := l.TryLock(context.Background(), "x"); !ok || err != nil {
		t.Errorf("TryLock: got %v, %v", ok, err)
	}
	if _, ok := wrapped.(notifier); ok {
		t.Error("the instrumented store claims Notify without the inner store having it")
	}
	if Unwrap(wrapped) != storage.Store(inner) {
		t.Error("Unwrap does not return the inner locker store")
	}
}

// --- a tiny parser of the text format, to check our own output ---

type exposition struct {
	types   map[string]string
	samples map[string]float64 // "name{labels}" as written -> value
}

func (e exposition) value(sample string) (float64, bool) {
	v, ok := e.samples[sample]
	return v, ok
}

// parseExposition checks the structure of a text exposition: HELP then
// TYPE before a family's samples, sample names belonging to the family
// (with _bucket/_sum/_count for histograms), well-formed labels and
// values, cumulative buckets ending in +Inf equal to _count.
func parseExposition(text string) (exposition, error) {
	e := exposition{types: map[string]string{}, samples: map[string]float64{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	var fam, typ string
	var lastBucket float64
	lastLE := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fail := func(msg string) (exposition, error) { return e, fmt.Errorf("line %d %q: %s", n, line, msg) }
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name, _, _ := strings.Cut(line[7:], " ")
			if _, dup := e.types[name]; dup || !validName(name) {
				return fail("duplicate or invalid family")
			}
			fam, typ = name, ""
			continue
		case strings.HasPrefix(line, "# TYPE "):
			name, t, _ := strings.Cut(line[7:], " ")
			if name != fam || typ != "" {
				return fail("TYPE without its HELP")
			}
			switch t {
			case "counter", "gauge", "histogram":
			default:
				return fail("unknown type")
			}
			typ, e.types[name] = t, t
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			return fail("unexpected line")
		}
		series, val, ok := strings.Cut(line, " ")
		if !ok {
			return fail("no value")
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return fail("bad value")
		}
		name, labels, hasLabels := strings.Cut(series, "{")
		if hasLabels {
			if !strings.HasSuffix(labels, "}") {
				return fail("unterminated labels")
			}
			if err := checkLabelText(strings.TrimSuffix(labels, "}")); err != nil {
				return fail(err.Error())
			}
		}
		base := name
		if typ == "histogram" {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suf); ok {
					base = b
				}
			}
		}
		if base != fam || typ == "" {
			return fail("sample outside its family")
		}
		if typ == "counter" && (v < 0 || !strings.HasSuffix(fam, "_total")) {
			return fail("counter must be >= 0 and end in _total")
		}
		if _, dup := e.samples[series]; dup {
			return fail("duplicate sample")
		}
		e.samples[series] = v
		if typ == "histogram" {
			switch {
			case strings.HasSuffix(name, "_bucket"):
				if lastLE != "" && lastLE != "+Inf" && v < lastBucket {
					return fail("buckets not cumulative")
				}
				lastBucket = v
				i := strings.LastIndex(labels, `le="`)
				if i < 0 {
					return fail("bucket without le")
				}
				lastLE = strings.TrimSuffix(labels[i+4:], `"}`)
			case strings.HasSuffix(name, "_count"):
				if lastLE != "+Inf" || v != lastBucket {
					return fail("_count is not the +Inf bucket")
				}
				lastLE = ""
			}
		}
	}
	return e, sc.Err()
}

func checkLabelText(s string) error {
	for s != "" {
		name, rest, ok := strings.Cut(s, `="`)
		if !ok || !validName(name) {
			return fmt.Errorf("bad label name in %q", s)
		}
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' {
				i++
				if i >= len(rest) || !strings.ContainsRune(`\"n`, rune(rest[i])) {
					return errors.New("bad escape")
				}
			} else if rest[i] == '\n' {
				return errors.New("raw newline in label value")
			}
		}
		if i >= len(rest) {
			return errors.New("unterminated label value")
		}
		s = rest[i+1:]
		if s != "" {
			if s[0] != ',' {
				return errors.New("labels not comma-separated")
			}
			s = s[1:]
		}
	}
	return nil
}
