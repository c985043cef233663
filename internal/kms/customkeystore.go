package kms

// Custom key stores (AWS_CLOUDHSM type) backed by PKCS#11 tokens.
//
// A custom key store names one of the tokens the server's configuration
// declares (its CloudHsmClusterId) and holds the token's user PIN (its
// KeyStorePassword), sealed under the root key. Keys created in a store are
// non-extractable AES-256 keys generated in the token; Encrypt, Decrypt and
// friends run AES-GCM inside the token, with the same blob layout and
// associated data as software keys (docs/CIPHERTEXT.md).
//
// Whether a store should be connected is stored; the connection itself (a
// logged-in token) lives in memory, per server. After a restart a store that
// should be connected reconnects lazily, on first use.
//
// See https://docs.aws.amazon.com/kms/latest/developerguide/keystore-cloudhsm.html

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/ciphertext"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// HSMToken is one logged-in PKCS#11 token of a connected custom key store.
// Keys are named by their CKA_ID. Implementations are safe for concurrent
// use.
type HSMToken interface {
	// GenerateKey makes a non-extractable AES-256 key labelled label and
	// returns its CKA_ID.
	GenerateKey(ctx context.Context, label string) (id []byte, err error)
	// EncryptGCM returns nonce(12) || ciphertext || tag(16).
	EncryptGCM(ctx context.Context, id, plaintext, aad []byte) ([]byte, error)
	// DecryptGCM reverses EncryptGCM; it returns ErrHSMDecrypt for any input
	// that does not authenticate.
	DecryptGCM(ctx context.Context, id, sealed, aad []byte) ([]byte, error)
	// DestroyKey destroys the key object.
	DestroyKey(ctx context.Context, id []byte) error
	// Random returns n bytes from the token's RNG.
	Random(ctx context.Context, n int) ([]byte, error)
	// Close logs out and releases the token.
	Close() error
}

// HSMClusters are the PKCS#11 tokens the server may use for custom key
// stores, by cluster id (the configuration's hsm_clusters).
type HSMClusters interface {
	// Has reports whether clusterID is configured.
	Has(clusterID string) bool
	// Connect logs in to the cluster's token with pin. It returns an error
	// wrapping ErrHSMInvalidCredentials, ErrHSMUserLockedOut or
	// ErrHSMClusterNotFound for those failures; any other error is
	// reported as INTERNAL_ERROR.
	Connect(ctx context.Context, clusterID, pin string) (HSMToken, error)
}

// Errors an HSMClusters or HSMToken implementation returns.
var (
	ErrHSMInvalidCredentials = errors.New("kms: the token rejected the key store password")
	ErrHSMUserLockedOut      = errors.New("kms: the token user is locked out")
	ErrHSMClusterNotFound    = errors.New("kms: the token of the cluster was not found")
	ErrHSMDecrypt            = errors.New("kms: the token could not authenticate the ciphertext")
)

// Connection states and error codes, as AWS names them.
const (
	cksConnected    = "CONNECTED"
	cksDisconnected = "DISCONNECTED"
	cksFailed       = "FAILED"

	cksTypeCloudHSM = "AWS_CLOUDHSM"
	cksTypeExternal = "EXTERNAL_KEY_STORE"

	prefixCustomKeyStore = "cks/"
	maxCustomKeyStores   = 10 // per account and region, as on AWS
)

// customKeyStoreRecord is a custom key store as stored.
type customKeyStoreRecord struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	ClusterID      string    `json:"cluster"`
	TrustAnchor    string    `json:"trustAnchor"`
	SealedPassword []byte    `json:"sealedPassword"`
	Created        time.Time `json:"created"`
	// WantConnected is the desired state: ConnectCustomKeyStore sets it,
	// DisconnectCustomKeyStore clears it.
	WantConnected bool `json:"wantConnected,omitempty"`
}

func cksStorageKey(region, account, id string) string {
	return prefixCustomKeyStore + region + "/" + account + "/" + id
}

func passwordAAD(region, account, id string) []byte {
	return fmt.Appendf(nil, "openkms:custom-key-store-password:v1:%s/%s/%s", region, account, id)
}

