// Package policy owns the AWS IAM policy language as OpenKMS enforces it:
// parsing and validating one policy document (a KMS key policy, an IAM
// identity policy or an IAM role trust policy) and evaluating it against one
// request, with an
// explanation of which statements applied and how the caller's principal
// matched.
//
// It follows the AWS specifications:
//
//   - IAM JSON policy elements:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
//   - condition operators:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   - multivalued context keys and set operators:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
//   - policy variables:
//     https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
//   - KMS key policies and condition keys:
//     https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
//     https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
//
// What is supported, the exact evaluation semantics, the limits and the
// deliberate deviations are written down in docs/POLICY.md.
//
// The package evaluates ONE policy. Combining a key policy, the caller's
// identity policies and grants (explicit Deny wins; a key-policy statement
// that names an account delegates to that account's IAM policies;
// cross-account access needs both sides) is the caller's job: Result lists
// every statement that applied, its effect and the kind of principal match,
// which is what that combination needs.
//
// The package is pure: no I/O, no global state besides constant tables. A
// parsed *Policy is immutable and safe for concurrent use by many
// goroutines; parse once and cache it. No input, however malformed, makes
// any function panic.
package policy
