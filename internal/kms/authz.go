package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/policy"
	"github.com/openkms/openkms/internal/principal"
)

// Authorization as AWS KMS enforces it
// (https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html):
//
//   - An explicit Deny in the key policy or in the caller's IAM policies
//     wins over any Allow.
//   - The key policy is the root of access. A statement naming the caller
//     (or "*") allows by itself; a statement naming the caller's account
//     (arn:aws:iam::ACCOUNT:root) delegates to the account's IAM policies,
//     which must then allow too. The account root user has every IAM
//     permission implicitly.
//   - A cross-account call needs the key policy to allow the caller (or its
//     account) AND the caller's own IAM policy to allow it, and works only
//     for the operations AWS allows across accounts.
//   - Grants only ever add permissions.
//   - Operations without a key (CreateKey, ListKeys, ...) are authorized by
//     IAM policies alone.

// PolicySource returns the IAM identity policies (JSON documents) that
// apply to a principal: its inline and attached policies, or its role's for
// a role session. It returns no policies for an account root user.
type PolicySource interface {
	IdentityPolicies(ctx context.Context, p principal.Principal) ([]string, error)
}

// crossAccountActions are the operations AWS allows on another account's
// key.
var crossAccountActions = map[string]bool{
	"kms:CreateGrant": true, "kms:Decrypt": true, "kms:DescribeKey": true, "kms:DeriveSharedSecret": true,
	"kms:Encrypt": true, "kms:GenerateDataKey": true, "kms:GenerateDataKeyPair": true,
	"kms:GenerateDataKeyPairWithoutPlaintext": true, "kms:GenerateDataKeyWithoutPlaintext": true,
	"kms:GenerateMac": true, "kms:GetKeyRotationStatus": true, "kms:GetPublicKey": true, "kms:ListGrants": true,
	"kms:ReEncryptFrom": true, "kms:ReEncryptTo": true, "kms:RetireGrant": true, "kms:RevokeGrant": true,
	"kms:Sign": true, "kms:Verify": true, "kms:VerifyMac": true,
}

// policyCache keeps parsed policies by their text, so a policy is parsed
// once, not on every request. Looking one up hashes the text in place; it
// copies nothing.
type policyCache struct {
	mu sync.RWMutex
	m  map[policy.Kind]map[string]*policy.Policy
	n  int
}

const maxCachedPolicies = 8192

func (pc *policyCache) get(doc string, kind policy.Kind) (*policy.Policy, error) {
	pc.mu.RLock()
	p, ok := pc.m[kind][doc]
	pc.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	if pc.m == nil || pc.n >= maxCachedPolicies {
		pc.m, pc.n = make(map[policy.Kind]map[string]*policy.Policy), 0
	}
	if pc.m[kind] == nil {
		pc.m[kind] = make(map[string]*policy.Policy)
	}
	pc.m[kind][doc] = p
	pc.n++
	pc.mu.Unlock()
	return p, nil
}

// authzRequest is one authorization question.
type authzRequest struct {
	action string     // "kms:Encrypt"
	key    *keyRecord // nil for operations without a key
	caller Caller
	// ctx holds the request's own condition keys (encryption context,
	// algorithm, ...); the caller's and the key's are worked out on demand
	// by requestContext.
	ctx policy.ContextMap
	ec  map[string]string // the request's encryption context, for grant constraints
	// grantUsed, if set, receives the grant that allowed the request.
	grantUsed **grantRecord
	// evaluated is the context decide evaluated the policies against.
	evaluated *requestContext
}

// newAuthz starts an authorization request.
func newAuthz(c Caller, action string, k *keyRecord) *authzRequest {
	return &authzRequest{action: action, key: k, caller: c, ctx: make(policy.ContextMap, 4)}
}

// requestContext is the policy.Context of one authorization. The request's
// own keys come first; the caller's, the key's and the time's are worked
// out only when a policy condition asks for one, so a request whose
// policies have no conditions builds none of them.
type requestContext struct {
	r   *authzRequest
	now time.Time
	s   *Service
	ctx context.Context
	// principal holds the caller's principal and tag keys and the key's
	// resource tags, built on first use.
	principal policy.ContextMap
}