func getCKS(r storage.Reader, region, account, id string) (*customKeyStoreRecord, error) {
	b, err := r.Get(cksStorageKey(region, account, id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, cksNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	var rec customKeyStoreRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("kms: decoding custom key store %s: %w", id, err)
	}
	return &rec, nil
}

func putCKS(w storage.Writer, region, account string, rec *customKeyStoreRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return w.Put(cksStorageKey(region, account, rec.ID), b)
}

// scanCKS calls fn for every custom key store of an account and region.
func scanCKS(r storage.Reader, region, account, after string, fn func(*customKeyStoreRecord) (bool, error)) error {
	prefix := prefixCustomKeyStore + region + "/" + account + "/"
	start := ""
	if after != "" {
		start = prefix + after
	}
	return r.Scan(prefix, start, func(_ string, v []byte) (bool, error) {
		var rec customKeyStoreRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return false, err
		}
		return fn(&rec)
	})
}

// checkPassword checks a KeyStorePassword: 7 to 32 characters, as AWS
// asks of a CloudHSM crypto-user password (the AWS CLI and SDKs refuse
// shorter ones before sending). Here it is the token's PKCS#11 user PIN,
// so tokens used as custom key stores need PINs of at least 7 characters.
func checkPassword(p string) error {
	if len(p) < 7 {
		return kmserr.New(kmserr.Validation, "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: Member must have length greater than or equal to 7")
	}
	if len(p) > 32 || strings.ContainsRune(p, 0) {
		// Never echo the password in the message.
		return kmserr.New(kmserr.Validation, "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: Member must have length less than or equal to 32")
	}
	return nil
}

func cksNotFound(id string) error {
	return kmserr.New(kmserr.CustomKeyStoreNotFound, "Custom key store %s is not found.", id)
}

func cksInvalidState(id, state, op string) error {
	return kmserr.New(kmserr.CustomKeyStoreInvalidState, "Custom key store %s has connection state %s, which is not valid for %s.", id, state, op)
}

// cksConns are the in-memory connections of custom key stores, by
// region/account/id. mu is held while connecting, which serialises
// connection attempts; crypto operations only take it briefly.
type cksConns struct {
	mu sync.Mutex
	m  map[string]*cksConn
}

type cksConn struct {
	token   HSMToken // non-nil iff state is CONNECTED
	state   string
	errCode string
}

func connKey(region, account, id string) string { return region + "/" + account + "/" + id }

// connection returns the current connection state of a store, connecting
// it first if the stored state says it should be connected and this server
// has not tried yet (the lazy reconnect after a restart).
func (s *Service) connection(ctx context.Context, region, account string, rec *customKeyStoreRecord) (HSMToken, string, string) {
	s.cks.mu.Lock()
	defer s.cks.mu.Unlock()
	key := connKey(region, account, rec.ID)
	if c, ok := s.cks.m[key]; ok {
		return c.token, c.state, c.errCode
	}
	if !rec.WantConnected {
		return nil, cksDisconnected, ""
	}
	c := s.connectLocked(ctx, region, account, rec)
	return c.token, c.state, c.errCode
}

// connectLocked logs in to the store's token and records the outcome.
// s.cks.mu must be held.
func (s *Service) connectLocked(ctx context.Context, region, account string, rec *customKeyStoreRecord) *cksConn {
	key := connKey(region, account, rec.ID)
	if old := s.cks.m[key]; old != nil && old.token != nil {
		return old
	}
	c := &cksConn{state: cksFailed}
	if s.clusters == nil || !s.clusters.Has(rec.ClusterID) {
		c.errCode = "CLUSTER_NOT_FOUND"
	} else if pin, err := s.sealer.Open(rec.SealedPassword, passwordAAD(region, account, rec.ID)); err != nil {
		s.log.Error("opening a custom key store password", "store", rec.ID, "error", err)
		c.errCode = "INTERNAL_ERROR"
	} else {
		tok, err := s.clusters.Connect(ctx, rec.ClusterID, string(pin))
		clear(pin)
		switch {
		case err == nil:
			c.token, c.state = tok, cksConnected
		case errors.Is(err, ErrHSMInvalidCredentials):
			c.errCode = "INVALID_CREDENTIALS"
		case errors.Is(err, ErrHSMUserLockedOut):
			c.errCode = "USER_LOCKED_OUT"
		case errors.Is(err, ErrHSMClusterNotFound):
			c.errCode = "CLUSTER_NOT_FOUND"
		default:
			c.errCode = "INTERNAL_ERROR"
		}
		if err != nil {
			s.log.Warn("custom key store connection failed", "store", rec.ID, "cluster", rec.ClusterID, "code", c.errCode, "error", err)
		} else {
			s.log.Info("custom key store connected", "store", rec.ID, "cluster", rec.ClusterID)
		}
	}
	if s.cks.m == nil {
		s.cks.m = make(map[string]*cksConn)
	}
	s.cks.m[key] = c
	return c
}

