package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
)

// op builds a route from a typed handler: decode the request into In, call
// the handler, return its response for encoding.
func op[In any, Out any](name string, f func(ctx context.Context, c kms.Caller, in *In) (Out, error)) route {
	return route{name: name, handle: func(ctx context.Context, c kms.Caller, body []byte) (any, error) {
		in := new(In)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		return f(ctx, c, in)
	}}
}

// routeTable is every operation served, in the order of the AWS KMS API
// reference's operation list.
func (h *Handler) routeTable() []route {
	return []route{
		op("CancelKeyDeletion", h.cancelKeyDeletion),
		op("ConnectCustomKeyStore", h.connectCustomKeyStore),
		op("CreateAlias", h.createAlias),
		op("CreateCustomKeyStore", h.createCustomKeyStore),
		op("CreateGrant", h.createGrant),
		op("CreateKey", h.createKey),
		op("Decrypt", h.decrypt),
		op("DeleteAlias", h.deleteAlias),
		op("DeleteCustomKeyStore", h.deleteCustomKeyStore),
		op("DescribeCustomKeyStores", h.describeCustomKeyStores),
		op("DeriveSharedSecret", h.deriveSharedSecret),
		op("DescribeKey", h.describeKey),
		op("DeleteImportedKeyMaterial", h.deleteImportedKeyMaterial),
		op("DisableKey", h.disableKey),
		op("DisableKeyRotation", h.disableKeyRotation),
		op("DisconnectCustomKeyStore", h.disconnectCustomKeyStore),
		op("EnableKey", h.enableKey),
		op("EnableKeyRotation", h.enableKeyRotation),
		op("Encrypt", h.encrypt),
		op("GenerateDataKey", h.generateDataKey),
		op("GenerateDataKeyPair", h.generateDataKeyPair),
		op("GenerateDataKeyPairWithoutPlaintext", h.generateDataKeyPairWithoutPlaintext),
		op("GenerateDataKeyWithoutPlaintext", h.generateDataKeyWithoutPlaintext),
		op("GenerateMac", h.generateMac),
		op("GenerateRandom", h.generateRandom),
		op("GetKeyLastUsage", h.getKeyLastUsage),
		op("GetKeyPolicy", h.getKeyPolicy),
		op("GetKeyRotationStatus", h.getKeyRotationStatus),
		op("GetParametersForImport", h.getParametersForImport),
		op("GetPublicKey", h.getPublicKey),
		op("ImportKeyMaterial", h.importKeyMaterial),
		op("ListAliases", h.listAliases),
		op("ListGrants", h.listGrants),
		op("ListKeyPolicies", h.listKeyPolicies),
		op("ListKeyRotations", h.listKeyRotations),
		op("ListKeys", h.listKeys),
		op("ListResourceTags", h.listResourceTags),
		op("ListRetirableGrants", h.listRetirableGrants),
		op("PutKeyPolicy", h.putKeyPolicy),
		op("ReEncrypt", h.reEncrypt),
		op("RetireGrant", h.retireGrant),
		op("RevokeGrant", h.revokeGrant),
		op("RotateKeyOnDemand", h.rotateKeyOnDemand),
		op("ScheduleKeyDeletion", h.scheduleKeyDeletion),
		op("Sign", h.sign),
		op("TagResource", h.tagResource),
		op("UntagResource", h.untagResource),
		op("UpdateAlias", h.updateAlias),
		op("UpdateCustomKeyStore", h.updateCustomKeyStore),
		op("UpdateKeyDescription", h.updateKeyDescription),
		op("Verify", h.verify),
		op("VerifyMac", h.verifyMac),
	}
}
