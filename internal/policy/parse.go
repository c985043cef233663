package policy

import (
	"slices"
	"strings"
)

// statement is one parsed statement.
type statement struct {
	index     int
	sid       string
	effect    Effect
	principal principalSet // not present in identity policies
	actions   []glob
	rawAction []string
	notAction bool
	resources []resPattern
	notRes    bool
	// noResource marks a key-policy statement without Resource or
	// NotResource. AWS KMS accepts it but it never applies ("A key policy
	// statement without a Resource element doesn't apply to any KMS key").
	noResource bool
	// anyResource marks a trust-policy statement, whose resource is
	// implicitly the role.
	anyResource bool
	conds       []condition
}

type resPattern struct {
	raw  string
	tmpl template
	g    glob // when the pattern has no variables
}

var topElements = []string{"Version", "Id", "Statement"}

var statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func build(root *jnode, kind Kind) (*Policy, error) {
	p := &Policy{kind: kind}
	for _, k := range root.keys {
		if !slices.Contains(topElements, k) {
			return nil, perr(ReasonStructure, -1, "Policy document contains an unknown element.", "(%q)", k)
		}
	}
	if v := root.get("Version"); v != nil {
		if v.kind != jString || (v.str != Version20121017 && v.str != Version20081017) {
			return nil, perr(ReasonStructure, -1, "Policy document has an invalid Version.", "(must be %q or %q)", Version20121017, Version20081017)
		}
		p.version = v.str
	}
	p.vars = p.version == Version20121017
	if v := root.get("Id"); v != nil {
		if v.kind != jString {
			return nil, perr(ReasonStructure, -1, "Policy document has an invalid Id.", "(must be a string)")
		}
		p.id = v.str
	}
	sn := root.get("Statement")
	if sn == nil {
		return nil, perr(ReasonStructure, -1, "Policy document is missing required element.", "(Statement)")
	}
	var elems []*jnode
	switch sn.kind {
	case jObject:
		elems = []*jnode{sn}
	case jArray:
		elems = sn.elems
	default:
		return nil, perr(ReasonStructure, -1, "Statement must be an object or an array of objects.", "")
	}
	if len(elems) == 0 {
		return nil, perr(ReasonStructure, -1, "Policy document must contain at least one statement.", "")
	}
	if len(elems) > MaxStatements {
		return nil, perr(ReasonStructure, -1, "Policy document has too many statements.", "(limit %d)", MaxStatements)
	}
	sids := map[string]bool{}
	for i, e := range elems {
		s, err := parseStatement(e, i, kind, p.vars)
		if err != nil {
			return nil, err
		}
		if kind != KindKey && s.sid != "" {
			if sids[s.sid] {
				return nil, perr(ReasonStructure, i, "Statement IDs (SID) in a single policy must be unique.", "(%q)", s.sid)
			}
			sids[s.sid] = true
		}
		p.stmts = append(p.stmts, s)
	}
	return p, nil
}

