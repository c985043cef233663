// Package quota owns per-account request quotas, as AWS KMS applies them:
// each account has, for each quota category, a budget of requests per
// second; a request over budget is refused, and the HTTP layer answers it
// with ThrottlingException ("Rate exceeded", HTTP 400). Package quota only
// decides; it knows nothing of HTTP or of the error type.
//
// Quotas and their defaults follow "Request quotas" in the AWS KMS
// Developer Guide, https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html:
// cryptographic operations share one quota per key type (symmetric, RSA,
// ECC and SM2, ML-DSA), GenerateDataKeyPair has one per key pair spec, and
// every other operation has its own. Where AWS varies a quota by Region
// the us-east-1 value is the default. Custom key store quotas are out of
// scope.
//
// # Algorithm
//
// Each (account, category) pair is a token bucket holding Burst seconds'
// worth of requests (at least one) and refilled continuously at the
// category's rate. It is implemented as GCRA: a bucket is one int64, its
// theoretical arrival time, updated with compare-and-swap. Allow on an
// existing bucket is a sync.Map load and a CAS: it takes no lock and never
// blocks another Allow. A denied request spends nothing and writes nothing.
// Creating a bucket takes the mutex of one of 64 shards.
//
// # Memory
//
// A bucket that has been full for IdleTimeout (so unused for at least that
// long) is idle, and dropping it changes no decision, since a new bucket
// starts full. Each insertion first sweeps a few buckets of its shard (a
// cursor over the shard, bounded work per call) and deletes the idle ones,
// so buckets grow with the accounts active in the last IdleTimeout, not
// with all accounts ever seen: the cursor passes every bucket of a shard
// within len/sweepBatch insertions, so a shard holds at most about 4/3 of
// its active buckets. MaxBuckets is a hard cap on top: past it an
// insertion evicts a bucket that may not be idle, which can only let its
// account through sooner, never refuse anyone.
package quota

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds and defaults.
const (
	// IdleTimeout is how long a bucket stays full (unused) before a sweep
	// may delete it.
	IdleTimeout = time.Minute
	// DefaultMaxBuckets caps the buckets of a Limiter when
	// Config.MaxBuckets is 0: about 55 MB at worst (some 210 bytes a
	// bucket with a 12-digit account id), far more (account, category)
	// pairs than a self-hosted KMS sees active in IdleTimeout.
	DefaultMaxBuckets = 1 << 18
	// MinRate and MaxRate bound a rate, in requests per second; a rate of
	// +Inf means no limit.
	MinRate = 0.001
	MaxRate = 1e9
	// MaxBurst bounds Config.Burst, in seconds.
	MaxBurst = 3600

	numShards  = 64 // a power of two
	sweepBatch = 4  // buckets examined per insertion
)

// Config configures a Limiter.
type Config struct {
	// Enabled turns throttling on; when false, Allow always returns true.
	Enabled bool
	// Overrides replaces default rates, in requests per second; +Inf
	// means no limit. A Management override also applies to every
	// management operation without an override of its own.
	Overrides map[Category]float64
	// Burst is how many seconds' worth of requests a full bucket holds
	// (0 means 1). A bucket always holds at least one request.
	Burst float64
	// MaxBuckets caps the number of buckets (0 means DefaultMaxBuckets).
	MaxBuckets int
	// Now is the clock (nil means the system clock, read with time.Since:
	// one monotonic read per Allow). It must not go backwards.
	Now func() time.Time
}

// Limiter decides whether an account may make one more request in a
// category. It is safe for concurrent use; a nil or disabled Limiter
// allows everything.
type Limiter struct {
	enabled bool
	params  [numCategories]params
	now     func() time.Time // nil: the monotonic clock, read with time.Since
	epoch   time.Time
	buckets sync.Map // bucketKey → *bucket; reads take no lock
	shards  [numShards]shard
}

// params is one category's bucket shape, in nanoseconds since epoch.
type params struct {
	rate      float64
	interval  int64 // time one request costs: 1/rate
	limit     int64 // how far ahead of now a bucket may be: burst*interval
	unlimited bool
}

