package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

// stmt wraps one statement body (without braces) in a key policy.
func stmt(body string) string { return kp("{" + body + "}") }

const okKeyStmt = `"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"`
const okIDStmt = `"Effect":"Allow","Action":"kms:*","Resource":"*"`

func withCond(cond string) string {
	return stmt(okKeyStmt + `,"Condition":` + cond)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		kind   policy.Kind
		doc    string
		reason policy.ParseReason
		msg    string // substring of the message, optional
	}{
		{"empty", K, "", policy.ReasonJSON, "not valid JSON"},
		{"not json", K, "my policy", policy.ReasonJSON, ""},
		{"truncated", K, `{"Statement":[`, policy.ReasonJSON, ""},
		{"array", K, `[]`, policy.ReasonJSON, ""},
		{"string", K, `"x"`, policy.ReasonJSON, ""},
		{"trailing data", K, stmt(okKeyStmt) + `{}`, policy.ReasonJSON, ""},
		{"invalid utf8", K, "{\"Id\":\"\xff\"," + stmt(okKeyStmt)[1:], policy.ReasonJSON, ""},
		{"duplicate element", K, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + okKeyStmt + `}}`, policy.ReasonJSON, "duplicate"},
		{"duplicate statement element", K, stmt(okKeyStmt + `,"Effect":"Deny"`), policy.ReasonJSON, "duplicate"},
		{"missing statement", K, `{"Version":"2012-10-17"}`, policy.ReasonStructure, "Statement"},
		{"empty statement list", K, `{"Version":"2012-10-17","Statement":[]}`, policy.ReasonStructure, "at least one"},
		{"statement string", K, `{"Statement":"x"}`, policy.ReasonStructure, ""},
		{"statement element not object", K, `{"Statement":[1]}`, policy.ReasonStructure, ""},
		{"lower-case element", K, `{"statement":{` + okKeyStmt + `}}`, policy.ReasonStructure, "unknown element"},
		{"unknown top element", K, `{"Foo":1,"Statement":{` + okKeyStmt + `}}`, policy.ReasonStructure, "unknown element"},
		{"bad version", K, `{"Version":"2020-01-01","Statement":{` + okKeyStmt + `}}`, policy.ReasonStructure, "Version"},
		{"version number", K, `{"Version":2012,"Statement":{` + okKeyStmt + `}}`, policy.ReasonStructure, "Version"},
		{"id number", K, `{"Id":1,"Statement":{` + okKeyStmt + `}}`, policy.ReasonStructure, "Id"},
		{"unknown statement element", K, stmt(okKeyStmt + `,"Principals":"*"`), policy.ReasonStructure, "unknown element"},
		{"sid number", K, stmt(okKeyStmt + `,"Sid":1`), policy.ReasonStructure, "Sid"},
		{"missing effect", K, stmt(`"Principal":"*","Action":"kms:*","Resource":"*"`), policy.ReasonStructure, "missing required element"},
		{"effect lower case", K, stmt(`"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"`), policy.ReasonStructure, "Effect"},
		{"effect denY", K, stmt(`"Effect":"denY","Principal":"*","Action":"kms:*","Resource":"*"`), policy.ReasonStructure, "Effect"},
		{"effect array", K, stmt(`"Effect":["Allow"],"Principal":"*","Action":"kms:*","Resource":"*"`), policy.ReasonStructure, "Effect"},
		{"missing principal", K, stmt(`"Effect":"Allow","Action":"kms:*","Resource":"*"`), policy.ReasonStructure, "missing required element"},
		{"principal in identity policy", I, stmt(okKeyStmt), policy.ReasonPrincipal, "should not specify a principal"},
		{"notprincipal in identity policy", I, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, "should not specify a principal"},
		{"principal and notprincipal", K, stmt(`"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"notprincipal with allow", K, stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, "Deny"},
		{"principal arn string", K, stmt(`"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, "invalid principals"},
		{"principal wildcard in arn", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, "invalid principals"},
		{"principal wildcard account", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal question mark", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/b?b"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal session wildcard", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/R/*"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal short account", K, stmt(`"Effect":"Allow","Principal":{"AWS":"11112222333"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal group", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/Admins"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal user without name", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal with region", K, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam:us-east-1:111122223333:root"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal kms arn", K, stmt(`"Effect":"Allow","Principal":{"AWS":"` + keyA + `"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal empty list", K, stmt(`"Effect":"Allow","Principal":{"AWS":[]},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal number", K, stmt(`"Effect":"Allow","Principal":{"AWS":[111122223333]},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal empty object", K, stmt(`"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal unknown type", K, stmt(`"Effect":"Allow","Principal":{"Foo":"x"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"principal lower-case aws", K, stmt(`"Effect":"Allow","Principal":{"aws":"111122223333"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"service wildcard", K, stmt(`"Effect":"Allow","Principal":{"Service":"*"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"service no dot", K, stmt(`"Effect":"Allow","Principal":{"Service":"ec2"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"canonical short", K, stmt(`"Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"federated empty provider", K, stmt(`"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/"},"Action":"kms:*","Resource":"*"`), policy.ReasonPrincipal, ""},
		{"missing action", K, stmt(`"Effect":"Allow","Principal":"*","Resource":"*"`), policy.ReasonStructure, "missing required element"},
		{"action and notaction", K, stmt(okKeyStmt + `,"NotAction":"kms:Encrypt"`), policy.ReasonAction, ""},
		{"empty action", K, stmt(`"Effect":"Allow","Principal":"*","Action":"","Resource":"*"`), policy.ReasonAction, "invalid action"},
		{"action without vendor", K, stmt(`"Effect":"Allow","Principal":"*","Action":"Encrypt","Resource":"*"`), policy.ReasonAction, ""},
		{"action empty list", K, stmt(`"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"`), policy.ReasonAction, ""},
		{"action trailing space", K, stmt(`"Effect":"Allow","Principal":"*","Action":"kms:Encrypt ","Resource":"*"`), policy.ReasonAction, ""},
		{"action number", K, stmt(`"Effect":"Allow","Principal":"*","Action":5,"Resource":"*"`), policy.ReasonAction, ""},
		{"action vendor wildcard", K, stmt(`"Effect":"Allow","Principal":"*","Action":"*:Encrypt","Resource":"*"`), policy.ReasonAction, ""},
		{"action no name", K, stmt(`"Effect":"Allow","Principal":"*","Action":"kms:","Resource":"*"`), policy.ReasonAction, ""},
		{"missing resource identity", I, stmt(`"Effect":"Allow","Action":"kms:*"`), policy.ReasonStructure, "missing required element"},
		{"resource and notresource", K, stmt(okKeyStmt + `,"NotResource":"*"`), policy.ReasonResource, ""},
		{"resource not arn", K, stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"key/1234"`), policy.ReasonResource, "ARN format"},
		{"resource short arn", I, stmt(`"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms"`), policy.ReasonResource, ""},
		{"resource empty list", I, stmt(`"Effect":"Allow","Action":"kms:*","Resource":[]`), policy.ReasonResource, ""},
		{"resource object", I, stmt(`"Effect":"Allow","Action":"kms:*","Resource":{"a":"b"}`), policy.ReasonResource, ""},
		{"condition string", K, withCond(`"x"`), policy.ReasonCondition, ""},
		{"condition block string", K, withCond(`{"StringEquals":"x"}`), policy.ReasonCondition, ""},
		{"condition block empty", K, withCond(`{"StringEquals":{}}`), policy.ReasonCondition, ""},
		{"operator case", K, withCond(`{"stringEquals":{"aws:x":"a"}}`), policy.ReasonCondition, "invalid condition operator"},
		{"operator unknown", K, withCond(`{"StringContains":{"aws:x":"a"}}`), policy.ReasonCondition, ""},
		{"null ifexists", K, withCond(`{"NullIfExists":{"aws:x":"true"}}`), policy.ReasonCondition, ""},
		{"set prefix unknown operator", K, withCond(`{"ForAnyValue:Foo":{"aws:x":"a"}}`), policy.ReasonCondition, ""},
		{"set prefix case", K, withCond(`{"forAnyValue:StringEquals":{"aws:x":"a"}}`), policy.ReasonCondition, ""},
		{"key without vendor", K, withCond(`{"StringEquals":{"nokey":"a"}}`), policy.ReasonCondition, "condition key"},
		{"key with wildcard", K, withCond(`{"StringEquals":{"aws:Principal*":"a"}}`), policy.ReasonCondition, ""},
		{"value empty list", K, withCond(`{"StringEquals":{"aws:x":[]}}`), policy.ReasonCondition, ""},
		{"value null", K, withCond(`{"StringEquals":{"aws:x":null}}`), policy.ReasonCondition, ""},
		{"value object", K, withCond(`{"StringEquals":{"aws:x":{"a":"b"}}}`), policy.ReasonCondition, ""},
		{"value nested list", K, withCond(`{"StringEquals":{"aws:x":[["a"]]}}`), policy.ReasonCondition, ""},
		{"numeric not a number", K, withCond(`{"NumericEquals":{"aws:x":"abc"}}`), policy.ReasonCondition, "invalid condition value"},
		{"numeric variable", K, withCond(`{"NumericLessThan":{"aws:x":"${aws:y}"}}`), policy.ReasonCondition, ""},
		{"numeric hex", K, withCond(`{"NumericEquals":{"aws:x":"0x1F"}}`), policy.ReasonCondition, ""},
		{"numeric inf", K, withCond(`{"NumericEquals":{"aws:x":"Inf"}}`), policy.ReasonCondition, ""},
		{"numeric overflow", K, withCond(`{"NumericEquals":{"aws:x":"1e999"}}`), policy.ReasonCondition, ""},
		{"date word", K, withCond(`{"DateLessThan":{"aws:CurrentTime":"yesterday"}}`), policy.ReasonCondition, ""},
		{"date bad day", K, withCond(`{"DateLessThan":{"aws:CurrentTime":"2020-02-30"}}`), policy.ReasonCondition, ""},
		{"ip bad", K, withCond(`{"IpAddress":{"aws:SourceIp":"300.0.0.1"}}`), policy.ReasonCondition, ""},
		{"ip bad prefix", K, withCond(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), policy.ReasonCondition, ""},
		{"ip hostname", K, withCond(`{"NotIpAddress":{"aws:SourceIp":"example.com"}}`), policy.ReasonCondition, ""},
		{"bool yes", K, withCond(`{"Bool":{"aws:SecureTransport":"yes"}}`), policy.ReasonCondition, ""},
		{"null maybe", K, withCond(`{"Null":{"aws:x":"maybe"}}`), policy.ReasonCondition, ""},
		{"binary not base64", K, withCond(`{"BinaryEquals":{"aws:x":"!!"}}`), policy.ReasonCondition, ""},
		{"binary empty", K, withCond(`{"BinaryEquals":{"aws:x":""}}`), policy.ReasonCondition, ""},
		{"forallvalues encryption context", K, withCond(`{"ForAllValues:StringEquals":{"kms:EncryptionContext:Department":"IT"}}`), policy.ReasonCondition, "OverlyPermissiveCondition:EncryptionContext"},
		{"forallvalues request tag", K, withCond(`{"ForAllValues:StringLike":{"aws:RequestTag/Project":"*"}}`), policy.ReasonCondition, "OverlyPermissiveCondition"},
		{"trust resource", T, stmt(`"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"`), policy.ReasonResource, "prohibited field Resource"},
		{"trust notresource", T, stmt(`"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","NotResource":"*"`), policy.ReasonResource, "prohibited field NotResource"},
		{"trust notprincipal", T, stmt(`"Effect":"Deny","NotPrincipal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"`), policy.ReasonPrincipal, "prohibited field NotPrincipal"},
		{"trust missing principal", T, stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), policy.ReasonStructure, "missing required element"},
		{"trust sid with space", T, stmt(`"Sid":"a b","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"`), policy.ReasonStructure, "alpha-numeric"},
		{"trust too large", T, kp(strings.Repeat(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},`, 30) + `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`), policy.ReasonTooLarge, ""},
		{"identity sid with space", I, stmt(okIDStmt + `,"Sid":"my sid"`), policy.ReasonStructure, "alpha-numeric"},
		{"identity duplicate sid", I, kp(`{"Sid":"A",`+okIDStmt+`}`, `{"Sid":"A",`+okIDStmt+`}`), policy.ReasonStructure, "unique"},
		{"too deep", K, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:x":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}}}}`, policy.ReasonStructure, "nested"},
		{"key policy too large", K, stmt(okKeyStmt) + strings.Repeat(" ", policy.MaxKeyPolicyBytes), policy.ReasonTooLarge, "maximum"},
		{"identity policy too large", I, kp(strings.Repeat(`{`+okIDStmt+`},`, 200) + `{` + okIDStmt + `}`), policy.ReasonTooLarge, ""},
		{"document too large", I, stmt(okIDStmt) + strings.Repeat(" ", policy.MaxDocumentBytes), policy.ReasonTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := policy.Parse(tc.doc, tc.kind)
			if err == nil {
				t.Fatalf("Parse succeeded with %d statements, want a %s error", p.NumStatements(), tc.reason)
			}
			var pe *policy.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *ParseError", err, err)
			}
			if pe.Reason != tc.reason {
				t.Errorf("reason got %s, want %s (%v)", pe.Reason, tc.reason, err)
			}
			if !strings.Contains(pe.Error(), tc.msg) {
				t.Errorf("error %q, want it to contain %q", pe.Error(), tc.msg)
			}
			if pe.Message == "" {
				t.Errorf("empty message")
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		kind  policy.Kind
		doc   string
		stmts int
	}{
		{"single statement object", K, `{"Statement":{` + okKeyStmt + `}}`, 1},
		{"no version", K, `{"Statement":[{` + okKeyStmt + `}]}`, 1},
		{"old version", K, `{"Version":"2008-10-17","Statement":[{` + okKeyStmt + `}]}`, 1},
		{"empty id", K, `{"Version":"2012-10-17","Id":"","Statement":[{` + okKeyStmt + `}]}`, 1},
		{"key sid with spaces and duplicates", K, kp(`{"Sid":"Allow use of the key",`+okKeyStmt+`}`, `{"Sid":"Allow use of the key",`+okKeyStmt+`}`), 2},
		{"identity sids", I, kp(`{"Sid":"A1",`+okIDStmt+`}`, `{"Sid":"B2",`+okIDStmt+`}`, `{"Sid":"",`+okIDStmt+`}`, `{"Sid":"",`+okIDStmt+`}`), 4},
		{"key policy without resource", K, stmt(`"Effect":"Allow","Principal":"*","Action":"kms:*"`), 1},
		{"principal star", K, stmt(`"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"`), 1},
		{"aws star list", K, stmt(`"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"kms:*","Resource":"*"`), 1},
		{"all principal types", K, stmt(`"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws-cn:iam::111122223333:user/path/to/u+s=e,r.n@m_e-1","arn:aws:iam::111122223333:role/r","arn:aws:sts::111122223333:assumed-role/r/s","arn:aws:sts::111122223333:federated-user/f"],"Service":["ec2.amazonaws.com","logs.us-west-2.amazonaws.com"],"Federated":["cognito-identity.amazonaws.com","arn:aws:iam::111122223333:saml-provider/corp","arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"],"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"kms:*","Resource":"*"`), 1},
		{"condition value types", K, withCond(`{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":30},"Null":{"aws:x":[false,"true"]},"DateLessThan":{"aws:CurrentTime":["2020-01-01","2020-01","1546257599.5","2020-01-01T00:00:00.123+05:30","2020-01-01T10:00"]}}`), 1},
		{"forallvalues in identity policy", I, stmt(okIDStmt + `,"Condition":{"ForAllValues:StringEquals":{"aws:RequestTag/Project":"x","kms:EncryptionContext:a":"b"}}`), 1},
		{"all operators", K, withCond(`{
			"StringEquals":{"a:b":"x"},"StringNotEquals":{"a:b":"x"},"StringEqualsIgnoreCase":{"a:b":"x"},"StringNotEqualsIgnoreCase":{"a:b":"x"},
			"StringLike":{"a:b":"x*"},"StringNotLike":{"a:b":"x?"},
			"NumericEquals":{"a:b":"1"},"NumericNotEquals":{"a:b":"1"},"NumericLessThan":{"a:b":"1"},"NumericLessThanEquals":{"a:b":"1"},"NumericGreaterThan":{"a:b":"1"},"NumericGreaterThanEquals":{"a:b":"1"},
			"DateEquals":{"a:b":"2020-01-01"},"DateNotEquals":{"a:b":"2020-01-01"},"DateLessThan":{"a:b":"2020-01-01"},"DateLessThanEquals":{"a:b":"2020-01-01"},"DateGreaterThan":{"a:b":"2020-01-01"},"DateGreaterThanEquals":{"a:b":"2020-01-01"},
			"Bool":{"a:b":"true"},"BinaryEquals":{"a:b":"AAAA"},"IpAddress":{"a:b":"10.0.0.0/8"},"NotIpAddress":{"a:b":"::1"},
			"ArnEquals":{"a:b":"arn:aws:s3:::x"},"ArnLike":{"a:b":"arn:*"},"ArnNotEquals":{"a:b":"arn:aws:s3:::x"},"ArnNotLike":{"a:b":"arn:*"},"Null":{"a:b":"true"},
			"StringEqualsIfExists":{"a:b":"x"},"ForAnyValue:StringLikeIfExists":{"a:b":"x"},"ForAllValues:NumericLessThan":{"a:b":"3"},"ForAnyValue:Null":{"a:b":"true"}
		}`), 1},
		{"key policy at the size limit", K, stmt(okKeyStmt) + strings.Repeat(" ", policy.MaxKeyPolicyBytes-len(stmt(okKeyStmt))), 1},
		{"identity whitespace not counted", I, stmt(okIDStmt) + strings.Repeat("\n", 10000), 1},
		{"unterminated variable is literal", I, stmt(okIDStmt + `,"Condition":{"StringEquals":{"aws:x":"${aws:username"}}`), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.doc, tc.kind)
			if got := p.NumStatements(); got != tc.stmts {
				t.Errorf("NumStatements got %d, want %d", got, tc.stmts)
			}
			if p.Kind() != tc.kind {
				t.Errorf("Kind got %s, want %s", p.Kind(), tc.kind)
			}
		})
	}
}

