package kms

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/openkms/openkms/internal/kmserr"
)

// pageLimit applies a listing's default and bounds to a Limit parameter.
func pageLimit(limit, def, max int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if err := intBetween("limit", limit, 1, max); err != nil {
		return 0, err
	}
	return limit, nil
}

// Markers are opaque to clients: the last item's sort key, base64url
// encoded. A marker only moves a scan forward inside the caller's own
// prefix, so a forged marker cannot reach other data.
func encodeMarker(after string) string { return base64.RawURLEncoding.EncodeToString([]byte(after)) }

func decodeMarker(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	if len(m) > 1024 {
		return "", kmserr.New(kmserr.InvalidMarker, "Invalid marker")
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", kmserr.New(kmserr.InvalidMarker, "Invalid marker")
	}
	return string(b), nil
}

// newUUID returns a random (version 4) UUID in lowercase text form.
func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := readFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func readFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }
