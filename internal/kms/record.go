package kms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/keymaterial"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// Storage layout (all keys are strings; "/" separates levels):
//
//	k/<region>/<account>/<key-id>        keyRecord (JSON)
//	a/<region>/<account>/<alias-name>    aliasRecord (JSON); name without "alias/"
//	d/<unix-seconds, 20 digits>/<region>/<account>/<key-id>
//	                                     deletion schedule index (empty value)
const (
	prefixKey      = "k/"
	prefixAlias    = "a/"
	prefixDeletion = "d/"
)

func keyStorageKey(region, account, keyID string) string {
	return prefixKey + region + "/" + account + "/" + keyID
}

func aliasStorageKey(region, account, name string) string {
	return prefixAlias + region + "/" + account + "/" + strings.TrimPrefix(name, "alias/")
}

func deletionStorageKey(at time.Time, region, account, keyID string) string {
	return fmt.Sprintf("%s%020d/%s/%s/%s", prefixDeletion, at.Unix(), region, account, keyID)
}

// keyRecord is a key as stored. Key material is sealed under the root key
// with the key ARN and material version bound as associated data.
type keyRecord struct {
	KeyID               string    `json:"id"`
	Account             string    `json:"account"`
	Region              string    `json:"region"`
	CreationDate        time.Time `json:"created"`
	Description         string    `json:"description,omitempty"`
	State               string    `json:"state"`
	KeySpec             string    `json:"spec"`
	KeyUsage            string    `json:"usage"`
	Origin              string    `json:"origin"`
	Policy              string    `json:"policy"`
	Tags                []Tag     `json:"tags,omitempty"`
	DeletionDate        time.Time `json:"deletionDate,omitzero"`
	PendingWindowInDays int       `json:"pendingWindow,omitempty"`
	CurrentVersion      uint32    `json:"currentVersion"`
	// PublicKey is the DER SubjectPublicKeyInfo of an asymmetric key.
	PublicKey []byte `json:"publicKey,omitempty"`
	// Manager is "AWS" for an AWS managed key, empty for a customer
	// managed one.
	Manager   string           `json:"manager,omitempty"`
	Materials []materialRecord `json:"materials"`
	// Rotation: automatic rotation schedule and on-demand count.
	RotationEnabled    bool      `json:"rotationEnabled,omitempty"`
	RotationPeriodDays int       `json:"rotationPeriod,omitempty"`
	NextRotation       time.Time `json:"nextRotation,omitzero"`
	OnDemandRotations  int       `json:"onDemandRotations,omitempty"`
	// CustomKeyStoreID and HSMKeyID name the custom key store and the
	// token key (its CKA_ID) of a key with origin AWS_CLOUDHSM.
	CustomKeyStoreID string `json:"customKeyStore,omitempty"`
	HSMKeyID         []byte `json:"hsmKeyId,omitempty"`

	// Not stored: filled by Service.annotate for custom-store keys.
	clusterID string
	storeDown bool // the key's custom key store is not connected
}

// materialRecord is one generation of backing key material.
type materialRecord struct {
	Version uint32    `json:"version"`
	Created time.Time `json:"created"`
	// ID is the KeyMaterialId reported for this generation.
	ID string `json:"id,omitempty"`
	// RotationType is how this generation came to be: "" for the key's
	// first material, AUTOMATIC or ON_DEMAND for rotations.
	RotationType string `json:"rotationType,omitempty"`
	// Sealed is the key material sealed under the root key; nil when
	// imported material has been deleted or has expired.
	Sealed []byte `json:"sealed,omitempty"`
	// Imported material only.
	Imported        bool      `json:"imported,omitempty"`
	Fingerprint     []byte    `json:"fingerprint,omitempty"`
	ExpirationModel string    `json:"expirationModel,omitempty"`
	ValidTo         time.Time `json:"validTo,omitzero"`
	Description     string    `json:"description,omitempty"`
	// Pending is true for imported material waiting for RotateKeyOnDemand
	// to make it current.
	Pending bool `json:"pending,omitempty"`
}

// id returns the generation's KeyMaterialId.
func (m *materialRecord) id(keyARN string) string {
	if m.ID != "" {
		return m.ID
	}
	return materialID(keyARN, m.Version)
}

