package audit

import "strings"

// SanitizeQueryParameters returns the requestParameters of an IAM, STS or
// admin call made with the AWS Query protocol: the parameters on
// queryFields, renamed to CloudTrail's lowerCamelCase ("UserName" ->
// "userName"). It is an allow-list like SanitizeRequest: names, paths,
// ARNs, ids, durations and policy documents are kept; anything else, and in
// particular session tokens, external ids, MFA codes, session policies and
// tag values, is not. Responses of these calls are never recorded (their
// secret access keys and session credentials must not reach a record).
func SanitizeQueryParameters(params map[string]string) Parameters {
	out := make(map[string]any)
	for name, value := range params {
		if queryFields[name] {
			out[lowerFirst(name)] = value
		}
	}
	if len(out) == 0 {
		return Parameters{}
	}
	return Parameters{m: out}
}

// queryFields are the Query-protocol parameters an audit record keeps.
var queryFields = set(
	"AccessKeyId", "AccountId", "AssumeRolePolicyDocument", "Description", "DurationSeconds",
	"Marker", "MaxItems", "MaxSessionDuration", "OnlyAttached", "Path", "PathPrefix",
	"PermissionsBoundary", "PolicyArn", "PolicyDocument", "PolicyName", "RoleArn", "RoleName",
	"RoleSessionName", "Scope", "SetAsDefault", "Status", "UserName", "VersionId",
)

// queryReadOnly reports whether an IAM or STS action only reads, as
// CloudTrail's readOnly field says: Get*, List* and Simulate* actions.
func queryReadOnly(action string) bool {
	return strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List") || strings.HasPrefix(action, "Simulate")
}
