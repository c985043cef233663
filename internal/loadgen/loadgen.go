// Package loadgen is a load generator for any AWS-KMS-compatible endpoint
// (OpenKMS, AWS KMS, an emulator). It sends AWS JSON 1.1 requests
// (https://docs.aws.amazon.com/kms/latest/APIReference/), signed with
// SigV4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
// by the AWS SDK's signer on raw net/http requests, over a keep-alive
// connection pool, and reports throughput, latency percentiles and errors
// by AWS exception.
//
// Two load models:
//
//   - closed loop (Rate == 0): Concurrency workers, each sending its next
//     request when the previous answer arrives. Measures capacity.
//   - open loop (Rate > 0): requests are due at fixed intervals whatever the
//     server does, and latency is measured from the due time, so queueing
//     is not hidden (coordinated omission). Concurrency caps the requests
//     in flight.
//
// Request bodies are built, and their SigV4 payload hashes computed, before
// the run; the hot loop signs, sends, reads and checks. Every response is
// checked (HTTP 200, and e.g. Decrypt returns the plaintext that was
// encrypted), so a broken server cannot look fast.
//
// loadgen imports no other OpenKMS package: it is a client of the public
// API only.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run. Zero values of the optional fields take the
// defaults noted.
type Config struct {
	Endpoint string // http(s)://host:port of the KMS endpoint (required)
	Region   string // SigV4 region (default us-east-1)

	AccessKeyID, SecretAccessKey, SessionToken string
	Unsigned                                   bool // send no SigV4 headers (bare-handler baseline)

	Mix     Mix      // operations and weights (required)
	KeySpec string   // spec of the keys created at setup ("": SYMMETRIC_DEFAULT and defaults per usage)
	KeyIDs  []string // use these keys instead of creating some; requests go round robin over those that fit
	Keys    int      // keys of each kind to create at setup, requests going round robin over them (default 1)
	// KeyPolicy is the key policy of the keys the run creates ("": the
	// server's default). It must let the caller use and schedule the
	// deletion of the keys.
	KeyPolicy string
	Payload   int // plaintext/message bytes; NumberOfBytes for generate-data-key, generate-random (default 256)
	Pool      int // prepared ciphertexts, signatures, MACs for decrypt, re-encrypt, verify, verify-mac (default 100)

	Concurrency int           // closed loop: workers; open loop: max requests in flight (default 16)
	Rate        float64       // open loop: requests per second; 0: closed loop
	Duration    time.Duration // measured phase; 0 with Count set: until Count requests
	Count       uint64        // stop after this many requests (0: until Duration)
	Warmup      time.Duration // unmeasured load before the measured phase
	Timeout     time.Duration // per request (default 30s)

	KeepKeys bool      // do not schedule the deletion of the keys created at setup
	Progress io.Writer // one line per second while running; nil: none
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Payload == 0 {
		c.Payload = 256
	}
	if c.Pool == 0 {
		c.Pool = 100
	}
	if c.Keys == 0 {
		c.Keys = 1
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
}

// Validate reports the first setting that cannot work (after the
// defaults), naming it as the CLI flag.
func (c Config) Validate() error {
	c.setDefaults()
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "":
		return errors.New("--endpoint-url: no endpoint")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--endpoint-url: %q is not http(s)://HOST[:PORT]", c.Endpoint)
	case !c.Unsigned && (c.AccessKeyID == "" || c.SecretAccessKey == ""):
		return errors.New("no credentials: set --access-key-id and --secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	case len(c.Mix) == 0:
		return errors.New("--mix: no operations")
	case c.Concurrency < 1 || c.Concurrency > 10_000:
		return fmt.Errorf("--concurrency: %d is not between 1 and 10000", c.Concurrency)
	case c.Rate < 0:
		return fmt.Errorf("--rate: %v is negative", c.Rate)
	case c.Duration < 0 || c.Warmup < 0:
		return errors.New("--duration and --warmup must not be negative")
	case c.Duration == 0 && c.Count == 0:
		return errors.New("set --duration or --count")
	case c.Pool < 1 || c.Pool > 100_000:
		return fmt.Errorf("--pool: %d is not between 1 and 100000", c.Pool)
	case c.Keys < 1 || c.Keys > 100_000:
		return fmt.Errorf("--keys: %d is not between 1 and 100000", c.Keys)
	case c.Payload < 1:
		return fmt.Errorf("--payload: %d bytes; at least 1", c.Payload)
	}
	limit := 4096 // Plaintext, Message
	if c.Mix.Has(OpGenerateDataKey, OpGenerateRandom) {
		limit = 1024 // NumberOfBytes
	}
	if c.Payload > limit {
		return fmt.Errorf("--payload: %d bytes is over the %d the mix's operations accept", c.Payload, limit)
	}
	return nil
}

// Run sets up (keys, prepared requests), runs the warm-up and the measured
// phase, schedules the deletion of the keys it created, and returns the
// report of the measured phase. Cancelling ctx ends the run early; the
// report then covers the requests completed so far. Run returns an error
// if the configuration is invalid or setup fails; request errors during
// the run are counted in the report, not returned.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, c: newClient(&cfg), seq: cfg.Mix.schedule(), errs: map[string]*ErrorCount{}}
	defer r.c.close()
	if err := r.resolveKeys(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("setup: %w", err), r.cleanupAfter())
	}
	if err := r.prepare(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("setup: %w", err), r.cleanupAfter())
	}
	if cfg.Warmup > 0 && ctx.Err() == nil {
		r.phase(ctx, "warm-up", cfg.Warmup, 0)
	}
	elapsed := r.phase(ctx, "run", cfg.Duration, cfg.Count)
	rep := r.report(elapsed)
	if err := r.cleanupAfter(); err != nil {
		rep.CleanupError = err.Error()
	}
	return rep, nil
}