func parseStatement(n *jnode, idx int, kind Kind, vars bool) (statement, error) {
	s := statement{index: idx}
	if n.kind != jObject {
		return s, perr(ReasonStructure, idx, "Statement must be an object.", "")
	}
	for _, k := range n.keys {
		if !slices.Contains(statementElements, k) {
			return s, perr(ReasonStructure, idx, "Statement contains an unknown element.", "(%q)", k)
		}
	}

	if v := n.get("Sid"); v != nil {
		if v.kind != jString {
			return s, perr(ReasonStructure, idx, "Statement has an invalid Sid.", "(must be a string)")
		}
		if kind != KindKey && !isAlnum(v.str) {
			// IAM; key policy Sids may contain spaces and more.
			return s, perr(ReasonStructure, idx, "Statement IDs (SID) must be alpha-numeric.", "(%q)", v.str)
		}
		s.sid = v.str
	}

	ev := n.get("Effect")
	if ev == nil {
		return s, perr(ReasonStructure, idx, msgMissingElement, "(Effect)")
	}
	if ev.kind != jString {
		return s, perr(ReasonStructure, idx, "Statement has an invalid Effect.", "(must be \"Allow\" or \"Deny\")")
	}
	eff, err := ParseEffect(ev.str)
	if err != nil {
		return s, perr(ReasonStructure, idx, "Statement has an invalid Effect.", "(%q: must be \"Allow\" or \"Deny\")", ev.str)
	}
	s.effect = eff

	// Principal / NotPrincipal.
	pr, npr := n.get("Principal"), n.get("NotPrincipal")
	switch {
	case kind == KindIdentity && (pr != nil || npr != nil):
		return s, perr(ReasonPrincipal, idx, "Policy document should not specify a principal.", "")
	case kind == KindTrust && npr != nil:
		return s, perr(ReasonPrincipal, idx, "Has prohibited field NotPrincipal", "")
	case pr != nil && npr != nil:
		return s, perr(ReasonPrincipal, idx, "Statement cannot contain both Principal and NotPrincipal.", "")
	case kind != KindIdentity && pr == nil && npr == nil:
		return s, perr(ReasonStructure, idx, msgMissingElement, "(Principal)")
	case pr != nil:
		if s.principal, err = parsePrincipalElement(pr, false, idx); err != nil {
			return s, err
		}
	case npr != nil:
		if eff != EffectDeny {
			return s, perr(ReasonPrincipal, idx, "NotPrincipal can only be used with \"Effect\": \"Deny\".", "")
		}
		if s.principal, err = parsePrincipalElement(npr, true, idx); err != nil {
			return s, err
		}
	}

	// Action / NotAction.
	an, nan := n.get("Action"), n.get("NotAction")
	switch {
	case an != nil && nan != nil:
		return s, perr(ReasonAction, idx, "Statement cannot contain both Action and NotAction.", "")
	case an == nil && nan == nil:
		return s, perr(ReasonStructure, idx, msgMissingElement, "(Action)")
	}
	if an == nil {
		an, s.notAction = nan, true
	}
	acts, err := stringList(an)
	if err != nil {
		return s, perr(ReasonAction, idx, "Policy contains an invalid action.", "(%v)", err)
	}
	for _, a := range acts {
		if !validAction(a) {
			return s, perr(ReasonAction, idx, "Policy contains an invalid action.", "(%q: actions must be \"*\" or prefaced by a vendor, e.g. \"kms:Encrypt\")", a)
		}
		s.actions = append(s.actions, compileGlob(a, true))
		s.rawAction = append(s.rawAction, a)
	}

	// Resource / NotResource.
	rn, nrn := n.get("Resource"), n.get("NotResource")
	switch {
	case kind == KindTrust && rn != nil:
		return s, perr(ReasonResource, idx, "Has prohibited field Resource", "")
	case kind == KindTrust && nrn != nil:
		return s, perr(ReasonResource, idx, "Has prohibited field NotResource", "")
	case kind == KindTrust:
		s.anyResource = true
	case rn != nil && nrn != nil:
		return s, perr(ReasonResource, idx, "Statement cannot contain both Resource and NotResource.", "")
	case rn == nil && nrn == nil:
		if kind == KindIdentity {
			return s, perr(ReasonStructure, idx, msgMissingElement, "(Resource)")
		}
		s.noResource = true
	}
	if rn == nil && nrn != nil {
		rn, s.notRes = nrn, true
	}
	if rn != nil {
		res, err := stringList(rn)
		if err != nil {
			return s, perr(ReasonResource, idx, "Policy contains an invalid resource.", "(%v)", err)
		}
		for _, r := range res {
			if !validResource(r) {
				return s, perr(ReasonResource, idx, "Policy contains an invalid resource.", "(%q must be in ARN format or \"*\")", r)
			}
			rp := resPattern{raw: r, tmpl: resourceTemplate(r, vars)}
			if !rp.tmpl.hasVar {
				rp.g = globFromTemplate(&rp.tmpl, false)
			}
			s.resources = append(s.resources, rp)
		}
	}

	if cn := n.get("Condition"); cn != nil {
		if s.conds, err = parseConditionElement(cn, kind, vars, idx); err != nil {
			return s, err
		}
	}
	return s, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validAction accepts "*" and "vendor:name" where name may hold wildcards.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	vendor, name, found := strings.Cut(a, ":")
	if !found || name == "" || !validVendor(vendor) || strings.Contains(vendor, ".") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validResource accepts "*" and anything shaped like an ARN
// (arn:partition:service:region:account:resource, wildcards allowed).
func validResource(r string) bool {
	if r == "*" {
		return true
	}
	if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// resourceTemplate parses a Resource value. Policy variables are allowed
// only in the resource part of an ARN ("after the fifth colon"); before it
// "${" is literal text.
func resourceTemplate(r string, vars bool) template {
	if !vars || !strings.HasPrefix(r, "arn:") {
		return parseTemplate(r, vars, true)
	}
	cut := 0
	for n := 0; n < 5; n++ {
		i := strings.IndexByte(r[cut:], ':')
		if i < 0 {
			return parseTemplate(r, false, true)
		}
		cut += i + 1
	}
	head := parseTemplate(r[:cut], false, true)
	tail := parseTemplate(r[cut:], true, true)
	t := template{parts: head.parts, hasVar: tail.hasVar}
	for _, part := range tail.parts {
		if n := len(t.parts); n > 0 && part.kind == tLit && t.parts[n-1].kind == tLit {
			t.parts[n-1].text += part.text
			continue
		}
		t.parts = append(t.parts, part)
	}
	return t
}
