package audit

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"unicode/utf8"
)

// Parameters is a sanitized JSON object: an event's requestParameters or
// responseElements. The zero value encodes as null.
//
// A Parameters can only be made by SanitizeRequest and SanitizeResponse
// (and by Query, reading records back); it has no exported fields and no
// UnmarshalJSON, so a request body cannot reach a record unfiltered.
type Parameters struct {
	m map[string]any
}

// IsZero reports whether p is empty (it encodes as null).
func (p Parameters) IsZero() bool { return len(p.m) == 0 }

// Get returns the value of the named (CloudTrail-cased) field.
func (p Parameters) Get(name string) (any, bool) {
	v, ok := p.m[name]
	return v, ok
}

// Names returns the field names, sorted.
func (p Parameters) Names() []string { return slices.Sorted(maps.Keys(p.m)) }

// MarshalJSON implements json.Marshaler: the object, or null when empty.
func (p Parameters) MarshalJSON() ([]byte, error) {
	if len(p.m) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(p.m)
}

// SanitizeRequest returns the requestParameters of a call to the KMS
// operation op (e.g. "Encrypt"), keeping only the fields CloudTrail records
// for it, renamed to CloudTrail's lowerCamelCase ("KeyId" -> "keyId").
//
// req may be the raw JSON request body ([]byte or json.RawMessage), a
// map[string]any, or a request struct (encoded with encoding/json first).
// Field names are matched in either case of their first letter.
//
// The filter is an allow-list per operation: an unknown operation, an
// unknown field, or input that is not a JSON object yields nothing. Never
// kept, for any operation: Plaintext, CiphertextBlob, data keys and private
// keys, public key blobs, Message, Signature, Mac, GrantTokens/GrantToken,
// EncryptedKeyMaterial, ImportToken, KeyStorePassword, XKS proxy
// credentials, Recipient attestation documents. SanitizeRequest does not
// retain req.
func SanitizeRequest(op string, req any) Parameters {
	return sanitize(requestFields[op], req)
}

// SanitizeResponse returns the responseElements of a successful call to op,
// with the same rules as SanitizeRequest. Like CloudTrail, it records
// nothing (null) for cryptographic, read and list operations, and only
// identifiers and metadata for the others (e.g. CreateGrant keeps grantId,
// never grantToken).
func SanitizeResponse(op string, resp any) Parameters {
	return sanitize(responseFields[op], resp)
}

func sanitize(allowed map[string]bool, v any) Parameters {
	if len(allowed) == 0 || v == nil {
		return Parameters{}
	}
	raw := toJSON(v)
	if raw == nil || !json.Valid(raw) {
		return Parameters{}
	}
	out := make(map[string]any)
	var buf [64]byte
	ok := eachMember(raw, func(key, value []byte) {
		if len(key) > len(buf) {
			return // longer than any field name
		}
		n := copy(buf[:], key)
		if c := buf[0]; n > 0 && 'A' <= c && c <= 'Z' {
			buf[0] = c + 'a' - 'A'
		}
		if !allowed[string(buf[:n])] {
			return // never decoded: Plaintext and the like are only skipped over
		}
		name := string(buf[:n])
		if val := decodeValue(value); val != nil {
			out[name] = val
		} else {
			delete(out, name) // a later null overrides, as encoding/json's last-wins does
		}
	})
	if !ok || len(out) == 0 {
		return Parameters{}
	}
	return Parameters{m: out}
}

// toJSON returns v as JSON: itself if it is raw JSON, else its encoding.
func toJSON(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case json.RawMessage:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		return b
	}
}

// eachMember calls fn with the decoded name and raw value of each member of
// the JSON object raw, in order, and reports whether raw is an object. raw
// must be valid JSON (json.Valid); the scan relies on it and only skips.
func eachMember(raw []byte, fn func(key, value []byte)) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		end := skipString(raw, i)
		key := unquote(raw[i:end])
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // the ':'
		vend := skipValue(raw, i)
		fn(key, raw[i:vend])
		i = skipSpace(raw, vend)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// unquote decodes a JSON string token; plain ASCII without escapes, the