func (rc *requestContext) Lookup(lowerKey string) ([]string, bool) {
	if v, ok := rc.r.ctx.Lookup(lowerKey); ok {
		return v, true
	}
	c, k := &rc.r.caller, rc.r.key
	one := func(v string) ([]string, bool) { return []string{v}, true }
	switch lowerKey {
	case "aws:currenttime":
		return one(rc.now.Format(time.RFC3339))
	case "aws:epochtime":
		return one(strconv.FormatInt(rc.now.Unix(), 10))
	case "aws:sourceip":
		if c.SourceIP != "" {
			return one(c.SourceIP)
		}
		return nil, false
	case "aws:securetransport":
		return one(strconv.FormatBool(c.SecureTransport))
	case "aws:sourcevpc":
		if c.SourceVpc != "" {
			return one(c.SourceVpc)
		}
		return nil, false
	case "aws:sourcevpce":
		if c.SourceVpce != "" {
			return one(c.SourceVpce)
		}
		return nil, false
	case "aws:viaawsservice":
		return one(strconv.FormatBool(c.ViaService != ""))
	case "kms:viaservice":
		if c.ViaService != "" {
			return one(c.ViaService)
		}
		return nil, false
	case "aws:calledvia", "aws:calledviafirst", "aws:calledvialast":
		if c.ViaService != "" {
			return one(c.CalledVia)
		}
		return nil, false
	}
	if k != nil {
		switch lowerKey {
		case "kms:keyorigin":
			return one(k.Origin)
		case "kms:keyspec", "kms:customermasterkeyspec":
			return one(k.KeySpec)
		case "kms:keyusage", "kms:customermasterkeyusage":
			return one(k.KeyUsage)
		case "kms:multiregion":
			return one("false")
		case "kms:resourcealiases":
			aliases, err := rc.s.aliasesOf(rc.ctx, k)
			if err != nil || len(aliases) == 0 {
				return nil, false
			}
			return aliases, true
		case "kms:trailingdayswithoutkeyusage":
			if rc.s.usage == nil {
				return nil, false
			}
			days, err := rc.s.usage.TrailingDaysWithoutUse(rc.ctx, k.arn(), k.CreationDate, rc.s.now())
			if err != nil {
				return nil, false
			}
			return one(strconv.FormatInt(days, 10))
		}
	}
	if rc.principal == nil {
		rc.principal = policy.ContextMap{}
		rc.principal.AddPrincipalKeys(policyPrincipal(c.Principal))
		for t, v := range c.Principal.Tags.Map() {
			rc.principal.Set("aws:PrincipalTag/"+t, v)
		}
		if k != nil {
			for _, t := range k.Tags {
				rc.principal.Set("aws:ResourceTag/"+t.Key, t.Value)
			}
		}
	}
	return rc.principal.Lookup(lowerKey)
}

// withEncryptionContext adds kms:EncryptionContext:<key> and
// kms:EncryptionContextKeys.
func (r *authzRequest) withEncryptionContext(ec map[string]string) *authzRequest {
	r.ec = ec
	if len(ec) == 0 {
		return r
	}
	keys := make([]string, 0, len(ec))
	for k, v := range ec {
		r.ctx.Set("kms:EncryptionContext:"+k, v)
		keys = append(keys, k)
	}
	r.ctx.Set("kms:EncryptionContextKeys", keys...)
	return r
}

func (r *authzRequest) with(key string, values ...string) *authzRequest {
	if len(values) > 0 && values[0] != "" {
		r.ctx.Set(key, values...)
	}
	return r
}

func policyPrincipal(p principal.Principal) policy.Principal {
	pp := policy.Principal{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN, UserID: p.UserID}
	switch p.Type {
	case principal.TypeRoot:
		pp.Type = policy.PrincipalRoot
	case principal.TypeIAMUser:
		pp.Type = policy.PrincipalUser
	case principal.TypeAssumedRole:
		pp.Type = policy.PrincipalAssumedRole
	}
	return pp
}

