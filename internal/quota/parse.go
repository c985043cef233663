package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse decodes a quota setting, as written in a config file or flag:
//
//	off                           throttling disabled
//	on                            enabled, AWS defaults
//	symmetric=10000,rsa=500,...   enabled, these categories overridden
//
// Each entry is category=rate: a category name as ParseCategory accepts it
// ("symmetric", "rsa", "ecc", "mldsa", "management", an operation name such
// as "CreateKey", or "GenerateDataKeyPair(RSA_2048)"), and a rate in
// requests per second between MinRate and MaxRate, or "unlimited".
// "management" sets every management operation that has no entry of its
// own, and operations without a quota of their own. Spaces around entries,
// names and rates are ignored; names ignore case.
//
// Parse is strict: an empty setting or entry, a missing "=", an unknown
// category, a bad or out-of-range rate, and a category given twice are
// errors that quote the entry and give its position. The returned Config
// has only Enabled and Overrides set.
func Parse(s string) (Config, error) {
	switch strings.TrimSpace(s) {
	case "":
		return Config{}, fmt.Errorf(`quota: empty setting (want "off", "on", or category=rate,...)`)
	case "off":
		return Config{}, nil
	case "on":
		return Config{Enabled: true}, nil
	}
	cfg := Config{Enabled: true, Overrides: map[Category]float64{}}
	seen := map[Category]int{}
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return Config{}, fmt.Errorf("quota: entry %d is empty", n)
		}
		name, value, ok := strings.Cut(entry, "=")
		if !ok {
			return Config{}, fmt.Errorf("quota: entry %d %q: want category=rate", n, entry)
		}
		c, err := ParseCategory(strings.TrimSpace(name))
		if err != nil {
			return Config{}, fmt.Errorf("quota: entry %d %q: %w", n, entry, err)
		}
		if prev, dup := seen[c]; dup {
			return Config{}, fmt.Errorf("quota: entry %d %q: category %s already set by entry %d", n, entry, c, prev)
		}
		seen[c] = n
		rate, err := parseRate(strings.TrimSpace(value))
		if err != nil {
			return Config{}, fmt.Errorf("quota: entry %d %q: %w", n, entry, err)
		}
		cfg.Overrides[c] = rate
	}
	return cfg, nil
}

func parseRate(s string) (float64, error) {
	if strings.EqualFold(s, "unlimited") {
		return math.Inf(1), nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(r, 0) {
		return 0, fmt.Errorf("rate %q is not a number of requests per second (or unlimited)", s)
	}
	if err := checkRate(r); err != nil {
		return 0, err
	}
	return r, nil
}
