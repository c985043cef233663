package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// appendEvent appends the JSON encoding of e to b (returning nil if it
// cannot, see appendValue): byte for byte what
// encoding/json produces for an Event (field order, omitempty, string
// escaping, map key order), without its reflection and the re-validation
// of each Marshaler's output, which made encoding the largest part of a
// record's cost. TestAppendEventMatchesMarshal and FuzzAppendEvent hold it
// to that; a field added to Event must be added here too, or the tests
// fail.
func appendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendUserIdentity(b, &e.UserIdentity)
	b = append(b, `,"eventTime":"`...)
	b = e.EventTime.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","eventSource":`...)
	b = appendString(b, e.EventSource)
	b = append(b, `,"eventName":`...)
	b = appendString(b, e.EventName)
	b = append(b, `,"awsRegion":`...)
	b = appendString(b, e.AWSRegion)
	b = append(b, `,"sourceIPAddress":`...)
	b = appendString(b, e.SourceIPAddress)
	b = append(b, `,"userAgent":`...)
	b = appendString(b, e.UserAgent)
	if e.ErrorCode != "" {
		b = append(b, `,"errorCode":`...)
		b = appendString(b, e.ErrorCode)
	}
	if e.ErrorMessage != "" {
		b = append(b, `,"errorMessage":`...)
		b = appendString(b, e.ErrorMessage)
	}
	b = append(b, `,"requestParameters":`...)
	if b = appendParameters(b, e.RequestParameters); b == nil {
		return nil
	}
	b = append(b, `,"responseElements":`...)
	if b = appendParameters(b, e.ResponseElements); b == nil {
		return nil
	}
	b = append(b, `,"requestID":`...)
	b = appendString(b, e.RequestID)
	b = append(b, `,"eventID":`...)
	b = appendString(b, e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i, r := range e.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"accountId":`...)
			b = appendString(b, r.AccountID)
			b = append(b, `,"type":`...)
			b = appendString(b, r.Type)
			b = append(b, `,"ARN":`...)
			b = appendString(b, r.ARN)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"eventType":`...)
	b = appendString(b, e.EventType)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, e.ManagementEvent)
	b = append(b, `,"recipientAccountId":`...)
	b = appendString(b, e.RecipientAccountID)
	b = append(b, `,"eventCategory":`...)
	b = appendString(b, e.EventCategory)
	if t := e.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{`...)
		first := true
		b = appendOptional(b, &first, "tlsVersion", t.TLSVersion)
		b = appendOptional(b, &first, "cipherSuite", t.CipherSuite)
		b = appendOptional(b, &first, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	b = append(b, `,"openkms":`...)
	b = appendExtension(b, &e.OpenKMS)
	return append(b, '}')
}

// eventBody is cutBody for an event, appended to dst: its encoding without
// the two closing braces, from appendEvent, or from encoding/json in the
// rare case appendEvent leaves to it (a time outside years 0-9999, a
// Parameters value of a kind no decoded document has), so errors stay
// encoding/json's.
func eventBody(dst []byte, e *Event) ([]byte, error) {
	if y := e.EventTime.Year(); y >= 0 && y <= 9999 {
		if b := appendEvent(dst, e); b != nil {
			return b[:len(b)-2], nil // the event's and the openkms object's braces
		}
	}
	return cutBody(e)
}

// bodyPool recycles record buffers: a record's body is encoded into one, its
// line built in the same array (chainLine), and the buffer comes back once
// the sink has written the batch.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxPooledBody bounds the buffers kept for reuse.
const maxPooledBody = 16 << 10

func appendUserIdentity(b []byte, u *UserIdentity) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	first := false
	b = appendOptional(b, &first, "principalId", u.PrincipalID)
	b = appendOptional(b, &first, "arn", u.ARN)
	b = appendOptional(b, &first, "accountId", u.AccountID)
	b = appendOptional(b, &first, "accessKeyId", u.AccessKeyID)
	b = appendOptional(b, &first, "userName", u.UserName)
	if s := u.SessionContext; s != nil {
		b = append(b, `,"sessionContext":{`...)
		if i := s.SessionIssuer; i != nil {
			b = append(b, `"sessionIssuer":{"type":`...)
			b = appendString(b, i.Type)
			b = appendOptional(b, &first, "principalId", i.PrincipalID)
			b = appendOptional(b, &first, "arn", i.ARN)
			b = appendOptional(b, &first, "accountId", i.AccountID)
			b = appendOptional(b, &first, "userName", i.UserName)
			b = append(b, "},"...)
		}
		b = append(b, `"attributes":{`...)
		first = true
		b = appendOptional(b, &first, "creationDate", s.Attributes.CreationDate)
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"mfaAuthenticated":`...)
		b = appendString(b, s.Attributes.MFAAuthenticated)
		b = append(b, "}}"...)
	}
	return append(b, '}')
}

func appendExtension(b []byte, x *Extension) []byte {
	b = append(b, `{"outcome":`...)
	b = appendString(b, x.Outcome.String())
	if a := x.Authorization; a != nil {
		b = append(b, `,"authorization":{"decision":`...)
		b = appendString(b, a.Decision.String())
		if len(a.Reasons) > 0 {
			b = append(b, `,"reasons":[`...)
			for i, r := range a.Reasons {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"source":`...)
				b = appendString(b, r.Source.String())
				first := false
				b = appendOptional(b, &first, "policy", r.Policy)
				b = appendOptional(b, &first, "statementSid", r.StatementSID)
				b = appendOptional(b, &first, "grantId", r.GrantID)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if c := x.Chain; c != nil {
		b = append(b, `,"chain":{"seq":`...)
		b = strconv.AppendUint(b, c.Seq, 10)
		b = append(b, `,"prevHash":`...)
		b = appendString(b, c.PrevHash)
		b = append(b, `,"hash":`...)
		b = appendString(b, c.Hash)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendOptional appends `,"name":value` (no comma when *first), unless
// value is empty (omitempty).
func appendOptional(b []byte, first *bool, name, value string) []byte {
	if value == "" {
		return b
	}
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, value)
}

// appendParameters appends p as Parameters.MarshalJSON would: null when
// empty, else the object with sorted keys.
func appendParameters(b []byte, p Parameters) []byte {
	if len(p.m) == 0 {
		return append(b, "null"...)
	}
	return appendValue(b, p.m)
}

// appendValue appends a value of the kinds a decoded JSON document holds,
// the only kinds sanitize and Query put in Parameters, as encoding/json
// encodes them. It returns nil for anything else (or an invalid
// json.Number), and eventBody then leaves the record to encoding/json.
func appendValue(b []byte, v any) []byte {
	if b == nil {
		return nil
	}
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		if v == "" {
			return append(b, '0')
		}
		if !validNumber(string(v)) {
			return nil
		}
		return append(b, v...)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b = appendValue(b, v[k]); b == nil {
				return nil
			}
		}
		return append(b, '}')
	case []any:
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b = appendValue(b, x); b == nil {
				return nil
			}
		}
		return append(b, ']')
	}
	return nil
}

// validNumber reports whether s is a JSON number, as encoding/json requires
// of a json.Number it writes: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	digits := func(i int) int {
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(i + 1)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json writes
// it: HTML-sensitive <, > and & escaped, invalid UTF-8 replaced by U+FFFD,
// and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
