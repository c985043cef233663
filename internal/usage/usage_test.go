package usage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
	"github.com/openkms/openkms/internal/usage"
)

var ctx = context.Background()

const arn1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func openBolt(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTracker(t *testing.T, st storage.Store, interval time.Duration) *usage.Tracker {
	t.Helper()
	tr, err := usage.New(ctx, usage.Config{Store: st, FlushInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(ctx) })
	return tr
}

func wantLast(t *testing.T, tr *usage.Tracker, arn, op string, at time.Time, eventID string) {
	t.Helper()
	u, ok, err := tr.Last(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("Last(%s): no usage, want %s at %v", arn, op, at)
	}
	if u.Operation != op || !u.Timestamp.Equal(at) || u.EventID != eventID {
		t.Fatalf("Last(%s): got %s at %v (%s), want %s at %v (%s)", arn, u.Operation, u.Timestamp, u.EventID, op, at, eventID)
	}
}

func TestFlushAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openkms.db")
	st := openBolt(t, path)
	tr := newTracker(t, st, time.Hour)
	start := tr.StoreTrackingStart()
	at := time.Date(2026, 11, 28, 16, 0, 0, 123456789, time.UTC)
	tr.Record(arn1, "Encrypt", at, "event-1")
	tr.Record(arn1, "Decrypt", at.Add(-time.Second), "event-0") // older: ignored
	tr.Record(arn1, "GenerateRandom", at.Add(time.Hour), "x")   // untracked: ignored
	wantLast(t, tr, arn1, "Encrypt", at, "event-1")
	if got, _ := storage.Get(ctx, st, usage.KeyPrefix+arn1); got != nil {
		t.Fatalf("Record wrote storage before a flush: %s", got)
	}
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tr.Pending(); n != 0 {
		t.Errorf("pending after flush: got %d, want 0", n)
	}
	wantLast(t, tr, arn1, "Encrypt", at, "event-1") // from storage now
	tr.Record(arn1, "Sign", at.Add(time.Minute), "event-2")
	if err := tr.Close(ctx); err != nil { // flushes
		t.Fatal(err)
	}
	st.Close()

	st2 := openBolt(t, path)
	tr2 := newTracker(t, st2, time.Hour)
	wantLast(t, tr2, arn1, "Sign", at.Add(time.Minute), "event-2")
	if !tr2.StoreTrackingStart().Equal(start) {
		t.Errorf("tracking start after restart: got %v, want %v", tr2.StoreTrackingStart(), start)
	}
	u, _, _ := tr2.Last(ctx, arn1)
	if !u.TrackingStart.Equal(start) {
		t.Errorf("record's tracking start: got %v, want %v", u.TrackingStart, start)
	}
	if _, ok, err := tr2.Last(ctx, arn1+"-other"); ok || err != nil {
		t.Errorf("Last of an unused key: got ok=%v err=%v, want no usage", ok, err)
	}
}

