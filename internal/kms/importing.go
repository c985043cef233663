package kms

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/openkms/openkms/internal/keymaterial"
	"github.com/openkms/openkms/internal/keywrap"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// Importing key material (BYOK), as
// https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
// describes it.

const (
	originExternal        = "EXTERNAL"
	prefixImportToken     = "imp/"
	prefixExpiry          = "x/"
	importParamsLifetime  = 24 * time.Hour
	maxValidToAhead       = 365 * 24 * time.Hour
	expirationExpires     = "KEY_MATERIAL_EXPIRES"
	expirationDoesNot     = "KEY_MATERIAL_DOES_NOT_EXPIRE"
	importTypeExisting    = "EXISTING_KEY_MATERIAL"
	importTypeNew         = "NEW_KEY_MATERIAL"
	importTokenVersion    = 1
	importTokenRandomLen  = 32
	maxEncryptedMaterial  = 6144
	maxMaterialDescLength = 256
)

var (
	wrappingAlgorithms = []string{"RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE"}
	wrappingKeySpecs   = map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
)

func expiryStorageKey(at time.Time, region, account, keyID string) string {
	return fmt.Sprintf("%s%020d/%s/%s/%s", prefixExpiry, at.Unix(), region, account, keyID)
}

// importTokenRecord is the server side of an import token: the wrapping
// private key (sealed) and what the token may import into.
type importTokenRecord struct {
	KeyARN     string    `json:"key"`
	Algorithm  string    `json:"algorithm"`
	KeySpec    string    `json:"wrappingKeySpec"`
	ValidTo    time.Time `json:"validTo"`
	SealedPriv []byte    `json:"sealedPrivateKey"`
}

func importTokenAAD(tokenID string) []byte {
	return []byte("openkms:import-wrapping-key:v1:" + tokenID)
}

// ImportParameters is the result of GetParametersForImport.
type ImportParameters struct {
	KeyARN            string
	ImportToken       []byte
	PublicKey         []byte
	ParametersValidTo time.Time
}

