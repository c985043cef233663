package kms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/storage"
)

// Grants (https://docs.aws.amazon.com/kms/latest/developerguide/grants.html):
// a grant lets its grantee principal perform some operations with one key,
// optionally only under encryption context constraints. Grants only ever
// add permissions; they are checked after the key policy's explicit denies.
//
// Storage: g/<region>/<account>/<key-id>/<grant-id> -> grantRecord.

const (
	prefixGrant      = "g/"
	maxGrantsPerKey  = 10000
	maxGrantNameLen  = 256
	grantTokenPrefix = "okgt1."
)

// grantOperations are the operations a grant may allow.
var grantOperations = []string{"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
	"Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret"}

// contextOperations take an encryption context, so they can carry grant
// constraints.
var contextOperations = map[string]bool{"Decrypt": true, "Encrypt": true, "GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"ReEncryptFrom": true, "ReEncryptTo": true, "GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"CreateGrant": true, "RetireGrant": true, "DescribeKey": true}

// GrantConstraints restrict a grant to requests with a given encryption
// context.
type GrantConstraints struct {
	EncryptionContextSubset map[string]string `json:"subset,omitempty"`
	EncryptionContextEquals map[string]string `json:"equals,omitempty"`
}

func (gc *GrantConstraints) empty() bool {
	return gc == nil || len(gc.EncryptionContextSubset) == 0 && len(gc.EncryptionContextEquals) == 0
}

