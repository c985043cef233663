package kms

import (
	"context"
	"errors"
	"sync"

	"github.com/openkms/openkms/internal/keymaterial"
	"github.com/openkms/openkms/internal/kmserr"
)

// Operations on asymmetric and HMAC keys. The cryptography is in package
// keymaterial; here are the AWS rules around it: key state, key usage,
// parameter bounds, and the mapping of keymaterial's errors to AWS
// exceptions.

const (
	maxMessageLen   = 4096
	maxSignatureLen = 6144
	maxMacLen       = 64
	maxPublicKeyLen = 8192
)

// keyCache keeps parsed private keys (parsing RSA or ML-DSA keys costs far
// more than using them), keyed by the sealed bytes so a changed record
// never hits a stale entry.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]*keymaterial.Key
}

const maxCachedKeys = 4096

// privateKey returns the parsed key material of one version of a key.
func (s *Service) privateKey(k *keyRecord, version uint32) (*keymaterial.Key, error) {
	m, ok := k.material(version)
	if !ok || m.Sealed == nil {
		return nil, stateError(k)
	}
	cacheKey := k.arn() + "\x00" + string(m.Sealed)
	s.keys.mu.RLock()
	key, ok := s.keys.m[cacheKey]
	s.keys.mu.RUnlock()
	if ok {
		return key, nil
	}
	spec, err := keymaterial.ParseKeySpec(k.KeySpec)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	der, err := s.sealer.Open(m.Sealed, materialAAD(k.arn(), version))
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	defer clear(der)
	key, err = keymaterial.ParsePrivate(spec, der)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	s.keys.mu.Lock()
	if s.keys.m == nil || len(s.keys.m) >= maxCachedKeys {
		s.keys.m = make(map[string]*keymaterial.Key)
	}
	s.keys.m[cacheKey] = key
	s.keys.mu.Unlock()
	return key, nil
}

// kmError maps a keymaterial error to the AWS exception a client expects.
func kmError(err error) error {
	var e *keymaterial.Error
	if !errors.As(err, &e) {
		return kmserr.Internal(err)
	}
	switch e.Kind {
	case keymaterial.KindValidation:
		return kmserr.New(kmserr.Validation, "%s", e.Message())
	case keymaterial.KindInvalidKeyUsage:
		return kmserr.New(kmserr.InvalidKeyUsage, "%s", e.Message())
	case keymaterial.KindInvalidCiphertext:
		return invalidCiphertext()
	case keymaterial.KindUnsupported:
		return kmserr.New(kmserr.UnsupportedOperation, "%s", e.Message())
	}
	return kmserr.Internal(err)
}

// requireUsage checks a key's state and usage for an operation, with AWS's
// message: "<arn> key usage is SIGN_VERIFY which is not valid for Encrypt."
func requireUsage(k *keyRecord, usage, op string) error {
	if k.state() != KeyStateEnabled {
		return stateError(k)
	}
	if k.KeyUsage != usage {
		return kmserr.New(kmserr.InvalidKeyUsage, "%s key usage is %s which is not valid for %s.", k.arn(), k.KeyUsage, op)
	}
	return nil
}

func parseEnum2[T any](field, value string, parse func(string) (T, error), values string) (T, error) {
	v, err := parse(value)
	if err != nil {
		var zero T
		return zero, validation(field, value, "Member must satisfy enum value set: ["+values+"]")
	}
	return v, nil
}

const (
	signingAlgorithmValues = "RSASSA_PSS_SHA_256, RSASSA_PSS_SHA_384, RSASSA_PSS_SHA_512, RSASSA_PKCS1_V1_5_SHA_256, RSASSA_PKCS1_V1_5_SHA_384, RSASSA_PKCS1_V1_5_SHA_512, ECDSA_SHA_256, ECDSA_SHA_384, ECDSA_SHA_512, SM2DSA, ML_DSA_SHAKE_256, ED25519_SHA_512, ED25519_PH_SHA_512"
	messageTypeValues      = "RAW, DIGEST, EXTERNAL_MU"
	macAlgorithmValues     = "HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384, HMAC_SHA_512"
	keyPairSpecValues      = "RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SM2, ECC_NIST_EDWARDS25519"
)

// SignInput is the input of Sign and Verify.
type SignInput struct {
	KeyID            string
	Message          []byte
	MessageType      string
	SigningAlgorithm string
	Signature        []byte // Verify only
	GrantTokens      []string
	DryRun           bool
}

// SignOutput is the result of Sign and Verify.
type SignOutput struct {
	KeyARN           string
	Signature        []byte
	SignatureValid   bool
	SigningAlgorithm string
}

