package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Limits. Documents over the size limits are rejected with a ParseError
// whose Reason is ReasonTooLarge; the structural limits bound the work that
// parsing and evaluating a hostile document can cause. A document within the
// size limits cannot reach the structural limits with any valid content, so
// they never reject a policy AWS would accept.
const (
	// MaxKeyPolicyBytes is the largest key policy, in bytes (AWS KMS:
	// "Up to 32 kilobytes (32,768 bytes)").
	MaxKeyPolicyBytes = 32768
	// MaxIdentityPolicyChars is the default limit of an identity policy,
	// counted in characters other than white space (IAM customer managed
	// policy quota). ParseOptions.MaxSize changes it, e.g. to 10,240 for an
	// inline role policy.
	MaxIdentityPolicyChars = 6144
	// MaxTrustPolicyChars is the default limit of a role trust policy,
	// counted in characters other than white space (IAM's default
	// ACLSizePerRole quota).
	MaxTrustPolicyChars = 2048
	// MaxDocumentBytes bounds any document, white space included, before
	// anything else is looked at: 131,072 characters (the API parameters'
	// maximum) of up to two UTF-8 bytes each (the policy character set ends
	// at U+00FF).
	MaxDocumentBytes = 2 * 131072
	// MaxStatements is the most statements one document may hold.
	MaxStatements = 1000
	// MaxDepth is the deepest JSON nesting accepted. A valid policy nests at
	// most 6 levels (document, Statement array, statement, Condition,
	// operator, value array).
	MaxDepth = 16
	// MaxJSONValues bounds the number of JSON values in a document.
	MaxJSONValues = 20000
)

// Versions of the policy language.
const (
	// Version20121017 is the current policy language version. Only with it
	// are policy variables substituted.
	Version20121017 = "2012-10-17"
	// Version20081017 is the old version; ${...} is literal text in it.
	Version20081017 = "2008-10-17"
)

// Kind is the type of policy document, which decides which elements are
// required or forbidden.
type Kind int

const (
	KindUnknown Kind = iota
	// KindKey is a KMS key policy (resource-based): Principal or
	// NotPrincipal is required.
	KindKey
	// KindIdentity is an IAM identity policy, attached to a user or role:
	// Principal and NotPrincipal are forbidden, Resource or NotResource is
	// required.
	KindIdentity
	// KindTrust is an IAM role trust policy (AssumeRolePolicyDocument), a
	// resource-based policy whose resource is implicitly the role: Principal
	// is required, NotPrincipal, Resource and NotResource are forbidden.
	KindTrust
)

// String returns "key" or "identity".
func (k Kind) String() string {
	switch k {
	case KindKey:
		return "key"
	case KindIdentity:
		return "identity"
	case KindTrust:
		return "trust"
	}
	return "unknown"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	switch s {
	case "key":
		return KindKey, nil
	case "identity":
		return KindIdentity, nil
	case "trust":
		return KindTrust, nil
	}
	return KindUnknown, fmt.Errorf("policy: unknown kind %q", s)
}

// Effect is a statement's effect.
type Effect int

const (
	EffectUnknown Effect = iota
	EffectAllow
	EffectDeny
)

// String returns "Allow" or "Deny", as written in a policy.
func (e Effect) String() string {
	switch e {
	case EffectAllow:
		return "Allow"
	case EffectDeny:
		return "Deny"
	}
	return "Unknown"
}

// ParseEffect is the inverse of Effect.String. Like IAM it is
// case-sensitive: "allow" is not an effect.
func ParseEffect(s string) (Effect, error) {
	switch s {
	case "Allow":
		return EffectAllow, nil
	case "Deny":
		return EffectDeny, nil
	}
	return EffectUnknown, fmt.Errorf("policy: unknown effect %q", s)
}

// Decision is the outcome of evaluating one policy.
type Decision int

const (
	// NotApplicable (the zero value) means no statement applied: the policy
	// neither allows nor denies (an implicit deny when it is the only
	// policy).
	NotApplicable Decision = iota
	// Allow means at least one Allow statement applied and no Deny did.
	Allow
	// Deny means at least one Deny statement applied.
	Deny
)

// String returns "NotApplicable", "Allow" or "Deny".
func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	case NotApplicable:
		return "NotApplicable"
	}
	return "Unknown"
}

