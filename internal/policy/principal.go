package policy

import (
	"strings"
)

// Principal element values. See
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// Wildcards are not allowed inside an ARN ("You cannot use a wildcard to
// match part of a principal name or ARN"); "*" alone means everyone.

type prinKind uint8

const (
	prinAny     prinKind = iota + 1 // "*"
	prinAccount                     // arn:P:iam::A:root or A
	prinUser                        // arn:P:iam::A:user/path/name
	prinRole                        // arn:P:iam::A:role/path/name
	prinSession                     // arn:P:sts::A:assumed-role/role/session
	prinFedUser                     // arn:P:sts::A:federated-user/name
)

type awsPrincipal struct {
	kind      prinKind
	arn       string // canonical ARN (account ids become root ARNs)
	partition string
	account   string
	roleName  string // prinRole: last path segment; prinSession: role name
	session   string // prinSession
}

// principalSet is a statement's Principal or NotPrincipal element.
type principalSet struct {
	present bool // the element exists
	not     bool // NotPrincipal
	all     bool // "Principal": "*" (or a "*" under AWS/Service/...)
	aws     []awsPrincipal
	service []string // service principals, lower case
	// federated and canonical are validated but never match an OpenKMS
	// caller.
	federated []string
	canonical []string
}

func (ps *principalSet) empty() bool {
	return !ps.all && len(ps.aws) == 0 && len(ps.service) == 0 && len(ps.federated) == 0 && len(ps.canonical) == 0
}

func parsePrincipalElement(n *jnode, not bool, stmt int) (principalSet, error) {
	ps := principalSet{present: true, not: not}
	bad := func(format string, args ...any) (principalSet, error) {
		return principalSet{}, perr(ReasonPrincipal, stmt, msgInvalidPrincipals, format, args...)
	}
	if n.kind == jString {
		if n.str != "*" {
			return bad("(%q: a string principal must be \"*\")", n.str)
		}
		ps.all = true
		return ps, nil
	}
	if n.kind != jObject || len(n.keys) == 0 {
		return bad("(the principal must be \"*\" or a non-empty object)")
	}
	for i, k := range n.keys {
		vals, err := stringList(n.vals[i])
		if err != nil {
			return bad("(%s: %v)", k, err)
		}
		for _, v := range vals {
			switch k {
			case "AWS":
				ap, ok := parseAWSPrincipal(v)
				if !ok {
					return bad("(%q)", v)
				}
				ps.aws = append(ps.aws, ap)
			case "Service":
				if !validServiceName(v) {
					return bad("(%q)", v)
				}
				ps.service = append(ps.service, strings.ToLower(v))
			case "Federated":
				if !validFederated(v) {
					return bad("(%q)", v)
				}
				ps.federated = append(ps.federated, v)
			case "CanonicalUser":
				if !validCanonical(v) {
					return bad("(%q)", v)
				}
				ps.canonical = append(ps.canonical, v)
			default:
				return bad("(unknown principal type %q)", k)
			}
		}
	}
	return ps, nil
}

// stringList accepts a string or a non-empty array of strings.
func stringList(n *jnode) ([]string, error) {
	switch n.kind {
	case jString:
		return []string{n.str}, nil
	case jArray:
		if len(n.elems) == 0 {
			return nil, errEmptyList
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			if e.kind != jString {
				return nil, errNotString
			}
			out[i] = e.str
		}
		return out, nil
	}
	return nil, errNotString
}

type listError string

func (e listError) Error() string { return string(e) }

const (
	errEmptyList listError = "the list is empty"
	errNotString listError = "values must be strings"
)

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validPartition(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// IAM names: alphanumerics and +=,.@_- ; paths are /-separated.
func validIAMNameChars(s string, slash bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("+=,.@_-", c) >= 0:
		case c == '/' && slash:
		default:
			return false
		}
	}
	return true
}