func (s *Service) signingKey(ctx context.Context, c Caller, in *SignInput, op string) (*keyRecord, keymaterial.SigningAlgorithm, keymaterial.MessageType, error) {
	if in.Message == nil {
		return nil, 0, 0, required("message")
	}
	if err := blobLength("message", in.Message, 1, maxMessageLen); err != nil {
		return nil, 0, 0, err
	}
	if in.SigningAlgorithm == "" {
		return nil, 0, 0, required("signingAlgorithm")
	}
	alg, err := parseEnum2("signingAlgorithm", in.SigningAlgorithm, keymaterial.ParseSigningAlgorithm, signingAlgorithmValues)
	if err != nil {
		return nil, 0, 0, err
	}
	mt := keymaterial.Raw
	if in.MessageType != "" {
		if mt, err = parseEnum2("messageType", in.MessageType, keymaterial.ParseMessageType, messageTypeValues); err != nil {
			return nil, 0, 0, err
		}
	}
	if err := commonCryptoParams(nil, in.GrantTokens); err != nil {
		return nil, 0, 0, err
	}
	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOrAlias, requires("kms:"+op, withValue("kms:SigningAlgorithm", in.SigningAlgorithm), withValue("kms:MessageType", orRaw(in.MessageType))))
	if err != nil {
		return nil, 0, 0, err
	}
	if err := requireUsage(k, "SIGN_VERIFY", op); err != nil {
		return nil, 0, 0, err
	}
	if in.DryRun {
		return nil, 0, 0, dryRun()
	}
	return k, alg, mt, nil
}

// Sign signs a message or digest with an asymmetric SIGN_VERIFY key.
func (s *Service) Sign(ctx context.Context, c Caller, in SignInput) (SignOutput, error) {
	k, alg, mt, err := s.signingKey(ctx, c, &in, "Sign")
	if err != nil {
		return SignOutput{}, err
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return SignOutput{}, err
	}
	sig, err := key.Sign(alg, mt, in.Message, s.rand)
	if err != nil {
		return SignOutput{}, kmError(err)
	}
	return SignOutput{KeyARN: k.arn(), Signature: sig, SigningAlgorithm: alg.String()}, nil
}

// Verify checks a signature. A signature that does not verify is
// KMSInvalidSignatureException, as on AWS.
func (s *Service) Verify(ctx context.Context, c Caller, in SignInput) (SignOutput, error) {
	if in.Signature == nil {
		return SignOutput{}, required("signature")
	}
	if err := blobLength("signature", in.Signature, 1, maxSignatureLen); err != nil {
		return SignOutput{}, err
	}
	k, alg, mt, err := s.signingKey(ctx, c, &in, "Verify")
	if err != nil {
		return SignOutput{}, err
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return SignOutput{}, err
	}
	ok, err := key.Verify(alg, mt, in.Message, in.Signature)
	if err != nil {
		return SignOutput{}, kmError(err)
	}
	if !ok {
		return SignOutput{}, kmserr.New(kmserr.KMSInvalidSignature, "")
	}
	return SignOutput{KeyARN: k.arn(), SignatureValid: true, SigningAlgorithm: alg.String()}, nil
}

// PublicKeyOutput is the result of GetPublicKey.
type PublicKeyOutput struct {
	KeyARN    string
	PublicKey []byte
	Metadata  KeyMetadata
}

// GetPublicKey returns an asymmetric key's public key (DER
// SubjectPublicKeyInfo) and what it may be used for.
func (s *Service) GetPublicKey(ctx context.Context, c Caller, keyID string, grantTokens []string) (PublicKeyOutput, error) {
	if err := commonCryptoParams(nil, grantTokens); err != nil {
		return PublicKeyOutput{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOrAlias, requires("kms:GetPublicKey"))
	if err != nil {
		return PublicKeyOutput{}, err
	}
	if k.state() != KeyStateEnabled {
		return PublicKeyOutput{}, stateError(k)
	}
	if len(k.PublicKey) == 0 {
		return PublicKeyOutput{}, kmserr.New(kmserr.UnsupportedOperation, "%s key spec is %s which is not valid for GetPublicKey.", k.arn(), k.KeySpec)
	}
	return PublicKeyOutput{KeyARN: k.arn(), PublicKey: append([]byte(nil), k.PublicKey...), Metadata: k.metadata()}, nil
}

// MacInput is the input of GenerateMac and VerifyMac.
type MacInput struct {
	KeyID        string
	Message      []byte
	MacAlgorithm string
	Mac          []byte // VerifyMac only
	GrantTokens  []string
	DryRun       bool
}

// MacOutput is the result of GenerateMac and VerifyMac.
type MacOutput struct {
	KeyARN       string
	Mac          []byte
	MacValid     bool
	MacAlgorithm string
}

func (s *Service) macKey(ctx context.Context, c Caller, in *MacInput, op string) (*keymaterial.Key, *keyRecord, keymaterial.MacAlgorithm, error) {
	if in.Message == nil {
		return nil, nil, 0, required("message")
	}
	if err := blobLength("message", in.Message, 1, maxMessageLen); err != nil {
		return nil, nil, 0, err
	}
	if in.MacAlgorithm == "" {
		return nil, nil, 0, required("macAlgorithm")
	}
	alg, err := parseEnum2("macAlgorithm", in.MacAlgorithm, keymaterial.ParseMacAlgorithm, macAlgorithmValues)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := commonCryptoParams(nil, in.GrantTokens); err != nil {
		return nil, nil, 0, err
	}
	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOrAlias, requires("kms:"+op, withValue("kms:MacAlgorithm", in.MacAlgorithm)))
	if err != nil {
		return nil, nil, 0, err
	}
	if err := requireUsage(k, "GENERATE_VERIFY_MAC", op); err != nil {
		return nil, nil, 0, err
	}
	if in.DryRun {
		return nil, nil, 0, dryRun()
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return nil, nil, 0, err
	}
	return key, k, alg, nil
}