func TestPeriodicFlush(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	tr := newTracker(t, st, 20*time.Millisecond)
	tr.Record(arn1, "Verify", time.Now(), "e")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if b, err := storage.Get(ctx, st, usage.KeyPrefix+arn1); err == nil {
			t.Logf("flushed: %s", b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not flushed within 5s with a 20ms interval")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewerWinsAcrossTrackers(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	a, b := newTracker(t, st, time.Hour), newTracker(t, st, time.Hour)
	if !a.StoreTrackingStart().Equal(b.StoreTrackingStart()) {
		t.Errorf("two trackers on one store: tracking starts %v and %v differ", a.StoreTrackingStart(), b.StoreTrackingStart())
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.Record(arn1, "Encrypt", t0.Add(2*time.Second), "newer")
	b.Record(arn1, "Decrypt", t0.Add(time.Second), "older")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil { // must not move the timestamp backwards
		t.Fatal(err)
	}
	wantLast(t, a, arn1, "Encrypt", t0.Add(2*time.Second), "newer")
	wantLast(t, b, arn1, "Encrypt", t0.Add(2*time.Second), "newer")

	b.Record(arn1, "Sign", t0.Add(3*time.Second), "newest")
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wantLast(t, a, arn1, "Sign", t0.Add(3*time.Second), "newest")
}

func TestConcurrentRecord(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	tr := newTracker(t, st, 5*time.Millisecond)
	const keys, workers, each = 20, 8, 500
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				arn := fmt.Sprintf("%s-%d", arn1, (w+i)%keys)
				tr.Record(arn, "Encrypt", t0.Add(time.Duration(w*each+i)*time.Millisecond), fmt.Sprint(w*each+i))
				if i%50 == 0 {
					if _, _, err := tr.Last(ctx, arn); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if err := tr.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if err := tr.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The newest use of each key is the highest index that mapped to it.
	tr2 := newTracker(t, st, time.Hour)
	for k := range keys {
		best := -1
		for w := range workers {
			for i := range each {
				if (w+i)%keys == k && w*each+i > best {
					best = w*each + i
				}
			}
		}
		wantLast(t, tr2, fmt.Sprintf("%s-%d", arn1, k), "Encrypt", t0.Add(time.Duration(best)*time.Millisecond), fmt.Sprint(best))
	}
}

func TestTrackingStartAndTrailingDays(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tr, err := usage.New(ctx, usage.Config{Store: st, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(ctx)
	before, after := clock.Add(-100*24*time.Hour), clock.Add(24*time.Hour)
	if got := tr.TrackingStart(before); !got.Equal(clock) {
		t.Errorf("TrackingStart of an older key: got %v, want the store's start %v", got, clock)
	}
	if got := tr.TrackingStart(after); !got.Equal(after) {
		t.Errorf("TrackingStart of a newer key: got %v, want its creation %v", got, after)
	}
	now := clock.Add(10*24*time.Hour + time.Hour)
	if d, err := tr.TrailingDaysWithoutUse(ctx, arn1, before, now); err != nil || d != 10 {
		t.Errorf("days without use, never used: got %d, %v, want 10 (since tracking start)", d, err)
	}
	if d, _ := tr.TrailingDaysWithoutUse(ctx, arn1, after, now); d != 9 {
		t.Errorf("days without use of a key created after tracking start: got %d, want 9", d)
	}
	tr.Record(arn1, "Encrypt", clock.Add(7*24*time.Hour), "e")
	if d, _ := tr.TrailingDaysWithoutUse(ctx, arn1, before, now); d != 3 {
		t.Errorf("days without use after a use: got %d, want 3", d)
	}
	if d, _ := tr.TrailingDaysWithoutUse(ctx, arn1, before, clock.Add(-time.Hour)); d != 0 {
		t.Errorf("days without use before the reference: got %d, want 0", d)
	}
}

func TestForget(t *testing.T) {
	st := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	tr := newTracker(t, st, time.Hour)
	tr.Record(arn1, "Encrypt", time.Time{}, "e")
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tr.Record(arn1, "Decrypt", time.Time{}, "e2")
	if err := st.Update(ctx, func(w storage.Writer) error { return tr.Forget(w, arn1) }); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := tr.Last(ctx, arn1); ok || err != nil {
		t.Errorf("Last after Forget: ok=%v err=%v, want no usage", ok, err)
	}
}

// failingStore fails every Update after New.
type failingStore struct {
	storage.Store
	fail bool
}

func (s *failingStore) Update(ctx context.Context, fn func(storage.Writer) error) error {
	if s.fail {
		return errors.New("disk on fire")
	}
	return s.Store.Update(ctx, fn)
}

func TestFailedFlushKeepsPending(t *testing.T) {
	bolt := openBolt(t, filepath.Join(t.TempDir(), "openkms.db"))
	st := &failingStore{Store: bolt}
	tr := newTracker(t, st, time.Hour)
	at := time.Now()
	tr.Record(arn1, "Encrypt", at, "e")
	st.fail = true
	if err := tr.Flush(ctx); err == nil {
		t.Fatal("Flush on a failing store: got nil error")
	}
	if tr.Pending() != 1 {
		t.Fatalf("pending after a failed flush: got %d, want 1", tr.Pending())
	}
	st.fail = false
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if tr.Pending() != 0 {
		t.Fatalf("pending after the retry: got %d, want 0", tr.Pending())
	}
	if _, err := storage.Get(ctx, bolt, usage.KeyPrefix+arn1); err != nil {
		t.Fatalf("not stored after the retry: %v", err)
	}
}

func TestTracked(t *testing.T) {
	for _, op := range usage.TrackedOperations() {
		if !usage.Tracked(op) {
			t.Errorf("Tracked(%s) = false", op)
		}
	}
	for _, op := range []string{"CreateKey", "DescribeKey", "GenerateRandom", "encrypt", ""} {
		if usage.Tracked(op) {
			t.Errorf("Tracked(%q) = true", op)
		}
	}
	if n := len(usage.TrackedOperations()); n != 12 {
		t.Errorf("tracked operations: got %d, want the 12 of KeyLastUsageTrackingOperation", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	bolt, err := boltstore.Open(filepath.Join(b.TempDir(), "openkms.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bolt.Close()
	tr, err := usage.New(ctx, usage.Config{Store: bolt, FlushInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close(ctx)
	arns := make([]string, 64)
	for i := range arns {
		arns[i] = fmt.Sprintf("%s-%d", arn1, i)
	}
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			tr.Record(arns[i%len(arns)], "Encrypt", now.Add(time.Duration(i)), "event")
		}
	})
}