type bucketKey struct {
	account string
	cat     Category
}

// bucket is one token bucket, stored as GCRA's theoretical arrival time:
// the bucket is full when tat <= now, and a request is allowed when
// max(tat, now)+interval-now <= limit. A swept bucket's tat is dead, so
// that a request that found it just before it was deleted looks again.
type bucket struct {
	tat atomic.Int64
	key bucketKey
	idx int // position in shard.list; guarded by shard.mu
}

// dead marks a deleted bucket.
const dead = math.MinInt64

// shard owns the insertion, sweeping and deletion of a share of the
// buckets: its mutex serializes them, and list holds its buckets for the
// sweep cursor. Spending from a bucket takes no lock.
type shard struct {
	mu     sync.Mutex
	list   []*bucket
	cursor int
	max    int
	_      [64]byte // keep shards on separate cache lines
}

// New returns a Limiter. It returns an error if an override names an
// invalid category or has a rate outside [MinRate, MaxRate] (other than
// +Inf), or if Burst or MaxBuckets is out of range.
func New(cfg Config) (*Limiter, error) {
	l := &Limiter{enabled: cfg.Enabled, now: cfg.Now}
	if l.now == nil {
		l.epoch = time.Now()
	} else {
		l.epoch = l.now()
	}
	burst := cfg.Burst
	if burst == 0 {
		burst = 1
	}
	if math.IsNaN(burst) || burst < 0 || burst > MaxBurst {
		return nil, fmt.Errorf("quota: burst %v is not between 0 and %d seconds", cfg.Burst, MaxBurst)
	}
	maxBuckets := cfg.MaxBuckets
	if maxBuckets == 0 {
		maxBuckets = DefaultMaxBuckets
	}
	if maxBuckets < numShards {
		return nil, fmt.Errorf("quota: max buckets %d is below %d", cfg.MaxBuckets, numShards)
	}
	for c, r := range cfg.Overrides {
		if c <= Unknown || c >= numCategories {
			return nil, fmt.Errorf("quota: override for invalid category %v", c)
		}
		if err := checkRate(r); err != nil {
			return nil, fmt.Errorf("quota: override for %v: %w", c, err)
		}
	}
	mgmt, hasMgmt := cfg.Overrides[Management]
	for c := Unknown; c < numCategories; c++ {
		rate := DefaultRate(c)
		if r, ok := cfg.Overrides[c]; ok {
			rate = r
		} else if hasMgmt && IsManagement(c) {
			rate = mgmt
		}
		l.params[c] = paramsFor(rate, burst)
	}
	for i := range l.shards {
		l.shards[i].max = maxBuckets / numShards
	}
	return l, nil
}

func checkRate(r float64) error {
	if math.IsInf(r, 1) {
		return nil
	}
	if math.IsNaN(r) || r < MinRate || r > MaxRate {
		return fmt.Errorf("rate %v is not between %v and %v requests per second (or unlimited)", r, MinRate, MaxRate)
	}
	return nil
}

func paramsFor(rate, burst float64) params {
	if math.IsInf(rate, 1) {
		return params{rate: rate, unlimited: true}
	}
	interval := max(int64(math.Round(float64(time.Second)/rate)), 1)
	tokens := max(rate*burst, 1)
	return params{rate: rate, interval: interval, limit: int64(math.Round(tokens * float64(interval)))}
}

// Rate returns the rate in force for c, in requests per second, after
// overrides: +Inf when unlimited or when l is nil or disabled. Unknown and
// out-of-range categories are Management.
func (l *Limiter) Rate(c Category) float64 {
	if l == nil || !l.enabled {
		return math.Inf(1)
	}
	return l.params[normalize(c)].rate
}

func normalize(c Category) Category {
	if c <= Unknown || c >= numCategories {
		return Management
	}
	return c
}

// Allow reports whether account may make one request in category c now,
// and if so spends it. Unknown and out-of-range categories count as
// Management. Allow does not allocate once the account's bucket exists.
func (l *Limiter) Allow(account string, c Category) bool {
	if l == nil || !l.enabled {
		return true
	}
	if l.now == nil {
		return l.allow(account, c, int64(time.Since(l.epoch))) // one clock read, not two
	}
	return l.allow(account, c, int64(l.now().Sub(l.epoch)))
}

