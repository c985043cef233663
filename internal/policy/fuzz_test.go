package policy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

// fuzzRequests is a fixed set of requests every parsed policy is evaluated
// against.
func fuzzRequests() []policy.Request {
	return []policy.Request{
		rq(exUser, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "IT", "kms:EncryptionContextKeys", "Department", "aws:SourceIp", "192.0.2.1", "aws:CurrentTime", "2024-01-01T00:00:00Z", "aws:username", "ExampleUser"),
		rq(exRole, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "true", "kms:GrantOperations", "Encrypt", "kms:GrantOperations", "Decrypt"),
		rq(root(acctB), "kms:Encrypt", "*"),
		rq(svc("ec2.amazonaws.com"), "KMS:ENCRYPT", keyB, "kms:ViaService", "ec2.us-west-2.amazonaws.com"),
		rq(fed(acctA, "f"), "s3:GetObject", "arn:aws:s3:::b/k", "aws:PrincipalTag/team", "*", "test:n", "7", "test:bin", "AAAA"),
		{},
	}
}

func checkResult(t *testing.T, r policy.Result) {
	t.Helper()
	anyDeny, anyAllow := false, false
	for _, m := range r.Matches {
		switch m.Effect {
		case policy.EffectDeny:
			anyDeny = true
		case policy.EffectAllow:
			anyAllow = true
		default:
			t.Fatalf("match with effect %s", m.Effect)
		}
		if m.Principal == policy.PrincipalMatchUnknown {
			t.Fatalf("match with unknown principal match")
		}
	}
	want := policy.NotApplicable
	switch {
	case anyDeny:
		want = policy.Deny
	case anyAllow:
		want = policy.Allow
	}
	if r.Decision != want {
		t.Fatalf("decision got %s, want %s for matches %v", r.Decision, want, r.Matches)
	}
}

func FuzzParse(f *testing.F) {
	for _, cp := range corpusPolicies {
		f.Add(cp.doc)
	}
	f.Add(benchPolicy)
	f.Add(withCond(`{"StringLike":{"aws:x":"${aws:username, 'a''b'}*${*}${?}"}}`))
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333"]},"NotAction":"kms:*","NotResource":"arn:aws:kms:*:*:key/*"}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}],"Version":"2008-10-17"}`)
	f.Add(`[`)
	f.Add(`{"Statement":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}`)
	reqs := fuzzRequests()
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []policy.Kind{policy.KindKey, policy.KindIdentity, policy.KindTrust} {
			p, err := policy.Parse(doc, kind)
			if err != nil {
				if _, ok := err.(*policy.ParseError); !ok {
					t.Fatalf("error %T, want *ParseError", err)
				}
				_ = err.Error()
				continue
			}
			if p.NumStatements() < 1 || p.NumStatements() > policy.MaxStatements {
				t.Fatalf("NumStatements %d", p.NumStatements())
			}
			_ = p.AWSPrincipals()
			for i := range reqs {
				r := p.Evaluate(&reqs[i])
				checkResult(t, r)
				_ = r.String()
				ex := p.Explain(&reqs[i])
				if ex.Result.Decision != r.Decision || len(ex.Statements) != p.NumStatements() {
					t.Fatalf("Explain disagrees with Evaluate")
				}
				_ = ex.String()
			}
		}
	})
}

// negations pairs each positive operator with its negated form.
var negations = map[string]string{
	"StringEquals":           "StringNotEquals",
	"StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
	"StringLike":             "StringNotLike",
	"NumericEquals":          "NumericNotEquals",
	"DateEquals":             "DateNotEquals",
	"IpAddress":              "NotIpAddress",
	"ArnEquals":              "ArnNotEquals",
	"ArnLike":                "ArnNotLike",
}

var fuzzOperators = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}

// FuzzEvaluateConditions builds a one-condition policy from fuzzed parts
// and checks, besides not panicking, the laws the semantics promise:
// a negated operator is the complement of its positive form when the key
// is present and the values have no variables; IfExists and ForAllValues
// are true and ForAnyValue false when the key is absent.
func FuzzEvaluateConditions(f *testing.F) {
	f.Add(uint8(0), uint8(0), false, "aws:x", "abc", "abc\nabd", false)
	f.Add(uint8(4), uint8(1), true, "kms:EncryptionContext:AppName", "a*c", "abc", true)
	f.Add(uint8(6), uint8(2), false, "test:n", "1e3", "1000", false)
	f.Add(uint8(12), uint8(0), false, "aws:CurrentTime", "2020-01-01T00:00:00Z", "1577836800", false)
	f.Add(uint8(20), uint8(1), false, "aws:SourceIp", "10.0.0.0/8", "10.1.2.3\n192.168.0.1", false)
	f.Add(uint8(23), uint8(0), false, "aws:SourceArn", "arn:aws:s3:::*", "arn:aws:s3:::bucket", false)
	f.Add(uint8(26), uint8(0), false, "aws:x", "true", "", false)
	f.Add(uint8(19), uint8(0), true, "aws:x", "QUJD", "QUJD", false)
	f.Fuzz(func(t *testing.T, opIdx, set uint8, ifExists bool, key, policyValue, reqValues string, noVersion bool) {
		op := fuzzOperators[int(opIdx)%len(fuzzOperators)]
		name := op
		if ifExists && op != "Null" {
			name += "IfExists"
		}
		switch set % 3 {
		case 1:
			name = "ForAnyValue:" + name
		case 2:
			name = "ForAllValues:" + name
		}
		doc, ok := condDoc(name, key, policyValue, noVersion)
		if !ok {
			return
		}
		p, err := policy.ParseIdentityPolicy(doc)
		if err != nil {
			return
		}
		var vals []string
		if reqValues != "" {
			vals = strings.Split(reqValues, "\n")
		}
		ctx := policy.ContextMap{}
		ctx.Set("aws:username", "fuzz")
		ctx.Set(key, vals...)
		req := policy.Request{Principal: alice, Action: "kms:Encrypt", Resource: keyA, Context: ctx}
		got := p.Evaluate(&req)
		checkResult(t, got)
		applied := got.Decision == policy.Allow

		absent := len(vals) == 0
		if absent && op != "Null" {
			want := applied
			switch {
			case ifExists, set%3 == 2:
				want = true
			case set%3 == 1:
				want = false
			}
			if applied != want {
				t.Fatalf("%s with the key absent: got %v, want %v", name, applied, want)
			}
		}
		neg, hasNeg := negations[op]
		if !hasNeg || absent || set%3 != 0 || strings.Contains(policyValue, "${") {
			return
		}
		negName := neg
		if ifExists {
			negName += "IfExists"
		}
		ndoc, _ := condDoc(negName, key, policyValue, noVersion)
		np, err := policy.ParseIdentityPolicy(ndoc)
		if err != nil {
			t.Fatalf("%s parsed but %s did not: %v", name, negName, err)
		}
		nr := np.Evaluate(&req)
		checkResult(t, nr)
		if (nr.Decision == policy.Allow) == applied {
			t.Fatalf("%s and %s agree (%v) for key %q, policy value %q, request values %q", name, negName, applied, key, policyValue, vals)
		}
	})
}

func condDoc(op, key, value string, noVersion bool) (string, bool) {
	d := map[string]any{
		"Statement": map[string]any{
			"Effect":    "Allow",
			"Action":    "kms:*",
			"Resource":  "*",
			"Condition": map[string]any{op: map[string]any{key: value}},
		},
	}
	if !noVersion {
		d["Version"] = "2012-10-17"
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", false
	}
	return string(b), true
}
