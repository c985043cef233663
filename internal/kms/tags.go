package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

const (
	maxTagKeyLen   = 128
	maxTagValueLen = 256
	maxTagsPerKey  = 50
)

// validateTags checks the Tags of CreateKey and TagResource in AWS's order:
// duplicates, count, then each tag's key length, value length and the
// reserved "aws:" prefix.
func validateTags(tags []Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if seen[t.Key] {
			return kmserr.New(kmserr.TagException, "Duplicate tag keys")
		}
		seen[t.Key] = true
	}
	if len(tags) > maxTagsPerKey {
		return kmserr.New(kmserr.TagException, "Too many tags")
	}
	for i, t := range tags {
		field := fmt.Sprintf("tags.%d.member.", i+1)
		if err := lengthBetween(field+"tagKey", t.Key, 1, maxTagKeyLen); err != nil {
			return err
		}
		if err := lengthBetween(field+"tagValue", t.Value, 0, maxTagValueLen); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return kmserr.New(kmserr.TagException, "Tags beginning with aws: are reserved")
		}
	}
	return nil
}

// mergeTags sets tags on existing ones, keeping the order in which keys
// were first added (AWS lists tags in that order).
func mergeTags(existing, set []Tag) []Tag {
	out := append([]Tag(nil), existing...)
	for _, t := range set {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
				break
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// TagResource adds or replaces tags on a key.
func (s *Service) TagResource(ctx context.Context, c Caller, keyID string, tags []Tag) error {
	if len(tags) == 0 {
		return required("tags")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:TagResource", withRequestTags(tags)), func(_ storage.Writer, k *keyRecord) error {
		if k.state() == KeyStatePendingDeletion {
			return invalidState(k)
		}
		merged := mergeTags(k.Tags, tags)
		if len(merged) > maxTagsPerKey {
			return kmserr.New(kmserr.TagException, "Too many tags")
		}
		k.Tags = merged
		return nil
	})
	return err
}

// UntagResource removes tags from a key; removing absent tags is not an
// error.
func (s *Service) UntagResource(ctx context.Context, c Caller, keyID string, tagKeys []string) error {
	if len(tagKeys) == 0 {
		return required("tagKeys")
	}
	for _, key := range tagKeys {
		if err := lengthBetween("tagKeys", key, 1, maxTagKeyLen); err != nil {
			return err
		}
	}
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:UntagResource", withValue("aws:TagKeys", tagKeys...)), func(_ storage.Writer, k *keyRecord) error {
		if k.state() == KeyStatePendingDeletion {
			return invalidState(k)
		}
		drop := make(map[string]bool, len(tagKeys))
		for _, key := range tagKeys {
			drop[key] = true
		}
		kept := k.Tags[:0]
		for _, t := range k.Tags {
			if !drop[t.Key] {
				kept = append(kept, t)
			}
		}
		k.Tags = kept
		return nil
	})
	return err
}

// ListResourceTags lists a key's tags in the order they were added. limit is 0 for the
// default (50) or 1..50.
func (s *Service) ListResourceTags(ctx context.Context, c Caller, keyID string, limit int, marker string) (Page[Tag], error) {
	limit, err := pageLimit(limit, 50, 50)
	if err != nil {
		return Page[Tag]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[Tag]{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:ListResourceTags"))
	if err != nil {
		return Page[Tag]{}, err
	}
	var page Page[Tag]
	tags := k.Tags
	if marker != "" {
		i := slices.IndexFunc(tags, func(t Tag) bool { return t.Key == after })
		if i < 0 {
			return Page[Tag]{}, kmserr.New(kmserr.InvalidMarker, "Invalid marker")
		}
		tags = tags[i+1:]
	}
	for _, t := range tags {
		if len(page.Items) == limit {
			page.NextMarker = encodeMarker(page.Items[len(page.Items)-1].Key)
			break
		}
		page.Items = append(page.Items, t)
	}
	return page, nil
}
