package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
)

// Handlers for custom key stores (AWS_CLOUDHSM type over PKCS#11 tokens).

func (h *Handler) createCustomKeyStore(ctx context.Context, c kms.Caller, in *createCustomKeyStoreRequest) (*customKeyStoreIDResponse, error) {
	id, err := h.svc.CreateCustomKeyStore(ctx, c, kms.CreateCustomKeyStoreInput{
		Name: in.CustomKeyStoreName, ClusterID: in.CloudHsmClusterID, TrustAnchor: in.TrustAnchorCertificate,
		Password: in.KeyStorePassword, Type: in.CustomKeyStoreType,
	})
	if err != nil {
		return nil, err
	}
	return &customKeyStoreIDResponse{CustomKeyStoreID: id}, nil
}

func (h *Handler) describeCustomKeyStores(ctx context.Context, c kms.Caller, in *describeCustomKeyStoresRequest) (*describeCustomKeyStoresResponse, error) {
	page, err := h.svc.DescribeCustomKeyStores(ctx, c, in.CustomKeyStoreID, in.CustomKeyStoreName, deref(in.Limit), in.Marker)
	if err != nil {
		return nil, err
	}
	out := &describeCustomKeyStoresResponse{CustomKeyStores: make([]customKeyStoresListEntry, 0, len(page.Items)), NextMarker: page.NextMarker, Truncated: page.NextMarker != ""}
	for _, s := range page.Items {
		out.CustomKeyStores = append(out.CustomKeyStores, customKeyStoresListEntry{
			CustomKeyStoreID: s.ID, CustomKeyStoreName: s.Name, CloudHsmClusterID: s.ClusterID, TrustAnchorCertificate: s.TrustAnchor,
			ConnectionState: s.ConnectionState, ConnectionErrorCode: s.ConnectionErrorCode, CreationDate: epoch(s.CreationDate), CustomKeyStoreType: s.Type,
		})
	}
	return out, nil
}

func (h *Handler) updateCustomKeyStore(ctx context.Context, c kms.Caller, in *updateCustomKeyStoreRequest) (*empty, error) {
	return &empty{}, h.svc.UpdateCustomKeyStore(ctx, c, kms.UpdateCustomKeyStoreInput{
		ID: in.CustomKeyStoreID, NewName: in.NewCustomKeyStoreName, ClusterID: in.CloudHsmClusterID, Password: in.KeyStorePassword,
	})
}

func (h *Handler) connectCustomKeyStore(ctx context.Context, c kms.Caller, in *customKeyStoreIDRequest) (*empty, error) {
	return &empty{}, h.svc.ConnectCustomKeyStore(ctx, c, in.CustomKeyStoreID)
}

func (h *Handler) disconnectCustomKeyStore(ctx context.Context, c kms.Caller, in *customKeyStoreIDRequest) (*empty, error) {
	return &empty{}, h.svc.DisconnectCustomKeyStore(ctx, c, in.CustomKeyStoreID)
}

func (h *Handler) deleteCustomKeyStore(ctx context.Context, c kms.Caller, in *customKeyStoreIDRequest) (*empty, error) {
	return &empty{}, h.svc.DeleteCustomKeyStore(ctx, c, in.CustomKeyStoreID)
}
