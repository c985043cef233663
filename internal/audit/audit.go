// Package audit owns the audit trail of OpenKMS: one CloudTrail-shaped record
// for every KMS request (allowed, denied, failed validation, failed
// authentication), written before the response is sent.
//
// The record follows the CloudTrail record contents
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)
// and the KMS CloudTrail examples
// (https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html),
// with one extension object, "openkms", that carries the authorization basis
// and the tamper-evidence chain. docs/AUDIT.md describes the format.
//
// The parts:
//
//   - Event, built by the HTTP layer for each request. Its request
//     parameters and response elements can only be set through
//     SanitizeRequest and SanitizeResponse, which keep an allow-list of
//     fields per operation: plaintext, ciphertext, data keys, secrets and
//     tokens never reach a record.
//   - Logger, the front: Log batches concurrent callers into group commits
//     (one write and one fsync per batch), chains every record to the
//     previous one with SHA-256, and interleaves digest records signed with
//     an Ed25519 audit signing key.
//   - Sink, where the bytes go: FileSink (rotated JSON Lines files, fsync per
//     batch) or WriterSink (stdout).
//   - Verify and Query, which read a log directory offline.
package audit

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/principal"
)

// Constant CloudTrail fields that Log fills in.
const (
	EventVersion = "1.11"
	EventSource  = "kms.amazonaws.com"
	// EventSourceIAM and EventSourceSTS are the sources of IAM and STS
	// calls, as CloudTrail names them; EventSourceAdmin is OpenKMS's own
	// admin API (CreateAccount). An event's EventSource is one of the four;
	// any other value is replaced by EventSource.
	EventSourceIAM   = "iam.amazonaws.com"
	EventSourceSTS   = "sts.amazonaws.com"
	EventSourceAdmin = "admin.openkms"
	EventTypeAPI     = "AwsApiCall"
	EventCategory    = "Management"
	ResourceTypeKey  = "AWS::KMS::Key"
	// TimeFormat is the layout of eventTime: RFC 3339, UTC, seconds.
	TimeFormat = "2006-01-02T15:04:05Z"
)

// Bounds on caller-controlled free text, so that one record stays small.
// Longer values are cut (on a UTF-8 boundary) and marked with "...".
const (
	maxEventName    = 128
	maxUserAgent    = 1024
	maxErrorMessage = 2048
	maxShortField   = 256
)

// Event is one audit record: one KMS request and its outcome, in the shape of
// a CloudTrail record. JSON field names are CloudTrail's.
//
// The HTTP layer fills the request-specific fields; Log fills the constant
// ones (EventVersion, EventSource, EventType, ManagementEvent,
// EventCategory), derives ReadOnly from EventName, and fills EventID,
// EventTime, RecipientAccountID and OpenKMS.Outcome when they are zero.
// OpenKMS.Chain is set by the Logger and is only meaningful on events read
// back by Query.
type Event struct {
	EventVersion      string       `json:"eventVersion"`
	UserIdentity      UserIdentity `json:"userIdentity"`
	EventTime         time.Time    `json:"eventTime"`
	EventSource       string       `json:"eventSource"`
	EventName         string       `json:"eventName"`
	AWSRegion         string       `json:"awsRegion"`
	SourceIPAddress   string       `json:"sourceIPAddress"`
	UserAgent         string       `json:"userAgent"`
	ErrorCode         string       `json:"errorCode,omitempty"`
	ErrorMessage      string       `json:"errorMessage,omitempty"`
	RequestParameters Parameters   `json:"requestParameters"`
	ResponseElements  Parameters   `json:"responseElements"`
	RequestID         string       `json:"requestID"`
	EventID           string       `json:"eventID"`
	ReadOnly          bool         `json:"readOnly"`
	Resources         []Resource   `json:"resources,omitempty"`
	EventType         string       `json:"eventType"`
	ManagementEvent   bool         `json:"managementEvent"`
	// RecipientAccountID is the account that owns the resource; Log sets it
	// to the first resource's account, else the caller's account.
	RecipientAccountID string      `json:"recipientAccountId"`
	EventCategory      string      `json:"eventCategory"`
	TLSDetails         *TLSDetails `json:"tlsDetails,omitempty"`
	// OpenKMS is the OpenKMS extension. It must stay the last field: the
	// chain is appended to it when the record is written.
	OpenKMS Extension `json:"openkms"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	// Type is "Root", "IAMUser", "AssumedRole", or "Unknown" for a caller
	// that failed authentication.
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext is CloudTrail's userIdentity.sessionContext, present for
// temporary credentials.
type SessionContext struct {
	SessionIssuer *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes    SessionAttributes `json:"attributes"`
}

// SessionIssuer is the role (or user) that issued a session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// SessionAttributes is sessionContext.attributes.
type SessionAttributes struct {
	// CreationDate is when the session was issued, RFC 3339 UTC.
	CreationDate     string `json:"creationDate,omitempty"`
	MFAAuthenticated string `json:"mfaAuthenticated"` // "true" or "false"
}

// Resource is one element of CloudTrail's resources list.
type Resource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// TLSDetails is CloudTrail's tlsDetails element.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion,omitempty"`
	CipherSuite              string `json:"cipherSuite,omitempty"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader,omitempty"`
}

