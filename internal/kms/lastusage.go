package kms

import (
	"context"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// KeyLastUsage is the last successful cryptographic operation with a key.
type KeyLastUsage struct {
	Operation         string
	Timestamp         time.Time
	CloudTrailEventID string
	KMSRequestID      string
}

// GetKeyLastUsageOutput is the result of GetKeyLastUsage.
type GetKeyLastUsageOutput struct {
	KeyID             string
	KeyLastUsage      *KeyLastUsage // nil if unused since tracking began
	TrackingStartDate time.Time
	KeyCreationDate   time.Time
}

// GetKeyLastUsage reports the last successful cryptographic use of a key.
func (s *Service) GetKeyLastUsage(ctx context.Context, c Caller, keyID string) (GetKeyLastUsageOutput, error) {
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:GetKeyLastUsage"))
	if err != nil {
		return GetKeyLastUsageOutput{}, err
	}
	out := GetKeyLastUsageOutput{KeyID: k.KeyID, KeyCreationDate: k.CreationDate, TrackingStartDate: k.CreationDate}
	if s.usage == nil {
		return out, nil
	}
	out.TrackingStartDate = s.usage.TrackingStart(k.CreationDate)
	u, ok, err := s.usage.Last(ctx, k.arn())
	if err != nil {
		return GetKeyLastUsageOutput{}, kmserr.Internal(err)
	}
	if ok {
		out.KeyLastUsage = &KeyLastUsage{Operation: u.Operation, Timestamp: u.Timestamp, CloudTrailEventID: u.EventID, KMSRequestID: u.RequestID}
	}
	return out, nil
}

// CountKeysByState counts the keys in each state, across accounts and
// regions (for the openkms_keys metric).
func (s *Service) CountKeysByState(ctx context.Context) (map[string]int, error) {
	counts := make(map[string]int)
	err := s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefixKey, "", func(_ string, v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			// The state is a short field; avoid decoding the whole record.
			if i := strings.Index(string(v), `"state":"`); i >= 0 {
				rest := string(v[i+len(`"state":"`):])
				if j := strings.IndexByte(rest, '"'); j > 0 {
					counts[rest[:j]]++
				}
			}
			return true, nil
		})
	})
	return counts, err
}
