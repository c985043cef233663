// Package identity keeps OpenKMS's accounts and access keys: who may sign
// requests, and which principal each access key belongs to. Secret access
// keys are stored only sealed under the root key.
//
// It implements sigv4.CredentialSource for the request authenticator.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
)

// Storage layout:
//
//	i/acct/<account-id>      accountRecord
//	i/ak/<access-key-id>     accessKeyRecord (secret sealed)
const (
	prefixAccount   = "i/acct/"
	prefixAccessKey = "i/ak/"
)

// ErrAccountExists is returned by CreateAccount for an existing account.
var ErrAccountExists = errors.New("identity: account already exists")

// Store manages identities. It is safe for concurrent use.
type Store struct {
	store  storage.Store
	sealer rootkey.Sealer
	now    func() time.Time
}

var _ sigv4.CredentialSource = (*Store)(nil)

// New returns a Store over s, sealing secrets with sealer.
func New(s storage.Store, sealer rootkey.Sealer) *Store {
	return &Store{store: s, sealer: sealer, now: time.Now}
}

type accountRecord struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

type accessKeyRecord struct {
	AccessKeyID  string    `json:"id"`
	Account      string    `json:"account"`
	PrincipalARN string    `json:"principal"`
	UserID       string    `json:"userId"`
	Type         string    `json:"type"`
	Status       string    `json:"status"`
	Created      time.Time `json:"created"`
	SealedSecret []byte    `json:"secret"`
}

func secretAAD(accessKeyID string) []byte {
	return []byte("openkms:access-key-secret:v1:" + accessKeyID)
}

// AccessKey is a newly issued credential. Secret is shown to the operator
// once and never stored in plaintext.
type AccessKey struct {
	AccessKeyID string
	Secret      string
	Principal   principal.Principal
}