// Extension is the "openkms" object of a record.
type Extension struct {
	// Outcome classifies the request; Log derives it from ErrorCode when
	// it is OutcomeUnknown.
	Outcome Outcome `json:"outcome"`
	// Authorization is why the request was allowed or denied, when the
	// request got as far as authorization.
	Authorization *Authorization `json:"authorization,omitempty"`
	// Chain is set by the Logger when the record is written; any value the
	// caller puts here is ignored.
	Chain *Chain `json:"chain,omitempty"`
}

// Authorization records the decision of the policy engine and what it was
// based on.
type Authorization struct {
	Decision Decision `json:"decision"`
	// Reasons lists the statements and grants that decided, e.g. the key
	// policy statement that allowed and, for a cross-account call, the IAM
	// policy statement that allowed too.
	Reasons []Reason `json:"reasons,omitempty"`
}

// Reason is one basis of an authorization decision.
type Reason struct {
	Source Source `json:"source"`
	// Policy names the policy: the key ARN and policy name for a key
	// policy, the policy ARN or name for an identity policy.
	Policy       string `json:"policy,omitempty"`
	StatementSID string `json:"statementSid,omitempty"`
	GrantID      string `json:"grantId,omitempty"`
}

// Chain is the tamper-evidence link of a record: its position and hashes.
type Chain struct {
	// Seq is the record's sequence number, starting at 1 and increasing by
	// one per record (events and digests) across files.
	Seq uint64 `json:"seq"`
	// PrevHash is the hex SHA-256 of the previous record's canonical bytes.
	PrevHash string `json:"prevHash"`
	// Hash is the hex SHA-256 of this record's canonical bytes: the line as
	// written with the hash value replaced by the empty string.
	Hash string `json:"hash"`
}

// IdentityFromPrincipal returns the userIdentity of an authenticated caller.
func IdentityFromPrincipal(p principal.Principal) UserIdentity {
	id := UserIdentity{
		Type:        p.Type.String(),
		PrincipalID: p.UserID,
		ARN:         p.ARN,
		AccountID:   p.Account,
		AccessKeyID: p.AccessKeyID,
	}
	res := afterNth(p.ARN, ':', 5)
	switch p.Type {
	case principal.TypeIAMUser:
		if name, ok := strings.CutPrefix(res, "user/"); ok {
			id.UserName = name[strings.LastIndexByte(name, '/')+1:]
		}
	case principal.TypeAssumedRole:
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, _, _ := strings.Cut(rest, "/")
			roleID, _, _ := strings.Cut(p.UserID, ":")
			partition := afterNth(p.ARN, ':', 1)
			partition, _, _ = strings.Cut(partition, ":")
			id.SessionContext = &SessionContext{
				SessionIssuer: &SessionIssuer{
					Type:        "Role",
					PrincipalID: roleID,
					ARN:         "arn:" + partition + ":iam::" + p.Account + ":role/" + role,
					AccountID:   p.Account,
					UserName:    role,
				},
				Attributes: SessionAttributes{MFAAuthenticated: "false"},
			}
		}
	}
	return id
}

