package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openkms/openkms/internal/policy"
)

// Limits, as AWS IAM documents them
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
const (
	MaxNameLen           = 64     // user and role names
	MaxPolicyNameLen     = 128    // inline and managed policy names
	MaxPathLen           = 512    // paths
	MaxDescriptionLen    = 1000   // role and policy descriptions
	MaxTagsPerResource   = 50     // tags on a user, role or policy; session tags
	MaxTagKeyLen         = 128    //
	MaxTagValueLen       = 256    //
	MaxPolicyDocumentLen = 131072 // the API's document parameter bound, in characters

	// Policy size quotas, counted in characters other than white space.
	MaxUserInlinePolicyChars = 2048  // all inline policies of one user together
	MaxRoleInlinePolicyChars = 10240 // all inline policies of one role together
	MaxManagedPolicyChars    = 6144  // one managed policy version
	MaxTrustPolicyChars      = 2048  // a role trust policy

	MaxAccessKeysPerUser    = 2
	MaxAttachedPerEntity    = 10 // managed policies attached to one user or role
	MaxUsersPerAccount      = 5000
	MaxRolesPerAccount      = 1000
	MaxPoliciesPerAccount   = 1500
	MinSessionDuration      = 900   // seconds
	DefaultSessionDuration  = 3600  // seconds
	DefaultMaxSessionLength = 3600  // a role's MaxSessionDuration when not set
	MaxMaxSessionDuration   = 43200 // the largest MaxSessionDuration of a role
)

// PolicyKind says what a policy document is for; it decides its size limit
// and required elements. The zero value is not a kind.
type PolicyKind int

const (
	PolicyKindUnknown PolicyKind = iota
	// PolicyInlineUser is an inline policy of a user.
	PolicyInlineUser
	// PolicyInlineRole is an inline policy of a role.
	PolicyInlineRole
	// PolicyManaged is a customer managed policy.
	PolicyManaged
	// PolicyTrust is a role's trust policy (AssumeRolePolicyDocument).
	PolicyTrust
)

// String returns a short name.
func (k PolicyKind) String() string {
	switch k {
	case PolicyInlineUser:
		return "inline-user"
	case PolicyInlineRole:
		return "inline-role"
	case PolicyManaged:
		return "managed"
	case PolicyTrust:
		return "trust"
	}
	return "unknown"
}

// ParsePolicyKind is the inverse of PolicyKind.String.
func ParsePolicyKind(s string) (PolicyKind, error) {
	for k := PolicyInlineUser; k <= PolicyTrust; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return PolicyKindUnknown, fmt.Errorf("identity: unknown policy kind %q", s)
}

