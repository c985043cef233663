package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"slices"
	"sync"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/ciphertext"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// AWS limits for the cryptographic operations.
const (
	maxPlaintextLen     = 4096
	maxRandomBytes      = 1024
	maxGrantTokens      = 10
	maxGrantTokenLen    = 8192
	maxEncryptionCtxLen = 8192
)

// EncryptInput is the input of Encrypt.
type EncryptInput struct {
	KeyID               string
	Plaintext           []byte
	EncryptionContext   map[string]string
	GrantTokens         []string
	EncryptionAlgorithm string
	DryRun              bool
}

// EncryptOutput is the result of Encrypt.
type EncryptOutput struct {
	CiphertextBlob      []byte
	KeyARN              string
	EncryptionAlgorithm string
}

// Encrypt encrypts up to 4096 bytes under a symmetric key's current
// material, or with an asymmetric ENCRYPT_DECRYPT key's public key.
func (s *Service) Encrypt(ctx context.Context, c Caller, in EncryptInput) (EncryptOutput, error) {
	if in.Plaintext == nil {
		return EncryptOutput{}, required("plaintext")
	}
	if err := blobLength("plaintext", in.Plaintext, 1, maxPlaintextLen); err != nil {
		return EncryptOutput{}, err
	}
	if err := commonCryptoParams(in.EncryptionContext, in.GrantTokens); err != nil {
		return EncryptOutput{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOrAlias, requires("kms:Encrypt", withEC(in.EncryptionContext), withValue("kms:EncryptionAlgorithm", orDefault(in.EncryptionAlgorithm))))
	if err != nil {
		return EncryptOutput{}, err
	}
	if !k.symmetric() {
		if err := requireUsage(k, usageEncryptDecrypt, "Encrypt"); err != nil {
			return EncryptOutput{}, err
		}
		if in.DryRun {
			return EncryptOutput{}, dryRun()
		}
		ct, alg, err := s.encryptAsymmetric(k, in.EncryptionAlgorithm, in.Plaintext)
		if err != nil {
			return EncryptOutput{}, err
		}
		return EncryptOutput{CiphertextBlob: ct, KeyARN: k.arn(), EncryptionAlgorithm: alg}, nil
	}
	if err := usableForSymmetricEncryption(k, in.EncryptionAlgorithm, "Encrypt"); err != nil {
		return EncryptOutput{}, err
	}
	if in.DryRun {
		return EncryptOutput{}, dryRun()
	}
	blob, err := s.seal(ctx, k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return EncryptOutput{}, err
	}
	return EncryptOutput{CiphertextBlob: blob, KeyARN: k.arn(), EncryptionAlgorithm: EncryptionAlgorithmSymmetricDefault}, nil
}

// DecryptInput is the input of Decrypt.
type DecryptInput struct {
	CiphertextBlob      []byte
	EncryptionContext   map[string]string
	GrantTokens         []string
	KeyID               string
	EncryptionAlgorithm string
	DryRun              bool
}

// DecryptOutput is the result of Decrypt.
type DecryptOutput struct {
	KeyARN              string
	Plaintext           []byte
	EncryptionAlgorithm string
	KeyMaterialID       string
}

// Decrypt decrypts a ciphertext made by Encrypt, GenerateDataKey or
// ReEncrypt. The blob names its key, so KeyId is optional; when given it
// must name the same key.
func (s *Service) Decrypt(ctx context.Context, c Caller, in DecryptInput) (DecryptOutput, error) {
	k, pt, version, alg, err := s.open(ctx, c, "Decrypt", in.CiphertextBlob, in.EncryptionContext, in.GrantTokens, in.KeyID, "keyId", in.EncryptionAlgorithm, in.DryRun)
	if err != nil {
		return DecryptOutput{}, err
	}
	return DecryptOutput{KeyARN: k.arn(), Plaintext: pt, EncryptionAlgorithm: alg, KeyMaterialID: k.materialIDOf(version)}, nil
}

// ReEncryptInput is the input of ReEncrypt.
type ReEncryptInput struct {
	CiphertextBlob                 []byte
	SourceEncryptionContext        map[string]string
	SourceKeyID                    string
	DestinationKeyID               string
	DestinationEncryptionContext   map[string]string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
	GrantTokens                    []string
	DryRun                         bool
}

// ReEncryptOutput is the result of ReEncrypt.
type ReEncryptOutput struct {
	CiphertextBlob                 []byte
	SourceKeyARN                   string
	KeyARN                         string
	SourceEncryptionAlgorithm      string
	DestinationEncryptionAlgorithm string
	SourceKeyMaterialID            string
	DestinationKeyMaterialID       string
}

// ReEncrypt decrypts a ciphertext and encrypts the plaintext under another
// key (or the same key's current material), without exposing it.
func (s *Service) ReEncrypt(ctx context.Context, c Caller, in ReEncryptInput) (ReEncryptOutput, error) {
	if in.DestinationKeyID == "" {
		return ReEncryptOutput{}, required("destinationKeyId")
	}
	if err := commonCryptoParams(in.DestinationEncryptionContext, nil); err != nil {
		return ReEncryptOutput{}, err
	}
	dst, err := s.loadKey(ctx, c, "destinationKeyId", in.DestinationKeyID, keyOrAlias, requires("kms:ReEncryptTo", withEC(in.DestinationEncryptionContext), withValue("kms:EncryptionAlgorithm", orDefault(in.DestinationEncryptionAlgorithm)), withValue("kms:ReEncryptOnSameKey", "false")))
	if err != nil {
		return ReEncryptOutput{}, err
	}
	if dst.symmetric() {
		if err := usableForSymmetricEncryption(dst, in.DestinationEncryptionAlgorithm, "ReEncrypt"); err != nil {
			return ReEncryptOutput{}, err
		}
	} else if err := requireUsage(dst, usageEncryptDecrypt, "ReEncrypt"); err != nil {
		return ReEncryptOutput{}, err
	}
	src, pt, version, srcAlg, err := s.open(ctx, c, "ReEncrypt", in.CiphertextBlob, in.SourceEncryptionContext, in.GrantTokens, in.SourceKeyID, "sourceKeyId", in.SourceEncryptionAlgorithm, in.DryRun)
	if err != nil {
		return ReEncryptOutput{}, err
	}
	defer clear(pt)
	var blob []byte
	dstAlg := EncryptionAlgorithmSymmetricDefault
	if dst.symmetric() {
		blob, err = s.seal(ctx, dst, pt, in.DestinationEncryptionContext)
	} else {
		blob, dstAlg, err = s.encryptAsymmetric(dst, in.DestinationEncryptionAlgorithm, pt)
	}
	if err != nil {
		return ReEncryptOutput{}, err
	}
	return ReEncryptOutput{
		CiphertextBlob:                 blob,
		SourceKeyARN:                   src.arn(),
		KeyARN:                         dst.arn(),
		SourceEncryptionAlgorithm:      srcAlg,
		DestinationEncryptionAlgorithm: dstAlg,
		SourceKeyMaterialID:            src.materialIDOf(version),
		DestinationKeyMaterialID:       dst.currentMaterialID(),
	}, nil
}

// GenerateDataKeyInput is the input of GenerateDataKey and
// GenerateDataKeyWithoutPlaintext.
type GenerateDataKeyInput struct {
	KeyID             string
	KeySpec           string
	NumberOfBytes     *int // nil means not given
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            bool
}

// GenerateDataKeyOutput is the result of GenerateDataKey; Plaintext is nil
// for GenerateDataKeyWithoutPlaintext.
type GenerateDataKeyOutput struct {
	CiphertextBlob []byte
	Plaintext      []byte
	KeyARN         string
	KeyMaterialID  string
}

// GenerateDataKey returns a random data key in plaintext and encrypted
// under a symmetric KMS key. withPlaintext is false for
// GenerateDataKeyWithoutPlaintext.
func (s *Service) GenerateDataKey(ctx context.Context, c Caller, in GenerateDataKeyInput, withPlaintext bool) (GenerateDataKeyOutput, error) {
	var n int
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return GenerateDataKeyOutput{}, kmserr.New(kmserr.Validation, "Please specify either number of bytes or key spec.")
	case in.KeySpec == "AES_256":
		n = 32
	case in.KeySpec == "AES_128":
		n = 16
	case in.KeySpec != "":
		return GenerateDataKeyOutput{}, validation("keySpec", in.KeySpec, "Member must satisfy enum value set: [AES_256, AES_128]")
	case in.NumberOfBytes == nil:
		return GenerateDataKeyOutput{}, kmserr.New(kmserr.Validation, "Please specify either number of bytes or key spec.")
	default:
		n = *in.NumberOfBytes
		if err := intBetween("numberOfBytes", n, 1, maxRandomBytes); err != nil {
			return GenerateDataKeyOutput{}, err
		}
	}
	if err := commonCryptoParams(in.EncryptionContext, in.GrantTokens); err != nil {
		return GenerateDataKeyOutput{}, err
	}
	op := "GenerateDataKey"
	if !withPlaintext {
		op = "GenerateDataKeyWithoutPlaintext"
	}
	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOrAlias, requires("kms:"+op, withEC(in.EncryptionContext)))
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	if err := usableForSymmetricEncryption(k, "", op); err != nil {
		return GenerateDataKeyOutput{}, err
	}
	if in.DryRun {
		return GenerateDataKeyOutput{}, dryRun()
	}
	dataKey := make([]byte, n)
	if _, err := readFull(s.rand, dataKey); err != nil {
		return GenerateDataKeyOutput{}, kmserr.Internal(err)
	}
	blob, err := s.seal(ctx, k, dataKey, in.EncryptionContext)
	if err != nil {
		return GenerateDataKeyOutput{}, err
	}
	out := GenerateDataKeyOutput{CiphertextBlob: blob, KeyARN: k.arn(), KeyMaterialID: k.currentMaterialID()}
	if withPlaintext {
		out.Plaintext = dataKey
	} else {
		clear(dataKey)
	}
	return out, nil
}