// splitPrincipalARN splits arn:P:SVC::ACCOUNT:RESOURCE.
func splitPrincipalARN(s string) (partition, service, account, resource string, ok bool) {
	rest, found := strings.CutPrefix(s, "arn:")
	if !found {
		return
	}
	partition, rest, found = strings.Cut(rest, ":")
	if !found {
		return
	}
	service, rest, found = strings.Cut(rest, ":")
	if !found {
		return
	}
	var region string
	region, rest, found = strings.Cut(rest, ":")
	if !found || region != "" {
		return
	}
	account, resource, found = strings.Cut(rest, ":")
	if !found {
		return
	}
	return partition, service, account, resource, true
}

// parseAWSPrincipal validates an "AWS" principal value.
func parseAWSPrincipal(v string) (awsPrincipal, bool) {
	if v == "*" {
		return awsPrincipal{kind: prinAny, arn: "*"}, true
	}
	if isAccountID(v) {
		return awsPrincipal{kind: prinAccount, arn: "arn:aws:iam::" + v + ":root", partition: "aws", account: v}, true
	}
	if strings.ContainsAny(v, "*?") {
		return awsPrincipal{}, false
	}
	part, svc, acct, res, ok := splitPrincipalARN(v)
	if !ok || !validPartition(part) || !isAccountID(acct) {
		return awsPrincipal{}, false
	}
	ap := awsPrincipal{arn: v, partition: part, account: acct}
	switch svc {
	case "iam":
		if res == "root" {
			ap.kind = prinAccount
			return ap, true
		}
		typ, path, found := strings.Cut(res, "/")
		if !found || !validIAMNameChars(path, true) || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
			return awsPrincipal{}, false
		}
		switch typ {
		case "user":
			ap.kind = prinUser
		case "role":
			ap.kind = prinRole
			ap.roleName = path[strings.LastIndexByte(path, '/')+1:]
		default:
			return awsPrincipal{}, false
		}
		return ap, true
	case "sts":
		typ, rest, found := strings.Cut(res, "/")
		if !found {
			return awsPrincipal{}, false
		}
		switch typ {
		case "assumed-role":
			role, session, found := strings.Cut(rest, "/")
			if !found || !validIAMNameChars(role, false) || !validIAMNameChars(session, false) {
				return awsPrincipal{}, false
			}
			ap.kind, ap.roleName, ap.session = prinSession, role, session
			return ap, true
		case "federated-user":
			if !validIAMNameChars(rest, false) {
				return awsPrincipal{}, false
			}
			ap.kind = prinFedUser
			return ap, true
		}
	}
	return awsPrincipal{}, false
}

