package api

import (
	"context"

	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
)

// Handlers for asymmetric and HMAC keys.

func (h *Handler) sign(ctx context.Context, c kms.Caller, in *signRequest) (*signResponse, error) {
	out, err := h.svc.Sign(ctx, c, signInput(in))
	if err != nil {
		return nil, err
	}
	return &signResponse{KeyID: out.KeyARN, Signature: out.Signature, SigningAlgorithm: out.SigningAlgorithm}, nil
}

func (h *Handler) verify(ctx context.Context, c kms.Caller, in *signRequest) (*verifyResponse, error) {
	out, err := h.svc.Verify(ctx, c, signInput(in))
	if err != nil {
		return nil, err
	}
	return &verifyResponse{KeyID: out.KeyARN, SignatureValid: out.SignatureValid, SigningAlgorithm: out.SigningAlgorithm}, nil
}

func signInput(in *signRequest) kms.SignInput {
	return kms.SignInput{KeyID: in.KeyID, Message: in.Message, MessageType: in.MessageType, SigningAlgorithm: in.SigningAlgorithm,
		Signature: in.Signature, GrantTokens: in.GrantTokens, DryRun: in.DryRun}
}

func (h *Handler) getPublicKey(ctx context.Context, c kms.Caller, in *keyIDRequest) (*getPublicKeyResponse, error) {
	out, err := h.svc.GetPublicKey(ctx, c, in.KeyID, in.GrantTokens)
	if err != nil {
		return nil, err
	}
	md := out.Metadata
	return &getPublicKeyResponse{KeyID: out.KeyARN, PublicKey: out.PublicKey, CustomerMasterKeySpec: md.KeySpec, KeySpec: md.KeySpec,
		KeyUsage: md.KeyUsage, EncryptionAlgorithms: md.EncryptionAlgorithm, SigningAlgorithms: md.SigningAlgorithms,
		KeyAgreementAlgorithms: md.KeyAgreementAlgs}, nil
}

func macInput(in *macRequest) kms.MacInput {
	return kms.MacInput{KeyID: in.KeyID, Message: in.Message, MacAlgorithm: in.MacAlgorithm, Mac: in.Mac, GrantTokens: in.GrantTokens, DryRun: in.DryRun}
}

func (h *Handler) generateMac(ctx context.Context, c kms.Caller, in *macRequest) (*generateMacResponse, error) {
	out, err := h.svc.GenerateMac(ctx, c, macInput(in))
	if err != nil {
		return nil, err
	}
	return &generateMacResponse{Mac: out.Mac, MacAlgorithm: out.MacAlgorithm, KeyID: out.KeyARN}, nil
}

func (h *Handler) verifyMac(ctx context.Context, c kms.Caller, in *macRequest) (*verifyMacResponse, error) {
	out, err := h.svc.VerifyMac(ctx, c, macInput(in))
	if err != nil {
		return nil, err
	}
	return &verifyMacResponse{KeyID: out.KeyARN, MacValid: out.MacValid, MacAlgorithm: out.MacAlgorithm}, nil
}

func (h *Handler) deriveSharedSecret(ctx context.Context, c kms.Caller, in *deriveSharedSecretRequest) (*deriveSharedSecretResponse, error) {
	if in.Recipient != nil {
		return nil, kmserr.New(kmserr.UnsupportedOperation, "Recipient (attested enclaves) is not supported by this server.")
	}
	out, err := h.svc.DeriveSharedSecret(ctx, c, in.KeyID, in.KeyAgreementAlgorithm, in.PublicKey, in.GrantTokens, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &deriveSharedSecretResponse{KeyID: out.KeyARN, SharedSecret: out.SharedSecret, KeyAgreementAlgorithm: out.Algorithm, KeyOrigin: out.KeyOrigin}, nil
}

func (h *Handler) generateDataKeyPair(ctx context.Context, c kms.Caller, in *generateDataKeyPairRequest) (*generateDataKeyPairResponse, error) {
	return h.dataKeyPair(ctx, c, in, true)
}

func (h *Handler) generateDataKeyPairWithoutPlaintext(ctx context.Context, c kms.Caller, in *generateDataKeyPairRequest) (*generateDataKeyPairResponse, error) {
	return h.dataKeyPair(ctx, c, in, false)
}

func (h *Handler) dataKeyPair(ctx context.Context, c kms.Caller, in *generateDataKeyPairRequest, withPlaintext bool) (*generateDataKeyPairResponse, error) {
	if in.Recipient != nil {
		return nil, kmserr.New(kmserr.UnsupportedOperation, "Recipient (attested enclaves) is not supported by this server.")
	}
	out, err := h.svc.GenerateDataKeyPair(ctx, c, in.KeyID, in.KeyPairSpec, in.EncryptionContext, in.GrantTokens, in.DryRun, withPlaintext)
	if err != nil {
		return nil, err
	}
	return &generateDataKeyPairResponse{PrivateKeyCiphertextBlob: out.PrivateKeyCiphertextBlob, PrivateKeyPlaintext: out.PrivateKeyPlaintext,
		PublicKey: out.PublicKey, KeyID: out.KeyARN, KeyPairSpec: out.KeyPairSpec, KeyMaterialID: out.KeyMaterialID}, nil
}