// ParseDecision is the inverse of Decision.String.
func ParseDecision(s string) (Decision, error) {
	switch s {
	case "NotApplicable":
		return NotApplicable, nil
	case "Allow":
		return Allow, nil
	case "Deny":
		return Deny, nil
	}
	return NotApplicable, fmt.Errorf("policy: unknown decision %q", s)
}

// PrincipalMatch says how a statement's principal element matched the
// caller. A caller combining policies needs it: in a key policy, a statement
// that names an account (MatchAccount) does not grant anything by itself but
// delegates to that account's IAM policies.
type PrincipalMatch int

const (
	PrincipalMatchUnknown PrincipalMatch = iota
	// MatchAttached: the statement is in an identity policy, which has no
	// principal element and applies to the identity it is attached to.
	MatchAttached
	// MatchAccount: the statement names the caller's account
	// ("arn:aws:iam::111122223333:root" or "111122223333").
	MatchAccount
	// MatchWildcard: the statement's principal is "*" or {"AWS": "*"}.
	MatchWildcard
	// MatchExact: the statement names the caller specifically: its user,
	// its role (for a session of that role), its session, its federated
	// user, or its service principal.
	MatchExact
	// MatchNotPrincipal: the statement uses NotPrincipal and the caller is
	// not excluded by it (only with Effect Deny).
	MatchNotPrincipal
)

// String returns a short lower-case name.
func (m PrincipalMatch) String() string {
	switch m {
	case MatchAttached:
		return "attached"
	case MatchAccount:
		return "account"
	case MatchWildcard:
		return "wildcard"
	case MatchExact:
		return "exact"
	case MatchNotPrincipal:
		return "not-principal"
	}
	return "unknown"
}

// ParsePrincipalMatch is the inverse of PrincipalMatch.String.
func ParsePrincipalMatch(s string) (PrincipalMatch, error) {
	for m := MatchAttached; m <= MatchNotPrincipal; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return PrincipalMatchUnknown, fmt.Errorf("policy: unknown principal match %q", s)
}

// PrincipalType is the kind of caller.
type PrincipalType int

const (
	PrincipalTypeUnknown PrincipalType = iota
	// PrincipalRoot is an account's root user.
	PrincipalRoot
	// PrincipalUser is an IAM user.
	PrincipalUser
	// PrincipalAssumedRole is a role session (arn:aws:sts::A:assumed-role/R/S).
	PrincipalAssumedRole
	// PrincipalFederatedUser is an STS federated user
	// (arn:aws:sts::A:federated-user/N).
	PrincipalFederatedUser
	// PrincipalService is an AWS service principal (e.g. ec2.amazonaws.com).
	PrincipalService
)

// String returns the name of the type.
func (t PrincipalType) String() string {
	switch t {
	case PrincipalRoot:
		return "Root"
	case PrincipalUser:
		return "User"
	case PrincipalAssumedRole:
		return "AssumedRole"
	case PrincipalFederatedUser:
		return "FederatedUser"
	case PrincipalService:
		return "Service"
	}
	return "Unknown"
}

// ParsePrincipalType is the inverse of PrincipalType.String.
func ParsePrincipalType(s string) (PrincipalType, error) {
	for t := PrincipalRoot; t <= PrincipalService; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return PrincipalTypeUnknown, fmt.Errorf("policy: unknown principal type %q", s)
}

// Principal is the caller, as the policy element Principal sees it.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN: arn:aws:iam::A:root, arn:aws:iam::A:user/path/name,
	// arn:aws:sts::A:assumed-role/RoleName/SessionName or
	// arn:aws:sts::A:federated-user/Name. Empty for a service.
	ARN string
	// Account is the caller's 12-digit account. Empty for a service.
	Account string
	// RoleARN is, for an assumed-role session, the role's IAM ARN (with its
	// path). If empty, a role named in a policy matches the session by
	// account and role name.
	RoleARN string
	// Service is, for a service principal, its name (ec2.amazonaws.com).
	Service string
	// UserID is the caller's unique id (aws:userid); used only by
	// ContextMap.AddPrincipalKeys.
	UserID string
}

// Context holds a request's condition keys. Lookup is called with the key
// in lower case (condition key names are case-insensitive) and returns its
// values; a key with no values counts as absent. Lookup must be safe for
// concurrent use if the Request is evaluated concurrently.
type Context interface {
	Lookup(lowerKey string) (values []string, ok bool)
}

