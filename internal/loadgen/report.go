package loadgen

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of the measured phase. Latencies are in
// milliseconds and cover successful requests; errors are counted apart.
type Report struct {
	Endpoint       string       `json:"endpoint"`
	Region         string       `json:"region"`
	Signed         bool         `json:"signed"`
	Mix            string       `json:"mix"`
	PayloadBytes   int          `json:"payload_bytes"`
	Mode           string       `json:"mode"` // "closed-loop" or "open-loop"
	Concurrency    int          `json:"concurrency"`
	TargetRate     float64      `json:"target_rate,omitempty"`
	Warmup         float64      `json:"warmup_seconds"`
	Elapsed        float64      `json:"elapsed_seconds"`
	Requests       uint64       `json:"requests"` // completed, successful or not
	Errors         uint64       `json:"errors"`
	OpsPerSecond   float64      `json:"ops_per_second"` // successful requests per second
	Latency        Latency      `json:"latency_ms"`
	MaxScheduleLag float64      `json:"max_schedule_lag_ms,omitempty"` // open loop: latest send after its due time
	Operations     []OpReport   `json:"operations"`
	ErrorsByType   []ErrorCount `json:"errors_by_type"`
	Keys           []KeyReport  `json:"keys"`
	CleanupError   string       `json:"cleanup_error,omitempty"`
}

// Latency summarizes a histogram, in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// OpReport is one operation's share of the run.
type OpReport struct {
	Operation string  `json:"operation"`
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	Latency   Latency `json:"latency_ms"`
}

// ErrorCount counts one kind of error: the AWS exception ("__type"),
// InvalidResponse (a 200 that failed the check), or a transport failure
// (ConnectionRefused, ConnectionReset, Timeout, TransportError).
type ErrorCount struct {
	Type    string `json:"type"`
	Count   uint64 `json:"count"`
	Example string `json:"example"` // the first such error's message
}

func summarize(h *Histogram) Latency {
	return Latency{
		Mean: ms(h.Mean()), Min: ms(h.Min()),
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
}

func sortErrors(e []ErrorCount) {
	slices.SortFunc(e, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Type, b.Type))
	})
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	signing := "SigV4, region " + r.Region
	if !r.Signed {
		signing = "unsigned"
	}
	fmt.Fprintf(tw, "endpoint\t%s (%s)\n", r.Endpoint, signing)
	fmt.Fprintf(tw, "mix\t%s, payload %d B\n", r.Mix, r.PayloadBytes)
	if r.Mode == "open-loop" {
		fmt.Fprintf(tw, "load\topen loop at %g/s, at most %d in flight, %.1fs after %.0fs warm-up; latest send %.2fms after due\n",
			r.TargetRate, r.Concurrency, r.Elapsed, r.Warmup, r.MaxScheduleLag)
	} else {
		fmt.Fprintf(tw, "load\tclosed loop, %d workers, %.1fs after %.0fs warm-up\n", r.Concurrency, r.Elapsed, r.Warmup)
	}
	const shownKeys = 3
	for i, k := range r.Keys {
		if i == shownKeys {
			fmt.Fprintf(tw, "key\t... and %d more (--json lists them all)\n", len(r.Keys)-shownKeys)
			break
		}
		how := "given"
		if k.Created {
			how = "created"
		}
		fmt.Fprintf(tw, "key\t%s %s %s (%s)\n", k.KeyID, k.KeySpec, k.KeyUsage, how)
	}
	fmt.Fprintf(tw, "requests\t%d, %d errors (%.2f%%)\n", r.Requests, r.Errors, pct(r.Errors, r.Requests))
	fmt.Fprintf(tw, "throughput\t%.0f ops/s\n", r.OpsPerSecond)
	l := r.Latency
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
		f3(l.P50), f3(l.P90), f3(l.P99), f3(l.P999), f3(l.Max), f3(l.Mean))
	if len(r.Operations) > 1 {
		for _, o := range r.Operations {
			fmt.Fprintf(tw, "  %s\t%d requests, %d errors, p50 %s  p99 %s\n", o.Operation, o.Requests, o.Errors, f3(o.Latency.P50), f3(o.Latency.P99))
		}
	}
	for _, e := range r.ErrorsByType {
		fmt.Fprintf(tw, "error\t%s × %d, e.g. %s\n", e.Type, e.Count, e.Example)
	}
	if r.CleanupError != "" {
		fmt.Fprintf(tw, "cleanup\t%s\n", r.CleanupError)
	}
	return tw.Flush()
}

// f3 formats milliseconds with about three significant figures.
func f3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	case v >= 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

func pct(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*10000) / 100
}
