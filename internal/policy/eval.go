package policy

import (
	"fmt"
	"strings"
)

// Evaluate evaluates the policy against one request. A statement applies
// when its action, resource, principal and every condition match. The
// decision is Deny if any Deny statement applies, else Allow if any Allow
// statement applies, else NotApplicable. Result.Matches lists every
// statement that applied.
//
// Evaluate is safe for concurrent use; it does not retain req. A nil policy
// or request yields NotApplicable.
func (p *Policy) Evaluate(req *Request) Result {
	var res Result
	if p == nil || req == nil {
		return res
	}
	c := newCaller(&req.Principal)
	for i := range p.stmts {
		s := &p.stmts[i]
		pm, ok := s.applies(req, &c, p.kind)
		if !ok {
			continue
		}
		if res.Matches == nil {
			res.Matches = make([]Match, 0, 4)
		}
		res.Matches = append(res.Matches, Match{StatementIndex: s.index, Sid: s.sid, Effect: s.effect, Principal: pm})
		if s.effect == EffectDeny {
			res.Decision = Deny
		} else if res.Decision != Deny {
			res.Decision = Allow
		}
	}
	return res
}

func (s *statement) applies(req *Request, c *caller, kind Kind) (PrincipalMatch, bool) {
	if s.noResource || !s.matchAction(req.Action) || !s.matchResource(req.Resource, req.Context) {
		return PrincipalMatchUnknown, false
	}
	pm := MatchAttached
	if kind != KindIdentity {
		if pm = s.principal.match(c); pm == PrincipalMatchUnknown {
			return pm, false
		}
	}
	for i := range s.conds {
		if !s.conds[i].eval(req.Context) {
			return PrincipalMatchUnknown, false
		}
	}
	return pm, true
}

// matchAction: action names are case-insensitive ("The prefix and the
// action name are case insensitive").
func (s *statement) matchAction(action string) bool {
	m := false
	for i := range s.actions {
		if s.actions[i].match(action, true) {
			m = true
			break
		}
	}
	return m != s.notAction
}

// matchResource: resource patterns are case-sensitive. A pattern whose
// variables cannot be resolved matches nothing, and makes NotResource not
// apply.
func (s *statement) matchResource(resource string, ctx Context) bool {
	if s.anyResource {
		return true
	}
	m, unresolved := false, false
	for i := range s.resources {
		rp := &s.resources[i]
		if !rp.tmpl.hasVar {
			if rp.g.match(resource, false) {
				m = true
				break
			}
			continue
		}
		toks, ok := rp.tmpl.toks(ctx, false)
		if !ok {
			unresolved = true
			continue
		}
		g := newGlob(toks)
		if g.match(resource, false) {
			m = true
			break
		}
	}
	if s.notRes {
		return !m && !unresolved
	}
	return m
}

// StatementTrace says whether one statement applied to a request, and if
// not, the first reason why.
type StatementTrace struct {
	Index     int
	Sid       string
	Effect    Effect
	Applied   bool
	Principal PrincipalMatch // when Applied
	// Reason is empty when Applied, else e.g. "action kms:Encrypt not
	// matched" or "condition StringEquals kms:ViaService is false".
	Reason string
}

// Explanation is a detailed account of an evaluation.
type Explanation struct {
	Result     Result
	Statements []StatementTrace
}

// String renders the explanation over several lines.
func (e Explanation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "decision: %s\n", e.Result.Decision)
	for _, st := range e.Statements {
		name := fmt.Sprintf("statement %d", st.Index)
		if st.Sid != "" {
			name += fmt.Sprintf(" (Sid %q)", st.Sid)
		}
		if st.Applied {
			fmt.Fprintf(&b, "  %s: %s applies (principal %s)\n", name, st.Effect, st.Principal)
		} else {
			fmt.Fprintf(&b, "  %s: %s does not apply: %s\n", name, st.Effect, st.Reason)
		}
	}
	return b.String()
}

// Explain evaluates like Evaluate and also says, for every statement, why
// it did or did not apply. It is slower than Evaluate and meant for humans
// (openkms admin policy explain) and for debugging.
func (p *Policy) Explain(req *Request) Explanation {
	var e Explanation
	if p == nil || req == nil {
		return e
	}
	e.Result = p.Evaluate(req)
	c := newCaller(&req.Principal)
	for i := range p.stmts {
		s := &p.stmts[i]
		st := StatementTrace{Index: s.index, Sid: s.sid, Effect: s.effect}
		st.Principal, st.Applied = s.applies(req, &c, p.kind)
		if !st.Applied {
			st.Principal = PrincipalMatchUnknown
			st.Reason = s.whyNot(req, &c, p.kind)
		}
		e.Statements = append(e.Statements, st)
	}
	return e
}

func (s *statement) whyNot(req *Request, c *caller, kind Kind) string {
	if s.noResource {
		return "the statement has no Resource element, so it never applies"
	}
	if !s.matchAction(req.Action) {
		elem := "Action"
		if s.notAction {
			elem = "NotAction"
		}
		return fmt.Sprintf("action %q not matched by %s %q", req.Action, elem, s.rawAction)
	}
	if !s.matchResource(req.Resource, req.Context) {
		elem := "Resource"
		if s.notRes {
			elem = "NotResource"
		}
		raws := make([]string, len(s.resources))
		for i := range s.resources {
			raws[i] = s.resources[i].raw
		}
		return fmt.Sprintf("resource %q not matched by %s %q", req.Resource, elem, raws)
	}
	if kind != KindIdentity && s.principal.match(c) == PrincipalMatchUnknown {
		if s.principal.not {
			return fmt.Sprintf("principal %q is excluded by NotPrincipal", callerName(c))
		}
		return fmt.Sprintf("principal %q not matched by Principal", callerName(c))
	}
	for i := range s.conds {
		cd := &s.conds[i]
		if cd.eval(req.Context) {
			continue
		}
		var vals []string
		if req.Context != nil {
			vals, _ = req.Context.Lookup(cd.key)
		}
		if len(vals) == 0 {
			return fmt.Sprintf("condition %s %s is false (key not in request context)", cd.opName, cd.rawKey)
		}
		return fmt.Sprintf("condition %s %s is false (request values %q)", cd.opName, cd.rawKey, vals)
	}
	return "unknown"
}

func callerName(c *caller) string {
	if c.typ == PrincipalService {
		return c.service
	}
	return c.arn
}
