package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/principal"
)

// richEvents are events that use every field of Event, every optional
// branch, and strings that need escaping.
func richEvents() []Event {
	role := principal.Principal{Account: testAccount, ARN: "arn:aws:sts::111122223333:assumed-role/Admin/alice<&>",
		UserID: "AROAEXAMPLE:alice", Type: principal.TypeAssumedRole, AccessKeyID: "ASIAEXAMPLE"}
	full := sampleEvent(7)
	full.UserIdentity = IdentityFromPrincipal(role)
	full.UserIdentity.SessionContext.Attributes.CreationDate = "2026-11-28T00:00:00Z"
	full.ErrorCode, full.ErrorMessage = "AccessDeniedException", "User: \"x\" <not> authorized \u2028 \u2029 \x01\t\n\r\b\f \xff\xfe é 𝄞"
	full.ResponseElements = SanitizeResponse("CreateGrant", map[string]any{"GrantId": "g-1", "GrantToken": "secret"})
	full.RequestParameters = SanitizeRequest("CreateGrant", []byte(`{"KeyId":"k","Operations":["Encrypt","Decrypt"],
		"Constraints":{"EncryptionContextSubset":{"a":"<b>","z":"&","m":"\u00e9"}},"GranteePrincipal":"p",
		"Name":"n","DryRun":false,"Limit":12.5e3,"Nested":[null,true,-0.5,{"y":[]}]}`))
	full.TLSDetails = &TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "kms.local"}
	full.Resources = append(full.Resources, Resource{AccountID: "444455556666", Type: "AWS::KMS::Key", ARN: "arn:x"})
	full.OpenKMS.Authorization.Reasons = append(full.OpenKMS.Authorization.Reasons,
		Reason{Source: SourceGrant, GrantID: "g-2"}, Reason{Source: SourceIdentityPolicy})
	full.OpenKMS.Chain = &Chain{Seq: 42, PrevHash: "ab", Hash: ""}

	bare := Event{} // every omitempty field empty, no identity, nil pointers
	issuerless := sampleEvent(8)
	issuerless.UserIdentity.SessionContext = &SessionContext{Attributes: SessionAttributes{MFAAuthenticated: "false"}}
	issuerless.TLSDetails = &TLSDetails{}
	issuerless.OpenKMS.Authorization = &Authorization{Decision: DecisionExplicitDeny}
	return []Event{full, bare, issuerless, sampleEvent(1)}
}

// TestAppendEventMatchesMarshal holds the hand-written encoder to
// encoding/json's output, before and after normalize.
func TestAppendEventMatchesMarshal(t *testing.T) {
	now := time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)
	for i, ev := range richEvents() {
		for _, e := range []Event{ev, ev.normalize(now)} {
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got := appendEvent(nil, &e)
			if !bytes.Equal(got, want) {
				t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
			}
			body, err := eventBody(nil, &e)
			if err != nil || !bytes.Equal(body, want[:len(want)-2]) {
				t.Errorf("event %d: eventBody = %s, %v", i, body, err)
			}
		}
	}
}

// TestEventBodyFallsBack checks the cases appendEvent leaves to
// encoding/json: a year it cannot write and a value no document decodes to.
func TestEventBodyFallsBack(t *testing.T) {
	e := sampleEvent(1)
	e.EventTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := eventBody(nil, &e); err == nil {
		t.Error("year 10000: want encoding/json's error")
	}
	e = sampleEvent(1)
	e.ResponseElements = Parameters{m: map[string]any{"n": json.Number("01")}}
	if _, err := eventBody(nil, &e); err == nil {
		t.Error("invalid json.Number: want encoding/json's error")
	}
	e.ResponseElements = Parameters{m: map[string]any{"n": 3}}
	want, _ := cutBody(&e)
	if got, err := eventBody(nil, &e); err != nil || !bytes.Equal(got, want) {
		t.Errorf("an int value: got %s, %v; want %s", got, err, want)
	}
}

// FuzzAppendEvent compares the encoder with encoding/json on events whose
// strings and parameters come from the fuzzer.
func FuzzAppendEvent(f *testing.F) {
	f.Add("Encrypt", "agent \u2028<>&", `{"KeyId":"k","EncryptionContext":{"a":"b"}}`, "msg\xff")
	f.Add("", "", `{"Operations":[1,2.5,-3e10,true,null,{"x":"\ud834\udd1e"}]}`, "")
	f.Fuzz(func(t *testing.T, name, agent, body, msg string) {
		e := sampleEvent(3)
		e.EventName, e.UserAgent, e.ErrorMessage = name, agent, msg
		e.RequestParameters = SanitizeRequest("CreateGrant", []byte(body))
		e.UserIdentity.UserName = agent + msg
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEvent(nil, &e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