// disconnect closes a store's connection and records it as disconnected.
func (s *Service) disconnect(region, account, id string) {
	s.cks.mu.Lock()
	defer s.cks.mu.Unlock()
	key := connKey(region, account, id)
	if c := s.cks.m[key]; c != nil && c.token != nil {
		if err := c.token.Close(); err != nil {
			s.log.Warn("closing a custom key store token", "store", id, "error", err)
		}
	}
	if s.cks.m == nil {
		s.cks.m = make(map[string]*cksConn)
	}
	s.cks.m[key] = &cksConn{state: cksDisconnected}
}

// CustomKeyStore describes a custom key store, as
// DescribeCustomKeyStores returns it. It never carries the password.
type CustomKeyStore struct {
	ID, Name, ClusterID, TrustAnchor string
	ConnectionState                  string
	ConnectionErrorCode              string
	CreationDate                     time.Time
	Type                             string
}

func (s *Service) describeCKS(ctx context.Context, region, account string, rec *customKeyStoreRecord) CustomKeyStore {
	_, state, code := s.connection(ctx, region, account, rec)
	return CustomKeyStore{ID: rec.ID, Name: rec.Name, ClusterID: rec.ClusterID, TrustAnchor: rec.TrustAnchor,
		ConnectionState: state, ConnectionErrorCode: code, CreationDate: rec.Created, Type: cksTypeCloudHSM}
}

// CreateCustomKeyStoreInput is the input of CreateCustomKeyStore.
type CreateCustomKeyStoreInput struct {
	Name, ClusterID, TrustAnchor, Password, Type string
}