// ContextMap is a Context backed by a map. Keys should be stored in lower
// case (Set does that); a key stored in another case is still found, by a
// slower case-insensitive scan.
type ContextMap map[string][]string

var _ Context = ContextMap(nil)

// Set stores the values of a condition key. It replaces earlier values.
func (m ContextMap) Set(key string, values ...string) {
	m[lowerKey(key)] = values
}

// lowerKey returns key in lower case. The condition keys that every request
// sets come from a fixed table, so lower-casing them allocates nothing.
func lowerKey(key string) string {
	if l, ok := knownKeys[key]; ok {
		return l
	}
	return strings.ToLower(key)
}

// knownKeys maps the condition keys OpenKMS sets on requests to their
// lower-case form.
var knownKeys = func() map[string]string {
	names := []string{
		"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime", "aws:EpochTime",
		"aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalServiceName", "aws:PrincipalType",
		"aws:SecureTransport", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce", "aws:TagKeys",
		"aws:ViaAWSService", "aws:userid", "aws:username",
		"kms:BypassPolicyLockoutSafetyCheck", "kms:CallerAccount", "kms:CustomerMasterKeySpec",
		"kms:CustomerMasterKeyUsage", "kms:DataKeyPairSpec", "kms:EncryptionAlgorithm",
		"kms:EncryptionContextKeys", "kms:ExpirationModel", "kms:GrantConstraintType",
		"kms:GrantIsForAWSResource", "kms:GrantOperations", "kms:GranteePrincipal",
		"kms:KeyAgreementAlgorithm", "kms:KeyOrigin", "kms:KeySpec", "kms:KeyUsage", "kms:MacAlgorithm",
		"kms:MessageType", "kms:MultiRegion", "kms:ReEncryptOnSameKey", "kms:RequestAlias",
		"kms:ResourceAliases", "kms:RetiringPrincipal", "kms:RotationPeriodInDays",
		"kms:ScheduleKeyDeletionPendingWindowInDays", "kms:SigningAlgorithm", "kms:ValidTo",
		"kms:ViaService", "kms:WrappingAlgorithm", "kms:WrappingKeySpec",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// Lookup implements Context.
func (m ContextMap) Lookup(lowerKey string) ([]string, bool) {
	if v, ok := m[lowerKey]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, lowerKey) {
			return v, true
		}
	}
	return nil, false
}

// AddPrincipalKeys sets the global condition keys that describe the caller:
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:username
// (IAM users only), aws:userid (when UserID is set) and, for callers with an
// account, kms:CallerAccount. A service principal gets
// aws:PrincipalServiceName instead.
func (m ContextMap) AddPrincipalKeys(p Principal) {
	if p.Type == PrincipalService {
		if p.Service != "" {
			m.Set("aws:PrincipalServiceName", p.Service)
		}
		return
	}
	switch {
	case p.Type == PrincipalAssumedRole && p.RoleARN != "":
		// For a role session, aws:PrincipalArn is the role's ARN.
		m.Set("aws:PrincipalArn", p.RoleARN)
	case p.ARN != "":
		m.Set("aws:PrincipalArn", p.ARN)
	}
	if p.Account != "" {
		m.Set("aws:PrincipalAccount", p.Account)
		m.Set("kms:CallerAccount", p.Account)
	}
	switch p.Type {
	case PrincipalRoot:
		m.Set("aws:PrincipalType", "Account")
	case PrincipalUser:
		m.Set("aws:PrincipalType", "User")
		if i := strings.LastIndexByte(p.ARN, '/'); i >= 0 {
			m.Set("aws:username", p.ARN[i+1:])
		}
	case PrincipalAssumedRole:
		m.Set("aws:PrincipalType", "AssumedRole")
	case PrincipalFederatedUser:
		m.Set("aws:PrincipalType", "FederatedUser")
	}
	if p.UserID != "" {
		m.Set("aws:userid", p.UserID)
	}
}

// Request is what a policy is evaluated against.
type Request struct {
	Principal Principal
	// Action is "service:Operation", e.g. "kms:Encrypt"; matched
	// case-insensitively.
	Action string
	// Resource is the ARN of the resource (the key ARN), or "*" for an
	// operation that has no resource (CreateKey, ListKeys).
	Resource string
	// Context holds the condition keys; nil means none.
	Context Context
}