// cleanupAfter runs cleanup with its own deadline, so it happens after an
// interrupted run too.
func (r *runner) cleanupAfter() error {
	if r.cfg.KeepKeys || len(r.created) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.cleanup(ctx)
}

// runner is one run's state. The counters are guarded by mu; a lock per
// request is far below the cost of a request.
type runner struct {
	cfg     Config
	c       *client
	seq     []Operation        // request i sends seq[i % len(seq)]
	keys    [numClasses][]*key // the keys of each class, used round robin
	created []*key
	plans   [numOps]*plan

	mu      sync.Mutex
	hist    [numOps]*Histogram // successful requests' latency, per operation
	errCnt  [numOps]uint64
	errs    map[string]*ErrorCount
	maxLag  time.Duration // open loop: latest send after the due time
	secHist Histogram     // latency during the current second (progress)
	secErrs uint64
}

// phase runs load for d (or count requests) and returns the time from its
// start until the last request completed. It resets the counters first.
func (r *runner) phase(ctx context.Context, name string, d time.Duration, count uint64) time.Duration {
	r.mu.Lock()
	for i := range r.hist {
		r.hist[i] = nil
		if r.plans[i] != nil {
			r.hist[i] = new(Histogram)
		}
	}
	r.errCnt = [numOps]uint64{}
	clear(r.errs)
	r.maxLag = 0
	r.secHist.Reset()
	r.secErrs = 0
	r.mu.Unlock()

	limit := count
	if r.cfg.Rate > 0 && d > 0 {
		if n := arrivalsWithin(d, r.cfg.Rate); limit == 0 || n < limit {
			limit = n
		}
	}
	start := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = start.Add(d)
	}
	stopProgress := r.progress(name, start)
	var next atomic.Uint64
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			var buf bytes.Buffer
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if limit > 0 && i >= limit {
					return
				}
				due := time.Now()
				if r.cfg.Rate > 0 {
					due = start.Add(arrival(i, r.cfg.Rate))
					if wait := time.Until(due); wait > 0 {
						timer.Reset(wait)
						select {
						case <-ctx.Done():
							return
						case <-timer.C:
						}
					}
				} else if !deadline.IsZero() && !due.Before(deadline) {
					return
				}
				r.one(ctx, i, due, &buf)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return elapsed
}

// one sends request i, due at due, and records its outcome.
func (r *runner) one(ctx context.Context, i uint64, due time.Time, buf *bytes.Buffer) {
	p := r.plans[r.seq[i%uint64(len(r.seq))]]
	req := p.pick()
	sent := time.Now()
	body, err := r.c.do(ctx, p.target, req, buf)
	if err == nil {
		err = p.check(body, req)
	}
	latency := time.Since(due)
	if err != nil && ctx.Err() != nil {
		return // interrupted, not failed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maxLag = max(r.maxLag, sent.Sub(due))
	if err != nil {
		r.errCnt[p.op]++
		r.secErrs++
		t := errorType(err)
		if e := r.errs[t]; e != nil {
			e.Count++
		} else {
			r.errs[t] = &ErrorCount{Type: t, Count: 1, Example: err.Error()}
		}
		return
	}
	r.hist[p.op].Record(latency)
	r.secHist.Record(latency)
}

// progress prints a line each second until the returned func is called.
func (r *runner) progress(name string, start time.Time) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				r.mu.Lock()
				ok, errs, p99 := r.secHist.Count(), r.secErrs, r.secHist.Quantile(0.99)
				r.secHist.Reset()
				r.secErrs = 0
				r.mu.Unlock()
				rate := float64(ok) / now.Sub(last).Seconds()
				last = now
				fmt.Fprintf(r.cfg.Progress, "%-7s %3.0fs  %8.0f ops/s  %5d errors  p99 %s\n",
					name, now.Sub(start).Seconds(), rate, errs, f3(ms(p99)))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (r *runner) report(elapsed time.Duration) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cfg
	rep := &Report{
		Endpoint:     c.Endpoint,
		Region:       c.Region,
		Signed:       !c.Unsigned,
		Mix:          c.Mix.String(),
		PayloadBytes: c.Payload,
		Concurrency:  c.Concurrency,
		TargetRate:   c.Rate,
		Warmup:       c.Warmup.Seconds(),
		Elapsed:      elapsed.Seconds(),
		Operations:   []OpReport{},
		ErrorsByType: []ErrorCount{},
	}
	rep.Mode = "closed-loop"
	if c.Rate > 0 {
		rep.Mode = "open-loop"
		rep.MaxScheduleLag = ms(r.maxLag)
	}
	seen := map[*key]bool{}
	for _, ks := range r.keys {
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				rep.Keys = append(rep.Keys, KeyReport{KeyID: k.id, KeySpec: k.meta.KeySpec, KeyUsage: k.meta.KeyUsage, Created: k.created})
			}
		}
	}
	var all Histogram
	for op := OpUnknown + 1; op < numOps; op++ {
		h := r.hist[op]
		if h == nil {
			continue
		}
		all.Merge(h)
		rep.Operations = append(rep.Operations, OpReport{
			Operation: op.String(), Requests: h.Count() + r.errCnt[op], Errors: r.errCnt[op], Latency: summarize(h),
		})
		rep.Requests += h.Count() + r.errCnt[op]
		rep.Errors += r.errCnt[op]
	}
	rep.Latency = summarize(&all)
	if elapsed > 0 {
		rep.OpsPerSecond = float64(all.Count()) / elapsed.Seconds()
	}
	for _, e := range r.errs {
		rep.ErrorsByType = append(rep.ErrorsByType, *e)
	}
	sortErrors(rep.ErrorsByType)
	return rep
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
