package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/openkms/openkms/internal/policy"
	"github.com/openkms/openkms/internal/storage"
)

// ParseTrustPolicy parses a role trust policy (AssumeRolePolicyDocument)
// for evaluation with package policy. Evaluate it with the action
// ("sts:AssumeRole", "sts:TagSession") and the role's ARN as the resource.
//
// A trust policy is a resource-based policy whose resource is implicitly the
// role: Principal is required and Resource is forbidden. Package policy
// knows key policies and identity policies; a key-policy statement without
// Resource never applies, so the document is parsed as a key policy with
// "Resource": "*" added to every statement, which is what a trust policy
// means. TODO(policy): use a trust-policy kind once package policy has one.
//
// Errors are *policy.ParseError, or *Error (MalformedPolicyDocument) for a
// statement that names a Resource.
func ParseTrustPolicy(doc string) (*policy.Policy, error) {
	if _, err := policy.ParseKeyPolicy(doc); err != nil {
		return nil, err
	}
	// The document is valid JSON with a Statement object or array of
	// objects: package policy checked.
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, newError(CodeMalformedPolicyDocument, "Syntax errors in policy.")
	}
	raw := bytes.TrimSpace(top["Statement"])
	var stmts []map[string]json.RawMessage
	single := len(raw) > 0 && raw[0] == '{'
	if single {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, newError(CodeMalformedPolicyDocument, "Syntax errors in policy.")
		}
		stmts = append(stmts, one)
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, newError(CodeMalformedPolicyDocument, "Syntax errors in policy.")
	}
	for _, st := range stmts {
		if _, ok := st["Resource"]; ok {
			return nil, newError(CodeMalformedPolicyDocument, "Has prohibited field Resource")
		}
		if _, ok := st["NotResource"]; ok {
			return nil, newError(CodeMalformedPolicyDocument, "Has prohibited field NotResource")
		}
		st["Resource"] = json.RawMessage(`"*"`)
	}
	var err error
	if single {
		top["Statement"], err = json.Marshal(stmts[0])
	} else {
		top["Statement"], err = json.Marshal(stmts)
	}
	if err != nil {
		return nil, errors.New("identity: re-encoding a trust policy")
	}
	rewritten, err := json.Marshal(top)
	if err != nil {
		return nil, errors.New("identity: re-encoding a trust policy")
	}
	return policy.ParseKeyPolicy(string(rewritten))
}

// checkTrustPrincipals rejects a trust policy that names a user or role
// that does not exist, as IAM does ("Invalid principal in policy").
func (s *Store) checkTrustPrincipals(ctx context.Context, doc string) error {
	p, err := ParseTrustPolicy(doc)
	if err != nil {
		return policyError(err)
	}
	return s.store.View(ctx, func(r storage.Reader) error {
		for _, a := range p.AWSPrincipals() {
			k := userKind
			account, _, name, ok := splitIAMARN(a, "user")
			if !ok {
				k = roleKind
				account, _, name, ok = splitIAMARN(a, "role")
			}
			if !ok {
				continue // an account, a session or another partition
			}
			e, err := getEntity(r, k, account, name)
			if errors.Is(err, ErrNoSuchEntity) || err == nil && e.ARN != a {
				return newError(CodeMalformedPolicyDocument, "Invalid principal in policy: \"AWS\":\"%s\"", clip(a))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