// Decision explains an authorization outcome, for the audit record and for
// `openkms admin policy explain`.
type Decision struct {
	Allowed bool
	// Basis says what decided: "key policy statement 0 (Sid ...)",
	// "IAM policy", "grant <id>", or the reason for a denial.
	Basis string
}

// authorize answers r for caller c. It returns nil when allowed, and an
// AccessDeniedException in AWS's words otherwise.
func (s *Service) authorize(ctx context.Context, c Caller, r *authzRequest) error {
	d, err := s.decide(ctx, c, r)
	if err != nil {
		return err
	}
	noteDecision(ctx, d)
	if d.Allowed {
		return nil
	}
	resource := "*"
	if r.key != nil {
		resource = r.key.arn()
	}
	return kmserr.New(kmserr.AccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s",
		c.Principal.ARN, r.action, resource, d.Basis)
}

// decide evaluates the key policy, the caller's IAM policies and the
// key's grants.
func (s *Service) decide(ctx context.Context, c Caller, r *authzRequest) (Decision, error) {
	resource := "*"
	if r.key != nil {
		resource = r.key.arn()
	}
	r.evaluated = &requestContext{r: r, now: s.now().UTC(), s: s, ctx: ctx}
	req := &policy.Request{Principal: policyPrincipal(c.Principal), Action: r.action, Resource: resource, Context: r.evaluated}

	// The caller's IAM policies. The root user has all IAM permissions.
	iamAllow, iamDeny := c.Principal.Type == principal.TypeRoot, false
	if !iamAllow && s.policies != nil {
		docs, err := s.policies.IdentityPolicies(ctx, c.Principal)
		if err != nil {
			return Decision{}, internalize(err)
		}
		for _, doc := range docs {
			p, err := s.policyCache.get(doc, policy.KindIdentity)
			if err != nil {
				continue // stored policies were validated when put
			}
			res := p.Evaluate(req)
			if res.Denied() {
				iamDeny = true
			} else if res.Decision == policy.Allow {
				iamAllow = true
			}
		}
	}
	if iamDeny {
		return Decision{Basis: "with an explicit deny in an identity-based policy"}, nil
	}
	if r.key == nil {
		if iamAllow {
			return Decision{Allowed: true, Basis: "identity-based policy"}, nil
		}
		return Decision{Basis: "because no identity-based policy allows the " + r.action + " action"}, nil
	}

	cross := c.Principal.Account != r.key.Account
	if cross && !crossAccountActions[r.action] {
		return Decision{Basis: "because " + r.action + " is not allowed across accounts"}, nil
	}
	kp, err := s.policyCache.get(r.key.Policy, policy.KindKey)
	var kr policy.Result
	if err == nil {
		kr = kp.Evaluate(req)
	}
	if kr.Denied() {
		return Decision{Basis: "with an explicit deny in a resource-based policy"}, nil
	}
	switch {
	case !cross && kr.AllowedBy(policy.MatchExact, policy.MatchWildcard):
		return Decision{Allowed: true, Basis: "key policy " + firstAllow(kr, policy.MatchExact, policy.MatchWildcard)}, nil
	case !cross && kr.AllowedBy(policy.MatchAccount) && iamAllow:
		return Decision{Allowed: true, Basis: "key policy " + firstAllow(kr, policy.MatchAccount) + " delegating to identity-based policy"}, nil
	}
	if g, ok := s.grantAllows(ctx, c, r); ok {
		return Decision{Allowed: true, Basis: "grant " + g}, nil
	}
	switch {
	case cross:
		if !kr.AllowedBy(policy.MatchExact, policy.MatchWildcard, policy.MatchAccount) {
			return Decision{Basis: "because no resource-based policy allows the " + r.action + " action"}, nil
		}
		if !iamAllow {
			return Decision{Basis: "because no identity-based policy allows the " + r.action + " action"}, nil
		}
		return Decision{Allowed: true, Basis: "key policy " + firstAllow(kr) + " and identity-based policy"}, nil
	case kr.AllowedBy(policy.MatchExact, policy.MatchWildcard):
		return Decision{Allowed: true, Basis: "key policy " + firstAllow(kr)}, nil
	case kr.AllowedBy(policy.MatchAccount):
		if iamAllow {
			return Decision{Allowed: true, Basis: "key policy " + firstAllow(kr) + " delegating to identity-based policy"}, nil
		}
		return Decision{Basis: "because no identity-based policy allows the " + r.action + " action"}, nil
	}
	return Decision{Basis: "because no resource-based policy allows the " + r.action + " action"}, nil
}