func (k *keyRecord) arn() string { return arn.Key(k.Region, k.Account, k.KeyID) }

// symmetric reports whether the key is a symmetric encryption key (AES-GCM
// material handled here); any other spec is handled by keymaterial.
func (k *keyRecord) symmetric() bool { return k.KeySpec == specSymmetricDefault }

func names[T fmt.Stringer](v []T) []string {
	if len(v) == 0 {
		return nil
	}
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = x.String()
	}
	return out
}

func (k *keyRecord) state() KeyState {
	st, err := ParseKeyState(k.State)
	if err != nil {
		return KeyStateUnknown
	}
	if k.storeDown && (st == KeyStateEnabled || st == KeyStateDisabled) {
		return KeyStateUnavailable
	}
	return st
}

// materialIDOf is the KeyMaterialId of one generation.
func (k *keyRecord) materialIDOf(version uint32) string {
	if m, ok := k.material(version); ok {
		return m.id(k.arn())
	}
	return ""
}

// currentMaterialID is the KeyMaterialId of the material Encrypt uses.
func (k *keyRecord) currentMaterialID() string {
	if m, ok := k.material(k.CurrentVersion); ok {
		return m.id(k.arn())
	}
	return ""
}

func (k *keyRecord) material(version uint32) (*materialRecord, bool) {
	for i := range k.Materials {
		if k.Materials[i].Version == version {
			return &k.Materials[i], true
		}
	}
	return nil, false
}

// materialID is the KeyMaterialId AWS reports: a 64-character hex string
// that names one generation of a key's material without revealing it.
func materialID(keyARN string, version uint32) string {
	h := sha256.Sum256(fmt.Appendf(nil, "openkms:key-material-id:v1:%s:%d", keyARN, version))
	return hex.EncodeToString(h[:])
}

// materialAAD is the associated data that binds sealed material to its key
// and version.
func materialAAD(keyARN string, version uint32) []byte {
	return fmt.Appendf(nil, "openkms:key-material:v1:%s:%d", keyARN, version)
}

func (k *keyRecord) metadata() KeyMetadata {
	st := k.state()
	origin, _ := ParseOrigin(k.Origin)
	md := KeyMetadata{
		AccountID:    k.Account,
		KeyID:        k.KeyID,
		ARN:          k.arn(),
		CreationDate: k.CreationDate,
		Enabled:      st == KeyStateEnabled,
		Description:  k.Description,
		KeyUsage:     k.KeyUsage,
		KeyState:     st,
		Origin:       origin,
		KeyManager:   keyManager(k.Manager),
		KeySpec:      k.KeySpec,

		CustomKeyStoreID:  k.CustomKeyStoreID,
		CloudHsmClusterID: k.clusterID,
	}
	if k.symmetric() {
		md.EncryptionAlgorithm = []string{EncryptionAlgorithmSymmetricDefault}
	} else if spec, err := keymaterial.ParseKeySpec(k.KeySpec); err == nil {
		usage, _ := keymaterial.ParseKeyUsage(k.KeyUsage)
		algs := keymaterial.AlgorithmsFor(spec, usage)
		md.EncryptionAlgorithm = names(algs.Encryption)
		md.SigningAlgorithms = names(algs.Signing)
		md.MacAlgorithms = names(algs.Mac)
		md.KeyAgreementAlgs = names(algs.KeyAgreement)
	}
	if st == KeyStatePendingDeletion {
		md.DeletionDate = k.DeletionDate
		md.PendingWindowInDays = k.PendingWindowInDays
	}
	if m, ok := k.material(k.CurrentVersion); ok {
		md.CurrentKeyMaterialID = m.id(k.arn())
		if m.Imported && m.Sealed != nil {
			md.ExpirationModel, md.ValidTo = m.ExpirationModel, m.ValidTo
		}
	}
	return md
}

func getKeyRecord(r storage.Reader, region, account, keyID string) (*keyRecord, error) {
	b, err := r.Get(keyStorageKey(region, account, keyID))
	if err != nil {
		return nil, err
	}
	var k keyRecord
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("kms: decoding key record %s: %w", keyID, err)
	}
	return &k, nil
}

func putKeyRecord(w storage.Writer, k *keyRecord) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return w.Put(keyStorageKey(k.Region, k.Account, k.KeyID), b)
}

