package policy_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

func TestResultHelpers(t *testing.T) {
	p := mustParse(t, corpusPolicies["console"].doc, K)

	r := p.Evaluate(&policy.Request{Principal: exUser, Action: "kms:Encrypt", Resource: keyA})
	if !r.AllowedBy(policy.MatchExact) || !r.AllowedBy(policy.MatchAccount) || r.AllowedBy(policy.MatchWildcard) {
		t.Errorf("AllowedBy got exact=%v account=%v wildcard=%v, want true true false", r.AllowedBy(policy.MatchExact), r.AllowedBy(policy.MatchAccount), r.AllowedBy(policy.MatchWildcard))
	}
	if r.Denied() {
		t.Errorf("Denied got true, want false")
	}
	if got, want := r.String(), `Allow: statement 0 (Sid "Enable IAM policies") Allow, principal account; statement 2 (Sid "Allow use of the key") Allow, principal exact`; got != want {
		t.Errorf("String got %q, want %q", got, want)
	}

	r = p.Evaluate(&policy.Request{Principal: bobB, Action: "kms:Decrypt", Resource: keyA})
	if r.AllowedBy(policy.MatchExact, policy.MatchWildcard) || !r.AllowedBy(policy.MatchAccount) {
		t.Errorf("cross-account AllowedBy wrong: %s", r)
	}

	r = p.Evaluate(&policy.Request{Principal: user(acctC, "x"), Action: "kms:Decrypt", Resource: keyA})
	if got, want := r.String(), "NotApplicable: no statement applies"; got != want {
		t.Errorf("String got %q, want %q", got, want)
	}
	if r.AllowedBy(policy.MatchAccount) {
		t.Errorf("AllowedBy on NotApplicable got true")
	}

	d := mustParse(t, corpusPolicies["deny-user"].doc, K)
	r = d.Evaluate(&policy.Request{Principal: user(acctA, "Bob"), Action: "kms:Decrypt", Resource: keyA})
	if !r.Denied() || r.AllowedBy(policy.MatchAccount) {
		t.Errorf("deny: Denied %v AllowedBy %v, want true false", r.Denied(), r.AllowedBy(policy.MatchAccount))
	}
}

func TestNilSafety(t *testing.T) {
	var p *policy.Policy
	if got := p.Evaluate(&policy.Request{}); got.Decision != policy.NotApplicable {
		t.Errorf("nil policy got %s, want NotApplicable", got.Decision)
	}
	q := mustParse(t, corpusPolicies["default"].doc, K)
	if got := q.Evaluate(nil); got.Decision != policy.NotApplicable {
		t.Errorf("nil request got %s, want NotApplicable", got.Decision)
	}
	if got := q.Explain(nil); len(got.Statements) != 0 {
		t.Errorf("nil request Explain got %d statements", len(got.Statements))
	}
	// A request with every field empty.
	for name, cp := range corpusPolicies {
		p := mustParse(t, cp.doc, cp.kind)
		_ = p.Evaluate(&policy.Request{})
		_ = p.Explain(&policy.Request{}).String()
		_ = name
	}
}

func TestExplainText(t *testing.T) {
	p := mustParse(t, corpusPolicies["console"].doc, K)
	req := rq(exUser, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "false")
	got := p.Explain(&req).String()
	for _, want := range []string{
		"decision: Allow",
		`statement 0 (Sid "Enable IAM policies"): Allow applies (principal account)`,
		`statement 1 (Sid "Allow access for Key Administrators"): Allow does not apply: principal "arn:aws:iam::111122223333:user/ExampleUser" not matched by Principal`,
		`statement 2 (Sid "Allow use of the key"): Allow does not apply: action "kms:CreateGrant" not matched by Action`,
		`statement 3 (Sid "Allow attachment of persistent resources"): Allow does not apply: condition Bool kms:GrantIsForAWSResource is false (request values ["false"])`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain output lacks %q:\n%s", want, got)
		}
	}
	k := mustParse(t, corpusPolicies["key-resource"].doc, K)
	req = rq(alice, "kms:Encrypt", keyA2)
	got = k.Explain(&req).String()
	for _, want := range []string{"not matched by Resource", "no Resource element"} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain output lacks %q:\n%s", want, got)
		}
	}
	np := mustParse(t, corpusPolicies["notprincipal-user"].doc, K)
	req = rq(bobB, "kms:Encrypt", keyA)
	if got := np.Explain(&req).String(); !strings.Contains(got, "excluded by NotPrincipal") {
		t.Errorf("Explain output lacks NotPrincipal reason:\n%s", got)
	}
}