// GenerateMac computes an HMAC with a GENERATE_VERIFY_MAC key.
func (s *Service) GenerateMac(ctx context.Context, c Caller, in MacInput) (MacOutput, error) {
	key, k, alg, err := s.macKey(ctx, c, &in, "GenerateMac")
	if err != nil {
		return MacOutput{}, err
	}
	mac, err := key.MAC(alg, in.Message)
	if err != nil {
		return MacOutput{}, kmError(err)
	}
	return MacOutput{KeyARN: k.arn(), Mac: mac, MacAlgorithm: alg.String()}, nil
}

// VerifyMac checks an HMAC in constant time; a mismatch is
// KMSInvalidMacException, as on AWS.
func (s *Service) VerifyMac(ctx context.Context, c Caller, in MacInput) (MacOutput, error) {
	if in.Mac == nil {
		return MacOutput{}, required("mac")
	}
	if err := blobLength("mac", in.Mac, 1, maxMacLen); err != nil {
		return MacOutput{}, err
	}
	key, k, alg, err := s.macKey(ctx, c, &in, "VerifyMac")
	if err != nil {
		return MacOutput{}, err
	}
	ok, err := key.VerifyMAC(alg, in.Message, in.Mac)
	if err != nil {
		return MacOutput{}, kmError(err)
	}
	if !ok {
		return MacOutput{}, kmserr.New(kmserr.KMSInvalidMac, "")
	}
	return MacOutput{KeyARN: k.arn(), MacValid: true, MacAlgorithm: alg.String()}, nil
}

// DeriveSharedSecretOutput is the result of DeriveSharedSecret.
type DeriveSharedSecretOutput struct {
	KeyARN       string
	SharedSecret []byte
	Algorithm    string
	KeyOrigin    string
}

// DeriveSharedSecret runs ECDH between a KEY_AGREEMENT key and a peer's
// DER public key.
func (s *Service) DeriveSharedSecret(ctx context.Context, c Caller, keyID, algorithm string, peerDER []byte, grantTokens []string, dryRunSet bool) (DeriveSharedSecretOutput, error) {
	if algorithm == "" {
		return DeriveSharedSecretOutput{}, required("keyAgreementAlgorithm")
	}
	alg, err := parseEnum2("keyAgreementAlgorithm", algorithm, keymaterial.ParseKeyAgreementAlgorithm, "ECDH")
	if err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	if peerDER == nil {
		return DeriveSharedSecretOutput{}, required("publicKey")
	}
	if err := blobLength("publicKey", peerDER, 1, maxPublicKeyLen); err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	if err := commonCryptoParams(nil, grantTokens); err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOrAlias, requires("kms:DeriveSharedSecret", withValue("kms:KeyAgreementAlgorithm", algorithm)))
	if err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	if err := requireUsage(k, "KEY_AGREEMENT", "DeriveSharedSecret"); err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	if dryRunSet {
		return DeriveSharedSecretOutput{}, dryRun()
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return DeriveSharedSecretOutput{}, err
	}
	secret, err := key.DeriveSharedSecret(alg, peerDER)
	if err != nil {
		return DeriveSharedSecretOutput{}, kmError(err)
	}
	return DeriveSharedSecretOutput{KeyARN: k.arn(), SharedSecret: secret, Algorithm: alg.String(), KeyOrigin: k.Origin}, nil
}