// aliasRecord is an alias as stored.
type aliasRecord struct {
	TargetKeyID string    `json:"target"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func getAliasRecord(r storage.Reader, region, account, name string) (*aliasRecord, error) {
	b, err := r.Get(aliasStorageKey(region, account, name))
	if err != nil {
		return nil, err
	}
	var a aliasRecord
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("kms: decoding alias record %s: %w", name, err)
	}
	return &a, nil
}

func putAliasRecord(w storage.Writer, region, account, name string, a *aliasRecord) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return w.Put(aliasStorageKey(region, account, name), b)
}

// isKeyID reports whether s has the form of a KMS key id (a lowercase
// UUID), or a multi-Region key id ("mrk-" and 32 hex digits).
func isKeyID(s string) bool {
	if strings.HasPrefix(s, "mrk-") {
		return len(s) == 36 && isHex(s[4:])
	}
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHexByte(s[i]) {
				return false
			}
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// keyRef says how a KeyId parameter may name a key.
type keyRef int

const (
	keyOnly       keyRef = iota // key id or key ARN
	keyOrAlias                  // also alias name or alias ARN
	maxKeyIDParam = 2048
)

// resolveKey finds the key that a KeyId parameter names, as AWS resolves
// it: a key id or alias name in the caller's account and region, or a key or
// alias ARN.
//
// With a non-nil cache the record returned is shared and must not be
// modified (the read-only paths: loadKey and Decrypt).
func resolveKey(r storage.Reader, c Caller, field, id string, ref keyRef, cache ...*recordCache) (*keyRecord, error) {
	if id == "" {
		return nil, required(field)
	}
	if err := lengthBetween(field, id, 1, maxKeyIDParam); err != nil {
		return nil, err
	}
	region, account, name := c.Region, c.Principal.Account, id
	if strings.HasPrefix(id, "arn:") {
		a, err := arn.Parse(id)
		if err != nil {
			return nil, invalidKeyID(id, ref)
		}
		if a.Region != c.Region {
			return nil, kmserr.New(kmserr.NotFound, "Invalid arn %s", a.Region)
		}
		region, account, name = a.Region, a.Account, a.Resource
		if a.IsKey() {
			name = a.KeyID()
		}
	}
	if strings.HasPrefix(name, "alias/") {
		if ref != keyOrAlias {
			return nil, invalidKeyID(id, ref)
		}
		al, err := getAliasRecord(r, region, account, name)
		if errors.Is(err, storage.ErrNotFound) || err == nil && al.TargetKeyID == "" {
			return nil, aliasNotFound(arn.Alias(region, account, name))
		}
		if err != nil {
			return nil, err
		}
		name = al.TargetKeyID
	} else if !isKeyID(name) {
		return nil, invalidKeyID(id, ref)
	}
	var k *keyRecord
	var err error
	if len(cache) > 0 && cache[0] != nil {
		k, err = cache[0].get(r, region, account, name)
	} else {
		k, err = getKeyRecord(r, region, account, name)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFoundKey(arn.Key(region, account, name))
	}
	return k, err
}

// recordCache keeps decoded key records for the read-only request paths.
// Every request still reads the record's current bytes from storage (so a
// change made by any node is seen at once); only the JSON decoding, the
// largest per-request cost, is skipped when the bytes are unchanged.
type recordCache struct {
	mu sync.RWMutex
	m  map[string]cachedRecord
}

type cachedRecord struct {
	raw []byte
	rec *keyRecord
}

const maxCachedRecords = 16384

func (rc *recordCache) get(r storage.Reader, region, account, keyID string) (*keyRecord, error) {
	key := keyStorageKey(region, account, keyID)
	raw, err := storage.Peek(r, key) // not kept: copied below if cached
	if err != nil {
		return nil, err
	}
	rc.mu.RLock()
	c, ok := rc.m[key]
	rc.mu.RUnlock()
	if ok && bytes.Equal(c.raw, raw) {
		return c.rec, nil
	}
	var k keyRecord
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("kms: decoding key record %s: %w", keyID, err)
	}
	rc.mu.Lock()
	if rc.m == nil || len(rc.m) >= maxCachedRecords {
		rc.m = make(map[string]cachedRecord)
	}
	rc.m[key] = cachedRecord{raw: bytes.Clone(raw), rec: &k}
	rc.mu.Unlock()
	return &k, nil
}

// need names the permission an operation needs on its key: the action
// and the request's own condition keys.
type need struct {
	action string
	opts   []func(*authzRequest)
}

func requires(action string, opts ...func(*authzRequest)) need { return need{action, opts} }

// loadKey resolves a key in its own read transaction and authorizes the
// caller for n on it. Every operation on a key goes through here (or
// mutateKey), so none can skip authorization.
func (s *Service) loadKey(ctx context.Context, c Caller, field, id string, ref keyRef, n need) (*keyRecord, error) {
	var k *keyRecord
	resolve := func() error {
		return s.view(ctx, func(r storage.Reader) error {
			var err error
			k, err = resolveKey(r, c, field, id, ref, &s.records)
			return err
		})
	}
	err := resolve()
	if kmserr.Is(err, kmserr.NotFound) && ref == keyOrAlias {
		// The first reference to alias/aws/<service> creates the AWS
		// managed key, as on AWS.
		if alias := managedAliasOf(c, id); alias != "" {
			if err := s.ensureManagedKey(ctx, c, alias); err != nil {
				return nil, internalize(err)
			}
			err = resolve()
		}
	}
	if err != nil {
		return nil, err
	}
	noteKey(ctx, k.arn())
	k = s.annotate(ctx, k)
	r := newAuthz(c, n.action, k)
	if alias := requestAlias(id); alias != "" {
		r.ctx.Set("kms:RequestAlias", alias)
	}
	for _, o := range n.opts {
		o(r)
	}
	if err := s.authorize(ctx, c, r); err != nil {
		return nil, err
	}
	return k, nil
}

// mutateKey resolves and authorizes like loadKey, then applies fn to the
// key's current record in a read-write transaction, storing it if fn
// returns nil. (Authorization runs before the write transaction so that it
// never reads storage while holding it.)
func (s *Service) mutateKey(ctx context.Context, c Caller, id string, n need, fn func(w storage.Writer, k *keyRecord) error) (*keyRecord, error) {
	k, err := s.loadKey(ctx, c, "keyId", id, keyOnly, n)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(w storage.Writer) error {
		cur, err := getKeyRecord(w, k.Region, k.Account, k.KeyID)
		if errors.Is(err, storage.ErrNotFound) {
			return notFoundKey(k.arn())
		}
		if err != nil {
			return err
		}
		if err := fn(w, cur); err != nil {
			return err
		}
		k = cur
		return putKeyRecord(w, cur)
	})
	return k, err
}

// requestAlias is the alias name a KeyId parameter uses, if any
// (kms:RequestAlias).
func requestAlias(id string) string {
	if strings.HasPrefix(id, "alias/") {
		return id
	}
	if a, err := arn.Parse(id); err == nil && a.IsAlias() {
		return a.Resource
	}
	return ""
}

// stateError is the error an operation gets when the key's state does not
// allow it, following the key state table.
func stateError(k *keyRecord) error {
	switch k.state() {
	case KeyStateDisabled:
		return kmserr.New(kmserr.Disabled, "%s is disabled.", k.arn())
	case KeyStatePendingDeletion:
		return kmserr.New(kmserr.KMSInvalidState, "%s is pending deletion.", k.arn())
	case KeyStatePendingImport:
		return kmserr.New(kmserr.KMSInvalidState, "%s is pending import.", k.arn())
	case KeyStateUnavailable:
		return kmserr.New(kmserr.KMSInvalidState, "%s is unavailable.", k.arn())
	default:
		return kmserr.New(kmserr.KMSInvalidState, "%s is not in a valid state for this operation.", k.arn())
	}
}

// invalidState is the KMSInvalidStateException for management operations,
// which AWS raises for every disallowed state (including Disabled where the
// table marks it so).
func invalidState(k *keyRecord) error {
	if k.state() == KeyStateDisabled {
		return kmserr.New(kmserr.KMSInvalidState, "%s is disabled.", k.arn())
	}
	return stateError(k)
}

func keyManager(m string) string {
	if m == keyManagerAWS {
		return keyManagerAWS
	}
	return "CUSTOMER"
}