func TestParseOptionsMaxSize(t *testing.T) {
	// About 9,000 characters: over the managed-policy default, within an
	// inline role policy's 10,240.
	doc := kp(strings.Repeat(`{`+okIDStmt+`},`, 199) + `{` + okIDStmt + `}`)
	if _, err := policy.ParseIdentityPolicy(doc); err == nil {
		t.Fatalf("ParseIdentityPolicy of a %d-byte document succeeded", len(doc))
	}
	p, err := policy.ParseWithOptions(doc, I, policy.ParseOptions{MaxSize: 10240})
	if err != nil {
		t.Fatalf("ParseWithOptions(MaxSize 10240): %v", err)
	}
	if got, want := p.NumStatements(), 200; got != want {
		t.Errorf("NumStatements got %d, want %d", got, want)
	}
	if _, err := policy.ParseWithOptions(stmt(okKeyStmt), K, policy.ParseOptions{MaxSize: 10}); err == nil {
		t.Errorf("key policy over a 10-byte limit succeeded")
	}
	if _, err := policy.ParseTrustPolicy(kp(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`)); err != nil {
		t.Errorf("ParseTrustPolicy: %v", err)
	}
}

func TestParseUnknownKind(t *testing.T) {
	_, err := policy.Parse(stmt(okKeyStmt), policy.KindUnknown)
	var pe *policy.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *ParseError", err)
	}
}

func TestAccessors(t *testing.T) {
	p := mustParse(t, corpusPolicies["console"].doc, K)
	if got, want := p.Version(), "2012-10-17"; got != want {
		t.Errorf("Version got %q, want %q", got, want)
	}
	if got, want := p.ID(), "key-consolepolicy-2"; got != want {
		t.Errorf("ID got %q, want %q", got, want)
	}
	got := strings.Join(p.AWSPrincipals(), ",")
	want := "arn:aws:iam::111122223333:role/ExampleRole,arn:aws:iam::111122223333:role/KMSAdminRole,arn:aws:iam::111122223333:root,arn:aws:iam::111122223333:user/ExampleUser,arn:aws:iam::111122223333:user/KMSAdminUser,arn:aws:iam::444455556666:root"
	if got != want {
		t.Errorf("AWSPrincipals got %s, want %s", got, want)
	}
	p = mustParse(t, stmt(`"Effect":"Allow","Principal":{"AWS":["*","444455556666"]},"Action":"kms:*","Resource":"*"`), K)
	if got, want := strings.Join(p.AWSPrincipals(), ","), "arn:aws:iam::444455556666:root"; got != want {
		t.Errorf("AWSPrincipals got %s, want %s", got, want)
	}
}

func TestEnums(t *testing.T) {
	for _, k := range []policy.Kind{policy.KindKey, policy.KindIdentity, policy.KindTrust} {
		if got, err := policy.ParseKind(k.String()); err != nil || got != k {
			t.Errorf("ParseKind(%q) got %v, %v, want %v", k.String(), got, err, k)
		}
	}
	for _, e := range []policy.Effect{policy.EffectAllow, policy.EffectDeny} {
		if got, err := policy.ParseEffect(e.String()); err != nil || got != e {
			t.Errorf("ParseEffect(%q) got %v, %v, want %v", e.String(), got, err, e)
		}
	}
	for _, d := range []policy.Decision{policy.NotApplicable, policy.Allow, policy.Deny} {
		if got, err := policy.ParseDecision(d.String()); err != nil || got != d {
			t.Errorf("ParseDecision(%q) got %v, %v, want %v", d.String(), got, err, d)
		}
	}
	for m := policy.MatchAttached; m <= policy.MatchNotPrincipal; m++ {
		if got, err := policy.ParsePrincipalMatch(m.String()); err != nil || got != m {
			t.Errorf("ParsePrincipalMatch(%q) got %v, %v, want %v", m.String(), got, err, m)
		}
	}
	for pt := policy.PrincipalRoot; pt <= policy.PrincipalService; pt++ {
		if got, err := policy.ParsePrincipalType(pt.String()); err != nil || got != pt {
			t.Errorf("ParsePrincipalType(%q) got %v, %v, want %v", pt.String(), got, err, pt)
		}
	}
	zero := []string{policy.KindUnknown.String(), policy.EffectUnknown.String(), policy.PrincipalMatchUnknown.String(), policy.PrincipalTypeUnknown.String(), policy.ReasonUnknown.String()}
	for _, s := range zero {
		if s != "unknown" && s != "Unknown" {
			t.Errorf("zero value String got %q, want unknown", s)
		}
	}
	if got, want := policy.Decision(0).String(), "NotApplicable"; got != want {
		t.Errorf("Decision(0) got %q, want %q", got, want)
	}
	for _, bad := range []string{"", "allow", "x"} {
		if _, err := policy.ParseEffect(bad); err == nil {
			t.Errorf("ParseEffect(%q) succeeded", bad)
		}
		if _, err := policy.ParseKind(bad); err == nil {
			t.Errorf("ParseKind(%q) succeeded", bad)
		}
		if _, err := policy.ParseDecision(bad); err == nil {
			t.Errorf("ParseDecision(%q) succeeded", bad)
		}
		if _, err := policy.ParsePrincipalMatch(bad); err == nil {
			t.Errorf("ParsePrincipalMatch(%q) succeeded", bad)
		}
		if _, err := policy.ParsePrincipalType(bad); err == nil {
			t.Errorf("ParsePrincipalType(%q) succeeded", bad)
		}
	}
}