// LookupAccessKey implements sigv4.CredentialSource. It returns
// sigv4.ErrUnknownAccessKey for a missing or inactive key.
func (s *Store) LookupAccessKey(ctx context.Context, accessKeyID string) (sigv4.Credential, error) {
	b, err := storage.Get(ctx, s.store, prefixAccessKey+accessKeyID)
	if errors.Is(err, storage.ErrNotFound) {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	if err != nil {
		return sigv4.Credential{}, err
	}
	var rec accessKeyRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return sigv4.Credential{}, fmt.Errorf("identity: decoding access key %s: %w", accessKeyID, err)
	}
	if rec.Status != "Active" {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	secret, err := s.sealer.Open(rec.SealedSecret, secretAAD(accessKeyID))
	if err != nil {
		return sigv4.Credential{}, fmt.Errorf("identity: unsealing access key %s: %w", accessKeyID, err)
	}
	defer clear(secret)
	typ, _ := principal.ParseType(rec.Type)
	return sigv4.Credential{
		Secret: sigv4.NewSecret(string(secret)),
		Principal: principal.Principal{
			Account: rec.Account, ARN: rec.PrincipalARN, UserID: rec.UserID, Type: typ, AccessKeyID: accessKeyID,
		},
	}, nil
}

// CreateAccount creates an account and an access key for its root user.
// If accessKeyID and secret are empty they are generated.
func (s *Store) CreateAccount(ctx context.Context, accountID, accessKeyID, secret string) (AccessKey, error) {
	if !arn.IsAccountID(accountID) {
		return AccessKey{}, fmt.Errorf("identity: %q is not a 12-digit account id", accountID)
	}
	ak, err := s.newRootKey(accountID, accessKeyID, secret)
	if err != nil {
		return AccessKey{}, err
	}
	err = s.store.Update(ctx, func(w storage.Writer) error {
		if _, err := w.Get(prefixAccount + accountID); err == nil {
			return ErrAccountExists
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		acct, _ := json.Marshal(accountRecord{ID: accountID, Created: s.now().UTC()})
		if err := w.Put(prefixAccount+accountID, acct); err != nil {
			return err
		}
		return s.putAccessKey(w, ak)
	})
	if err != nil {
		return AccessKey{}, err
	}
	return ak, nil
}

// EnsureAccessKey makes sure the account exists and that accessKeyID is an
// active root access key of it with the given secret, creating or
// updating it. Operators use it to pin bootstrap credentials in config.
func (s *Store) EnsureAccessKey(ctx context.Context, accountID, accessKeyID, secret string) (AccessKey, error) {
	if !arn.IsAccountID(accountID) {
		return AccessKey{}, fmt.Errorf("identity: %q is not a 12-digit account id", accountID)
	}
	if accessKeyID == "" || secret == "" {
		return AccessKey{}, errors.New("identity: access key id and secret are both required")
	}
	ak, err := s.newRootKey(accountID, accessKeyID, secret)
	if err != nil {
		return AccessKey{}, err
	}
	err = s.store.Update(ctx, func(w storage.Writer) error {
		if b, err := w.Get(prefixAccessKey + accessKeyID); err == nil {
			var rec accessKeyRecord
			if err := json.Unmarshal(b, &rec); err != nil {
				return err
			}
			if rec.Account != accountID {
				return fmt.Errorf("identity: access key %s belongs to another account", accessKeyID)
			}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if _, err := w.Get(prefixAccount + accountID); errors.Is(err, storage.ErrNotFound) {
			acct, _ := json.Marshal(accountRecord{ID: accountID, Created: s.now().UTC()})
			if err := w.Put(prefixAccount+accountID, acct); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return s.putAccessKey(w, ak)
	})
	if err != nil {
		return AccessKey{}, err
	}
	return ak, nil
}

// HasAccounts reports whether any account exists.
func (s *Store) HasAccounts(ctx context.Context) (bool, error) {
	found := false
	err := s.store.View(ctx, func(r storage.Reader) error {
		return r.Scan(prefixAccount, "", func(string, []byte) (bool, error) {
			found = true
			return false, nil
		})
	})
	return found, err
}

func (s *Store) newRootKey(accountID, accessKeyID, secret string) (AccessKey, error) {
	var err error
	if accessKeyID == "" {
		if accessKeyID, err = NewAccessKeyID(); err != nil {
			return AccessKey{}, err
		}
	}
	if !validAccessKeyID(accessKeyID) {
		return AccessKey{}, fmt.Errorf("identity: access key id must be 16 to 128 characters of A-Z and 0-9")
	}
	if secret == "" {
		if secret, err = NewSecretAccessKey(); err != nil {
			return AccessKey{}, err
		}
	}
	if len(secret) < 16 || len(secret) > 128 {
		return AccessKey{}, errors.New("identity: secret access key must be 16 to 128 characters")
	}
	return AccessKey{
		AccessKeyID: accessKeyID,
		Secret:      secret,
		Principal: principal.Principal{
			Account: accountID, ARN: "arn:aws:iam::" + accountID + ":root", UserID: accountID,
			Type: principal.TypeRoot, AccessKeyID: accessKeyID,
		},
	}, nil
}

func (s *Store) putAccessKey(w storage.Writer, ak AccessKey) error {
	sealed, err := s.sealer.Seal([]byte(ak.Secret), secretAAD(ak.AccessKeyID))
	if err != nil {
		return err
	}
	b, err := json.Marshal(accessKeyRecord{
		AccessKeyID: ak.AccessKeyID, Account: ak.Principal.Account, PrincipalARN: ak.Principal.ARN,
		UserID: ak.Principal.UserID, Type: ak.Principal.Type.String(), Status: "Active",
		Created: s.now().UTC(), SealedSecret: sealed,
	})
	if err != nil {
		return err
	}
	return w.Put(prefixAccessKey+ak.AccessKeyID, b)
}

func validAccessKeyID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !(id[i] >= 'A' && id[i] <= 'Z' || id[i] >= '0' && id[i] <= '9') {
			return false
		}
	}
	return true
}

// NewAccessKeyID returns a random access key id in AWS's form: "AKIA"
// followed by 16 characters of A-Z and 2-7.
func NewAccessKeyID() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "AKIA" + base32.StdEncoding.EncodeToString(b), nil
}

// NewSecretAccessKey returns a random 40-character secret access key.
func NewSecretAccessKey() (string, error) {
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