// Match is a statement that applied to a request.
type Match struct {
	// StatementIndex is the statement's 0-based position in the document.
	StatementIndex int
	// Sid is the statement's Sid, possibly empty.
	Sid       string
	Effect    Effect
	Principal PrincipalMatch
}

// Result is the outcome of evaluating one policy.
type Result struct {
	Decision Decision
	// Matches lists every statement that applied, Allow and Deny, in
	// document order.
	Matches []Match
}

// String describes the result in one line, for logs and humans.
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Decision.String())
	if len(r.Matches) == 0 {
		b.WriteString(": no statement applies")
		return b.String()
	}
	b.WriteString(": ")
	for i, m := range r.Matches {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "statement %d", m.StatementIndex)
		if m.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", m.Sid)
		}
		fmt.Fprintf(&b, " %s, principal %s", m.Effect, m.Principal)
	}
	return b.String()
}

// Denied reports whether a Deny statement applied.
func (r Result) Denied() bool { return r.Decision == Deny }

// AllowedBy reports whether no Deny applied and an Allow statement applied
// whose principal match is one of kinds.
func (r Result) AllowedBy(kinds ...PrincipalMatch) bool {
	if r.Decision != Allow {
		return false
	}
	for _, m := range r.Matches {
		if m.Effect != EffectAllow {
			continue
		}
		for _, k := range kinds {
			if m.Principal == k {
				return true
			}
		}
	}
	return false
}

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	kind    Kind
	version string
	id      string
	vars    bool // substitute policy variables (Version 2012-10-17)
	stmts   []statement
}

// Kind returns the kind the document was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Version returns the Version element ("" if absent).
func (p *Policy) Version() string { return p.version }

// ID returns the Id element ("" if absent).
func (p *Policy) ID() string { return p.id }

// NumStatements returns the number of statements.
func (p *Policy) NumStatements() int { return len(p.stmts) }

// AWSPrincipals returns, sorted and without duplicates, the AWS principals
// named in Principal and NotPrincipal elements, in ARN form (an account id
// becomes arn:aws:iam::ACCOUNT:root); "*" is not included. Callers use it to
// check that the principals exist, as AWS does when a key policy is set.
func (p *Policy) AWSPrincipals() []string {
	seen := map[string]bool{}
	var out []string
	for i := range p.stmts {
		for _, ap := range p.stmts[i].principal.aws {
			if ap.kind == prinAny || seen[ap.arn] {
				continue
			}
			seen[ap.arn] = true
			out = append(out, ap.arn)
		}
	}
	slices.Sort(out)
	return out
}

// ParseKeyPolicy parses and validates a KMS key policy.
func ParseKeyPolicy(doc string) (*Policy, error) { return Parse(doc, KindKey) }

// ParseIdentityPolicy parses and validates an IAM identity policy.
func ParseIdentityPolicy(doc string) (*Policy, error) { return Parse(doc, KindIdentity) }

// ParseTrustPolicy parses and validates an IAM role trust policy.
func ParseTrustPolicy(doc string) (*Policy, error) { return Parse(doc, KindTrust) }

// Parse parses and validates a policy document of the given kind with the
// default size limits. Every error is a *ParseError whose message suits
// AWS's MalformedPolicyDocumentException (or, for ReasonTooLarge, the
// service's quota error).
func Parse(doc string, kind Kind) (*Policy, error) {
	return ParseWithOptions(doc, kind, ParseOptions{})
}

// ParseOptions adjusts parsing.
type ParseOptions struct {
	// MaxSize, if positive, replaces the kind's default size limit: bytes
	// for a key policy (MaxKeyPolicyBytes), characters other than white
	// space for identity and trust policies (MaxIdentityPolicyChars,
	// MaxTrustPolicyChars). MaxDocumentBytes still applies.
	MaxSize int
}

// ParseWithOptions is Parse with options.
func ParseWithOptions(doc string, kind Kind, opts ParseOptions) (*Policy, error) {
	if kind != KindKey && kind != KindIdentity && kind != KindTrust {
		return nil, &ParseError{Reason: ReasonStructure, Statement: -1, Message: "unknown policy kind " + kind.String()}
	}
	if err := checkSize(doc, kind, opts.MaxSize); err != nil {
		return nil, err
	}
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, err
	}
	return build(root, kind)
}
