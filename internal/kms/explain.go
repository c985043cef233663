package kms

import (
	"context"
	"strconv"
	"strings"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/policy"
	"github.com/openkms/openkms/internal/principal"
)

// Explanation is the answer to "may this principal do this to this key,
// and why": the decision and, for each policy that took part, which
// statements applied and why the others did not. It backs `openkms admin
// policy explain`.
type Explanation struct {
	Allowed          bool
	Basis            string
	KeyPolicy        string   // the key policy's statement-by-statement explanation
	IdentityPolicies []string // one explanation per IAM policy
	Grant            string   // the grant that allowed, if any
}

// String renders the explanation for a terminal.
func (e Explanation) String() string {
	var b strings.Builder
	if e.Allowed {
		b.WriteString("ALLOWED: " + e.Basis + "\n")
	} else {
		b.WriteString("DENIED: " + strings.TrimPrefix(e.Basis, "because ") + "\n")
	}
	if e.Grant != "" {
		b.WriteString("grant: " + e.Grant + "\n")
	}
	if e.KeyPolicy != "" {
		b.WriteString("\nkey policy:\n" + e.KeyPolicy)
	}
	for i, p := range e.IdentityPolicies {
		b.WriteString("\nidentity policy " + strconv.Itoa(i+1) + ":\n" + p)
	}
	return b.String()
}

// Explain evaluates action by p on the key keyARN (empty for an operation
// without a key) with the given condition keys, without performing it.
func (s *Service) Explain(ctx context.Context, p principal.Principal, region, action, keyARN string, conditions map[string][]string) (Explanation, error) {
	c := Caller{Principal: p, Region: region}
	var k *keyRecord
	if keyARN != "" {
		a, err := arn.Parse(keyARN)
		if err != nil || !a.IsKey() {
			return Explanation{}, kmserr.New(kmserr.Validation, "%q is not a key ARN.", keyARN)
		}
		c.Region = a.Region
		if k, err = getKeyRecordCtx(ctx, s, a.Region, a.Account, a.KeyID()); err != nil {
			return Explanation{}, err
		}
	}
	r := newAuthz(c, action, k)
	for key, values := range conditions {
		r.ctx.Set(key, values...)
		if ek, ok := strings.CutPrefix(strings.ToLower(key), "kms:encryptioncontext:"); ok && len(values) > 0 {
			if r.ec == nil {
				r.ec = map[string]string{}
			}
			r.ec[ek] = values[0]
		}
	}
	d, err := s.decide(ctx, c, r)
	if err != nil {
		return Explanation{}, kmserr.New(kmserr.NotFound, "The principal %s cannot be evaluated: %v", p.ARN, err)
	}
	e := Explanation{Allowed: d.Allowed, Basis: d.Basis}
	if g, ok := strings.CutPrefix(d.Basis, "grant "); ok {
		e.Grant = g
	}
	resource := "*"
	if k != nil {
		resource = k.arn()
	}
	req := &policy.Request{Principal: policyPrincipal(p), Action: action, Resource: resource, Context: r.evaluated}
	if k != nil {
		if kp, err := s.policyCache.get(k.Policy, policy.KindKey); err == nil {
			e.KeyPolicy = kp.Explain(req).String()
		}
	}
	if s.policies != nil && p.Type != principal.TypeRoot {
		docs, err := s.policies.IdentityPolicies(ctx, p)
		if err != nil {
			return Explanation{}, internalize(err)
		}
		for _, doc := range docs {
			if ip, err := s.policyCache.get(doc, policy.KindIdentity); err == nil {
				e.IdentityPolicies = append(e.IdentityPolicies, ip.Explain(req).String())
			}
		}
	}
	return e, nil
}