// GenerateRandom returns n random bytes (1..1024).
func (s *Service) GenerateRandom(ctx context.Context, c Caller, numberOfBytes *int, customKeyStoreID string) ([]byte, error) {
	if numberOfBytes == nil {
		return nil, kmserr.New(kmserr.Validation, "NumberOfBytes is required.")
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:GenerateRandom", nil)); err != nil {
		return nil, err
	}
	n := *numberOfBytes
	if err := intBetween("numberOfBytes", n, 1, maxRandomBytes); err != nil {
		return nil, err
	}
	if customKeyStoreID != "" {
		if err := lengthBetween("customKeyStoreId", customKeyStoreID, 1, 64); err != nil {
			return nil, err
		}
		_, tok, err := s.connectedStore(ctx, c, customKeyStoreID)
		if err != nil {
			return nil, err
		}
		b, err := tok.Random(ctx, n)
		if err != nil {
			return nil, kmserr.Internal(err)
		}
		return b, nil
	}
	b := make([]byte, n)
	if _, err := readFull(s.rand, b); err != nil {
		return nil, kmserr.Internal(err)
	}
	return b, nil
}

// open authenticates and decrypts a ciphertext for Decrypt and ReEncrypt,
// returning the key, the plaintext, the material version and the algorithm.
// A symmetric ciphertext names its key; an asymmetric one is opened with
// the key that keyID names (required for asymmetric ciphertexts, as on
// AWS).
func (s *Service) open(ctx context.Context, c Caller, op string, blob []byte, encCtx map[string]string, grantTokens []string, keyID, keyField, algorithm string, dryRunSet bool) (*keyRecord, []byte, uint32, string, error) {
	if blob == nil {
		return nil, nil, 0, "", required("ciphertextBlob")
	}
	if err := blobLength("ciphertextBlob", blob, 1, ciphertext.MaxBlobLen); err != nil {
		return nil, nil, 0, "", err
	}
	if err := commonCryptoParams(encCtx, grantTokens); err != nil {
		return nil, nil, 0, "", err
	}
	var named *keyRecord
	if keyID != "" {
		var err error
		if named, err = s.loadKey(ctx, c, keyField, keyID, keyOrAlias, decryptNeed(op, encCtx, algorithm)); err != nil {
			return nil, nil, 0, "", err
		}
		if !named.symmetric() {
			if err := requireUsage(named, usageEncryptDecrypt, op); err != nil {
				return nil, nil, 0, "", err
			}
			if dryRunSet {
				return nil, nil, 0, "", dryRun()
			}
			pt, alg, err := s.decryptAsymmetric(named, algorithm, blob)
			if err != nil {
				return nil, nil, 0, "", err
			}
			return named, pt, named.CurrentVersion, alg, nil
		}
	}
	h, err := ciphertext.ParseHeader(blob)
	if err != nil {
		return nil, nil, 0, "", invalidCiphertext()
	}
	var k *keyRecord
	err = s.view(ctx, func(r storage.Reader) error {
		var err error
		k, err = resolveKey(r, c, "keyId", arn.Key(c.Region, h.Account, h.KeyID), keyOnly, &s.records)
		if kmserr.Is(err, kmserr.NotFound) || kmserr.Is(err, kmserr.AccessDenied) {
			return kmserr.New(kmserr.AccessDenied, "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.")
		}
		return err
	})
	if err != nil {
		return nil, nil, 0, "", err
	}
	noteKey(ctx, k.arn())
	k = s.annotate(ctx, k)
	if named != nil && (named.KeyID != k.KeyID || named.Account != k.Account) {
		return nil, nil, 0, "", kmserr.New(kmserr.IncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
	}
	if named == nil {
		n := decryptNeed(op, encCtx, algorithm)
		r := newAuthz(c, n.action, k)
		for _, o := range n.opts {
			o(r)
		}
		if err := s.authorize(ctx, c, r); err != nil {
			return nil, nil, 0, "", err
		}
	}
	if err := usableForSymmetricEncryption(k, algorithm, op); err != nil {
		return nil, nil, 0, "", err
	}
	if dryRunSet {
		return nil, nil, 0, "", dryRun()
	}
	if k.CustomKeyStoreID != "" {
		if h.Version != k.CurrentVersion {
			return nil, nil, 0, "", invalidCiphertext()
		}
		pt, err := s.openHSM(ctx, k, blob, encCtx)
		if err != nil {
			return nil, nil, 0, "", err
		}
		return k, pt, h.Version, EncryptionAlgorithmSymmetricDefault, nil
	}
	aead, err := s.aead(k, h.Version)
	if err != nil {
		return nil, nil, 0, "", err
	}
	_, pt, err := ciphertext.OpenAEAD(aead, blob, encCtx)
	if err != nil {
		return nil, nil, 0, "", invalidCiphertext()
	}
	return k, pt, h.Version, EncryptionAlgorithmSymmetricDefault, nil
}

// seal encrypts under the key's current material.
func (s *Service) seal(ctx context.Context, k *keyRecord, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	if k.CustomKeyStoreID != "" {
		return s.sealHSM(ctx, k, plaintext, encCtx)
	}
	aead, err := s.aead(k, k.CurrentVersion)
	if err != nil {
		return nil, err
	}
	h := ciphertext.Header{Account: k.Account, KeyID: k.KeyID, Version: k.CurrentVersion}
	blob, err := ciphertext.SealAEAD(aead, h, plaintext, encCtx, s.rand)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	return blob, nil
}

// aeadCache keeps AES-GCM instances for unsealed key material so that the
// root key is not needed on every request. Entries are keyed by the sealed
// bytes themselves, so a changed record never hits a stale entry.
type aeadCache struct {
	mu sync.RWMutex
	m  map[string]cipher.AEAD
}

const maxCachedAEADs = 16384

// aead returns the AES-GCM instance for one version of a key's material.
func (s *Service) aead(k *keyRecord, version uint32) (cipher.AEAD, error) {
	m, ok := k.material(version)
	if !ok || m.Sealed == nil {
		return nil, invalidCiphertext()
	}
	cacheKey := k.arn() + "\x00" + string(m.Sealed)
	s.aeads.mu.RLock()
	a, ok := s.aeads.m[cacheKey]
	s.aeads.mu.RUnlock()
	if ok {
		return a, nil
	}
	raw, err := s.sealer.Open(m.Sealed, materialAAD(k.arn(), version))
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	defer clear(raw)
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	a, err = cipher.NewGCM(block)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	s.aeads.mu.Lock()
	if s.aeads.m == nil || len(s.aeads.m) >= maxCachedAEADs {
		s.aeads.m = make(map[string]cipher.AEAD)
	}
	s.aeads.m[cacheKey] = a
	s.aeads.mu.Unlock()
	return a, nil
}

// usableForSymmetricEncryption checks that a key can run op (Encrypt,
// Decrypt, GenerateDataKey, ...) as a symmetric encryption key.
func usableForSymmetricEncryption(k *keyRecord, algorithm, op string) error {
	if k.state() != KeyStateEnabled {
		return stateError(k)
	}
	if k.KeyUsage != usageEncryptDecrypt {
		return kmserr.New(kmserr.InvalidKeyUsage, "%s key usage is %s which is not valid for %s.", k.arn(), k.KeyUsage, op)
	}
	if !k.symmetric() {
		return kmserr.New(kmserr.InvalidKeyUsage, "%s key spec is %s which is not valid for %s.", k.arn(), k.KeySpec, op)
	}
	if algorithm != "" && algorithm != EncryptionAlgorithmSymmetricDefault {
		if !slices.Contains(awsEncryptionAlgorithms, algorithm) {
			return validation("encryptionAlgorithm", algorithm, "Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]")
		}
		return kmserr.New(kmserr.InvalidKeyUsage, "Algorithm %s is incompatible with key spec %s.", algorithm, k.KeySpec)
	}
	return nil
}

var awsEncryptionAlgorithms = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}