// GenerateDataKeyPairOutput is the result of GenerateDataKeyPair; the
// plaintext private key is nil for the WithoutPlaintext variant.
type GenerateDataKeyPairOutput struct {
	PrivateKeyCiphertextBlob []byte
	PrivateKeyPlaintext      []byte
	PublicKey                []byte
	KeyARN                   string
	KeyPairSpec              string
	KeyMaterialID            string
}

// GenerateDataKeyPair generates an asymmetric data key pair and returns the
// private key (PKCS#8 DER) encrypted under a symmetric KMS key, the public
// key, and, with withPlaintext, the private key in plaintext.
func (s *Service) GenerateDataKeyPair(ctx context.Context, c Caller, keyID, keyPairSpec string, encCtx map[string]string, grantTokens []string, dryRunSet, withPlaintext bool) (GenerateDataKeyPairOutput, error) {
	if keyPairSpec == "" {
		return GenerateDataKeyPairOutput{}, required("keyPairSpec")
	}
	spec, err := parseEnum2("keyPairSpec", keyPairSpec, keymaterial.ParseDataKeyPairSpec, keyPairSpecValues)
	if err != nil {
		return GenerateDataKeyPairOutput{}, err
	}
	if err := commonCryptoParams(encCtx, grantTokens); err != nil {
		return GenerateDataKeyPairOutput{}, err
	}
	op := "GenerateDataKeyPair"
	if !withPlaintext {
		op = "GenerateDataKeyPairWithoutPlaintext"
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOrAlias, requires("kms:"+op, withEC(encCtx), withValue("kms:DataKeyPairSpec", keyPairSpec)))
	if err != nil {
		return GenerateDataKeyPairOutput{}, err
	}
	if err := usableForSymmetricEncryption(k, "", op); err != nil {
		return GenerateDataKeyPairOutput{}, err
	}
	if dryRunSet {
		return GenerateDataKeyPairOutput{}, dryRun()
	}
	priv, pub, err := keymaterial.GenerateDataKeyPair(spec, s.rand)
	if err != nil {
		return GenerateDataKeyPairOutput{}, kmError(err)
	}
	blob, err := s.seal(ctx, k, priv, encCtx)
	if err != nil {
		clear(priv)
		return GenerateDataKeyPairOutput{}, err
	}
	out := GenerateDataKeyPairOutput{PrivateKeyCiphertextBlob: blob, PublicKey: pub, KeyARN: k.arn(), KeyPairSpec: spec.String(), KeyMaterialID: k.currentMaterialID()}
	if withPlaintext {
		out.PrivateKeyPlaintext = priv
	} else {
		clear(priv)
	}
	return out, nil
}

// encryptAsymmetric encrypts with an RSA or SM2 ENCRYPT_DECRYPT key's public
// key; algorithm is required.
func (s *Service) encryptAsymmetric(k *keyRecord, algorithm string, plaintext []byte) ([]byte, string, error) {
	if algorithm == "" || algorithm == EncryptionAlgorithmSymmetricDefault {
		return nil, "", kmserr.New(kmserr.InvalidKeyUsage, "Algorithm %s is incompatible with key spec %s.", orDefault(algorithm), k.KeySpec)
	}
	alg, err := parseEnum2("encryptionAlgorithm", algorithm, keymaterial.ParseEncryptionAlgorithm, "SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE")
	if err != nil {
		return nil, "", err
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return nil, "", err
	}
	ct, err := key.Encrypt(alg, plaintext, s.rand)
	if err != nil {
		return nil, "", kmError(err)
	}
	return ct, alg.String(), nil
}

// decryptAsymmetric decrypts with an RSA or SM2 key's private key.
func (s *Service) decryptAsymmetric(k *keyRecord, algorithm string, ciphertext []byte) ([]byte, string, error) {
	if algorithm == "" || algorithm == EncryptionAlgorithmSymmetricDefault {
		return nil, "", kmserr.New(kmserr.InvalidKeyUsage, "Algorithm %s is incompatible with key spec %s.", orDefault(algorithm), k.KeySpec)
	}
	alg, err := parseEnum2("encryptionAlgorithm", algorithm, keymaterial.ParseEncryptionAlgorithm, "SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE")
	if err != nil {
		return nil, "", err
	}
	key, err := s.privateKey(k, k.CurrentVersion)
	if err != nil {
		return nil, "", err
	}
	pt, err := key.Decrypt(alg, ciphertext)
	if err != nil {
		return nil, "", kmError(err)
	}
	return pt, alg.String(), nil
}

func orDefault(alg string) string {
	if alg == "" {
		return EncryptionAlgorithmSymmetricDefault
	}
	return alg
}