// usual case, is used as it is.
func unquote(tok []byte) []byte {
	inner := tok[1 : len(tok)-1]
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf || c < ' ' {
			var s string
			if err := json.Unmarshal(tok, &s); err != nil {
				return nil
			}
			return []byte(s)
		}
	}
	return inner
}

// decodeValue decodes one member's JSON value (numbers as json.Number); nil
// for null.
func decodeValue(raw []byte) any {
	if raw[0] == '"' {
		return string(unquote(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var val any
	if err := dec.Decode(&val); err != nil {
		return nil
	}
	return val
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// requestFields is, for every KMS operation, the request fields an audit
// record keeps. Every field of every operation is classified in
// sanitize_test.go against the AWS SDK's input types.
var requestFields = map[string]map[string]bool{
	"CancelKeyDeletion":     set("keyId"),
	"ConnectCustomKeyStore": set("customKeyStoreId"),
	"CreateAlias":           set("aliasName", "targetKeyId"),
	"CreateCustomKeyStore": set("customKeyStoreName", "cloudHsmClusterId", "customKeyStoreType",
		"xksProxyConnectivity", "xksProxyUriEndpoint", "xksProxyUriPath",
		"xksProxyVpcEndpointServiceName", "xksProxyVpcEndpointServiceOwner"),
	"CreateGrant": set("keyId", "operations", "constraints", "dryRun", "granteePrincipal",
		"granteeServicePrincipal", "name", "retiringPrincipal", "retiringServicePrincipal"),
	"CreateKey": set("bypassPolicyLockoutSafetyCheck", "customKeyStoreId", "customerMasterKeySpec",
		"description", "keySpec", "keyUsage", "multiRegion", "origin", "policy", "tags", "xksKeyId"),
	"Decapsulate":                         set("encapsulationAlgorithm", "keyId", "dryRun"),
	"Decrypt":                             set("dryRun", "dryRunModifiers", "encryptionAlgorithm", "encryptionContext", "keyId"),
	"DeleteAlias":                         set("aliasName"),
	"DeleteCustomKeyStore":                set("customKeyStoreId"),
	"DeleteImportedKeyMaterial":           set("keyId", "keyMaterialId"),
	"DeriveSharedSecret":                  set("keyAgreementAlgorithm", "keyId", "dryRun"),
	"DescribeCustomKeyStores":             set("customKeyStoreId", "customKeyStoreName", "limit", "marker"),
	"DescribeKey":                         set("keyId"),
	"DisableKey":                          set("keyId"),
	"DisableKeyRotation":                  set("keyId"),
	"DisconnectCustomKeyStore":            set("customKeyStoreId"),
	"EnableKey":                           set("keyId"),
	"EnableKeyRotation":                   set("keyId", "rotationPeriodInDays"),
	"Encapsulate":                         set("encapsulationAlgorithm", "keyId", "dryRun"),
	"Encrypt":                             set("keyId", "dryRun", "encryptionAlgorithm", "encryptionContext"),
	"GenerateDataKey":                     set("keyId", "dryRun", "encryptionContext", "keySpec", "numberOfBytes"),
	"GenerateDataKeyPair":                 set("keyId", "keyPairSpec", "dryRun", "encryptionContext"),
	"GenerateDataKeyPairWithoutPlaintext": set("keyId", "keyPairSpec", "dryRun", "encryptionContext"),
	"GenerateDataKeyWithoutPlaintext":     set("keyId", "dryRun", "encryptionContext", "keySpec", "numberOfBytes"),
	"GenerateMac":                         set("keyId", "macAlgorithm", "dryRun"),
	"GenerateRandom":                      set("customKeyStoreId", "numberOfBytes"),
	"GetKeyLastUsage":                     set("keyId"),
	"GetKeyPolicy":                        set("keyId", "policyName"),
	"GetKeyRotationStatus":                set("keyId"),
	"GetParametersForImport":              set("keyId", "wrappingAlgorithm", "wrappingKeySpec"),
	"GetPublicKey":                        set("keyId"),
	"ImportKeyMaterial":                   set("keyId", "expirationModel", "importType", "keyMaterialDescription", "keyMaterialId", "validTo"),
	"ListAliases":                         set("keyId", "limit", "marker"),
	"ListGrants":                          set("keyId", "grantId", "granteePrincipal", "granteeServicePrincipal", "limit", "marker"),
	"ListKeyPolicies":                     set("keyId", "limit", "marker"),
	"ListKeyRotations":                    set("keyId", "includeKeyMaterial", "limit", "marker"),
	"ListKeys":                            set("limit", "marker"),
	"ListResourceTags":                    set("keyId", "limit", "marker"),
	"ListRetirableGrants":                 set("limit", "marker", "retiringPrincipal", "retiringServicePrincipal"),
	"PutKeyPolicy":                        set("keyId", "policy", "bypassPolicyLockoutSafetyCheck", "policyName"),
	"ReEncrypt": set("destinationKeyId", "destinationEncryptionAlgorithm", "destinationEncryptionContext",
		"dryRun", "dryRunModifiers", "sourceEncryptionAlgorithm", "sourceEncryptionContext", "sourceKeyId"),
	"ReplicateKey":         set("keyId", "replicaRegion", "bypassPolicyLockoutSafetyCheck", "description", "policy", "tags"),
	"RetireGrant":          set("dryRun", "grantId", "keyId"),
	"RevokeGrant":          set("grantId", "keyId", "dryRun"),
	"RotateKeyOnDemand":    set("keyId"),
	"ScheduleKeyDeletion":  set("keyId", "pendingWindowInDays"),
	"Sign":                 set("keyId", "signingAlgorithm", "dryRun", "messageType"),
	"TagResource":          set("keyId", "tags"),
	"UntagResource":        set("keyId", "tagKeys"),
	"UpdateAlias":          set("aliasName", "targetKeyId"),
	"UpdateCustomKeyStore": set("customKeyStoreId", "cloudHsmClusterId", "newCustomKeyStoreName", "xksProxyConnectivity", "xksProxyUriEndpoint", "xksProxyUriPath", "xksProxyVpcEndpointServiceName", "xksProxyVpcEndpointServiceOwner"),
	"UpdateKeyDescription": set("description", "keyId"),
	"UpdatePrimaryRegion":  set("keyId", "primaryRegion"),
	"Verify":               set("keyId", "signingAlgorithm", "dryRun", "messageType"),
	"VerifyMac":            set("keyId", "macAlgorithm", "dryRun"),
}

// responseFields is, for the operations whose responses CloudTrail records,
// the response fields kept. Operations not listed record null.
var responseFields = map[string]map[string]bool{
	"CancelKeyDeletion":         set("keyId"),
	"CreateCustomKeyStore":      set("customKeyStoreId"),
	"CreateGrant":               set("grantId"),
	"CreateKey":                 set("keyMetadata"),
	"DeleteImportedKeyMaterial": set("keyId", "keyMaterialId"),
	"GetParametersForImport":    set("keyId", "parametersValidTo"),
	"ImportKeyMaterial":         set("keyId", "keyMaterialId"),
	"ReplicateKey":              set("replicaKeyMetadata", "replicaPolicy", "replicaTags"),
	"RotateKeyOnDemand":         set("keyId"),
	"ScheduleKeyDeletion":       set("keyId", "deletionDate", "keyState", "pendingWindowInDays"),
}

// readOnlyOps are the operations that change no state (CloudTrail's
// readOnly).
var readOnlyOps = set(
	"Decapsulate", "Decrypt", "DeriveSharedSecret", "DescribeCustomKeyStores", "DescribeKey",
	"Encapsulate", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
	"GenerateRandom", "GetKeyLastUsage", "GetKeyPolicy", "GetKeyRotationStatus",
	"GetParametersForImport", "GetPublicKey", "ListAliases", "ListGrants", "ListKeyPolicies",
	"ListKeyRotations", "ListKeys", "ListResourceTags", "ListRetirableGrants", "ReEncrypt",
	"Sign", "Verify", "VerifyMac",
)

// ReadOnly reports whether op changes no state (CloudTrail's readOnly).
// Unknown operations are not read-only.
func ReadOnly(op string) bool { return readOnlyOps[op] }

// KnownOperation reports whether op is a KMS operation the sanitizer knows.
func KnownOperation(op string) bool { _, ok := requestFields[op]; return ok }