// firstAllow names the first Allow statement that matched the caller in
// one of kinds (any kind when none is given).
func firstAllow(r policy.Result, kinds ...policy.PrincipalMatch) string {
	for _, m := range r.Matches {
		if m.Effect == policy.EffectAllow && (len(kinds) == 0 || slices.Contains(kinds, m.Principal)) {
			if m.Sid != "" {
				return fmt.Sprintf("statement %d (Sid %q)", m.StatementIndex, m.Sid)
			}
			return fmt.Sprintf("statement %d", m.StatementIndex)
		}
	}
	return "statement"
}

// lockoutCheck implements the policy lockout safety check of CreateKey and
// PutKeyPolicy: unless bypassed, the new policy must let the caller change
// the policy again.
func (s *Service) lockoutCheck(ctx context.Context, c Caller, k *keyRecord, doc string) error {
	probe := *k
	probe.Policy = doc
	d, err := s.decide(ctx, c, newAuthz(c, "kms:PutKeyPolicy", &probe))
	if err != nil {
		return err
	}
	if !d.Allowed {
		return kmserr.New(kmserr.MalformedPolicyDocument, "The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

// parseKeyPolicy validates a key policy document, returning AWS's
// MalformedPolicyDocumentException for a bad one.
func (s *Service) parseKeyPolicy(doc string) error {
	if _, err := s.policyCache.get(doc, policy.KindKey); err != nil {
		msg := err.Error()
		var pe *policy.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			msg = pe.Message
		}
		return kmserr.New(kmserr.MalformedPolicyDocument, "%s", strings.TrimPrefix(msg, "policy: "))
	}
	return nil
}

// Condition-key options for requires.

func withEC(ec map[string]string) func(*authzRequest) {
	return func(r *authzRequest) { r.withEncryptionContext(ec) }
}

func withValue(key string, values ...string) func(*authzRequest) {
	return func(r *authzRequest) { r.with(key, values...) }
}

func withRequestTags(tags []Tag) func(*authzRequest) {
	return func(r *authzRequest) {
		keys := make([]string, 0, len(tags))
		for _, t := range tags {
			r.ctx.Set("aws:RequestTag/"+t.Key, t.Value)
			keys = append(keys, t.Key)
		}
		if len(keys) > 0 {
			r.ctx.Set("aws:TagKeys", keys...)
		}
	}
}

func withValidTo(t time.Time) func(*authzRequest) {
	return func(r *authzRequest) {
		if !t.IsZero() {
			r.ctx.Set("kms:ValidTo", strconv.FormatInt(t.Unix(), 10))
		}
	}
}

func orRaw(messageType string) string {
	if messageType == "" {
		return "RAW"
	}
	return messageType
}

// decryptNeed is the permission Decrypt (kms:Decrypt) or ReEncrypt
// (kms:ReEncryptFrom) needs on the key that opens a ciphertext.
func decryptNeed(op string, ec map[string]string, algorithm string) need {
	action := "kms:Decrypt"
	if op == "ReEncrypt" {
		action = "kms:ReEncryptFrom"
	}
	return requires(action, withEC(ec), withValue("kms:EncryptionAlgorithm", orDefault(algorithm)))
}