// afterNth returns s after its n-th occurrence of sep, or "" if there are
// fewer.
func afterNth(s string, sep byte, n int) string {
	for range n {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			return ""
		}
		s = s[i+1:]
	}
	return s
}

// UnauthenticatedIdentity returns the userIdentity of a caller that failed
// authentication: type "Unknown" and the access key id it claimed, if any.
func UnauthenticatedIdentity(accessKeyID string) UserIdentity {
	return UserIdentity{Type: "Unknown", AccessKeyID: truncate(accessKeyID, 128)}
}

// KeyResources returns the resources element for the keys a request touched
// (ARNs of the form arn:PARTITION:kms:REGION:ACCOUNT:key/ID). Empty ARNs
// are skipped.
func KeyResources(keyARNs ...string) []Resource {
	var out []Resource
	for _, a := range keyARNs {
		if a == "" {
			continue
		}
		account, _, _ := strings.Cut(afterNth(a, ':', 4), ":")
		out = append(out, Resource{AccountID: account, Type: ResourceTypeKey, ARN: a})
	}
	return out
}

// TLSDetailsFrom returns the tlsDetails element for a request served over
// TLS (nil for plain HTTP): CloudTrail's names, e.g. "TLSv1.3" and
// "TLS_AES_128_GCM_SHA256". host is the request's Host header.
func TLSDetailsFrom(cs *tls.ConnectionState, host string) *TLSDetails {
	if cs == nil {
		return nil
	}
	return &TLSDetails{
		TLSVersion:               strings.Replace(tls.VersionName(cs.Version), "TLS 1.", "TLSv1.", 1),
		CipherSuite:              tls.CipherSuiteName(cs.CipherSuite),
		ClientProvidedHostHeader: truncate(host, maxShortField),
	}
}

// NewID returns a random (version 4) UUID: an eventID, and the request ids
// the API handlers answer with.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// truncate cuts s to at most n bytes on a UTF-8 boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}

// normalize fills the fields Log owns and bounds caller-controlled text. It
// works on a copy.
func (ev Event) normalize(now time.Time) Event {
	ev.EventVersion = EventVersion
	ev.EventType = EventTypeAPI
	ev.EventCategory = EventCategory
	ev.ManagementEvent = true
	switch ev.EventSource {
	case EventSourceIAM, EventSourceSTS, EventSourceAdmin:
		ev.ReadOnly = queryReadOnly(ev.EventName)
	default:
		ev.EventSource = EventSource
		ev.ReadOnly = ReadOnly(ev.EventName)
	}
	if ev.EventTime.IsZero() {
		ev.EventTime = now
	}
	ev.EventTime = ev.EventTime.UTC().Truncate(time.Second)
	if ev.EventID == "" {
		ev.EventID = NewID()
	}
	if ev.UserIdentity.Type == "" {
		ev.UserIdentity.Type = "Unknown"
	}
	if ev.RecipientAccountID == "" {
		if len(ev.Resources) > 0 {
			ev.RecipientAccountID = ev.Resources[0].AccountID
		} else {
			ev.RecipientAccountID = ev.UserIdentity.AccountID
		}
	}
	if ev.OpenKMS.Outcome == OutcomeUnknown {
		ev.OpenKMS.Outcome = OutcomeFromErrorCode(ev.ErrorCode)
	}
	ev.OpenKMS.Chain = nil
	ev.EventName = truncate(ev.EventName, maxEventName)
	ev.UserAgent = truncate(ev.UserAgent, maxUserAgent)
	ev.ErrorMessage = truncate(ev.ErrorMessage, maxErrorMessage)
	ev.ErrorCode = truncate(ev.ErrorCode, maxShortField)
	ev.SourceIPAddress = truncate(ev.SourceIPAddress, maxShortField)
	ev.AWSRegion = truncate(ev.AWSRegion, maxShortField)
	ev.RequestID = truncate(ev.RequestID, maxShortField)
	return ev
}

// String formats the event briefly for logs: never parameters.
func (ev Event) String() string {
	return fmt.Sprintf("%s %s by %s: %s", ev.EventTime.UTC().Format(TimeFormat), ev.EventName, ev.UserIdentity.ARN, ev.OpenKMS.Outcome)
}