// validationError is AWS's message for a request parameter that breaks its
// model constraint.
func validationError(field, value, constraint string) *Error {
	return newError(CodeValidationError,
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member %s", clip(value), field, constraint)
}

// clip bounds client input echoed in a message and replaces control bytes.
func clip(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isNameChar reports whether c is in [\w+=,.@-].
func isNameChar(c byte) bool {
	return isWordChar(c) || strings.IndexByte("+=,.@-", c) >= 0
}

// checkName validates a user, role or policy name: 1..max characters of
// [\w+=,.@-].
func checkName(field, v string, max int) error {
	if v == "" {
		return validationError(field, v, "must have length greater than or equal to 1")
	}
	if len(v) > max {
		return validationError(field, v, fmt.Sprintf("must have length less than or equal to %d", max))
	}
	for i := 0; i < len(v); i++ {
		if !isNameChar(v[i]) {
			return validationError(field, v, `must satisfy regular expression pattern: [\w+=,.@-]+`)
		}
	}
	return nil
}

// CheckSessionName validates a role session name: 2..64 of [\w+=,.@-].
// Errors are ValidationError.
func CheckSessionName(v string) error {
	if len(v) < 2 {
		return validationError("roleSessionName", v, "must have length greater than or equal to 2")
	}
	if len(v) > 64 {
		return validationError("roleSessionName", v, "must have length less than or equal to 64")
	}
	for i := 0; i < len(v); i++ {
		if !isNameChar(v[i]) {
			return validationError("roleSessionName", v, `must satisfy regular expression pattern: [\w+=,.@-]*`)
		}
	}
	return nil
}

// normPath returns the path, "/" when empty, or a ValidationError: "/" or
// "/x/.../" of printable ASCII, at most 512 characters.
func normPath(field, p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if len(p) > MaxPathLen {
		return "", validationError(field, p, fmt.Sprintf("must have length less than or equal to %d", MaxPathLen))
	}
	ok := p == "/" || len(p) >= 3 && p[0] == '/' && p[len(p)-1] == '/'
	for i := 0; ok && i < len(p); i++ {
		ok = p[i] >= 0x21 && p[i] <= 0x7e
	}
	if !ok {
		return "", validationError(field, p, `must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return p, nil
}

// normPolicyPath validates a managed policy path, which is stricter:
// ((/[A-Za-z0-9\.,\+@=_-]+)*)/.
func normPolicyPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if len(p) > MaxPathLen {
		return "", validationError("path", p, fmt.Sprintf("must have length less than or equal to %d", MaxPathLen))
	}
	ok := p[0] == '/' && p[len(p)-1] == '/' && !strings.Contains(p, "//")
	for i := 0; ok && i < len(p); i++ {
		c := p[i]
		ok = c == '/' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".,+@=_-", c) >= 0
	}
	if !ok {
		return "", validationError("path", p, `must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	return p, nil
}

// CheckPathPrefix validates a PathPrefix parameter of a List operation.
func CheckPathPrefix(p string) error {
	if p == "" {
		return nil
	}
	if len(p) > MaxPathLen {
		return validationError("pathPrefix", p, fmt.Sprintf("must have length less than or equal to %d", MaxPathLen))
	}
	ok := p[0] == '/'
	for i := 0; ok && i < len(p); i++ {
		ok = p[i] >= 0x21 && p[i] <= 0x7f
	}
	if !ok {
		return validationError("pathPrefix", p, `must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	}
	return nil
}

func checkDescription(v string) error {
	if utf8.RuneCountInString(v) > MaxDescriptionLen {
		return validationError("description", v, fmt.Sprintf("must have length less than or equal to %d", MaxDescriptionLen))
	}
	for _, r := range v {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r >= 0xa1 && r <= 0xff) || r == utf8.RuneError {
			return validationError("description", v, `must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
		}
	}
	return nil
}

// Tag is a key/value tag on a user, role, policy or session.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func isTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Z) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r)
}

// checkTags validates tags as a request parameter: AWS's key and value
// patterns and lengths, no duplicate keys (ignoring case), at most
// MaxTagsPerResource.
func checkTags(field string, tags []Tag) error {
	if len(tags) > MaxTagsPerResource {
		return newError(CodeLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	for i, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > MaxTagKeyLen || !utf8.ValidString(t.Key) {
			return validationError(fmt.Sprintf("%s.%d.member.key", field, i+1), t.Key, fmt.Sprintf("must have length less than or equal to %d", MaxTagKeyLen))
		}
		if utf8.RuneCountInString(t.Value) > MaxTagValueLen || !utf8.ValidString(t.Value) {
			return validationError(fmt.Sprintf("%s.%d.member.value", field, i+1), t.Value, fmt.Sprintf("must have length less than or equal to %d", MaxTagValueLen))
		}
		for _, r := range t.Key {
			if !isTagRune(r) {
				return validationError(fmt.Sprintf("%s.%d.member.key", field, i+1), t.Key, `must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
			}
		}
		for _, r := range t.Value {
			if !isTagRune(r) {
				return validationError(fmt.Sprintf("%s.%d.member.value", field, i+1), t.Value, `must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
			}
		}
		if len(t.Key) >= 4 && strings.EqualFold(t.Key[:4], "aws:") {
			return newError(CodeInvalidInput, "Tag keys beginning with 'aws:' are reserved for AWS use.")
		}
		for _, u := range tags[:i] {
			if strings.EqualFold(u.Key, t.Key) {
				return newError(CodeInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	return nil
}

// mergeTags applies add to have: a key equal to an existing one but for
// case replaces its value (and takes the new spelling), others are
// appended. It fails if the result has more than MaxTagsPerResource tags.
func mergeTags(have, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > MaxTagsPerResource {
		return nil, newError(CodeLimitExceeded, "The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags drops the tags whose keys equal one of keys, ignoring case.
func removeTags(have []Tag, keys []string) []Tag {
	out := have[:0:0]
	for _, t := range have {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// checkTagKeys validates the TagKeys parameter of an Untag operation.
func checkTagKeys(keys []string) error {
	if len(keys) > MaxTagsPerResource {
		return validationError("tagKeys", fmt.Sprint(len(keys)), fmt.Sprintf("must have length less than or equal to %d", MaxTagsPerResource))
	}
	for i, k := range keys {
		if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLen {
			return validationError(fmt.Sprintf("tagKeys.%d.member", i+1), k, fmt.Sprintf("must have length less than or equal to %d", MaxTagKeyLen))
		}
	}
	return nil
}

// policyChars counts the characters of doc other than white space, as IAM
// counts policy sizes.
func policyChars(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// checkPolicyDocument validates one document: the parameter's character set
// and length, the per-document size quota of its kind, and the policy
// grammar (package policy). Aggregate quotas (all inline policies of a user
// or role) are checked by the callers.
func (s *Store) checkPolicyDocument(field string, kind PolicyKind, doc string) error {
	if doc == "" {
		return validationError(field, doc, "must have length greater than or equal to 1")
	}
	if utf8.RuneCountInString(doc) > MaxPolicyDocumentLen {
		return validationError(field, "...", fmt.Sprintf("must have length less than or equal to %d", MaxPolicyDocumentLen))
	}
	for _, r := range doc {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xff) || r == utf8.RuneError {
			return validationError(field, "...", `must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
		}
	}
	var err error
	switch kind {
	case PolicyManaged:
		if n := policyChars(doc); n > MaxManagedPolicyChars {
			return newError(CodeLimitExceeded, "Cannot exceed quota for PolicySize: %d", MaxManagedPolicyChars)
		}
		_, err = policy.ParseIdentityPolicy(doc)
	case PolicyTrust:
		if n := policyChars(doc); n > MaxTrustPolicyChars {
			return newError(CodeLimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", MaxTrustPolicyChars)
		}
		_, err = ParseTrustPolicy(doc)
	default:
		_, err = policy.ParseIdentityPolicy(doc)
	}
	if err != nil {
		return policyError(err)
	}
	return nil
}

// policyError turns a parse error into the IAM error a client expects.
func policyError(err error) error {
	if e := AsError(err); e != nil {
		return e
	}
	var pe *policy.ParseError
	if errors.As(err, &pe) {
		if pe.Reason == policy.ReasonTooLarge {
			// Only inline role policies (10,240 together, any one of them as
			// large) get here: the policy language caps identity policies
			// at 6,144 characters. TODO(policy): lift once package policy
			// accepts inline role policies up to 10,240 characters.
			return newError(CodeLimitExceeded, "Cannot exceed quota for PolicySize: %d", policy.MaxIdentityPolicyChars)
		}
		return newError(CodeMalformedPolicyDocument, "%s", clipMessage(pe.Error()))
	}
	return newError(CodeMalformedPolicyDocument, "Syntax errors in policy.")
}

func clipMessage(s string) string {
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}