func TestContextMap(t *testing.T) {
	m := policy.ContextMap{}
	m.Set("Kms:EncryptionContext:AppName", "x")
	if v, ok := m.Lookup("kms:encryptioncontext:appname"); !ok || !slices.Equal(v, []string{"x"}) {
		t.Errorf("Lookup got %v %v, want [x] true", v, ok)
	}
	// A key stored in mixed case by hand is still found.
	m["AWS:SourceIp"] = []string{"10.0.0.1"}
	if v, ok := m.Lookup("aws:sourceip"); !ok || v[0] != "10.0.0.1" {
		t.Errorf("Lookup mixed-case got %v %v", v, ok)
	}
	if _, ok := m.Lookup("aws:nothing"); ok {
		t.Errorf("Lookup of a missing key succeeded")
	}
}

func TestAddPrincipalKeys(t *testing.T) {
	tests := []struct {
		p    policy.Principal
		want map[string]string
	}{
		{user(acctA, "division/Alice"), map[string]string{"aws:principalarn": "arn:aws:iam::111122223333:user/division/Alice", "aws:principalaccount": acctA, "kms:calleraccount": acctA, "aws:principaltype": "User", "aws:username": "Alice", "aws:userid": "AIDAEXAMPLEALICE"}},
		{root(acctA), map[string]string{"aws:principalarn": "arn:aws:iam::111122223333:root", "aws:principaltype": "Account", "aws:userid": acctA}},
		{sess(acctA, "path/Dev", "s"), map[string]string{"aws:principalarn": "arn:aws:iam::111122223333:role/path/Dev", "aws:principaltype": "AssumedRole", "aws:userid": "AROAEXAMPLE:s"}},
		{fed(acctB, "Carol"), map[string]string{"aws:principaltype": "FederatedUser", "kms:calleraccount": acctB}},
		{svc("ec2.amazonaws.com"), map[string]string{"aws:principalservicename": "ec2.amazonaws.com"}},
	}
	for _, tc := range tests {
		m := policy.ContextMap{}
		m.AddPrincipalKeys(tc.p)
		for k, want := range tc.want {
			got, ok := m.Lookup(k)
			if !ok || len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s got %v, want %q", tc.p.ARN+tc.p.Service, k, got, want)
			}
		}
		if _, ok := m.Lookup("aws:username"); ok && tc.p.Type != policy.PrincipalUser {
			t.Errorf("%s: aws:username set for a %s", tc.p.ARN, tc.p.Type)
		}
	}
}

// TestPrincipalKeysInPolicy uses AddPrincipalKeys with the ${aws:username}
// example from the KMS documentation.
func TestPrincipalKeysInPolicy(t *testing.T) {
	p := mustParse(t, corpusPolicies["ec-var-user"].doc, K)
	bob := user(acctA, "bob")
	ctx := policy.ContextMap{}
	ctx.AddPrincipalKeys(bob)
	ctx.Set("kms:EncryptionContext:user", "bob")
	if got := p.Evaluate(&policy.Request{Principal: bob, Action: "kms:Decrypt", Resource: keyA, Context: ctx}); got.Decision != policy.Allow {
		t.Errorf("got %s, want Allow", got.Decision)
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	p := mustParse(t, benchPolicy, K)
	reqs := benchRequests()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				for _, br := range reqs {
					if got := p.Evaluate(&br.req); got.Decision != br.want {
						t.Errorf("%s: got %s, want %s", br.name, got.Decision, br.want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
