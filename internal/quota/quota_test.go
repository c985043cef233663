package quota

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand. It is safe for concurrent
// use.
type fakeClock struct{ ns atomic.Int64 }

var clockBase = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (c *fakeClock) Now() time.Time          { return clockBase.Add(time.Duration(c.ns.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newLimiter(t testing.TB, cfg Config) (*Limiter, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	cfg.Enabled = true
	cfg.Now = clk.Now
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l, clk
}

// drain spends requests until the first refusal and returns how many were
// allowed (at most limit+1 tries).
func drain(l *Limiter, account string, c Category, limit int) int {
	n := 0
	for range limit + 1 {
		if !l.Allow(account, c) {
			break
		}
		n++
	}
	return n
}

func TestBurstAndRefill(t *testing.T) {
	l, clk := newLimiter(t, Config{})
	// RSA: 1000/s, burst 1 s = 1000 requests.
	if got := drain(l, "111122223333", RSA, 5000); got != 1000 {
		t.Fatalf("full bucket allowed %d requests, want 1000", got)
	}
	if l.Allow("111122223333", RSA) {
		t.Fatal("empty bucket allowed a request")
	}
	clk.Advance(time.Millisecond) // one request's worth
	if got := drain(l, "111122223333", RSA, 5000); got != 1 {
		t.Fatalf("after 1 ms allowed %d, want 1", got)
	}
	clk.Advance(999 * time.Microsecond)
	if l.Allow("111122223333", RSA) {
		t.Fatal("allowed before a full interval had passed")
	}
	clk.Advance(time.Microsecond)
	if !l.Allow("111122223333", RSA) {
		t.Fatal("refused after a full interval")
	}
	clk.Advance(500 * time.Millisecond)
	if got := drain(l, "111122223333", RSA, 5000); got != 500 {
		t.Fatalf("after 500 ms allowed %d, want 500", got)
	}
	clk.Advance(time.Hour) // the bucket caps at its burst
	if got := drain(l, "111122223333", RSA, 5000); got != 1000 {
		t.Fatalf("after an hour allowed %d, want 1000 (the burst)", got)
	}
}

func TestDeniedRequestsSpendNothing(t *testing.T) {
	l, clk := newLimiter(t, Config{})
	c := CategoryFor("CreateKey", "") // 5/s
	if got := drain(l, "a", c, 100); got != 5 {
		t.Fatalf("allowed %d, want 5", got)
	}
	for range 1000 {
		l.Allow("a", c)
	}
	clk.Advance(200 * time.Millisecond)
	if got := drain(l, "a", c, 100); got != 1 {
		t.Fatalf("after refusals and one interval allowed %d, want 1", got)
	}
}

func TestBurstFactor(t *testing.T) {
	for _, tc := range []struct {
		burst float64
		c     Category
		want  int
	}{
		{0, RSA, 1000},
		{1, RSA, 1000},
		{2, RSA, 2000},
		{0.5, RSA, 500},
		{0.001, RSA, 1}, // at least one
		{0.01, CategoryFor("GetParametersForImport", ""), 1}, // 1/s
		{10, CategoryFor("GenerateDataKeyPair", "RSA_4096"), 10},
	} {
		t.Run(fmt.Sprintf("%v/%v", tc.burst, tc.c), func(t *testing.T) {
			l, _ := newLimiter(t, Config{Burst: tc.burst})
			if got := drain(l, "a", tc.c, 10000); got != tc.want {
				t.Errorf("allowed %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSlowRate(t *testing.T) {
	l, clk := newLimiter(t, Config{Overrides: map[Category]float64{Management: 0.25}})
	c := CategoryFor("CreateKey", "") // follows the Management override
	if !l.Allow("a", c) || l.Allow("a", c) {
		t.Fatal("want exactly one request from a full 0.25/s bucket")
	}
	clk.Advance(3999 * time.Millisecond)
	if l.Allow("a", c) {
		t.Fatal("allowed before 4 s")
	}
	clk.Advance(time.Millisecond)
	if !l.Allow("a", c) {
		t.Fatal("refused after 4 s")
	}
}

func TestIsolation(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	createKey := CategoryFor("CreateKey", "")
	createAlias := CategoryFor("CreateAlias", "")
	if got := drain(l, "111111111111", createKey, 100); got != 5 {
		t.Fatalf("allowed %d CreateKey, want 5", got)
	}
	// Another account is not affected.
	if got := drain(l, "222222222222", createKey, 100); got != 5 {
		t.Errorf("other account: allowed %d CreateKey, want 5", got)
	}
	// Another category of the same account is not affected.
	if got := drain(l, "111111111111", createAlias, 100); got != 5 {
		t.Errorf("CreateAlias after CreateKey: allowed %d, want 5", got)
	}
	for _, c := range []Category{Symmetric, RSA, ECC, MLDSA} {
		if !l.Allow("111111111111", c) {
			t.Errorf("%v refused after CreateKey was exhausted", c)
		}
	}
	// Operations sharing a quota share a bucket.
	for range 600 {
		if !l.Allow("333333333333", CategoryFor("Sign", "RSASSA_PSS_SHA_256")) {
			t.Fatal("RSA Sign refused within the burst")
		}
	}
	if got := drain(l, "333333333333", CategoryFor("Decrypt", "RSAES_OAEP_SHA_256"), 1000); got != 400 {
		t.Errorf("RSA Decrypt after 600 RSA Sign: allowed %d, want 400", got)
	}
}

func TestOverrides(t *testing.T) {
	createKey, describeKey := CategoryFor("CreateKey", ""), CategoryFor("DescribeKey", "")
	pair := CategoryFor("GenerateDataKeyPair", "RSA_2048")
	l, _ := newLimiter(t, Config{Overrides: map[Category]float64{
		Management:  50,
		describeKey: 7,
		Symmetric:   math.Inf(1),
	}})
	for _, tc := range []struct {
		c    Category
		want float64
	}{
		{createKey, 50},  // from Management
		{describeKey, 7}, // its own override wins
		{Management, 50}, //
		{Unknown, 50},    // counts as Management
		{RSA, 1000},      // not a management category
		{pair, 20},       // neither
		{Symmetric, math.Inf(1)},
	} {
		if got := l.Rate(tc.c); got != tc.want {
			t.Errorf("Rate(%v) = %v, want %v", tc.c, got, tc.want)
		}
	}
	if got := drain(l, "a", describeKey, 100); got != 7 {
		t.Errorf("DescribeKey allowed %d, want 7", got)
	}
	if got := drain(l, "a", Symmetric, 1_000_000); got != 1_000_001 {
		t.Errorf("unlimited Symmetric allowed %d, want all", got)
	}
	if l.Len() != 1 { // unlimited categories hold no bucket
		t.Errorf("Len = %d, want 1", l.Len())
	}
}

func TestDisabled(t *testing.T) {
	var nilLimiter *Limiter
	off, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*Limiter{"nil": nilLimiter, "disabled": off} {
		if got := drain(l, "a", CategoryFor("CreateKey", ""), 100); got != 101 {
			t.Errorf("%s: allowed %d, want all", name, got)
		}
		if l.Len() != 0 || !math.IsInf(l.Rate(RSA), 1) {
			t.Errorf("%s: Len = %d, Rate = %v; want 0, +Inf", name, l.Len(), l.Rate(RSA))
		}
	}
}

func TestNewErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unknown category": {Overrides: map[Category]float64{Unknown: 1}},
		"out of range":     {Overrides: map[Category]float64{numCategories: 1}},
		"zero rate":        {Overrides: map[Category]float64{RSA: 0}},
		"negative rate":    {Overrides: map[Category]float64{RSA: -1}},
		"NaN rate":         {Overrides: map[Category]float64{RSA: math.NaN()}},
		"huge rate":        {Overrides: map[Category]float64{RSA: 2e9}},
		"negative burst":   {Burst: -1},
		"NaN burst":        {Burst: math.NaN()},
		"huge burst":       {Burst: MaxBurst + 1},
		"few buckets":      {MaxBuckets: 10},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

func TestIdleBucketsAreSwept(t *testing.T) {
	l, clk := newLimiter(t, Config{})
	const n = 2000
	for i := range n {
		l.Allow(fmt.Sprintf("old-%d", i), Symmetric)
	}
	if l.Len() != n {
		t.Fatalf("Len = %d, want %d", l.Len(), n)
	}
	// Not yet idle: nothing is swept.
	clk.Advance(IdleTimeout - time.Second)
	for i := range n {
		l.Allow(fmt.Sprintf("mid-%d", i), Symmetric)
	}
	if l.Len() != 2*n {
		t.Fatalf("before IdleTimeout: Len = %d, want %d", l.Len(), 2*n)
	}
	// Past IdleTimeout for the first batch only: inserting new accounts
	// sweeps the first batch and keeps the second. (Each insertion
	// examines sweepBatch buckets of its shard; 3n insertions pass over
	// every shard more than twice.)
	clk.Advance(2 * time.Second)
	for i := range 3 * n {
		l.Allow(fmt.Sprintf("new-%d", i), Symmetric)
	}
	if got := l.Len(); got != 4*n {
		t.Fatalf("after IdleTimeout: Len = %d, want %d (old swept, mid and new kept)", got, 4*n)
	}
	for i := range n { // every mid bucket is still there, and spent
		k := bucketKey{fmt.Sprintf("mid-%d", i), Symmetric}
		if _, ok := l.buckets.Load(k); !ok {
			t.Fatalf("bucket %v was swept before it was idle", k)
		}
	}
}

func TestSweepIsLossless(t *testing.T) {
	// A swept bucket was full, so a new one decides the same.
	l, clk := newLimiter(t, Config{})
	c := CategoryFor("CreateKey", "")
	drain(l, "a", c, 100)                        // full again 1 s from now
	clk.Advance(IdleTimeout + 2*time.Second)     // then full for IdleTimeout
	for i := range 10 * numShards * sweepBatch { // sweep everything
		l.Allow(fmt.Sprintf("x-%d", i), Symmetric)
	}
	k := bucketKey{"a", c}
	if _, ok := l.buckets.Load(k); ok {
		t.Fatal("idle bucket not swept")
	}
	if got := drain(l, "a", c, 100); got != 5 {
		t.Errorf("after sweep allowed %d, want 5", got)
	}
}

func TestMaxBuckets(t *testing.T) {
	l, _ := newLimiter(t, Config{MaxBuckets: 4 * numShards})
	for i := range 20000 { // none idle: the cap must hold anyway
		l.Allow(fmt.Sprintf("acct-%d", i), Symmetric)
		if i%1000 == 0 && l.Len() > 4*numShards {
			t.Fatalf("after %d accounts Len = %d, want <= %d", i+1, l.Len(), 4*numShards)
		}
	}
	if got := l.Len(); got > 4*numShards || got < numShards {
		t.Fatalf("Len = %d, want between %d and %d", got, numShards, 4*numShards)
	}
	checkConsistent(t, l)
}

// checkConsistent checks that the shard lists and the map hold the same
// live buckets.
func checkConsistent(t *testing.T, l *Limiter) {
	t.Helper()
	inMap := 0
	l.buckets.Range(func(k, v any) bool {
		inMap++
		b := v.(*bucket)
		s := &l.shards[shardOf(b.key.account, b.key.cat)]
		if b.key != k.(bucketKey) || b.idx >= len(s.list) || s.list[b.idx] != b {
			t.Errorf("bucket %v is not at its place in its shard", k)
		}
		if b.tat.Load() == dead {
			t.Errorf("bucket %v in the map is dead", k)
		}
		return true
	})
	if inMap != l.Len() {
		t.Errorf("%d buckets in the map, %d in the shard lists", inMap, l.Len())
	}
}

func TestMemoryBoundUnderChurn(t *testing.T) {
	// A stream of new accounts, 100 a second for 10 minutes: buckets stay
	// near the accounts active in the last IdleTimeout (6,000), far below
	// the 60,000 seen.
	l, clk := newLimiter(t, Config{})
	const perSecond = 100
	live := perSecond * int(IdleTimeout/time.Second)
	peak := 0
	for sec := range 600 {
		for i := range perSecond {
			l.Allow(fmt.Sprintf("%012d", sec*perSecond+i), Symmetric)
		}
		clk.Advance(time.Second)
		peak = max(peak, l.Len())
	}
	if peak > 2*live {
		t.Errorf("peak Len = %d, want <= %d (2x the %d active accounts)", peak, 2*live, live)
	}
	t.Logf("peak %d buckets for %d active accounts (60000 seen)", peak, live)
}

func TestConcurrentHotBucket(t *testing.T) {
	// The clock stands still, so exactly one burst is allowed however the
	// goroutines interleave.
	l, _ := newLimiter(t, Config{})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				if l.Allow("hot", RSA) {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 1000 {
		t.Errorf("allowed %d of 4000 concurrent requests, want 1000", got)
	}
}

func TestConcurrentSweepOfHotBucket(t *testing.T) {
	// An idle bucket is swept while requests spend from it: whichever wins,
	// exactly one burst is allowed (a swept bucket was full, and one that
	// has been spent from is not idle).
	for round := range 20 {
		l, clk := newLimiter(t, Config{})
		hot := fmt.Sprintf("hot-%d", round)
		l.Allow(hot, RSA)
		clk.Advance(2 * IdleTimeout)
		var victims []string // accounts whose insertion sweeps hot's shard
		for i := 0; len(victims) < 400; i++ {
			if a := fmt.Sprint("v", i); shardOf(a, Symmetric) == shardOf(hot, RSA) {
				victims = append(victims, a)
			}
		}
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 500 {
					if l.Allow(hot, RSA) {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Go(func() {
			for _, a := range victims {
				l.Allow(a, Symmetric)
			}
		})
		wg.Wait()
		if got := allowed.Load(); got != 1000 {
			t.Fatalf("round %d: allowed %d, want 1000", round, got)
		}
		checkConsistent(t, l)
	}
}

func TestConcurrentChurn(t *testing.T) {
	// Inserts, sweeps, evictions and spends race; run with -race.
	l, clk := newLimiter(t, Config{MaxBuckets: 2 * numShards})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				l.Allow(fmt.Sprintf("g%d-%d", g, i%300), Category(1+i%int(numCategories-1)))
				if i%100 == 0 {
					clk.Advance(10 * time.Second)
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			_ = l.Len()
		}
	})
	wg.Wait()
	if got := l.Len(); got > 2*numShards {
		t.Errorf("Len = %d, want <= %d", got, 2*numShards)
	}
	checkConsistent(t, l)
}

func TestAllowDoesNotAllocate(t *testing.T) {
	l, _ := newLimiter(t, Config{})
	l.Allow("111122223333", Symmetric)
	if n := testing.AllocsPerRun(100, func() { l.Allow("111122223333", Symmetric) }); n != 0 {
		t.Errorf("Allow allocates %v times per call, want 0", n)
	}
}