func commonCryptoParams(encCtx map[string]string, grantTokens []string) error {
	size := 0
	for k, v := range encCtx {
		size += len(k) + len(v)
	}
	if size > maxEncryptionCtxLen {
		return kmserr.New(kmserr.Validation, "Encryption context is too large: at most %d bytes of keys and values are allowed.", maxEncryptionCtxLen)
	}
	if len(grantTokens) > maxGrantTokens {
		return validation("grantTokens", "...", "Member must have length less than or equal to 10")
	}
	for _, t := range grantTokens {
		if err := lengthBetween("grantTokens", t, 1, maxGrantTokenLen); err != nil {
			return err
		}
		if _, ok := parseGrantToken(t); !ok {
			return kmserr.New(kmserr.InvalidGrantToken, "The grant token is not valid.")
		}
	}
	return nil
}

func blobLength(field string, b []byte, min, max int) error {
	if len(b) < min {
		return kmserr.New(kmserr.Validation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", field, min)
	}
	if len(b) > max {
		return kmserr.New(kmserr.Validation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", field, max)
	}
	return nil
}

func invalidCiphertext() error {
	return kmserr.New(kmserr.InvalidCiphertext, "")
}

func dryRun() error {
	return &kmserr.Error{Code: kmserr.DryRunOperation, Message: "The request would have succeeded, but the DryRun option is set.", Status: 412}
}
