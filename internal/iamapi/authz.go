package iamapi

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/policy"
	"github.com/openkms/openkms/internal/principal"
)

// Authorization of IAM, STS and admin calls:
//
//   - IAM actions act on the caller's own account only (every name is
//     resolved in it; there is no way to address another account). The
//     account root may do everything; an IAM user or role session needs an
//     identity-based policy that allows "iam:<Action>" on the resource (the
//     user, role or policy ARN) and no identity-based policy that denies it.
//   - sts:GetCallerIdentity needs no permission, as in AWS.
//   - sts:AssumeRole: see authorizeAssumeRole.
//   - The admin actions: the bootstrap account's root only.

// policyCacheSize bounds the parsed policies kept; when full the cache is
// emptied.
const policyCacheSize = 1024

// policyCache keeps parsed policy documents, keyed by kind and text.
type policyCache struct {
	mu sync.Mutex
	m  map[cacheKey]cachedPolicy
}

type cacheKey struct {
	trust bool
	doc   string
}

type cachedPolicy struct {
	p   *policy.Policy
	err error
}

func (c *policyCache) get(trust bool, doc string) (*policy.Policy, error) {
	k := cacheKey{trust, doc}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return e.p, e.err
	}
	if trust {
		e.p, e.err = identity.ParseTrustPolicy(doc)
	} else {
		e.p, e.err = policy.ParseIdentityPolicy(doc)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= policyCacheSize {
		c.m = make(map[cacheKey]cachedPolicy)
	}
	c.m[k] = e
	c.mu.Unlock()
	return e.p, e.err
}

// policyPrincipal is the caller as package policy sees it.
func policyPrincipal(p principal.Principal) policy.Principal {
	out := policy.Principal{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN, UserID: p.UserID}
	switch p.Type {
	case principal.TypeRoot:
		out.Type = policy.PrincipalRoot
	case principal.TypeIAMUser:
		out.Type = policy.PrincipalUser
	case principal.TypeAssumedRole:
		out.Type = policy.PrincipalAssumedRole
	}
	return out
}

// requestContext holds the global condition keys of a call.
func requestContext(c *call) policy.ContextMap {
	m := policy.ContextMap{}
	m.AddPrincipalKeys(policyPrincipal(c.principal))
	for k, v := range c.principal.Tags.Map() {
		m.Set("aws:PrincipalTag/"+k, v)
	}
	now := time.Now().UTC()
	m.Set("aws:CurrentTime", now.Format(time.RFC3339))
	m.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	m.Set("aws:SecureTransport", strconv.FormatBool(c.tls))
	m.Set("aws:RequestedRegion", c.region)
	if c.sourceIP != "" {
		m.Set("aws:SourceIp", c.sourceIP)
	}
	return m
}

// setRequestTags adds aws:RequestTag/<key> and aws:TagKeys.
func setRequestTags(m policy.ContextMap, tags []identity.Tag) {
	if len(tags) == 0 {
		return
	}
	keys := make([]string, len(tags))
	for i, t := range tags {
		m.Set("aws:RequestTag/"+t.Key, t.Value)
		keys[i] = t.Key
	}
	m.Set("aws:TagKeys", keys...)
}

// evaluateIdentity evaluates the caller's identity-based policies. A stored
// policy that no longer parses counts as a Deny (fail closed). A principal
// whose user or role is gone has no policies.
func (h *Handler) evaluateIdentity(c *call, action, resource string, cm policy.Context) (allow, deny bool, err error) {
	pols, err := h.ids.PoliciesFor(c.ctx, c.principal)
	if errors.Is(err, identity.ErrNoSuchEntity) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	req := &policy.Request{Principal: policyPrincipal(c.principal), Action: action, Resource: resource, Context: cm}
	for _, np := range pols {
		p, err := h.policies.get(false, np.Document)
		if err != nil {
			h.log.Warn("stored identity policy does not parse; treating it as a Deny",
				"principal", c.principal.ARN, "policy", np.Name, "error", err)
			deny = true
			continue
		}
		switch p.Evaluate(req).Decision {
		case policy.Deny:
			deny = true
		case policy.Allow:
			allow = true
		}
	}
	return allow, deny, nil
}

func notAuthorized(p principal.Principal, action, resource string, explicit bool) *apiError {
	if explicit {
		return accessDenied("User: %s is not authorized to perform: %s on resource: %s with an explicit deny", p.ARN, action, resource)
	}
	return accessDenied("User: %s is not authorized to perform: %s on resource: %s", p.ARN, action, resource)
}

// authorize decides an IAM action on a resource of the caller's own
// account. extra, if set, adds condition keys.
func (h *Handler) authorize(c *call, action, resource string, extra func(policy.ContextMap)) error {
	if c.principal.Type == principal.TypeRoot {
		return nil
	}
	cm := requestContext(c)
	if extra != nil {
		extra(cm)
	}
	allow, deny, err := h.evaluateIdentity(c, action, resource, cm)
	if err != nil {
		return err
	}
	if deny || !allow {
		return notAuthorized(c.principal, action, resource, deny)
	}
	return nil
}

// authorizeAssumeRole decides sts:AssumeRole (and sts:TagSession when the
// request carries session tags) as AWS does:
//
//   - the account root may not assume roles;
//   - an explicit Deny in the trust policy or in the caller's identity
//     policies denies;
//   - in the role's own account, a trust policy that names the caller (its
//     user ARN, its role ARN for a role session, its session ARN, or "*")
//     is enough; one that names only the account (arn:aws:iam::A:root or
//     A) needs the caller's identity policies to allow the action on the
//     role too;
//   - from another account both the trust policy and the caller's identity
//     policies must allow.
func (h *Handler) authorizeAssumeRole(c *call, role identity.Role, cm policy.ContextMap, tagSession bool) error {
	if c.principal.Type == principal.TypeRoot {
		return accessDenied("Roles may not be assumed by root accounts.")
	}
	trust, err := h.policies.get(true, role.TrustPolicy)
	if err != nil {
		h.log.Warn("stored trust policy does not parse; denying", "role", role.ARN, "error", err)
		return notAuthorized(c.principal, "sts:AssumeRole", role.ARN, false)
	}
	actions := []string{"sts:AssumeRole"}
	if tagSession {
		actions = append(actions, "sts:TagSession")
	}
	sameAccount := c.principal.Account == role.Account
	for _, action := range actions {
		res := trust.Evaluate(&policy.Request{Principal: policyPrincipal(c.principal), Action: action, Resource: role.ARN, Context: cm})
		if res.Denied() {
			return notAuthorized(c.principal, action, role.ARN, true)
		}
		trustNames := res.AllowedBy(policy.MatchExact, policy.MatchWildcard)
		trustAccount := res.AllowedBy(policy.MatchAccount)
		if !trustNames && !trustAccount {
			return notAuthorized(c.principal, action, role.ARN, false)
		}
		allow, deny, err := h.evaluateIdentity(c, action, role.ARN, cm)
		if err != nil {
			return err
		}
		if deny {
			return notAuthorized(c.principal, action, role.ARN, true)
		}
		if !(sameAccount && trustNames) && !allow {
			return notAuthorized(c.principal, action, role.ARN, false)
		}
	}
	return nil
}
