package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// neverRecorded are request and response fields that must never reach a
// record, whatever the operation: secrets, key material, data, tokens.
var neverRecorded = set(
	"plaintext", "ciphertextBlob", "sharedSecretCiphertextBlob", "sharedSecret",
	"publicKey", "privateKeyPlaintext", "privateKeyCiphertextBlob", "ciphertextForRecipient",
	"message", "signature", "mac",
	"grantTokens", "grantToken",
	"encryptedKeyMaterial", "importToken",
	"keyStorePassword", "xksProxyAuthenticationCredential", "trustAnchorCertificate",
	"recipient",
)

// droppedByChoice are fields that are not secret but that an audit record
// does not keep (CloudTrail does not record them either): response data of
// read and list operations, pagination output, and request metadata.
var droppedByChoice = set(
	// Responses of reads/lists/crypto: CloudTrail records null.
	"keyId", "keyMetadata", "encryptionAlgorithm", "keyMaterialId", "aliases", "nextMarker",
	"truncated", "customKeyStores", "keys", "tags", "grants", "policyNames", "rotations",
	"policy", "policyName", "keyRotationEnabled", "nextRotationDate", "onDemandRotationStartDate",
	"rotationPeriodInDays", "parametersValidTo", "customerMasterKeySpec", "encryptionAlgorithms",
	"keyAgreementAlgorithms", "keySpec", "keyUsage", "signingAlgorithms", "signingAlgorithm",
	"signatureValid", "macAlgorithm", "macValid", "keyPairSpec", "keyAgreementAlgorithm",
	"keyOrigin", "encapsulationAlgorithm", "encapsulationAlgorithms", "sourceKeyId",
	"sourceEncryptionAlgorithm", "destinationEncryptionAlgorithm", "sourceKeyMaterialId",
	"destinationKeyMaterialId", "keyCreationDate", "keyLastUsage", "trackingStartDate",
	"replicaKeyMetadata", "replicaPolicy", "replicaTags", "deletionDate", "keyState",
	"pendingWindowInDays", "customKeyStoreId", "grantId",
)

// sdkOperations lists every KMS operation of the AWS SDK for Go with its
// input and output types.
func sdkOperations(t *testing.T) map[string][2]reflect.Type {
	t.Helper()
	ct := reflect.TypeOf(&kms.Client{})
	ctxT := reflect.TypeOf((*context.Context)(nil)).Elem()
	ops := map[string][2]reflect.Type{}
	for i := 0; i < ct.NumMethod(); i++ {
		m := ct.Method(i)
		mt := m.Type
		if mt.NumIn() < 3 || mt.In(1) != ctxT || mt.NumOut() != 2 {
			continue
		}
		ops[m.Name] = [2]reflect.Type{mt.In(2).Elem(), mt.Out(0).Elem()}
	}
	if len(ops) < 50 {
		t.Fatalf("found %d KMS operations in the SDK, want at least 50", len(ops))
	}
	return ops
}

// fieldNames returns the exported fields of an SDK struct, CloudTrail-cased.
func fieldNames(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.IsExported() && f.Name != "ResultMetadata" {
			out = append(out, lowerFirst(f.Name))
		}
	}
	return out
}

// marker is the value planted in a field: unique per operation and field.
func marker(op, field string) string { return "MARKER-" + op + "-" + field + "-MARKER" }

// fill sets every exported field of the struct at v to a value that carries
// the marker of its top-level field.
func fill(v reflect.Value, mark string, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf((*time.Time)(nil)) {
			now := time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)
			v.Set(reflect.ValueOf(&now))
			return
		}
		n := reflect.New(v.Type().Elem())
		fill(n.Elem(), mark, depth+1)
		v.Set(n)
	case reflect.String:
		v.SetString(mark)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(7)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(mark))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), mark, depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, mark+"-key", depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, mark, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && v.Type().Field(i).Name != "ResultMetadata" {
				fill(v.Field(i), mark, depth+1)
			}
		}
	}
}

// filled returns a value of the SDK type typ with every field set to its
// marker.
func filled(typ reflect.Type, op string) any {
	v := reflect.New(typ)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.IsExported() && f.Name != "ResultMetadata" {
			fill(v.Elem().Field(i), marker(op, lowerFirst(f.Name)), 0)
		}
	}
	return v.Interface()
}

func TestEveryOperationIsClassified(t *testing.T) {
	ops := sdkOperations(t)
	for op, types := range ops {
		if _, ok := requestFields[op]; !ok {
			t.Errorf("operation %s has no request allow-list", op)
			continue
		}
		for _, f := range fieldNames(types[0]) {
			if requestFields[op][f] == neverRecorded[f] {
				t.Errorf("%s request field %s: allowed=%v, neverRecorded=%v; classify it exactly once", op, f, requestFields[op][f], neverRecorded[f])
			}
		}
		for _, f := range fieldNames(types[1]) {
			allowed := responseFields[op][f]
			if allowed && neverRecorded[f] || !allowed && !neverRecorded[f] && !droppedByChoice[f] {
				t.Errorf("%s response field %s is not classified (allowed=%v)", op, f, allowed)
			}
		}
	}
	for op := range requestFields {
		if _, ok := ops[op]; !ok {
			t.Errorf("allow-list names %s, which the SDK does not have", op)
		}
	}
}

