package metrics

import (
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxSeries bounds the label sets of one vector. Label values come from
// bounded sets (operation names, error codes), but a bug must not let a
// client grow the registry without bound: past the limit, new label sets
// are counted under one series whose labels are all overflowLabel.
const maxSeries = 4096

const overflowLabel = "_overflow_"

// Counter is a monotonically increasing count. It is safe for concurrent use.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down. It is safe for concurrent use.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the gauge to v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d (which may be negative).
func (g *Gauge) Add(d float64) {
	for {
		old := g.bits.Load()
		if g.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Value returns the gauge's value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Histogram counts durations in fixed buckets. Observe is lock-free and does
// not allocate. It is safe for concurrent use.
type Histogram struct {
	bounds []time.Duration // upper bounds, ascending; shared, read-only
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // nanoseconds
}

func newHistogram(bounds []time.Duration) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records one duration. Negative durations count as zero.
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(uint64(d))
}

// Snapshot returns the histogram's cumulative buckets. The buckets are read
// one by one, so a snapshot taken during observations may be off by those
// observations; Count is always the +Inf bucket.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Buckets: make([]Bucket, len(h.counts))}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		var ub time.Duration
		if i < len(h.bounds) {
			ub = h.bounds[i]
		}
		s.Buckets[i] = Bucket{UpperBound: ub, Count: cum}
	}
	s.Count = cum
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// HistogramSnapshot is a cumulative histogram, as Prometheus exports one.
type HistogramSnapshot struct {
	// Buckets are cumulative and ascending; the last one's UpperBound is 0,
	// meaning +Inf, and its Count equals Count.
	Buckets []Bucket
	Count   uint64
	Sum     time.Duration
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound time.Duration // 0 means +Inf (last bucket only)
	Count      uint64
}

// vec is a set of metrics of one kind keyed by label values. Lookups are
// lock-free: the map is copy-on-write behind an atomic pointer, and a
// lookup of a known label set does not allocate. Adding a label set copies
// the map under a mutex; label sets are few and long-lived, so that is rare.
type vec[T any] struct {
	labels []string
	make   func() *T
	mu     sync.Mutex // serializes writers of m
	m      atomic.Pointer[map[string]*series[T]]
}

type series[T any] struct {
	values []string
	v      *T
}

func newVec[T any](labels []string, mk func() *T) *vec[T] {
	v := &vec[T]{labels: labels, make: mk}
	m := map[string]*series[T]{}
	v.m.Store(&m)
	return v
}

// with returns the metric for the label values, creating it on first use.
// It panics if the number of values is not the number of labels (a
// programmer error).
func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic("metrics: wrong number of label values")
	}
	var buf [160]byte
	key := buf[:0]
	for i, s := range values {
		if i > 0 {
			key = append(key, 0xff) // never in valid UTF-8
		}
		key = append(key, s...)
	}
	if s, ok := (*v.m.Load())[string(key)]; ok {
		return s.v
	}
	return v.add(string(key), values)
}

func (v *vec[T]) add(key string, values []string) *T {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := *v.m.Load()
	if s, ok := old[key]; ok {
		return s.v
	}
	if len(old) >= maxSeries {
		values = make([]string, len(v.labels))
		for i := range values {
			values[i] = overflowLabel
		}
		key = strings.Join(values, "\xff")
		if s, ok := old[key]; ok {
			return s.v
		}
	}
	m := make(map[string]*series[T], len(old)+1)
	for k, s := range old {
		m[k] = s
	}
	s := &series[T]{values: slices.Clone(values), v: v.make()}
	m[key] = s
	v.m.Store(&m)
	return s.v
}

// sorted returns the series ordered by label values, for a stable
// exposition.
func (v *vec[T]) sorted() []*series[T] {
	m := *v.m.Load()
	out := make([]*series[T], 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *series[T]) int { return slices.Compare(a.values, b.values) })
	return out
}

// cowMap is a copy-on-write map from string to V with lock-free reads: for
// small, rarely growing key sets read on every request.
type cowMap[V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]V]
}