// validServiceName accepts a DNS-like service principal such as
// "ec2.amazonaws.com".
func validServiceName(v string) bool {
	if len(v) < 3 || len(v) > 253 || !strings.Contains(v, ".") || v[0] == '.' || v[len(v)-1] == '.' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validFederated accepts an identity provider: a SAML/OIDC provider ARN or
// a web identity provider's DNS name.
func validFederated(v string) bool {
	if strings.ContainsAny(v, "*?") {
		return false
	}
	if part, svc, acct, res, ok := splitPrincipalARN(v); ok {
		return validPartition(part) && svc == "iam" && isAccountID(acct) &&
			(strings.HasPrefix(res, "saml-provider/") && len(res) > len("saml-provider/") ||
				strings.HasPrefix(res, "oidc-provider/") && len(res) > len("oidc-provider/"))
	}
	return validServiceName(v)
}

func validCanonical(v string) bool {
	if len(v) != 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// caller is a Request's principal, split up once per evaluation.
type caller struct {
	typ       PrincipalType
	arn       string
	partition string // "" when unknown
	account   string
	roleARN   string
	roleName  string // sessions
	session   string // sessions
	service   string
}

func newCaller(p *Principal) caller {
	c := caller{typ: p.Type, arn: p.ARN, account: p.Account, roleARN: p.RoleARN, service: p.Service}
	if part, _, acct, res, ok := splitPrincipalARN(p.ARN); ok {
		c.partition = part
		if c.account == "" {
			c.account = acct
		}
		if p.Type == PrincipalAssumedRole {
			if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
				c.roleName, c.session, _ = strings.Cut(rest, "/")
			}
		}
	}
	return c
}

func (c *caller) hasAccount() bool {
	switch c.typ {
	case PrincipalRoot, PrincipalUser, PrincipalAssumedRole, PrincipalFederatedUser:
		return c.account != ""
	}
	return false
}

func (c *caller) samePartition(p string) bool {
	return c.partition == "" || c.partition == p
}

// matchAWS returns how one AWS principal value matches the caller, or
// PrincipalMatchUnknown.
func (c *caller) matchAWS(ap *awsPrincipal) PrincipalMatch {
	switch ap.kind {
	case prinAny:
		if c.typ != PrincipalService {
			return MatchWildcard
		}
	case prinAccount:
		if c.hasAccount() && c.account == ap.account && c.samePartition(ap.partition) {
			return MatchAccount
		}
	case prinUser:
		if c.typ == PrincipalUser && strings.EqualFold(c.arn, ap.arn) {
			return MatchExact
		}
	case prinRole:
		if c.typ != PrincipalAssumedRole {
			break
		}
		if c.roleARN != "" {
			if strings.EqualFold(c.roleARN, ap.arn) {
				return MatchExact
			}
		} else if c.account == ap.account && c.samePartition(ap.partition) && strings.EqualFold(c.roleName, ap.roleName) {
			return MatchExact
		}
	case prinSession:
		if c.typ == PrincipalAssumedRole && c.account == ap.account && c.samePartition(ap.partition) &&
			strings.EqualFold(c.roleName, ap.roleName) && c.session == ap.session {
			return MatchExact
		}
	case prinFedUser:
		if c.typ == PrincipalFederatedUser && c.arn == ap.arn {
			return MatchExact
		}
	}
	return PrincipalMatchUnknown
}

// strength orders matches when several values of one element match: a
// specific grant beats a wildcard, which beats a delegation to the account.
func strength(m PrincipalMatch) int {
	switch m {
	case MatchExact:
		return 3
	case MatchWildcard:
		return 2
	case MatchAccount:
		return 1
	}
	return 0
}

// match returns how the statement's principal element matches the caller.
func (ps *principalSet) match(c *caller) PrincipalMatch {
	if ps.not {
		if ps.excludes(c) {
			return PrincipalMatchUnknown
		}
		return MatchNotPrincipal
	}
	if ps.all {
		return MatchWildcard
	}
	best := PrincipalMatchUnknown
	for i := range ps.aws {
		if m := c.matchAWS(&ps.aws[i]); strength(m) > strength(best) {
			best = m
		}
	}
	if c.typ == PrincipalService && best != MatchExact {
		for _, s := range ps.service {
			if strings.EqualFold(s, c.service) {
				return MatchExact
			}
		}
	}
	return best
}

// excludes reports whether NotPrincipal exempts the caller. AWS may check
// every identity in the caller's chain (its account, its role, its session)
// and the statement applies if any of them is not listed, so the caller is
// exempt only when all of them are listed (see the NotPrincipal examples in
// the IAM User Guide, which list the session, the role and the account).
func (ps *principalSet) excludes(c *caller) bool {
	if ps.all {
		return true
	}
	listed := func(kind prinKind) bool {
		for i := range ps.aws {
			ap := &ps.aws[i]
			if ap.kind == prinAny {
				if c.typ != PrincipalService {
					return true
				}
				continue
			}
			if ap.kind != kind {
				continue
			}
			if c.matchAWS(ap) != PrincipalMatchUnknown {
				return true
			}
		}
		return false
	}
	switch c.typ {
	case PrincipalRoot:
		return listed(prinAccount)
	case PrincipalUser:
		return listed(prinAccount) && listed(prinUser)
	case PrincipalAssumedRole:
		return listed(prinAccount) && listed(prinRole) && listed(prinSession)
	case PrincipalFederatedUser:
		return listed(prinAccount) && listed(prinFedUser)
	case PrincipalService:
		for _, s := range ps.service {
			if strings.EqualFold(s, c.service) {
				return true
			}
		}
	}
	return false
}