// AllowAt is Allow at a time the caller already has, such as the start of
// the request, which saves reading the clock (tens of nanoseconds on some
// virtual machines). now must come from the same clock as Config.Now; a
// slightly stale now only makes the decision slightly stricter.
func (l *Limiter) AllowAt(account string, c Category, now time.Time) bool {
	if l == nil || !l.enabled {
		return true
	}
	return l.allow(account, c, int64(now.Sub(l.epoch)))
}

// allow is Allow at t, in nanoseconds since l.epoch.
func (l *Limiter) allow(account string, c Category, t int64) bool {
	c = normalize(c)
	p := &l.params[c]
	if p.unlimited {
		return true
	}
	k := bucketKey{account: account, cat: c}
	if v, ok := l.buckets.Load(k); ok {
		if allowed, live := v.(*bucket).take(t, p); live {
			return allowed
		}
	}
	// No bucket, or one swept since Load: make one. Buckets of this
	// shard are created and swept only under s.mu.
	s := &l.shards[shardOf(account, c)]
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := l.buckets.Load(k)
	b, _ := v.(*bucket)
	if !ok {
		s.sweep(t, l)
		// Clone: account may share memory with a larger request buffer.
		b = &bucket{key: bucketKey{account: strings.Clone(account), cat: c}, idx: len(s.list)}
		b.tat.Store(t) // full
		s.list = append(s.list, b)
		l.buckets.Store(b.key, b)
	}
	allowed, _ := b.take(t, p) // live: only s.mu's holder kills buckets
	return allowed
}

// shardOf picks a shard with FNV-1a, which is deterministic (tests can
// reason about shards) and fast for 12-digit account ids. Account ids are
// assigned, not chosen by callers, and a skewed shard costs only
// contention, never a wrong decision.
func shardOf(account string, c Category) int {
	h := uint32(2166136261)
	for i := 0; i < len(account); i++ {
		h = (h ^ uint32(account[i])) * 16777619
	}
	h = (h ^ uint32(c)) * 16777619
	return int(h^h>>16) & (numShards - 1)
}

// take spends one request from b if the bucket allows it; live is false
// if b has been swept.
func (b *bucket) take(now int64, p *params) (allowed, live bool) {
	for {
		tat := b.tat.Load()
		if tat == dead {
			return false, false
		}
		next := max(tat, now) + p.interval
		if next-now > p.limit {
			return false, true
		}
		if b.tat.CompareAndSwap(tat, next) {
			return true, true
		}
	}
}

// sweep examines up to sweepBatch buckets from the cursor and deletes the
// idle ones; then, if the shard is full, it evicts the bucket at the
// cursor. It runs under s.mu.
func (s *shard) sweep(now int64, l *Limiter) {
	for range sweepBatch {
		if len(s.list) == 0 {
			return
		}
		if s.cursor >= len(s.list) {
			s.cursor = 0
		}
		b := s.list[s.cursor]
		// Idle: full for IdleTimeout. Kill it only if no request spent
		// from it since the check.
		if tat := b.tat.Load(); now-tat > int64(IdleTimeout) && b.tat.CompareAndSwap(tat, dead) {
			s.remove(b, l)
		} else {
			s.cursor++
		}
	}
	if len(s.list) >= s.max {
		if s.cursor >= len(s.list) {
			s.cursor = 0
		}
		b := s.list[s.cursor]
		b.tat.Store(dead)
		s.remove(b, l)
	}
}

// remove deletes the dead bucket b, moving the last bucket into its place.
func (s *shard) remove(b *bucket, l *Limiter) {
	last := s.list[len(s.list)-1]
	s.list[b.idx] = last
	last.idx = b.idx
	s.list[len(s.list)-1] = nil
	s.list = s.list[:len(s.list)-1]
	l.buckets.CompareAndDelete(b.key, b)
}

// Len returns the number of buckets held, for metrics and tests.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.list)
		s.mu.Unlock()
	}
	return n
}