// satisfiedBy reports whether a request's encryption context meets the
// constraints.
func (gc *GrantConstraints) satisfiedBy(ec map[string]string) bool {
	if gc == nil {
		return true
	}
	if gc.EncryptionContextEquals != nil {
		if len(ec) != len(gc.EncryptionContextEquals) {
			return false
		}
		for k, v := range gc.EncryptionContextEquals {
			if got, ok := ec[k]; !ok || got != v {
				return false
			}
		}
	}
	for k, v := range gc.EncryptionContextSubset {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// noWiderThan reports whether constraints c are at least as strict as
// parent (a grant created through a grant may not widen it).
func (c *GrantConstraints) noWiderThan(parent *GrantConstraints) bool {
	if parent.empty() {
		return true
	}
	if c.empty() {
		return false
	}
	if parent.EncryptionContextEquals != nil {
		return mapsEqual(c.EncryptionContextEquals, parent.EncryptionContextEquals)
	}
	required := c.EncryptionContextSubset
	if c.EncryptionContextEquals != nil {
		required = c.EncryptionContextEquals
	}
	for k, v := range parent.EncryptionContextSubset {
		if got, ok := required[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if got, ok := b[k]; !ok || got != v {
			return false
		}
	}
	return true
}

type grantRecord struct {
	GrantID           string            `json:"id"`
	KeyARN            string            `json:"key"`
	Name              string            `json:"name,omitempty"`
	GranteePrincipal  string            `json:"grantee"`
	RetiringPrincipal string            `json:"retiring,omitempty"`
	IssuingAccount    string            `json:"issuer"`
	Operations        []string          `json:"operations"`
	Constraints       *GrantConstraints `json:"constraints,omitempty"`
	Created           time.Time         `json:"created"`
}

func grantPrefix(region, account, keyID string) string {
	return prefixGrant + region + "/" + account + "/" + keyID + "/"
}

// GrantEntry is a grant as ListGrants reports it.
type GrantEntry struct {
	KeyARN, GrantID, Name                               string
	CreationDate                                        time.Time
	GranteePrincipal, RetiringPrincipal, IssuingAccount string
	Operations                                          []string
	Constraints                                         *GrantConstraints
}

func (g *grantRecord) entry() GrantEntry {
	return GrantEntry{KeyARN: g.KeyARN, GrantID: g.GrantID, Name: g.Name, CreationDate: g.Created, GranteePrincipal: g.GranteePrincipal,
		RetiringPrincipal: g.RetiringPrincipal, IssuingAccount: g.IssuingAccount, Operations: g.Operations, Constraints: g.Constraints}
}

// CreateGrantInput is the input of CreateGrant.
type CreateGrantInput struct {
	KeyID             string
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Constraints       *GrantConstraints
	Name              string
	GrantTokens       []string
	DryRun            bool
}

// CreateGrant creates a grant on a key and returns its token and id. A
// grant with the same name and parameters on the same key is returned
// again rather than duplicated, as AWS does.
func (s *Service) CreateGrant(ctx context.Context, c Caller, in CreateGrantInput) (token, grantID string, err error) {
	if in.GranteePrincipal == "" {
		return "", "", required("granteePrincipal")
	}
	if err := validGrantPrincipal("granteePrincipal", in.GranteePrincipal); err != nil {
		return "", "", err
	}
	if in.RetiringPrincipal != "" {
		if err := validGrantPrincipal("retiringPrincipal", in.RetiringPrincipal); err != nil {
			return "", "", err
		}
	}
	if len(in.Operations) == 0 {
		return "", "", required("operations")
	}
	ops := slices.Clone(in.Operations)
	slices.Sort(ops)
	ops = slices.Compact(ops)
	for _, op := range ops {
		if !slices.Contains(grantOperations, op) {
			return "", "", validation("operations", op, "Member must satisfy enum value set: ["+strings.Join(grantOperations, ", ")+"]")
		}
		if !in.Constraints.empty() && !contextOperations[op] {
			return "", "", kmserr.New(kmserr.Validation, "Grant constraints are not supported for the %s operation.", op)
		}
	}
	if in.Constraints != nil && in.Constraints.EncryptionContextEquals != nil && in.Constraints.EncryptionContextSubset != nil {
		return "", "", kmserr.New(kmserr.Validation, "Specify only one of EncryptionContextEquals and EncryptionContextSubset.")
	}
	if in.Name != "" {
		if err := lengthBetween("name", in.Name, 1, maxGrantNameLen); err != nil {
			return "", "", err
		}
		for _, ch := range in.Name {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune(":/_-", ch)) {
				return "", "", validation("name", in.Name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
			}
		}
	}
	if err := s.checkGrantTokens(in.GrantTokens); err != nil {
		return "", "", err
	}
	constraintType := ""
	switch {
	case in.Constraints != nil && in.Constraints.EncryptionContextEquals != nil:
		constraintType = "EncryptionContextEquals"
	case in.Constraints != nil && in.Constraints.EncryptionContextSubset != nil:
		constraintType = "EncryptionContextSubset"
	}
	var parent *grantRecord
	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOnly, requires("kms:CreateGrant",
		withValue("kms:GrantOperations", ops...), withValue("kms:GranteePrincipal", in.GranteePrincipal),
		withValue("kms:RetiringPrincipal", in.RetiringPrincipal), withValue("kms:GrantIsForAWSResource", strconv.FormatBool(c.ViaService != "")),
		withValue("kms:GrantConstraintType", constraintType), func(r *authzRequest) { r.grantUsed = &parent }))
	if err != nil {
		return "", "", err
	}
	switch k.state() {
	case KeyStateEnabled:
	case KeyStateDisabled:
		return "", "", stateError(k)
	default:
		return "", "", invalidState(k)
	}
	if parent != nil {
		// Authorized by a grant with CreateGrant: the new grant may be no wider.
		for _, op := range ops {
			if !slices.Contains(parent.Operations, op) {
				return "", "", kmserr.New(kmserr.AccessDenied, "User: %s is not authorized to perform: kms:CreateGrant on resource: %s because grant %s does not allow %s", c.Principal.ARN, k.arn(), parent.GrantID, op)
			}
		}
		if !in.Constraints.noWiderThan(parent.Constraints) {
			return "", "", kmserr.New(kmserr.AccessDenied, "User: %s is not authorized to perform: kms:CreateGrant on resource: %s because the new grant's constraints are wider than grant %s", c.Principal.ARN, k.arn(), parent.GrantID)
		}
	}
	if in.DryRun {
		return "", "", dryRun()
	}
	rec := &grantRecord{KeyARN: k.arn(), Name: in.Name, GranteePrincipal: in.GranteePrincipal, RetiringPrincipal: in.RetiringPrincipal,
		IssuingAccount: "arn:aws:iam::" + c.Principal.Account + ":root", Operations: ops, Constraints: in.Constraints, Created: s.now().UTC()}
	if rec.Constraints.empty() {
		rec.Constraints = nil
	}
	err = s.update(ctx, func(w storage.Writer) error {
		prefix := grantPrefix(k.Region, k.Account, k.KeyID)
		n := 0
		var existing *grantRecord
		err := w.Scan(prefix, "", func(_ string, v []byte) (bool, error) {
			n++
			var g grantRecord
			if json.Unmarshal(v, &g) == nil && in.Name != "" && g.Name == in.Name && sameGrant(&g, rec) {
				existing = &g
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if existing != nil {
			rec.GrantID = existing.GrantID
			return nil
		}
		if n >= maxGrantsPerKey {
			return kmserr.New(kmserr.LimitExceeded, "%s has reached the limit of %d grants.", k.arn(), maxGrantsPerKey)
		}
		id := make([]byte, 32)
		if _, err := rand.Read(id); err != nil {
			return err
		}
		rec.GrantID = hex.EncodeToString(id)
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return w.Put(prefix+rec.GrantID, b)
	})
	if err != nil {
		return "", "", err
	}
	return grantToken(k, rec.GrantID), rec.GrantID, nil
}

func sameGrant(a, b *grantRecord) bool {
	return a.GranteePrincipal == b.GranteePrincipal && a.RetiringPrincipal == b.RetiringPrincipal && slices.Equal(a.Operations, b.Operations) &&
		mapsEqual(constraintMap(a.Constraints, true), constraintMap(b.Constraints, true)) && mapsEqual(constraintMap(a.Constraints, false), constraintMap(b.Constraints, false))
}

func constraintMap(c *GrantConstraints, equals bool) map[string]string {
	if c == nil {
		return nil
	}
	if equals {
		return c.EncryptionContextEquals
	}
	return c.EncryptionContextSubset
}

// validGrantPrincipal accepts an IAM ARN (account root, user, role,
// assumed-role session) or an AWS service principal.
func validGrantPrincipal(field, p string) error {
	if len(p) > 256 {
		return lengthBetween(field, p, 1, 256)
	}
	if strings.HasSuffix(p, ".amazonaws.com") && !strings.ContainsAny(p, ": ") {
		return nil
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") && arn.IsAccountID(parts[4]) && parts[5] != "" {
		return nil
	}
	return kmserr.New(kmserr.InvalidArn, "The %s %s is not a valid principal ARN.", field, p)
}

// grantToken encodes a grant's location. It is opaque to clients; it names
// the grant so RetireGrant can find it, and is accepted in GrantTokens.
func grantToken(k *keyRecord, grantID string) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	raw := k.Region + "\x00" + k.Account + "\x00" + k.KeyID + "\x00" + grantID + "\x00" + hex.EncodeToString(nonce)
	return grantTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

type tokenRef struct{ region, account, keyID, grantID string }

func parseGrantToken(t string) (tokenRef, bool) {
	rest, ok := strings.CutPrefix(t, grantTokenPrefix)
	if !ok || len(rest) > 1024 {
		return tokenRef{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return tokenRef{}, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 5 || !arn.IsAccountID(parts[1]) || !isKeyID(parts[2]) || len(parts[3]) != 64 || !isHex(parts[3]) {
		return tokenRef{}, false
	}
	return tokenRef{parts[0], parts[1], parts[2], parts[3]}, true
}

// checkGrantTokens validates the GrantTokens parameter. Grants here take
// effect immediately, so tokens are only checked for form.
func (s *Service) checkGrantTokens(tokens []string) error {
	return commonCryptoParams(nil, tokens)
}

// grantAllows reports whether a grant on the request's key allows the
// caller the action, and which grant.
func (s *Service) grantAllows(ctx context.Context, c Caller, r *authzRequest) (string, bool) {
	op, ok := strings.CutPrefix(r.action, "kms:")
	if !ok || !slices.Contains(grantOperations, op) {
		return "", false
	}
	var found *grantRecord
	_ = s.view(ctx, func(rd storage.Reader) error {
		return rd.Scan(grantPrefix(r.key.Region, r.key.Account, r.key.KeyID), "", func(_ string, v []byte) (bool, error) {
			var g grantRecord
			if json.Unmarshal(v, &g) != nil {
				return true, nil
			}
			// Constraints apply to the operations that take an encryption
			// context; a grant's CreateGrant, RetireGrant and DescribeKey are
			// not constrained (CreateGrant is instead checked to be no wider).
			constrained := op != "CreateGrant" && op != "RetireGrant" && op != "DescribeKey"
			if granteeMatches(g.GranteePrincipal, c.Principal) && slices.Contains(g.Operations, op) && (!constrained || g.Constraints.satisfiedBy(r.ec)) {
				found = &g
				return false, nil
			}
			return true, nil
		})
	})
	if found == nil {
		return "", false
	}
	if r.grantUsed != nil {
		*r.grantUsed = found
	}
	return found.GrantID, true
}

// granteeMatches reports whether a grant's principal names the caller:
// its ARN, its role (for a session of that role), or, for an account root
// grantee, the account's root user.
func granteeMatches(grantee string, p principal.Principal) bool {
	return grantee == p.ARN || p.RoleARN != "" && grantee == p.RoleARN
}

// ListGrants lists the grants of a key (optionally one grant, or one
// grantee's). limit is 0 for the default (50) or 1..100.
func (s *Service) ListGrants(ctx context.Context, c Caller, keyID, grantID, grantee string, limit int, marker string) (Page[GrantEntry], error) {
	limit, err := pageLimit(limit, 50, 100)
	if err != nil {
		return Page[GrantEntry]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[GrantEntry]{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:ListGrants"))
	if err != nil {
		return Page[GrantEntry]{}, err
	}
	prefix := grantPrefix(k.Region, k.Account, k.KeyID)
	var page Page[GrantEntry]
	err = s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefix, prefix+after, func(key string, v []byte) (bool, error) {
			var g grantRecord
			if err := json.Unmarshal(v, &g); err != nil {
				return false, err
			}
			if grantID != "" && g.GrantID != grantID || grantee != "" && g.GranteePrincipal != grantee {
				return true, nil
			}
			if len(page.Items) == limit {
				page.NextMarker = encodeMarker(page.Items[len(page.Items)-1].GrantID)
				return false, nil
			}
			page.Items = append(page.Items, g.entry())
			return true, nil
		})
	})
	return page, internalize(err)
}

// ListRetirableGrants lists, across the keys of the region, the grants
// whose retiring principal is the one given.
func (s *Service) ListRetirableGrants(ctx context.Context, c Caller, retiring string, limit int, marker string) (Page[GrantEntry], error) {
	if retiring == "" {
		return Page[GrantEntry]{}, required("retiringPrincipal")
	}
	limit, err := pageLimit(limit, 50, 100)
	if err != nil {
		return Page[GrantEntry]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[GrantEntry]{}, err
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:ListRetirableGrants", nil)); err != nil {
		return Page[GrantEntry]{}, err
	}
	prefix := prefixGrant + c.Region + "/"
	var page Page[GrantEntry]
	var last string
	err = s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefix, after, func(key string, v []byte) (bool, error) {
			var g grantRecord
			if err := json.Unmarshal(v, &g); err != nil {
				return false, err
			}
			if g.RetiringPrincipal != retiring {
				return true, nil
			}
			if len(page.Items) == limit {
				page.NextMarker = encodeMarker(last)
				return false, nil
			}
			page.Items = append(page.Items, g.entry())
			last = key
			return true, nil
		})
	})
	return page, internalize(err)
}

// RetireGrant deletes a grant, named by its token or by key and grant id.
// The retiring principal, the grantee (if the grant allows RetireGrant),
// or a principal the key policy allows kms:RetireGrant may retire it.
func (s *Service) RetireGrant(ctx context.Context, c Caller, token, keyID, grantID string, dryRunSet bool) error {
	var ref tokenRef
	switch {
	case token != "":
		var ok bool
		if ref, ok = parseGrantToken(token); !ok {
			return kmserr.New(kmserr.InvalidGrantToken, "The grant token is not valid.")
		}
		if ref.region != c.Region {
			return kmserr.New(kmserr.InvalidGrantToken, "The grant token is not valid in this region.")
		}
	case keyID != "" && grantID != "":
		k, err := s.resolveOnly(ctx, c, keyID)
		if err != nil {
			return err
		}
		ref = tokenRef{k.Region, k.Account, k.KeyID, grantID}
	default:
		return kmserr.New(kmserr.Validation, "Specify either GrantToken, or both KeyId and GrantId.")
	}
	g, err := s.getGrant(ctx, ref)
	if err != nil {
		return err
	}
	allowed := g.RetiringPrincipal != "" && granteeMatches(g.RetiringPrincipal, c.Principal) ||
		granteeMatches(g.GranteePrincipal, c.Principal) && slices.Contains(g.Operations, "RetireGrant")
	if !allowed {
		k, err := getKeyRecordCtx(ctx, s, ref.region, ref.account, ref.keyID)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, c, newAuthz(c, "kms:RetireGrant", k)); err != nil {
			return err
		}
	}
	if dryRunSet {
		return dryRun()
	}
	return s.deleteGrant(ctx, ref)
}

// RevokeGrant deletes a grant; it needs kms:RevokeGrant on the key.
func (s *Service) RevokeGrant(ctx context.Context, c Caller, keyID, grantID string, dryRunSet bool) error {
	if grantID == "" {
		return required("grantId")
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:RevokeGrant"))
	if err != nil {
		return err
	}
	ref := tokenRef{k.Region, k.Account, k.KeyID, grantID}
	if _, err := s.getGrant(ctx, ref); err != nil {
		return err
	}
	if dryRunSet {
		return dryRun()
	}
	return s.deleteGrant(ctx, ref)
}

func (s *Service) getGrant(ctx context.Context, ref tokenRef) (*grantRecord, error) {
	if len(ref.grantID) != 64 || !isHex(ref.grantID) {
		return nil, kmserr.New(kmserr.InvalidGrantID, "Grant id %s is not valid.", truncateID(ref.grantID))
	}
	b, err := storage.Get(ctx, s.store, grantPrefix(ref.region, ref.account, ref.keyID)+ref.grantID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, kmserr.New(kmserr.NotFound, "Grant id %s not found", ref.grantID)
	}
	if err != nil {
		return nil, internalize(err)
	}
	var g grantRecord
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, kmserr.Internal(err)
	}
	return &g, nil
}

func (s *Service) deleteGrant(ctx context.Context, ref tokenRef) error {
	return s.update(ctx, func(w storage.Writer) error {
		return w.Delete(grantPrefix(ref.region, ref.account, ref.keyID) + ref.grantID)
	})
}

// resolveOnly resolves a KeyId without authorizing (RetireGrant decides
// who may act from the grant itself).
func (s *Service) resolveOnly(ctx context.Context, c Caller, keyID string) (*keyRecord, error) {
	var k *keyRecord
	err := s.view(ctx, func(r storage.Reader) error {
		var err error
		k, err = resolveKey(r, c, "keyId", keyID, keyOnly)
		return err
	})
	return k, err
}

func getKeyRecordCtx(ctx context.Context, s *Service, region, account, keyID string) (*keyRecord, error) {
	var k *keyRecord
	err := s.view(ctx, func(r storage.Reader) error {
		var err error
		k, err = getKeyRecord(r, region, account, keyID)
		if errors.Is(err, storage.ErrNotFound) {
			return notFoundKey(arn.Key(region, account, keyID))
		}
		return err
	})
	return k, err
}

// deleteGrantsOf removes every grant of a key (when the key is deleted).
func deleteGrantsOf(w storage.Writer, region, account, keyID string) error {
	var doomed []string
	err := w.Scan(grantPrefix(region, account, keyID), "", func(key string, _ []byte) (bool, error) {
		doomed = append(doomed, key)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, key := range doomed {
		if err := w.Delete(key); err != nil {
			return err
		}
	}
	return nil
}

func truncateID(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
