package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
)

// Handlers for key rotation and imported key material.

func (h *Handler) enableKeyRotation(ctx context.Context, c kms.Caller, in *enableKeyRotationRequest) (*empty, error) {
	return &empty{}, h.svc.EnableKeyRotation(ctx, c, in.KeyID, in.RotationPeriodInDays)
}

func (h *Handler) disableKeyRotation(ctx context.Context, c kms.Caller, in *keyIDRequest) (*empty, error) {
	return &empty{}, h.svc.DisableKeyRotation(ctx, c, in.KeyID)
}

func (h *Handler) getKeyRotationStatus(ctx context.Context, c kms.Caller, in *keyIDRequest) (*getKeyRotationStatusResponse, error) {
	st, err := h.svc.GetKeyRotationStatus(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	out := &getKeyRotationStatusResponse{KeyID: st.KeyID, KeyRotationEnabled: st.Enabled,
		NextRotationDate: epoch(st.NextRotationDate), OnDemandRotationStartDate: epoch(st.OnDemandRotationAt)}
	if st.Enabled {
		out.RotationPeriodInDays = &st.PeriodDays
	}
	return out, nil
}

func (h *Handler) rotateKeyOnDemand(ctx context.Context, c kms.Caller, in *keyIDRequest) (*keyIDResponse, error) {
	keyARN, err := h.svc.RotateKeyOnDemand(ctx, c, in.KeyID)
	if err != nil {
		return nil, err
	}
	return &keyIDResponse{KeyID: keyARN}, nil
}

func (h *Handler) listKeyRotations(ctx context.Context, c kms.Caller, in *listKeyRotationsRequest) (*listKeyRotationsResponse, error) {
	includeAll := false
	switch in.IncludeKeyMaterial {
	case "", "ROTATIONS_ONLY":
	case "ALL_KEY_MATERIAL":
		includeAll = true
	default:
		return nil, kmserr.New(kmserr.Validation, "1 validation error detected: Value '%s' at 'includeKeyMaterial' failed to satisfy constraint: Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]", truncate(in.IncludeKeyMaterial, 64))
	}
	page, err := h.svc.ListKeyRotations(ctx, c, in.KeyID, includeAll, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	out := &listKeyRotationsResponse{Rotations: make([]rotationsListEntry, 0, len(page.Items)), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	for _, r := range page.Items {
		out.Rotations = append(out.Rotations, rotationsListEntry{
			KeyID: r.KeyID, RotationDate: epoch(r.RotationDate), RotationType: r.RotationType, KeyMaterialID: r.KeyMaterialID,
			KeyMaterialDescription: r.Description, ImportState: r.ImportState, KeyMaterialState: r.MaterialState,
			ExpirationModel: r.ExpirationModel, ValidTo: epoch(r.ValidTo),
		})
	}
	return out, nil
}

func (h *Handler) getParametersForImport(ctx context.Context, c kms.Caller, in *getParametersForImportRequest) (*getParametersForImportResponse, error) {
	p, err := h.svc.GetParametersForImport(ctx, c, in.KeyID, in.WrappingAlgorithm, in.WrappingKeySpec)
	if err != nil {
		return nil, err
	}
	return &getParametersForImportResponse{KeyID: p.KeyARN, ImportToken: p.ImportToken, PublicKey: p.PublicKey, ParametersValidTo: epoch(p.ParametersValidTo)}, nil
}

func (h *Handler) importKeyMaterial(ctx context.Context, c kms.Caller, in *importKeyMaterialRequest) (*keyMaterialResponse, error) {
	out, err := h.svc.ImportKeyMaterial(ctx, c, kms.ImportKeyMaterialInput{
		KeyID: in.KeyID, ImportToken: in.ImportToken, EncryptedKeyMaterial: in.EncryptedKeyMaterial,
		ValidTo: in.ValidTo.time(), ExpirationModel: in.ExpirationModel, ImportType: in.ImportType,
		KeyMaterialDescription: in.KeyMaterialDescription, KeyMaterialID: in.KeyMaterialID,
	})
	if err != nil {
		return nil, err
	}
	return &keyMaterialResponse{KeyID: out.KeyARN, KeyMaterialID: out.KeyMaterialID}, nil
}

func (h *Handler) deleteImportedKeyMaterial(ctx context.Context, c kms.Caller, in *deleteImportedKeyMaterialRequest) (*keyMaterialResponse, error) {
	keyARN, id, err := h.svc.DeleteImportedKeyMaterial(ctx, c, in.KeyID, in.KeyMaterialID)
	if err != nil {
		return nil, err
	}
	return &keyMaterialResponse{KeyID: keyARN, KeyMaterialID: id}, nil
}