// GetParametersForImport returns a fresh RSA wrapping public key and an
// import token, valid for 24 hours, for importing material into an
// EXTERNAL key.
func (s *Service) GetParametersForImport(ctx context.Context, c Caller, keyID, algorithm, wrappingKeySpec string) (ImportParameters, error) {
	if algorithm == "" {
		return ImportParameters{}, required("wrappingAlgorithm")
	}
	if !slices.Contains(wrappingAlgorithms, algorithm) {
		return ImportParameters{}, validation("wrappingAlgorithm", algorithm, "Member must satisfy enum value set: [RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256, SM2PKE]")
	}
	if wrappingKeySpec == "" {
		return ImportParameters{}, required("wrappingKeySpec")
	}
	bits, ok := wrappingKeySpecs[wrappingKeySpec]
	if !ok && wrappingKeySpec != "SM2" {
		return ImportParameters{}, validation("wrappingKeySpec", wrappingKeySpec, "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]")
	}
	if algorithm == "RSAES_PKCS1_V1_5" || algorithm == "SM2PKE" || wrappingKeySpec == "SM2" {
		return ImportParameters{}, kmserr.New(kmserr.UnsupportedOperation, "Wrapping algorithm %s with wrapping key spec %s is not supported by this server.", algorithm, wrappingKeySpec)
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:GetParametersForImport", withValue("kms:WrappingAlgorithm", algorithm), withValue("kms:WrappingKeySpec", wrappingKeySpec)))
	if err != nil {
		return ImportParameters{}, err
	}
	if err := importable(k); err != nil {
		return ImportParameters{}, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return ImportParameters{}, kmserr.Internal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return ImportParameters{}, kmserr.Internal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return ImportParameters{}, kmserr.Internal(err)
	}
	defer clear(der)
	token := make([]byte, 1+importTokenRandomLen)
	token[0] = importTokenVersion
	if _, err := readFull(s.rand, token[1:]); err != nil {
		return ImportParameters{}, kmserr.Internal(err)
	}
	tokenID := hex.EncodeToString(token[1:])
	sealed, err := s.sealer.Seal(der, importTokenAAD(tokenID))
	if err != nil {
		return ImportParameters{}, kmserr.Internal(err)
	}
	validTo := s.now().UTC().Add(importParamsLifetime)
	rec, _ := json.Marshal(importTokenRecord{KeyARN: k.arn(), Algorithm: algorithm, KeySpec: wrappingKeySpec, ValidTo: validTo, SealedPriv: sealed})
	if err := s.update(ctx, func(w storage.Writer) error { return w.Put(prefixImportToken+tokenID, rec) }); err != nil {
		return ImportParameters{}, err
	}
	return ImportParameters{KeyARN: k.arn(), ImportToken: token, PublicKey: pub, ParametersValidTo: validTo}, nil
}

// importable checks that a key takes imported material.
func importable(k *keyRecord) error {
	if k.Origin != originExternal {
		return kmserr.New(kmserr.UnsupportedOperation, "%s origin is %s which is not valid for this operation.", k.arn(), k.Origin)
	}
	if k.state() == KeyStatePendingDeletion {
		return stateError(k)
	}
	return nil
}

// ImportKeyMaterialInput is the input of ImportKeyMaterial.
type ImportKeyMaterialInput struct {
	KeyID                  string
	ImportToken            []byte
	EncryptedKeyMaterial   []byte
	ValidTo                time.Time // zero when not given
	ExpirationModel        string
	ImportType             string
	KeyMaterialDescription string
	KeyMaterialID          string
}

// ImportKeyMaterialOutput is the result of ImportKeyMaterial.
type ImportKeyMaterialOutput struct {
	KeyARN        string
	KeyMaterialID string
}

// ImportKeyMaterial unwraps key material with the private key behind an
// import token and installs it: as the key's first material, as a reimport
// of material that was deleted or expired (it must be the same), or, with
// ImportType NEW_KEY_MATERIAL, as pending material that RotateKeyOnDemand
// makes current.
func (s *Service) ImportKeyMaterial(ctx context.Context, c Caller, in ImportKeyMaterialInput) (ImportKeyMaterialOutput, error) {
	if in.ImportToken == nil {
		return ImportKeyMaterialOutput{}, required("importToken")
	}
	if in.EncryptedKeyMaterial == nil {
		return ImportKeyMaterialOutput{}, required("encryptedKeyMaterial")
	}
	if err := blobLength("encryptedKeyMaterial", in.EncryptedKeyMaterial, 1, maxEncryptedMaterial); err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	if err := lengthBetween("keyMaterialDescription", in.KeyMaterialDescription, 0, maxMaterialDescLength); err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	model := in.ExpirationModel
	if model == "" {
		model = expirationExpires
	}
	now := s.now().UTC()
	switch model {
	case expirationExpires:
		if in.ValidTo.IsZero() {
			return ImportKeyMaterialOutput{}, kmserr.New(kmserr.Validation, "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
		}
		if !in.ValidTo.After(now) || in.ValidTo.After(now.Add(maxValidToAhead)) {
			return ImportKeyMaterialOutput{}, kmserr.New(kmserr.Validation, "The validTo date must be in the future and at most 365 days from now.")
		}
	case expirationDoesNot:
		if !in.ValidTo.IsZero() {
			return ImportKeyMaterialOutput{}, kmserr.New(kmserr.Validation, "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
		}
	default:
		return ImportKeyMaterialOutput{}, validation("expirationModel", model, "Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]")
	}
	importType := in.ImportType
	if importType == "" {
		importType = importTypeExisting
	}
	if importType != importTypeExisting && importType != importTypeNew {
		return ImportKeyMaterialOutput{}, validation("importType", importType, "Member must satisfy enum value set: [NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL]")
	}
	if len(in.ImportToken) != 1+importTokenRandomLen || in.ImportToken[0] != importTokenVersion {
		return ImportKeyMaterialOutput{}, kmserr.New(kmserr.InvalidImportToken, "The import token is invalid.")
	}
	tokenID := hex.EncodeToString(in.ImportToken[1:])

	k, err := s.loadKey(ctx, c, "keyId", in.KeyID, keyOnly, requires("kms:ImportKeyMaterial", withValue("kms:ExpirationModel", model), withValidTo(in.ValidTo)))
	if err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	if err := importable(k); err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	b, err := storage.Get(ctx, s.store, prefixImportToken+tokenID)
	if errors.Is(err, storage.ErrNotFound) {
		return ImportKeyMaterialOutput{}, kmserr.New(kmserr.InvalidImportToken, "The import token is invalid.")
	}
	if err != nil {
		return ImportKeyMaterialOutput{}, internalize(err)
	}
	var tok importTokenRecord
	if err := json.Unmarshal(b, &tok); err != nil {
		return ImportKeyMaterialOutput{}, kmserr.Internal(err)
	}
	if tok.KeyARN != k.arn() {
		return ImportKeyMaterialOutput{}, kmserr.New(kmserr.InvalidImportToken, "The import token is not valid for %s.", k.arn())
	}
	if now.After(tok.ValidTo) {
		return ImportKeyMaterialOutput{}, kmserr.New(kmserr.ExpiredImportToken, "The import token has expired.")
	}
	material, err := s.unwrapImported(tokenID, &tok, in.EncryptedKeyMaterial)
	if err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	defer clear(material)
	pub, err := checkImportedMaterial(k, material)
	if err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	if importType == importTypeNew && !k.symmetric() {
		return ImportKeyMaterialOutput{}, kmserr.New(kmserr.UnsupportedOperation, "ImportType NEW_KEY_MATERIAL is supported only for symmetric encryption keys.")
	}
	fp := materialFingerprint(k.arn(), material)
	var out ImportKeyMaterialOutput
	k, err = s.mutateKey(ctx, c, in.KeyID, requires("kms:ImportKeyMaterial", withValue("kms:ExpirationModel", model), withValidTo(in.ValidTo)), func(w storage.Writer, k *keyRecord) error {
		if err := importable(k); err != nil {
			return err
		}
		var m *materialRecord
		switch {
		case len(k.Materials) == 0:
			k.Materials = append(k.Materials, materialRecord{Version: 1, Created: now, Imported: true, Fingerprint: fp, ID: importedMaterialID(fp)})
			k.CurrentVersion = 1
			m = &k.Materials[0]
		case importType == importTypeNew:
			for i := range k.Materials {
				if subtle.ConstantTimeCompare(k.Materials[i].Fingerprint, fp) == 1 {
					return kmserr.New(kmserr.IncorrectKeyMaterial, "This key material was already imported into %s.", k.arn())
				}
			}
			k.Materials = append(k.Materials, materialRecord{Version: k.latestVersion() + 1, Created: now, Imported: true, Fingerprint: fp, ID: importedMaterialID(fp), Pending: true, RotationType: rotationTypeOnDemand})
			m = &k.Materials[len(k.Materials)-1]
		default:
			target := k.CurrentVersion
			if in.KeyMaterialID != "" {
				found := false
				for _, mm := range k.Materials {
					if mm.id(k.arn()) == in.KeyMaterialID {
						target, found = mm.Version, true
					}
				}
				if !found {
					return kmserr.New(kmserr.NotFound, "Key material %s does not exist for %s.", in.KeyMaterialID, k.arn())
				}
			}
			m, _ = k.material(target)
			if m == nil || subtle.ConstantTimeCompare(m.Fingerprint, fp) != 1 {
				return kmserr.New(kmserr.IncorrectKeyMaterial, "The key material in the request is, expired, invalid, or is not the same key material that was previously imported into this customer master key (CMK).")
			}
			if !m.ValidTo.IsZero() {
				if err := w.Delete(expiryStorageKey(m.ValidTo, k.Region, k.Account, k.KeyID)); err != nil {
					return err
				}
			}
		}
		sealed, err := s.sealer.Seal(material, materialAAD(k.arn(), m.Version))
		if err != nil {
			return err
		}
		if pub != nil {
			k.PublicKey = pub
		}
		m.Sealed, m.ExpirationModel, m.Description = sealed, model, in.KeyMaterialDescription
		m.ValidTo = time.Time{}
		if model == expirationExpires {
			m.ValidTo = in.ValidTo.UTC()
			if err := w.Put(expiryStorageKey(m.ValidTo, k.Region, k.Account, k.KeyID), nil); err != nil {
				return err
			}
		}
		if k.state() == KeyStatePendingImport && m.Version == k.CurrentVersion {
			k.State = KeyStateEnabled.String()
		}
		out = ImportKeyMaterialOutput{KeyARN: k.arn(), KeyMaterialID: m.id(k.arn())}
		return nil
	})
	if err != nil {
		return ImportKeyMaterialOutput{}, err
	}
	s.log.Info("key material imported", "key", k.arn(), "material", out.KeyMaterialID)
	return out, nil
}

// unwrapImported opens EncryptedKeyMaterial with the token's private key.
func (s *Service) unwrapImported(tokenID string, tok *importTokenRecord, wrapped []byte) ([]byte, error) {
	der, err := s.sealer.Open(tok.SealedPriv, importTokenAAD(tokenID))
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, kmserr.Internal(errors.New("import wrapping key is not RSA"))
	}
	var h hash.Hash
	switch tok.Algorithm {
	case "RSAES_OAEP_SHA_1", "RSA_AES_KEY_WRAP_SHA_1":
		h = sha1.New()
	default:
		h = sha256.New()
	}
	switch tok.Algorithm {
	case "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256":
		pt, err := rsa.DecryptOAEP(h, nil, priv, wrapped, nil)
		if err != nil {
			return nil, invalidCiphertext()
		}
		return pt, nil
	case "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256":
		// RSA-OAEP-wrapped ephemeral AES key, then AES-KWP-wrapped material.
		n := priv.Size()
		if len(wrapped) <= n {
			return nil, invalidCiphertext()
		}
		kek, err := rsa.DecryptOAEP(h, nil, priv, wrapped[:n], nil)
		if err != nil {
			return nil, invalidCiphertext()
		}
		defer clear(kek)
		pt, err := keywrap.Unwrap(kek, wrapped[n:])
		if err != nil {
			return nil, invalidCiphertext()
		}
		return pt, nil
	}
	return nil, kmserr.New(kmserr.UnsupportedOperation, "Wrapping algorithm %s is not supported by this server.", tok.Algorithm)
}

// materialFingerprint identifies imported material without revealing it
// (the material is 256 random bits), so a reimport can be checked.
func materialFingerprint(keyARN string, material []byte) []byte {
	h := sha256.New()
	h.Write([]byte("openkms:imported-material-fingerprint:v1:" + keyARN + ":"))
	h.Write(material)
	return h.Sum(nil)
}

func importedMaterialID(fp []byte) string {
	h := sha256.Sum256(append([]byte("openkms:key-material-id:imported:v1:"), fp...))
	return hex.EncodeToString(h[:])
}

// promotePendingMaterial makes the oldest pending imported generation
// current (RotateKeyOnDemand on an imported key).
func promotePendingMaterial(k *keyRecord) error {
	for i := range k.Materials {
		if k.Materials[i].Pending {
			k.Materials[i].Pending = false
			k.CurrentVersion = k.Materials[i].Version
			k.OnDemandRotations++
			return nil
		}
	}
	return kmserr.New(kmserr.KMSInvalidState, "%s has no imported key material pending rotation. Import it with ImportType NEW_KEY_MATERIAL first.", k.arn())
}

// DeleteImportedKeyMaterial deletes imported material (all generations, or
// the one named). The key becomes PendingImport when its current material
// is gone; ciphertexts fail until the same material is imported again. It
// returns the key ARN and the material id deleted.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, c Caller, keyID, materialID string) (string, string, error) {
	var deletedID string
	k, err := s.mutateKey(ctx, c, keyID, requires("kms:DeleteImportedKeyMaterial"), func(w storage.Writer, k *keyRecord) error {
		if k.Origin != originExternal {
			return kmserr.New(kmserr.UnsupportedOperation, "%s origin is %s which is not valid for this operation.", k.arn(), k.Origin)
		}
		found := false
		for i := range k.Materials {
			m := &k.Materials[i]
			if materialID != "" && m.id(k.arn()) != materialID {
				continue
			}
			found = true
			if err := dropMaterial(w, k, m); err != nil {
				return err
			}
			if deletedID == "" || m.Version == k.CurrentVersion {
				deletedID = m.id(k.arn())
			}
		}
		if materialID != "" && !found {
			return kmserr.New(kmserr.NotFound, "Key material %s does not exist for %s.", materialID, k.arn())
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	return k.arn(), deletedID, nil
}

// dropMaterial deletes one generation's sealed material and, if it was the
// current one, moves the key to PendingImport.
func dropMaterial(w storage.Writer, k *keyRecord, m *materialRecord) error {
	if !m.ValidTo.IsZero() {
		if err := w.Delete(expiryStorageKey(m.ValidTo, k.Region, k.Account, k.KeyID)); err != nil {
			return err
		}
	}
	m.Sealed, m.ValidTo = nil, time.Time{}
	if m.Version == k.CurrentVersion {
		switch k.state() {
		case KeyStateEnabled, KeyStateDisabled:
			k.State = KeyStatePendingImport.String()
		}
	}
	return nil
}

// ExpireDueMaterial deletes imported material whose ValidTo has passed,
// and import tokens past their lifetime. It returns how many keys lost
// material.
func (s *Service) ExpireDueMaterial(ctx context.Context) (int, error) {
	now := s.now().UTC()
	due, err := s.dueEntries(ctx, prefixExpiry, now)
	if err != nil {
		return 0, err
	}
	expired := 0
	for _, idx := range due {
		region, account, keyID, ok := parseScheduleKey(idx, prefixExpiry)
		if !ok {
			continue
		}
		err := s.update(ctx, func(w storage.Writer) error {
			if err := w.Delete(idx); err != nil {
				return err
			}
			k, err := getKeyRecord(w, region, account, keyID)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			changed := false
			for i := range k.Materials {
				m := &k.Materials[i]
				if m.Sealed != nil && !m.ValidTo.IsZero() && !m.ValidTo.After(now) {
					if err := dropMaterial(w, k, m); err != nil {
						return err
					}
					changed = true
				}
			}
			if !changed {
				return nil
			}
			expired++
			return putKeyRecord(w, k)
		})
		if err != nil {
			return expired, err
		}
	}
	// Import tokens: remove expired ones so they do not accumulate.
	var stale []string
	err = s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefixImportToken, "", func(key string, value []byte) (bool, error) {
			var tok importTokenRecord
			if json.Unmarshal(value, &tok) == nil && now.After(tok.ValidTo) {
				stale = append(stale, key)
			}
			return len(stale) < 1000, nil
		})
	})
	if err != nil {
		return expired, err
	}
	if len(stale) > 0 {
		err = s.update(ctx, func(w storage.Writer) error {
			for _, key := range stale {
				if err := w.Delete(key); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return expired, err
}

// checkImportedMaterial checks that imported material fits the key's spec:
// 256 bits for a symmetric key, a key of the right length for an HMAC key,
// a PKCS#8 private key of the right type for an asymmetric key (whose
// public key it returns).
func checkImportedMaterial(k *keyRecord, material []byte) ([]byte, error) {
	if k.symmetric() {
		if len(material) != 32 {
			return nil, kmserr.New(kmserr.IncorrectKeyMaterial, "Key material for a SYMMETRIC_DEFAULT key must be 256 bits.")
		}
		return nil, nil
	}
	spec, err := keymaterial.ParseKeySpec(k.KeySpec)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	key, err := keymaterial.ParsePrivate(spec, material)
	if err != nil {
		return nil, kmserr.New(kmserr.IncorrectKeyMaterial, "The key material is not a valid %s key.", k.KeySpec)
	}
	if !spec.Asymmetric() {
		return nil, nil
	}
	pub, err := key.PublicKeyDER()
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	return pub, nil
}