// TestSanitizeEveryOperation feeds every operation's request and response,
// every field set to a marker, through the sanitizer: exactly the allowed
// fields survive and no marker of any other field appears in the output.
func TestSanitizeEveryOperation(t *testing.T) {
	for op, types := range sdkOperations(t) {
		for i, dir := range []string{"request", "response"} {
			typ := types[i]
			in := filled(typ, op)
			var got Parameters
			var allowed map[string]bool
			if i == 0 {
				got, allowed = SanitizeRequest(op, in), requestFields[op]
			} else {
				got, allowed = SanitizeResponse(op, in), responseFields[op]
			}
			var want []string
			for _, f := range fieldNames(typ) {
				if allowed[f] {
					want = append(want, f)
				}
			}
			slices.Sort(want)
			if g := got.Names(); !slices.Equal(g, want) {
				t.Errorf("%s %s: got fields %v, want %v", op, dir, g, want)
			}
			out, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fieldNames(typ) {
				if allowed[f] {
					continue
				}
				m := marker(op, f)
				if bytes.Contains(out, []byte(m)) || bytes.Contains(out, []byte(base64.StdEncoding.EncodeToString([]byte(m)))) {
					t.Errorf("%s %s: field %s (not allowed) leaked into %s", op, dir, f, out)
				}
			}
		}
	}
}

func TestSanitizeRawBodyAndCase(t *testing.T) {
	body := []byte(`{"KeyId":"alias/app","Plaintext":"c2VjcmV0","EncryptionContext":{"dept":"eng"},"GrantTokens":["tok"],"numberOfBytes":32,"KEYID":"x"}`)
	got := SanitizeRequest("Encrypt", body)
	if names := got.Names(); !slices.Equal(names, []string{"encryptionContext", "keyId"}) {
		t.Fatalf("got fields %v, want [encryptionContext keyId]", names)
	}
	out, _ := json.Marshal(got)
	if want := `{"encryptionContext":{"dept":"eng"},"keyId":"alias/app"}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	gdk := SanitizeRequest("GenerateDataKey", body)
	if v, _ := gdk.Get("numberOfBytes"); v == nil || v.(json.Number) != "32" {
		t.Errorf("numberOfBytes: got %v, want 32", v)
	}
	for _, tc := range []struct {
		name string
		op   string
		in   any
	}{
		{"unknown operation", "DecryptEverything", body},
		{"not JSON", "Encrypt", []byte("{not json")},
		{"JSON array", "Encrypt", []byte(`[{"KeyId":"k"}]`)},
		{"nil", "Encrypt", nil},
		{"unencodable", "Encrypt", map[string]any{"KeyId": func() {}}},
	} {
		if got := SanitizeRequest(tc.op, tc.in); !got.IsZero() {
			t.Errorf("%s: got %v, want nothing", tc.name, got.Names())
		}
	}
	if b, _ := json.Marshal(Parameters{}); string(b) != "null" {
		t.Errorf("zero Parameters: got %s, want null", b)
	}
	// A Parameters cannot be filled by decoding a request into it.
	var p Parameters
	_ = json.Unmarshal(body, &p)
	if !p.IsZero() {
		t.Errorf("json.Unmarshal into Parameters: got %v, want nothing", p.Names())
	}
	if !strings.Contains(string(mustJSON(t, SanitizeResponse("CreateGrant", map[string]any{"GrantId": "g1", "GrantToken": "secret-token"}))), `"grantId":"g1"`) {
		t.Error("CreateGrant response: grantId missing")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadOnly(t *testing.T) {
	for op, want := range map[string]bool{"Decrypt": true, "ListKeys": true, "CreateKey": false, "ScheduleKeyDeletion": false, "Bogus": false} {
		if got := ReadOnly(op); got != want {
			t.Errorf("ReadOnly(%s): got %v, want %v", op, got, want)
		}
	}
	for op := range readOnlyOps {
		if !KnownOperation(op) {
			t.Errorf("read-only op %s unknown", op)
		}
	}
}

// referenceSanitize is the straightforward filter that sanitize must agree
// with: decode the whole body into a map, keep the allowed, non-null fields.
func referenceSanitize(allowed map[string]bool, raw []byte) (map[string]any, bool) {
	if !json.Valid(raw) {
		return nil, true // not one JSON value: nothing is kept
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, true
	}
	seen := map[string]bool{}
	out := map[string]any{}
	for k, v := range obj {
		name := lowerFirst(k)
		if seen[name] {
			return nil, false // "KeyId" and "keyId" both: the reference's pick is random
		}
		seen[name] = true
		if allowed[name] && v != nil {
			out[name] = v
		}
	}
	return out, true
}

// FuzzSanitize checks the request filter, which reads attacker-supplied
// bodies, against referenceSanitize: never a panic, the same fields kept,
// and nothing outside the allow-list.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		`{"KeyId":"alias/x","Plaintext":"QUJD","EncryptionContext":{"a":"b"},"GrantTokens":["t"]}`,
		`{"keyId":"k","KeyId":"k2"}`,
		`{"KeyId":null,"EncryptionContext":{"x":[1,2.5e3,{"y":"\u00e9\"}"}]},"DryRun":true}`,
		` { "KeyId" : "a\"b\\c" , "Plaintext" : "}{" } `,
		`{"EncryptionContext":{"a":"b"},"EncryptionContext":null}`,
		`[1,2]`, `"x"`, `{`, `{"KeyId":"a"} trailing`, `{"K\u0065yId":"escaped name"}`,
		"{\"KeyId\":\"\xff\xfe\"}",
	} {
		f.Add([]byte(s))
	}
	allowed := requestFields["Encrypt"]
	f.Fuzz(func(t *testing.T, body []byte) {
		got := sanitize(allowed, body)
		for _, name := range got.Names() {
			if !allowed[name] {
				t.Fatalf("kept %q, which is not allowed", name)
			}
		}
		want, comparable := referenceSanitize(allowed, body)
		if !comparable {
			return
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON := []byte("null")
		if len(want) > 0 {
			wantJSON, _ = json.Marshal(want)
		}
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("body %q: kept %s, want %s", body, gotJSON, wantJSON)
		}
	})
}
