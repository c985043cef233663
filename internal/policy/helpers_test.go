package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

// Accounts and ARNs used by the tests (the AWS documentation's examples).
const (
	acctA = "111122223333"
	acctB = "444455556666"
	acctC = "999988887777"
	keyA  = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyA2 = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	keyB  = "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyA3 = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
)

func root(acct string) policy.Principal {
	return policy.Principal{Type: policy.PrincipalRoot, ARN: "arn:aws:iam::" + acct + ":root", Account: acct, UserID: acct}
}

func user(acct, pathName string) policy.Principal {
	return policy.Principal{Type: policy.PrincipalUser, ARN: "arn:aws:iam::" + acct + ":user/" + pathName, Account: acct, UserID: "AIDAEXAMPLE" + strings.ToUpper(pathName[strings.LastIndexByte(pathName, '/')+1:])}
}

// sess is a session of role pathName (path allowed), with RoleARN set.
func sess(acct, pathName, session string) policy.Principal {
	name := pathName[strings.LastIndexByte(pathName, '/')+1:]
	return policy.Principal{
		Type:    policy.PrincipalAssumedRole,
		ARN:     "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + session,
		Account: acct,
		RoleARN: "arn:aws:iam::" + acct + ":role/" + pathName,
		UserID:  "AROAEXAMPLE:" + session,
	}
}

// sessNoRole is a session whose RoleARN is unknown.
func sessNoRole(acct, role, session string) policy.Principal {
	p := sess(acct, role, session)
	p.RoleARN = ""
	return p
}

func fed(acct, name string) policy.Principal {
	return policy.Principal{Type: policy.PrincipalFederatedUser, ARN: "arn:aws:sts::" + acct + ":federated-user/" + name, Account: acct}
}

func svc(name string) policy.Principal {
	return policy.Principal{Type: policy.PrincipalService, Service: name}
}

// rq builds a request; kv holds condition key/value pairs, a key repeated
// for a multivalued key. A value "<empty>" stores the key with no values.
func rq(p policy.Principal, action, resource string, kv ...string) policy.Request {
	r := policy.Request{Principal: p, Action: action, Resource: resource}
	if len(kv) > 0 {
		m := policy.ContextMap{}
		for i := 0; i+1 < len(kv); i += 2 {
			k := strings.ToLower(kv[i])
			if kv[i+1] == "<empty>" {
				m[k] = []string{}
				continue
			}
			m[k] = append(m[k], kv[i+1])
		}
		r.Context = m
	}
	return r
}

// kp wraps statements in a 2012-10-17 document.
func kp(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// matchesString renders matches as "0:account 2:exact/Deny"; the effect is
// shown only for Deny.
func matchesString(ms []policy.Match) string {
	var parts []string
	for _, m := range ms {
		s := fmt.Sprintf("%d:%s", m.StatementIndex, m.Principal)
		if m.Effect == policy.EffectDeny {
			s += "/Deny"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func mustParse(t testing.TB, doc string, kind policy.Kind) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v\n%s", kind, err, doc)
	}
	return p
}
