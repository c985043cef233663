package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
)

// Each handler converts its wire request to the service's input, calls the
// service, and converts the result back. Nothing else happens here.

func (h *Handler) createKey(ctx context.Context, c kms.Caller, in *createKeyRequest) (*keyMetadataResponse, error) {
	spec := in.KeySpec
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	} else if in.CustomerMasterKeySpec != "" {
		return nil, kmserr.New(kmserr.Validation, "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.")
	}
	md, err := h.svc.CreateKey(ctx, c, kms.CreateKeyInput{
		Description:                    deref(in.Description),
		KeySpec:                        spec,
		KeyUsage:                       in.KeyUsage,
		Origin:                         in.Origin,
		Policy:                         deref(in.Policy),
		Tags:                           fromWireTags(in.Tags),
		BypassPolicyLockoutSafetyCheck: in.BypassPolicyLockoutSafetyCheck,
		MultiRegion:                    in.MultiRegion,
		CustomKeyStoreID:               in.CustomKeyStoreID,
		XksKeyID:                       in.XksKeyID,
	})
	if err != nil {
		return nil, err
	}
	return &keyMetadataResponse{KeyMetadata: toWireMetadata(md)}, nil
}

func (h *Handler) describeKey(ctx context.Context, c kms.Caller, in *keyIDRequest) (*keyMetadataResponse, error) {
	md, err := h.svc.DescribeKey(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyMetadataResponse{KeyMetadata: toWireMetadata(md)}, nil
}

func (h *Handler) listKeys(ctx context.Context, c kms.Caller, in *listRequest) (*listKeysResponse, error) {
	page, err := h.svc.ListKeys(ctx, c, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	out := &listKeysResponse{Keys: make([]keyListEntry, 0, len(page.Items)), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	for _, k := range page.Items {
		out.Keys = append(out.Keys, keyListEntry{KeyID: k.KeyID, KeyArn: k.KeyARN})
	}
	return out, nil
}

func (h *Handler) enableKey(ctx context.Context, c kms.Caller, in *keyIDRequest) (*empty, error) {
	return &empty{}, h.svc.EnableKey(ctx, c, in.KeyID)
}

func (h *Handler) disableKey(ctx context.Context, c kms.Caller, in *keyIDRequest) (*empty, error) {
	return &empty{}, h.svc.DisableKey(ctx, c, in.KeyID)
}

func (h *Handler) updateKeyDescription(ctx context.Context, c kms.Caller, in *updateKeyDescriptionRequest) (*empty, error) {
	if in.Description == nil {
		return nil, kmserr.New(kmserr.Validation, "1 validation error detected: Value null at 'description' failed to satisfy constraint: Member must not be null")
	}
	return &empty{}, h.svc.UpdateKeyDescription(ctx, c, in.KeyID, *in.Description)
}

func (h *Handler) scheduleKeyDeletion(ctx context.Context, c kms.Caller, in *scheduleKeyDeletionRequest) (*scheduleKeyDeletionResponse, error) {
	out, err := h.svc.ScheduleKeyDeletion(ctx, c, in.KeyID, in.PendingWindowInDays)
	if err != nil {
		return nil, err
	}
	return &scheduleKeyDeletionResponse{KeyID: out.KeyARN, DeletionDate: epoch(out.DeletionDate),
		KeyState: out.KeyState.String(), PendingWindowInDays: out.PendingWindowInDays}, nil
}

func (h *Handler) cancelKeyDeletion(ctx context.Context, c kms.Caller, in *keyIDRequest) (*keyIDResponse, error) {
	keyARN, err := h.svc.CancelKeyDeletion(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyIDResponse{KeyID: keyARN}, nil
}

func (h *Handler) createAlias(ctx context.Context, c kms.Caller, in *aliasRequest) (*empty, error) {
	return &empty{}, h.svc.CreateAlias(ctx, c, in.AliasName, in.TargetKeyID)
}

func (h *Handler) updateAlias(ctx context.Context, c kms.Caller, in *aliasRequest) (*empty, error) {
	return &empty{}, h.svc.UpdateAlias(ctx, c, in.AliasName, in.TargetKeyID)
}

func (h *Handler) deleteAlias(ctx context.Context, c kms.Caller, in *aliasRequest) (*empty, error) {
	return &empty{}, h.svc.DeleteAlias(ctx, c, in.AliasName)
}

func (h *Handler) listAliases(ctx context.Context, c kms.Caller, in *listRequest) (*listAliasesResponse, error) {
	page, err := h.svc.ListAliases(ctx, c, in.KeyID, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	out := &listAliasesResponse{Aliases: make([]aliasListEntry, 0, len(page.Items)), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	for _, a := range page.Items {
		out.Aliases = append(out.Aliases, aliasListEntry{AliasName: a.AliasName, AliasArn: a.AliasARN, TargetKeyID: a.TargetKeyID,
			CreationDate: epoch(a.CreationDate), LastUpdatedDate: epoch(a.LastUpdatedDate)})
	}
	return out, nil
}

func (h *Handler) tagResource(ctx context.Context, c kms.Caller, in *tagResourceRequest) (*empty, error) {
	return &empty{}, h.svc.TagResource(ctx, c, in.KeyID, fromWireTags(in.Tags))
}

func (h *Handler) untagResource(ctx context.Context, c kms.Caller, in *untagResourceRequest) (*empty, error) {
	return &empty{}, h.svc.UntagResource(ctx, c, in.KeyID, in.TagKeys)
}

func (h *Handler) listResourceTags(ctx context.Context, c kms.Caller, in *listRequest) (*listResourceTagsResponse, error) {
	page, err := h.svc.ListResourceTags(ctx, c, in.KeyID, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	out := &listResourceTagsResponse{Tags: toWireTags(page.Items), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	return out, nil
}

func (h *Handler) encrypt(ctx context.Context, c kms.Caller, in *encryptRequest) (*encryptResponse, error) {
	out, err := h.svc.Encrypt(ctx, c, kms.EncryptInput{
		KeyID: in.KeyID, Plaintext: in.Plaintext, EncryptionContext: in.EncryptionContext,
		GrantTokens: in.GrantTokens, EncryptionAlgorithm: in.EncryptionAlgorithm, DryRun: in.DryRun,
	})
	if err != nil {
		return nil, err
	}
	return &encryptResponse{CiphertextBlob: out.CiphertextBlob, KeyID: out.KeyARN, EncryptionAlgorithm: out.EncryptionAlgorithm}, nil
}

func (h *Handler) decrypt(ctx context.Context, c kms.Caller, in *decryptRequest) (*decryptResponse, error) {
	if in.Recipient != nil {
		return nil, kmserr.New(kmserr.UnsupportedOperation, "Recipient (attested enclaves) is not supported by this server.")
	}
	out, err := h.svc.Decrypt(ctx, c, kms.DecryptInput{
		CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.EncryptionContext, GrantTokens: in.GrantTokens,
		KeyID: in.KeyID, EncryptionAlgorithm: in.EncryptionAlgorithm, DryRun: in.DryRun,
	})
	if err != nil {
		return nil, err
	}
	return &decryptResponse{KeyID: out.KeyARN, Plaintext: out.Plaintext, EncryptionAlgorithm: out.EncryptionAlgorithm, KeyMaterialID: out.KeyMaterialID}, nil
}

func (h *Handler) reEncrypt(ctx context.Context, c kms.Caller, in *reEncryptRequest) (*reEncryptResponse, error) {
	out, err := h.svc.ReEncrypt(ctx, c, kms.ReEncryptInput{
		CiphertextBlob: in.CiphertextBlob, SourceEncryptionContext: in.SourceEncryptionContext,
		SourceKeyID: in.SourceKeyID, DestinationKeyID: in.DestinationKeyID,
		DestinationEncryptionContext: in.DestinationEncryptionContext,
		SourceEncryptionAlgorithm:    in.SourceEncryptionAlgorithm, DestinationEncryptionAlgorithm: in.DestinationEncryptionAlgorithm,
		GrantTokens: in.GrantTokens, DryRun: in.DryRun,
	})
	if err != nil {
		return nil, err
	}
	return &reEncryptResponse{
		CiphertextBlob: out.CiphertextBlob, SourceKeyID: out.SourceKeyARN, KeyID: out.KeyARN,
		SourceEncryptionAlgorithm: out.SourceEncryptionAlgorithm, DestinationEncryptionAlgorithm: out.DestinationEncryptionAlgorithm,
		SourceKeyMaterialID: out.SourceKeyMaterialID, DestinationKeyMaterialID: out.DestinationKeyMaterialID,
	}, nil
}

func (h *Handler) generateDataKey(ctx context.Context, c kms.Caller, in *generateDataKeyRequest) (*generateDataKeyResponse, error) {
	return h.generate(ctx, c, in, true)
}

func (h *Handler) generateDataKeyWithoutPlaintext(ctx context.Context, c kms.Caller, in *generateDataKeyRequest) (*generateDataKeyResponse, error) {
	return h.generate(ctx, c, in, false)
}

func (h *Handler) generate(ctx context.Context, c kms.Caller, in *generateDataKeyRequest, withPlaintext bool) (*generateDataKeyResponse, error) {
	if in.Recipient != nil {
		return nil, kmserr.New(kmserr.UnsupportedOperation, "Recipient (attested enclaves) is not supported by this server.")
	}
	out, err := h.svc.GenerateDataKey(ctx, c, kms.GenerateDataKeyInput{
		KeyID: in.KeyID, KeySpec: in.KeySpec, NumberOfBytes: in.NumberOfBytes, EncryptionContext: in.EncryptionContext,
		GrantTokens: in.GrantTokens, DryRun: in.DryRun,
	}, withPlaintext)
	if err != nil {
		return nil, err
	}
	return &generateDataKeyResponse{CiphertextBlob: out.CiphertextBlob, Plaintext: out.Plaintext, KeyID: out.KeyARN, KeyMaterialID: out.KeyMaterialID}, nil
}

func (h *Handler) generateRandom(ctx context.Context, c kms.Caller, in *generateRandomRequest) (*generateRandomResponse, error) {
	if in.Recipient != nil {
		return nil, kmserr.New(kmserr.UnsupportedOperation, "Recipient (attested enclaves) is not supported by this server.")
	}
	b, err := h.svc.GenerateRandom(ctx, c, in.NumberOfBytes, in.CustomKeyStoreID)
	if err != nil {
		return nil, err
	}
	return &generateRandomResponse{Plaintext: b}, nil
}

func (h *Handler) getKeyPolicy(ctx context.Context, c kms.Caller, in *keyPolicyRequest) (*getKeyPolicyResponse, error) {
	name := deref(in.PolicyName)
	p, err := h.svc.GetKeyPolicy(ctx, c, in.KeyID, name)
	if err != nil {
		return nil, err
	}
	return &getKeyPolicyResponse{Policy: p, PolicyName: "default"}, nil
}

func (h *Handler) putKeyPolicy(ctx context.Context, c kms.Caller, in *keyPolicyRequest) (*empty, error) {
	return &empty{}, h.svc.PutKeyPolicy(ctx, c, in.KeyID, deref(in.PolicyName), deref(in.Policy), in.BypassPolicyLockoutSafetyCheck)
}

func (h *Handler) listKeyPolicies(ctx context.Context, c kms.Caller, in *listRequest) (*listKeyPoliciesResponse, error) {
	names, err := h.svc.ListKeyPolicies(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	return &listKeyPoliciesResponse{PolicyNames: names}, nil
}

func toWireMetadata(md kms.KeyMetadata) keyMetadata {
	return keyMetadata{
		AWSAccountID:           md.AccountID,
		KeyID:                  md.KeyID,
		Arn:                    md.ARN,
		CreationDate:           epoch(md.CreationDate),
		Enabled:                md.Enabled,
		Description:            md.Description,
		KeyUsage:               md.KeyUsage,
		KeyState:               md.KeyState.String(),
		DeletionDate:           epoch(md.DeletionDate),
		PendingDeletionWindow:  md.PendingWindowInDays,
		Origin:                 md.Origin.String(),
		KeyManager:             md.KeyManager,
		CustomerMasterKeySpec:  md.KeySpec,
		KeySpec:                md.KeySpec,
		EncryptionAlgorithms:   md.EncryptionAlgorithm,
		SigningAlgorithms:      md.SigningAlgorithms,
		MacAlgorithms:          md.MacAlgorithms,
		KeyAgreementAlgorithms: md.KeyAgreementAlgs,
		MultiRegion:            md.MultiRegion,
		CurrentKeyMaterialID:   md.CurrentKeyMaterialID,
		ExpirationModel:        md.ExpirationModel,
		ValidTo:                epoch(md.ValidTo),
		CustomKeyStoreID:       md.CustomKeyStoreID,
		CloudHsmClusterID:      md.CloudHsmClusterID,
	}
}

func fromWireTags(in []tag) []kms.Tag {
	out := make([]kms.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, kms.Tag{Key: t.TagKey, Value: t.TagValue})
	}
	return out
}

func toWireTags(in []kms.Tag) []tag {
	out := make([]tag, 0, len(in))
	for _, t := range in {
		out = append(out, tag{TagKey: t.Key, TagValue: t.Value})
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (h *Handler) getKeyLastUsage(ctx context.Context, c kms.Caller, in *keyIDRequest) (*getKeyLastUsageResponse, error) {
	out, err := h.svc.GetKeyLastUsage(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	resp := &getKeyLastUsageResponse{KeyID: out.KeyID, TrackingStartDate: epoch(out.TrackingStartDate), KeyCreationDate: epoch(out.KeyCreationDate)}
	if u := out.KeyLastUsage; u != nil {
		resp.KeyLastUsage = &keyLastUsage{Operation: u.Operation, Timestamp: epoch(u.Timestamp), CloudTrailEventID: u.CloudTrailEventID, KMSRequestID: u.KMSRequestID}
	}
	return resp, nil
}
