package metrics

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentType is the media type of the text exposition format, version
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// writer builds the text exposition of a scrape.
type writer struct{ b []byte }

// header writes the HELP and TYPE lines of a family.
func (w *writer) header(name, help, typ string) {
	w.b = append(w.b, "# HELP "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = appendEscaped(w.b, help, false)
	w.b = append(w.b, "\n# TYPE "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, typ...)
	w.b = append(w.b, '\n')
}

// sample writes one line: name+suffix{labels,extra="extraValue"} value.
func (w *writer) sample(name, suffix string, labels, values []string, extra, extraValue string, v float64) {
	w.b = append(w.b, name...)
	w.b = append(w.b, suffix...)
	if len(labels) > 0 || extra != "" {
		w.b = append(w.b, '{')
		for i, l := range labels {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendLabel(w.b, l, values[i])
		}
		if extra != "" {
			if len(labels) > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendLabel(w.b, extra, extraValue)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
	w.b = appendFloat(w.b, v)
	w.b = append(w.b, '\n')
}

// histogram writes the _bucket, _sum and _count lines of one histogram, in
// seconds.
func (w *writer) histogram(name string, labels, values []string, h HistogramSnapshot) {
	for _, b := range h.Buckets {
		le := "+Inf"
		if b.UpperBound > 0 {
			le = string(appendFloat(nil, b.UpperBound.Seconds()))
		}
		w.sample(name, "_bucket", labels, values, "le", le, float64(b.Count))
	}
	w.sample(name, "_sum", labels, values, "", "", h.Sum.Seconds())
	w.sample(name, "_count", labels, values, "", "", float64(h.Count))
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes \ and newline (and " in label values), and replaces
// invalid UTF-8.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