// get returns the value for key, creating it with mk on first use. The
// number of keys is capped at maxSeries; past it, every new key shares one
// value made by mk(overflowLabel).
func (c *cowMap[V]) get(key string, mk func(string) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[key]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]V
	if m := c.m.Load(); m != nil {
		old = *m
	}
	if v, ok := old[key]; ok {
		return v
	}
	if len(old) >= maxSeries {
		key = overflowLabel
		if v, ok := old[key]; ok {
			return v
		}
	}
	m := make(map[string]V, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	v := mk(key)
	m[key] = v
	c.m.Store(&m)
	return v
}

// CounterVec is a counter with labels. It is safe for concurrent use.
type CounterVec struct {
	name, help string
	v          *vec[Counter]
}

// With returns the counter for the label values (in the order the labels
// were declared). Keep the result to skip the lookup on a hot path.
func (c *CounterVec) With(values ...string) *Counter { return c.v.with(values) }

func (c *CounterVec) collect(_ context.Context, w *writer) {
	w.header(c.name, c.help, "counter")
	for _, s := range c.v.sorted() {
		w.sample(c.name, "", c.v.labels, s.values, "", "", float64(s.v.Value()))
	}
}

// HistogramVec is a histogram with labels. It is safe for concurrent use.
type HistogramVec struct {
	name, help string
	v          *vec[Histogram]
}

// With returns the histogram for the label values.
func (h *HistogramVec) With(values ...string) *Histogram { return h.v.with(values) }

func (h *HistogramVec) collect(_ context.Context, w *writer) {
	w.header(h.name, h.help, "histogram")
	for _, s := range h.v.sorted() {
		w.histogram(h.name, h.v.labels, s.values, s.v.Snapshot())
	}
}

// gaugeVal is an unlabelled gauge or counter.
type gaugeVal struct {
	name, help, typ string
	g               *Gauge
}

func (g *gaugeVal) collect(_ context.Context, w *writer) {
	w.header(g.name, g.help, g.typ)
	w.sample(g.name, "", nil, nil, "", "", g.g.Value())
}

// funcMetric is a gauge or counter whose value a callback computes at
// scrape time.
type funcMetric struct {
	name, help, typ string
	fn              func() float64
}

func (f *funcMetric) collect(_ context.Context, w *writer) {
	w.header(f.name, f.help, f.typ)
	w.sample(f.name, "", nil, nil, "", "", f.fn())
}

// collector writes one or more metric families.
type collector interface {
	collect(ctx context.Context, w *writer)
}

// set is an ordered collection of metric families: the generic part of a
// Registry. Families are written in registration order.
type set struct {
	mu    sync.Mutex
	names map[string]bool
	cs    []collector
}

func (s *set) register(c collector, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names = map[string]bool{}
	}
	for _, n := range names {
		if !validName(n) || s.names[n] {
			panic("metrics: invalid or duplicate metric name " + n)
		}
		s.names[n] = true
	}
	s.cs = append(s.cs, c)
}

func (s *set) counterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, v: newVec(checkLabels(labels), func() *Counter { return new(Counter) })}
	s.register(c, name)
	return c
}

func (s *set) histogramVec(name, help string, bounds []time.Duration, labels ...string) *HistogramVec {
	if !slices.IsSorted(bounds) || len(bounds) == 0 || bounds[0] <= 0 {
		panic("metrics: histogram bounds must be positive and ascending")
	}
	bounds = slices.Clone(bounds)
	h := &HistogramVec{name: name, help: help, v: newVec(checkLabels(labels), func() *Histogram { return newHistogram(bounds) })}
	s.register(h, name)
	return h
}

func (s *set) gauge(name, help string) *Gauge {
	g := &gaugeVal{name: name, help: help, typ: "gauge", g: new(Gauge)}
	s.register(g, name)
	return g.g
}

func (s *set) gaugeFunc(name, help string, fn func() float64) {
	s.register(&funcMetric{name: name, help: help, typ: "gauge", fn: fn}, name)
}

func (s *set) counterFunc(name, help string, fn func() float64) {
	s.register(&funcMetric{name: name, help: help, typ: "counter", fn: fn}, name)
}

func (s *set) collectors() []collector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cs)
}

func checkLabels(labels []string) []string {
	for _, l := range labels {
		if !validName(l) || strings.HasPrefix(l, "__") || l == "le" {
			panic("metrics: invalid label name " + l)
		}
	}
	return slices.Clone(labels)
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