// CreateCustomKeyStore creates an AWS_CLOUDHSM custom key store over one of
// the configured tokens and returns its id. The store starts disconnected.
func (s *Service) CreateCustomKeyStore(ctx context.Context, c Caller, in CreateCustomKeyStoreInput) (string, error) {
	switch in.Type {
	case "", cksTypeCloudHSM:
	case cksTypeExternal:
		return "", kmserr.New(kmserr.UnsupportedOperation, "External key stores are not supported by this server.")
	default:
		return "", validation("customKeyStoreType", in.Type, "Member must satisfy enum value set: [EXTERNAL_KEY_STORE, AWS_CLOUDHSM]")
	}
	if err := lengthBetween("customKeyStoreName", in.Name, 1, 256); err != nil {
		return "", err
	}
	if in.ClusterID == "" {
		return "", required("cloudHsmClusterId")
	}
	if err := lengthBetween("cloudHsmClusterId", in.ClusterID, 19, 24); err != nil {
		return "", err
	}
	if in.TrustAnchor == "" {
		return "", required("trustAnchorCertificate")
	}
	if err := lengthBetween("trustAnchorCertificate", in.TrustAnchor, 1, 5000); err != nil {
		return "", err
	}
	if in.Password == "" {
		return "", required("keyStorePassword")
	}
	if err := checkPassword(in.Password); err != nil {
		return "", err
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:CreateCustomKeyStore", nil)); err != nil {
		return "", err
	}
	if s.clusters == nil || !s.clusters.Has(in.ClusterID) {
		return "", kmserr.New(kmserr.CloudHsmClusterNotFound, "AWS CloudHSM cluster %s is not found.", in.ClusterID)
	}
	var b [9]byte
	if _, err := readFull(s.rand, b[:]); err != nil {
		return "", kmserr.Internal(err)
	}
	id := "cks-" + hex.EncodeToString(b[:])[:17]
	region, account := c.Region, c.Principal.Account
	sealed, err := s.sealer.Seal([]byte(in.Password), passwordAAD(region, account, id))
	if err != nil {
		return "", kmserr.Internal(err)
	}
	rec := &customKeyStoreRecord{ID: id, Name: in.Name, ClusterID: in.ClusterID, TrustAnchor: in.TrustAnchor,
		SealedPassword: sealed, Created: s.now().UTC()}
	err = s.update(ctx, func(w storage.Writer) error {
		n := 0
		err := scanCKS(w, region, account, "", func(o *customKeyStoreRecord) (bool, error) {
			n++
			switch {
			case o.Name == in.Name:
				return false, kmserr.New(kmserr.CustomKeyStoreNameInUse, "Custom key store name %s is already in use.", in.Name)
			case o.ClusterID == in.ClusterID:
				return false, kmserr.New(kmserr.CloudHsmClusterInUse, "AWS CloudHSM cluster %s is already associated with custom key store %s.", in.ClusterID, o.ID)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if n >= maxCustomKeyStores {
			return kmserr.New(kmserr.LimitExceeded, "You have reached the limit of %d custom key stores.", maxCustomKeyStores)
		}
		return putCKS(w, region, account, rec)
	})
	if err != nil {
		return "", err
	}
	s.log.Info("custom key store created", "store", id, "cluster", in.ClusterID, "principal", c.Principal.ARN)
	return id, nil
}

// DescribeCustomKeyStores lists the caller's custom key stores, or the one
// that id or name names (not both).
func (s *Service) DescribeCustomKeyStores(ctx context.Context, c Caller, id, name string, limit int, marker string) (Page[CustomKeyStore], error) {
	if err := s.authorize(ctx, c, newAuthz(c, "kms:DescribeCustomKeyStores", nil)); err != nil {
		return Page[CustomKeyStore]{}, err
	}
	if id != "" && name != "" {
		return Page[CustomKeyStore]{}, kmserr.New(kmserr.Validation, "You cannot specify both CustomKeyStoreId and CustomKeyStoreName.")
	}
	limit, err := pageLimit(limit, 1000, 1000)
	if err != nil {
		return Page[CustomKeyStore]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[CustomKeyStore]{}, err
	}
	region, account := c.Region, c.Principal.Account
	var recs []*customKeyStoreRecord
	next := ""
	err = s.view(ctx, func(r storage.Reader) error {
		return scanCKS(r, region, account, after, func(rec *customKeyStoreRecord) (bool, error) {
			if id != "" && rec.ID != id || name != "" && rec.Name != name {
				return true, nil
			}
			if len(recs) == limit {
				next = encodeMarker(recs[len(recs)-1].ID)
				return false, nil
			}
			recs = append(recs, rec)
			return true, nil
		})
	})
	if err != nil {
		return Page[CustomKeyStore]{}, err
	}
	if len(recs) == 0 && (id != "" || name != "") {
		if id == "" {
			id = name
		}
		return Page[CustomKeyStore]{}, cksNotFound(id)
	}
	page := Page[CustomKeyStore]{NextMarker: next}
	for _, rec := range recs {
		page.Items = append(page.Items, s.describeCKS(ctx, region, account, rec))
	}
	return page, nil
}

// UpdateCustomKeyStoreInput is the input of UpdateCustomKeyStore; empty
// fields are left unchanged.
type UpdateCustomKeyStoreInput struct {
	ID, NewName, ClusterID, Password string
}

// UpdateCustomKeyStore renames a store (in any state) or changes its
// cluster or password (only while disconnected).
func (s *Service) UpdateCustomKeyStore(ctx context.Context, c Caller, in UpdateCustomKeyStoreInput) error {
	if in.ID == "" {
		return required("customKeyStoreId")
	}
	if in.NewName != "" {
		if err := lengthBetween("newCustomKeyStoreName", in.NewName, 1, 256); err != nil {
			return err
		}
	}
	if in.Password != "" {
		if err := checkPassword(in.Password); err != nil {
			return err
		}
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:UpdateCustomKeyStore", nil)); err != nil {
		return err
	}
	if in.ClusterID != "" && (s.clusters == nil || !s.clusters.Has(in.ClusterID)) {
		return kmserr.New(kmserr.CloudHsmClusterNotFound, "AWS CloudHSM cluster %s is not found.", in.ClusterID)
	}
	region, account := c.Region, c.Principal.Account
	rec, err := s.loadCKS(ctx, region, account, in.ID)
	if err != nil {
		return err
	}
	if in.ClusterID != "" || in.Password != "" {
		if _, state, _ := s.connection(ctx, region, account, rec); state != cksDisconnected {
			return cksInvalidState(in.ID, state, "UpdateCustomKeyStore with a new cluster or password")
		}
	}
	var sealed []byte
	if in.Password != "" {
		if sealed, err = s.sealer.Seal([]byte(in.Password), passwordAAD(region, account, in.ID)); err != nil {
			return kmserr.Internal(err)
		}
	}
	return s.update(ctx, func(w storage.Writer) error {
		cur, err := getCKS(w, region, account, in.ID)
		if err != nil {
			return err
		}
		if in.NewName != "" && in.NewName != cur.Name {
			err := scanCKS(w, region, account, "", func(o *customKeyStoreRecord) (bool, error) {
				if o.Name == in.NewName {
					return false, kmserr.New(kmserr.CustomKeyStoreNameInUse, "Custom key store name %s is already in use.", in.NewName)
				}
				return true, nil
			})
			if err != nil {
				return err
			}
			cur.Name = in.NewName
		}
		if in.ClusterID != "" {
			cur.ClusterID = in.ClusterID
		}
		if sealed != nil {
			cur.SealedPassword = sealed
		}
		return putCKS(w, region, account, cur)
	})
}

func (s *Service) loadCKS(ctx context.Context, region, account, id string) (*customKeyStoreRecord, error) {
	var rec *customKeyStoreRecord
	err := s.view(ctx, func(r storage.Reader) error {
		var err error
		rec, err = getCKS(r, region, account, id)
		return err
	})
	return rec, err
}

// setWantConnected stores the desired connection state.
func (s *Service) setWantConnected(ctx context.Context, region, account, id string, want bool) (*customKeyStoreRecord, error) {
	var rec *customKeyStoreRecord
	err := s.update(ctx, func(w storage.Writer) error {
		var err error
		if rec, err = getCKS(w, region, account, id); err != nil {
			return err
		}
		if rec.WantConnected == want {
			return nil
		}
		rec.WantConnected = want
		return putCKS(w, region, account, rec)
	})
	return rec, err
}

// ConnectCustomKeyStore connects a store to its token. The outcome shows in
// DescribeCustomKeyStores: CONNECTED, or FAILED with a ConnectionErrorCode.
// A FAILED store must be disconnected before it is connected again.
func (s *Service) ConnectCustomKeyStore(ctx context.Context, c Caller, id string) error {
	if id == "" {
		return required("customKeyStoreId")
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:ConnectCustomKeyStore", nil)); err != nil {
		return err
	}
	region, account := c.Region, c.Principal.Account
	rec, err := s.loadCKS(ctx, region, account, id)
	if err != nil {
		return err
	}
	_, state, _ := s.connection(ctx, region, account, rec)
	switch state {
	case cksConnected:
		return nil
	case cksFailed:
		return cksInvalidState(id, state, "ConnectCustomKeyStore")
	}
	if rec, err = s.setWantConnected(ctx, region, account, id, true); err != nil {
		return err
	}
	s.cks.mu.Lock()
	delete(s.cks.m, connKey(region, account, id))
	s.connectLocked(ctx, region, account, rec)
	s.cks.mu.Unlock()
	return nil
}

// DisconnectCustomKeyStore disconnects a store; its keys become
// Unavailable until it is connected again.
func (s *Service) DisconnectCustomKeyStore(ctx context.Context, c Caller, id string) error {
	if id == "" {
		return required("customKeyStoreId")
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:DisconnectCustomKeyStore", nil)); err != nil {
		return err
	}
	region, account := c.Region, c.Principal.Account
	if _, err := s.setWantConnected(ctx, region, account, id, false); err != nil {
		return err
	}
	s.disconnect(region, account, id)
	s.log.Info("custom key store disconnected", "store", id, "principal", c.Principal.ARN)
	return nil
}

// DeleteCustomKeyStore deletes a disconnected store that holds no keys.
func (s *Service) DeleteCustomKeyStore(ctx context.Context, c Caller, id string) error {
	if id == "" {
		return required("customKeyStoreId")
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:DeleteCustomKeyStore", nil)); err != nil {
		return err
	}
	region, account := c.Region, c.Principal.Account
	rec, err := s.loadCKS(ctx, region, account, id)
	if err != nil {
		return err
	}
	if _, state, _ := s.connection(ctx, region, account, rec); state != cksDisconnected {
		return cksInvalidState(id, state, "DeleteCustomKeyStore")
	}
	err = s.update(ctx, func(w storage.Writer) error {
		if _, err := getCKS(w, region, account, id); err != nil {
			return err
		}
		prefix := prefixKey + region + "/" + account + "/"
		err := w.Scan(prefix, "", func(_ string, v []byte) (bool, error) {
			var k keyRecord
			if err := json.Unmarshal(v, &k); err != nil {
				return false, err
			}
			if k.CustomKeyStoreID == id {
				return false, kmserr.New(kmserr.CustomKeyStoreHasCMKs, "Custom key store %s contains KMS keys; delete them first.", id)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		return w.Delete(cksStorageKey(region, account, id))
	})
	if err != nil {
		return err
	}
	s.cks.mu.Lock()
	delete(s.cks.m, connKey(region, account, id))
	s.cks.mu.Unlock()
	s.log.Info("custom key store deleted", "store", id, "principal", c.Principal.ARN)
	return nil
}

// connectedStore returns the token of a connected store for CreateKey and
// GenerateRandom, or CustomKeyStoreNotFound/InvalidState.
func (s *Service) connectedStore(ctx context.Context, c Caller, id string) (*customKeyStoreRecord, HSMToken, error) {
	rec, err := s.loadCKS(ctx, c.Region, c.Principal.Account, id)
	if err != nil {
		return nil, nil, err
	}
	tok, state, _ := s.connection(ctx, c.Region, c.Principal.Account, rec)
	if tok == nil {
		return nil, nil, cksInvalidState(id, state, "this operation")
	}
	return rec, tok, nil
}

// newHSMKey generates the token key of a new custom-store key.
func (s *Service) newHSMKey(ctx context.Context, c Caller, k *keyRecord, storeID string) error {
	rec, tok, err := s.connectedStore(ctx, c, storeID)
	if err != nil {
		return err
	}
	id, err := tok.GenerateKey(ctx, "openkms-"+k.KeyID)
	if err != nil {
		return kmserr.Internal(err)
	}
	k.CustomKeyStoreID, k.HSMKeyID, k.clusterID = storeID, id, rec.ClusterID
	k.Materials = []materialRecord{{Version: 1, Created: k.CreationDate}}
	return nil
}

// annotate returns a custom-store key with its in-memory fields filled:
// its cluster, and whether its store is connected (connecting lazily after
// a restart). It fills a copy, since k may be shared by the record cache;
// other keys are returned as they are.
func (s *Service) annotate(ctx context.Context, k *keyRecord) *keyRecord {
	if k.CustomKeyStoreID == "" {
		return k
	}
	cp := *k
	s.fillStoreState(ctx, &cp)
	return &cp
}

func (s *Service) fillStoreState(ctx context.Context, k *keyRecord) {
	rec, err := s.loadCKS(ctx, k.Region, k.Account, k.CustomKeyStoreID)
	if err != nil {
		k.storeDown = true
		return
	}
	k.clusterID = rec.ClusterID
	tok, _, _ := s.connection(ctx, k.Region, k.Account, rec)
	k.storeDown = tok == nil
}

// keyToken returns the token that holds a custom-store key, or the
// KMSInvalidStateException "<arn> is unavailable." while its store is not
// connected.
func (s *Service) keyToken(ctx context.Context, k *keyRecord) (HSMToken, error) {
	rec, err := s.loadCKS(ctx, k.Region, k.Account, k.CustomKeyStoreID)
	if err == nil {
		if tok, _, _ := s.connection(ctx, k.Region, k.Account, rec); tok != nil {
			return tok, nil
		}
	}
	return nil, kmserr.New(kmserr.KMSInvalidState, "%s is unavailable.", k.arn())
}

// blobHeader returns the HeaderLen-byte header of the blobs of h.
func blobHeader(h ciphertext.Header) ([]byte, error) {
	// The ciphertext package encodes headers only as part of a blob; seal an
	// empty plaintext under a throwaway key and keep the header.
	blob, err := ciphertext.Seal(make([]byte, ciphertext.KeyLen), h, nil, nil, zeroReader{})
	if err != nil {
		return nil, err
	}
	return blob[:ciphertext.HeaderLen:ciphertext.HeaderLen], nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// sealHSM encrypts under a custom-store key inside its token. The blob has
// the standard layout: header || nonce || ciphertext || tag, with
// header || CanonicalContext(encCtx) as associated data.
func (s *Service) sealHSM(ctx context.Context, k *keyRecord, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	tok, err := s.keyToken(ctx, k)
	if err != nil {
		return nil, err
	}
	header, err := blobHeader(ciphertext.Header{Account: k.Account, KeyID: k.KeyID, Version: k.CurrentVersion})
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	aad := append(append([]byte(nil), header...), ciphertext.CanonicalContext(encCtx)...)
	sealed, err := tok.EncryptGCM(ctx, k.HSMKeyID, plaintext, aad)
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	return append(header, sealed...), nil
}

// openHSM reverses sealHSM for a blob whose header parsed.
func (s *Service) openHSM(ctx context.Context, k *keyRecord, blob []byte, encCtx map[string]string) ([]byte, error) {
	tok, err := s.keyToken(ctx, k)
	if err != nil {
		return nil, err
	}
	aad := append(append([]byte(nil), blob[:ciphertext.HeaderLen]...), ciphertext.CanonicalContext(encCtx)...)
	pt, err := tok.DecryptGCM(ctx, k.HSMKeyID, blob[ciphertext.HeaderLen:], aad)
	if errors.Is(err, ErrHSMDecrypt) {
		return nil, invalidCiphertext()
	}
	if err != nil {
		return nil, kmserr.Internal(err)
	}
	return pt, nil
}

// destroyHSMKey destroys the token object of a deleted custom-store key,
// if its store is connected; otherwise the object stays in the token
// (as on AWS) and a warning is logged.
func (s *Service) destroyHSMKey(ctx context.Context, k *keyRecord) {
	tok, err := s.keyToken(ctx, k)
	if err == nil {
		err = tok.DestroyKey(ctx, k.HSMKeyID)
	}
	if err != nil {
		s.log.Warn("the key material of a deleted key remains in its custom key store", "key", k.arn(), "store", k.CustomKeyStoreID, "hsmKeyId", strings.ToLower(hex.EncodeToString(k.HSMKeyID)), "error", err)
		return
	}
	s.log.Info("custom key store key destroyed", "key", k.arn(), "store", k.CustomKeyStoreID)
}

// CloseCustomKeyStores closes every connected custom key store's token, at
// server shutdown. The stored desired states are unchanged, so the stores
// reconnect at the next start.
func (s *Service) CloseCustomKeyStores() {
	s.cks.mu.Lock()
	defer s.cks.mu.Unlock()
	for key, c := range s.cks.m {
		if c.token != nil {
			if err := c.token.Close(); err != nil {
				s.log.Warn("closing a custom key store token", "store", key, "error", err)
			}
		}
		delete(s.cks.m, key)
	}
}
