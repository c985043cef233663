package audit

import "fmt"

// Enums: the zero value of each is "unknown"/unspecified, each has String
// and a Parse function, and those that appear in records marshal as text.

// parseEnum returns the index of s in names, skipping index 0 (unknown).
func parseEnum(kind string, names []string, s string) (int, error) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("audit: unknown %s %q", kind, s)
}

func enumName(names []string, i int) string {
	if i <= 0 || i >= len(names) {
		return names[0]
	}
	return names[i]
}

// Outcome classifies a request for queries: allowed, denied (authentication
// or authorization refused it), or error (anything else failed).
type Outcome int

const (
	OutcomeUnknown Outcome = iota
	OutcomeAllowed
	OutcomeDenied
	OutcomeError
)

var outcomeNames = []string{"unknown", "allowed", "denied", "error"}

func (o Outcome) String() string { return enumName(outcomeNames, int(o)) }

// ParseOutcome is the inverse of Outcome.String.
func ParseOutcome(s string) (Outcome, error) {
	i, err := parseEnum("outcome", outcomeNames, s)
	return Outcome(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; unknown names decode
// as OutcomeUnknown so that old readers accept new records.
func (o *Outcome) UnmarshalText(b []byte) error {
	*o, _ = ParseOutcome(string(b))
	return nil
}

// deniedCodes are the AWS exceptions that mean authentication or
// authorization refused the request.
var deniedCodes = map[string]bool{
	"AccessDeniedException":               true,
	"IncompleteSignatureException":        true,
	"InvalidClientTokenId":                true,
	"InvalidSignatureException":           true,
	"MissingAuthenticationTokenException": true,
	"NotAuthorizedException":              true,
	"RequestExpired":                      true,
	"SignatureDoesNotMatch":               true,
	"UnrecognizedClientException":         true,
	"ExpiredTokenException":               true,
}

// OutcomeFromErrorCode classifies a request by the AWS error code it got:
// "" is allowed, authentication and authorization exceptions are denied,
// anything else is an error.
func OutcomeFromErrorCode(code string) Outcome {
	switch {
	case code == "":
		return OutcomeAllowed
	case deniedCodes[code]:
		return OutcomeDenied
	default:
		return OutcomeError
	}
}

// Decision is the result of authorization.
type Decision int

const (
	DecisionUnknown Decision = iota
	DecisionAllow
	// DecisionExplicitDeny: a Deny statement matched.
	DecisionExplicitDeny
	// DecisionImplicitDeny: no statement or grant allowed.
	DecisionImplicitDeny
)

var decisionNames = []string{"Unknown", "Allow", "ExplicitDeny", "ImplicitDeny"}

func (d Decision) String() string { return enumName(decisionNames, int(d)) }

// ParseDecision is the inverse of Decision.String.
func ParseDecision(s string) (Decision, error) {
	i, err := parseEnum("decision", decisionNames, s)
	return Decision(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (unknown names decode
// as DecisionUnknown).
func (d *Decision) UnmarshalText(b []byte) error {
	*d, _ = ParseDecision(string(b))
	return nil
}

// Source is where an authorization reason comes from.
type Source int

const (
	SourceUnknown Source = iota
	// SourceKeyPolicy: a statement of the key policy.
	SourceKeyPolicy
	// SourceIdentityPolicy: a statement of an IAM (identity) policy.
	SourceIdentityPolicy
	// SourceGrant: a grant on the key.
	SourceGrant
	// SourceAccountRoot: the account's root principal.
	SourceAccountRoot
)

var sourceNames = []string{"unknown", "keyPolicy", "identityPolicy", "grant", "accountRoot"}

func (s Source) String() string { return enumName(sourceNames, int(s)) }

// ParseSource is the inverse of Source.String.
func ParseSource(s string) (Source, error) {
	i, err := parseEnum("source", sourceNames, s)
	return Source(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (unknown names decode
// as SourceUnknown).
func (s *Source) UnmarshalText(b []byte) error {
	*s, _ = ParseSource(string(b))
	return nil
}

// FailurePolicy says what Log does when a record cannot be made durable.
type FailurePolicy int

const (
	// FailurePolicyUnspecified means the default, FailClosed.
	FailurePolicyUnspecified FailurePolicy = iota
	// FailClosed: Log returns an error and the request must fail. Default.
	FailClosed
	// FailOpen: Log drops the record, counts it, logs loudly, and returns
	// nil.
	FailOpen
)

var failurePolicyNames = []string{"unspecified", "fail-closed", "fail-open"}

func (p FailurePolicy) String() string { return enumName(failurePolicyNames, int(p)) }

// ParseFailurePolicy is the inverse of FailurePolicy.String.
func ParseFailurePolicy(s string) (FailurePolicy, error) {
	i, err := parseEnum("failure policy", failurePolicyNames, s)
	return FailurePolicy(i), err
}

// Durability says when Log returns.
type Durability int

const (
	// DurabilityUnspecified means the default, DurabilitySync.
	DurabilityUnspecified Durability = iota
	// DurabilitySync: Log returns once the record's batch has been written
	// and the sink made it durable (FileSink: fsync). Default.
	DurabilitySync
	// DurabilityAsync: Log returns once the record's batch has been
	// written to the sink (to the OS page cache for a file), so write errors
	// still fail the request and a process crash loses nothing; the sink is
	// fsynced every SyncInterval, so an OS crash or power loss can lose
	// that much.
	DurabilityAsync
)

var durabilityNames = []string{"unspecified", "sync", "async"}

func (d Durability) String() string { return enumName(durabilityNames, int(d)) }

// ParseDurability is the inverse of Durability.String.
func ParseDurability(s string) (Durability, error) {
	i, err := parseEnum("durability", durabilityNames, s)
	return Durability(i), err
}

// DigestReason says why a digest record was written.
type DigestReason int

const (
	DigestReasonUnknown DigestReason = iota
	// DigestStart: the logger started (first record of a file). It signs
	// the chain head found on disk and notes any recovery.
	DigestStart
	// DigestCount: DigestEvery records since the previous digest.
	DigestCount
	// DigestInterval: DigestInterval elapsed with records pending.
	DigestInterval
	// DigestRotate: the last record of a file before rotation.
	DigestRotate
	// DigestClose: the last record written by Close.
	DigestClose
	// DigestRecovery: the first record after a failed write.
	DigestRecovery
)

var digestReasonNames = []string{"unknown", "start", "count", "interval", "rotate", "close", "recovery"}

func (r DigestReason) String() string { return enumName(digestReasonNames, int(r)) }

// ParseDigestReason is the inverse of DigestReason.String.
func ParseDigestReason(s string) (DigestReason, error) {
	i, err := parseEnum("digest reason", digestReasonNames, s)
	return DigestReason(i), err
}

// MarshalText implements encoding.TextMarshaler.
func (r DigestReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (unknown names decode
// as DigestReasonUnknown).
func (r *DigestReason) UnmarshalText(b []byte) error {
	*r, _ = ParseDigestReason(string(b))
	return nil
}

// closes reports whether a digest with this reason is the last record of
// its file.
func (r DigestReason) closes() bool { return r == DigestRotate || r == DigestClose }
