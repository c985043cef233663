package kmserr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// TestAs checks how errors become client-visible: *Error as it is, an
// unreachable store as DependencyTimeoutException (retryable, as on AWS),
// anything else as KMSInternalException with no detail.
func TestAs(t *testing.T) {
	nf := kmserr.New(kmserr.NotFound, "Key 'x' does not exist")
	for _, tc := range []struct {
		err    error
		code   kmserr.Code
		server bool
	}{
		{nf, kmserr.NotFound, false},
		{fmt.Errorf("wrapped: %w", nf), kmserr.NotFound, false},
		{kmserr.Internal(fmt.Errorf("pgstore: connect: %w: dial tcp: refused", storage.ErrUnavailable)), kmserr.DependencyTimeout, true},
		{fmt.Errorf("view: %w", storage.ErrUnavailable), kmserr.DependencyTimeout, true},
		{kmserr.Internal(errors.New("disk on fire")), kmserr.KMSInternal, true},
		{errors.New("anything"), kmserr.KMSInternal, true},
	} {
		got := kmserr.As(tc.err)
		if got.Code != tc.code || got.Server != tc.server {
			t.Errorf("As(%v) = %s (server %v), want %s (server %v)", tc.err, got.Code, got.Server, tc.code, tc.server)
		}
		if tc.code != kmserr.NotFound && (got.Message == "" || got.Message == tc.err.Error()) {
			t.Errorf("As(%v) message %q: want a generic message, not the cause", tc.err, got.Message)
		}
	}
}
