package audit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// benchLog measures Log throughput with 16 goroutines per GOMAXPROCS (32 on
// a 2-core machine) against a file sink.
func benchLog(b *testing.B, d Durability) {
	dir := b.TempDir()
	l := openLog(b, dir, Config{Durability: d}, FileOptions{})
	ev := sampleEvent(1)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Log(context.Background(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	st := l.Stats()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	if st.Batches > 0 {
		b.ReportMetric(float64(st.Records)/float64(st.Batches), "records/batch")
		b.ReportMetric(float64(st.WriteLatency.Sum.Microseconds())/float64(st.Batches), "µs/batch-write")
	}
}

func BenchmarkLogSyncFile32(b *testing.B)  { benchLog(b, DurabilitySync) }
func BenchmarkLogAsyncFile32(b *testing.B) { benchLog(b, DurabilityAsync) }

// BenchmarkEncodeRecord is the CPU cost of one record, excluding I/O:
// filling, sanitizing, encoding and chaining.
func BenchmarkEncodeRecord(b *testing.B) {
	b.ReportAllocs()
	st := chainState{hash: zeroHash}
	now := time.Now()
	for b.Loop() {
		ev := sampleEvent(1).normalize(now)
		body, err := eventBody(nil, &ev)
		if err != nil {
			b.Fatal(err)
		}
		_, st.hash = chainLine(body, st.seq+1, st.hash)
		st.seq++
	}
}

// BenchmarkVerify is Verify's cost per record.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	l := openLog(b, dir, Config{Durability: DurabilityAsync}, FileOptions{})
	for i := range 10000 {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	pub := pubKey(b, dir)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(dir, pub)
		if err != nil || !rep.OK() {
			b.Fatal(err, rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/record")
}

// BenchmarkSanitizeEncrypt is the cost of reducing an Encrypt request body
// with a 256-byte plaintext to the fields an audit record keeps.
func BenchmarkSanitizeEncrypt(b *testing.B) {
	body := []byte(`{"KeyId":"alias/bench","Plaintext":"` + strings.Repeat("QUJD", 86) + `","EncryptionContext":{"app":"bench","tenant":"t-1"},"EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`)
	b.ReportAllocs()
	for b.Loop() {
		p := SanitizeRequest("Encrypt", body)
		if p.m == nil {
			b.Fatal("nothing kept")
		}
	}
}

// BenchmarkEventBody is the encoding of one normalized event, against
// encoding/json's (BenchmarkEventBodyJSON).
func BenchmarkEventBody(b *testing.B) {
	ev := sampleEvent(1).normalize(time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eventBody(nil, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventBodyJSON(b *testing.B) {
	ev := sampleEvent(1).normalize(time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cutBody(&ev); err != nil {
			b.Fatal(err)
		}
	}
}
