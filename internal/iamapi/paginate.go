package iamapi

import (
	"encoding/base64"
	"sort"
	"strings"
)

const (
	defaultMaxItems = 100
	maxMaxItems     = 1000
)

// paginate returns the page of items that follows the request's Marker,
// at most MaxItems long (100 by default, 1..1000). items must be sorted by
// key, and keys must be unique. The marker is opaque to clients: the key of
// the last item returned, base64url.
func paginate[T any](ps params, items []T, key func(T) string) ([]T, page, error) {
	max, set, err := ps.integer("MaxItems", "maxItems")
	if err != nil {
		return nil, page{}, err
	}
	if !set {
		max = defaultMaxItems
	}
	if max < 1 || max > maxMaxItems {
		return nil, page{}, validationError("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and %d", max, maxMaxItems)
	}
	start := 0
	if ps.has("Marker") {
		k, err := base64.RawURLEncoding.DecodeString(ps.get("Marker"))
		if err != nil || len(k) == 0 {
			return nil, page{}, validationError("Invalid Marker.")
		}
		after := string(k)
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	end := min(start+max, len(items))
	out := items[start:end]
	if end < len(items) {
		return out, page{IsTruncated: true, Marker: base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))}, nil
	}
	return out, page{}, nil
}

// sortBy sorts items by key.
func sortBy[T any](items []T, key func(T) string) {
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
}

func lower(s string) string { return strings.ToLower(s) }
