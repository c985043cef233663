package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
)

// Handlers for grants.

func (h *Handler) createGrant(ctx context.Context, c kms.Caller, in *createGrantRequest) (*createGrantResponse, error) {
	var gc *kms.GrantConstraints
	if in.Constraints != nil {
		gc = &kms.GrantConstraints{EncryptionContextSubset: in.Constraints.EncryptionContextSubset, EncryptionContextEquals: in.Constraints.EncryptionContextEquals}
	}
	token, id, err := h.svc.CreateGrant(ctx, c, kms.CreateGrantInput{KeyID: in.KeyID, GranteePrincipal: in.GranteePrincipal,
		RetiringPrincipal: in.RetiringPrincipal, Operations: in.Operations, Constraints: gc, Name: in.Name,
		GrantTokens: in.GrantTokens, DryRun: in.DryRun})
	if err != nil {
		return nil, err
	}
	return &createGrantResponse{GrantToken: token, GrantID: id}, nil
}

func (h *Handler) listGrants(ctx context.Context, c kms.Caller, in *listGrantsRequest) (*listGrantsResponse, error) {
	page, err := h.svc.ListGrants(ctx, c, in.KeyID, in.GrantID, in.GranteePrincipal, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	return grantPage(page), nil
}

func (h *Handler) listRetirableGrants(ctx context.Context, c kms.Caller, in *listGrantsRequest) (*listGrantsResponse, error) {
	page, err := h.svc.ListRetirableGrants(ctx, c, in.RetiringPrincipal, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	return grantPage(page), nil
}

func grantPage(page kms.Page[kms.GrantEntry]) *listGrantsResponse {
	out := &listGrantsResponse{Grants: make([]grantListEntry, 0, len(page.Items)), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	for _, g := range page.Items {
		e := grantListEntry{KeyID: g.KeyARN, GrantID: g.GrantID, Name: g.Name, CreationDate: epoch(g.CreationDate),
			GranteePrincipal: g.GranteePrincipal, RetiringPrincipal: g.RetiringPrincipal, IssuingAccount: g.IssuingAccount, Operations: g.Operations}
		if g.Constraints != nil {
			e.Constraints = &grantConstraints{EncryptionContextSubset: g.Constraints.EncryptionContextSubset, EncryptionContextEquals: g.Constraints.EncryptionContextEquals}
		}
		out.Grants = append(out.Grants, e)
	}
	return out
}

func (h *Handler) retireGrant(ctx context.Context, c kms.Caller, in *retireGrantRequest) (*empty, error) {
	return &empty{}, h.svc.RetireGrant(ctx, c, in.GrantToken, in.KeyID, in.GrantID, in.DryRun)
}

func (h *Handler) revokeGrant(ctx context.Context, c kms.Caller, in *retireGrantRequest) (*empty, error) {
	return &empty{}, h.svc.RevokeGrant(ctx, c, in.KeyID, in.GrantID, in.DryRun)
}
