// Package identity keeps OpenKMS's identities as AWS IAM and STS model them:
// accounts and their root access keys; IAM users with access keys; IAM roles
// with trust policies; inline and customer managed policies and their
// attachments; tags; and the temporary credentials of STS role sessions.
// Every secret (secret access keys, session tokens) is stored only sealed
// under the root key, with the access key id bound as associated data.
//
// It implements sigv4.CredentialSource for the request authenticator, and
// PoliciesFor gives the authorizer a principal's identity-based policies.
// Validation follows the AWS IAM API reference
// (https://docs.aws.amazon.com/IAM/latest/APIReference/) and its quotas
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
// errors carry the IAM error code (see Code). Who may call what is not this
// package's business (package iamapi decides).
package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
)

// Storage layout (keys are bytewise ordered; names are stored lower-cased in
// keys because IAM names are unique regardless of case):
//
//	i/acct/<account-id>                  accountRecord
//	i/ak/<access-key-id>                 accessKeyRecord (secret and session token sealed)
//	i/user/<account-id>/<lower name>     entityRecord of a user
//	i/role/<account-id>/<lower name>     entityRecord of a role
//	i/policy/<account-id>/<lower name>   policyRecord (customer managed policy)
//	i/sx/<unix seconds, 20 digits>/<akid> session expiry index
const (
	prefixAccount   = "i/acct/"
	prefixAccessKey = "i/ak/"
	prefixUser      = "i/user/"
	prefixRole      = "i/role/"
	prefixPolicy    = "i/policy/"
	prefixSessionX  = "i/sx/"
)

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// ErrAccountExists is returned by CreateAccount for an existing account.
var ErrAccountExists = errors.New("identity: account already exists")

// Store manages identities. It is safe for concurrent use.
type Store struct {
	store  storage.Store
	sealer rootkey.Sealer
	now    func() time.Time
	creds  credentialCache
}

var _ sigv4.CredentialSource = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for creation dates and session expiry. A nil
// clock leaves time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns a Store over s, sealing secrets with sealer.
func New(s storage.Store, sealer rootkey.Sealer, opts ...Option) *Store {
	st := &Store{store: s, sealer: sealer, now: time.Now}
	for _, o := range opts {
		o(st)
	}
	return st
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

	// IAM user keys.
	UserName string `json:"userName,omitempty"`

	// Role sessions.
	RoleName    string    `json:"roleName,omitempty"`
	RoleARN     string    `json:"roleArn,omitempty"`
	SessionName string    `json:"sessionName,omitempty"`
	Expires     time.Time `json:"expires,omitzero"`
	SessionTags []Tag     `json:"sessionTags,omitempty"`
	SealedToken []byte    `json:"token,omitempty"`
}

func secretAAD(accessKeyID string) []byte {
	return []byte("openkms:access-key-secret:v1:" + accessKeyID)
}

func tokenAAD(accessKeyID string) []byte {
	return []byte("openkms:session-token:v1:" + accessKeyID)
}

// AccessKey is a newly issued credential. Secret is shown to its owner once
// and never stored in plaintext. It formats without the secret (String,
// GoString, LogValue), so it cannot be logged by accident.
type AccessKey struct {
	AccessKeyID string
	Secret      string
	Principal   principal.Principal
	// UserName is the IAM user the key belongs to ("" for a root key).
	UserName string
	Status   string
	Created  time.Time
}

// String describes the key without its secret.
func (k AccessKey) String() string {
	return "AccessKey{" + k.AccessKeyID + " of " + k.Principal.ARN + ", secret REDACTED}"
}

// GoString describes the key without its secret.
func (k AccessKey) GoString() string { return k.String() }

// LogValue makes slog print the key without its secret.
func (k AccessKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// LookupAccessKey implements sigv4.CredentialSource. It returns
// sigv4.ErrUnknownAccessKey for a missing or inactive key, for the key of a
// user that no longer exists, and for a role session that has expired or
// whose role no longer exists. For a session it returns the session token,
// which the verifier then requires as X-Amz-Security-Token.
//
// The principal it returns carries the user's tags, or for a session the
// role's tags overridden by the session tags.
func (s *Store) LookupAccessKey(ctx context.Context, accessKeyID string) (sigv4.Credential, error) {
	var (
		rec      accessKeyRecord
		tags     principal.Tags
		keyRaw   []byte
		owner    string // storage key of the user or role, if any
		ownerRaw []byte
		cached   sigv4.Credential
		hit      bool
	)
	err := s.store.View(ctx, func(r storage.Reader) error {
		b, err := storage.Peek(r, prefixAccessKey+accessKeyID) // not kept beyond this function
		if err != nil {
			return err
		}
		if cached, hit = s.creds.lookup(r, accessKeyID, b, s.now()); hit {
			return nil
		}
		keyRaw = bytes.Clone(b)
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("identity: decoding access key %s: %w", accessKeyID, err)
		}
		if rec.Status != StatusActive {
			return sigv4.ErrUnknownAccessKey
		}
		switch rec.Type {
		case principal.TypeIAMUser.String():
			owner = entityKey(userKind, rec.Account, rec.UserName)
			u, raw, err := getEntityRaw(r, userKind, rec.Account, rec.UserName)
			if err != nil || u.ID != rec.UserID {
				return sigv4.ErrUnknownAccessKey
			}
			ownerRaw, tags = raw, principalTags(u.Tags, nil)
		case principal.TypeAssumedRole.String():
			if !s.now().Before(rec.Expires) {
				return sigv4.ErrUnknownAccessKey
			}
			owner = entityKey(roleKind, rec.Account, rec.RoleName)
			role, raw, err := getEntityRaw(r, roleKind, rec.Account, rec.RoleName)
			if err != nil || role.ARN != rec.RoleARN || !strings.HasPrefix(rec.UserID, role.ID+":") {
				return sigv4.ErrUnknownAccessKey
			}
			ownerRaw, tags = raw, principalTags(role.Tags, rec.SessionTags)
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, sigv4.ErrUnknownAccessKey) {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	if err != nil {
		return sigv4.Credential{}, err
	}
	if hit {
		return cached, nil
	}
	secret, err := s.sealer.Open(rec.SealedSecret, secretAAD(accessKeyID))
	if err != nil {
		return sigv4.Credential{}, fmt.Errorf("identity: unsealing access key %s: %w", accessKeyID, err)
	}
	defer clear(secret)
	typ, _ := principal.ParseType(rec.Type)
	cred := sigv4.Credential{
		Secret: sigv4.NewSecret(string(secret)),
		Principal: principal.Principal{
			Account: rec.Account, ARN: rec.PrincipalARN, UserID: rec.UserID, Type: typ, AccessKeyID: accessKeyID,
			UserName: rec.UserName, RoleARN: rec.RoleARN, SessionName: rec.SessionName, Tags: tags,
		},
	}
	if typ == principal.TypeAssumedRole {
		token, err := s.sealer.Open(rec.SealedToken, tokenAAD(accessKeyID))
		if err != nil {
			return sigv4.Credential{}, fmt.Errorf("identity: unsealing session token of %s: %w", accessKeyID, err)
		}
		cred.SessionToken = string(token)
		clear(token)
		if cred.SessionToken == "" {
			return sigv4.Credential{}, fmt.Errorf("identity: session %s has an empty token", accessKeyID)
		}
	}
	s.creds.store(accessKeyID, cachedCredential{keyRaw: keyRaw, owner: owner, ownerRaw: ownerRaw, expires: rec.Expires, cred: cred})
	return cred, nil
}

// principalTags merges a user's or role's tags with session tags; session
// tags win over tags whose key differs only in case.
func principalTags(base, session []Tag) principal.Tags {
	if len(base) == 0 && len(session) == 0 {
		return principal.Tags{}
	}
	merged, _ := mergeTags(base, session)
	if merged == nil {
		merged = append(append([]Tag(nil), base...), session...)
	}
	m := make(map[string]string, len(merged))
	for _, t := range merged {
		m[t.Key] = t.Value
	}
	return principal.NewTags(m)
}

// Account is an account's public record.
type Account struct {
	ID      string
	Created time.Time
}

// GetAccount returns an account, or an error matching ErrNoSuchEntity.
func (s *Store) GetAccount(ctx context.Context, accountID string) (Account, error) {
	var rec accountRecord
	b, err := storage.Get(ctx, s.store, prefixAccount+accountID)
	if errors.Is(err, storage.ErrNotFound) {
		return Account{}, newError(CodeNoSuchEntity, "The account %s cannot be found.", clip(accountID))
	}
	if err != nil {
		return Account{}, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return Account{}, fmt.Errorf("identity: decoding account %s: %w", accountID, err)
	}
	return Account{ID: rec.ID, Created: rec.Created}, nil
}

// NewAccountID returns a random 12-digit account id (never starting with 0).
func NewAccountID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	out := make([]byte, 12)
	for i, c := range b {
		out[i] = '0' + c%10 // the bias of 256 mod 10 does not matter for ids
	}
	if out[0] == '0' {
		out[0] = '1'
	}
	return string(out), nil
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
		if _, err := w.Get(prefixAccessKey + ak.AccessKeyID); err == nil {
			return fmt.Errorf("identity: access key %s already exists", ak.AccessKeyID)
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
			if rec.Type != principal.TypeRoot.String() {
				return fmt.Errorf("identity: access key %s is not a root access key", accessKeyID)
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
			Account: accountID, ARN: RootARN(accountID), UserID: accountID,
			Type: principal.TypeRoot, AccessKeyID: accessKeyID,
		},
		Status:  StatusActive,
		Created: s.now().UTC().Truncate(time.Second),
	}, nil
}

func (s *Store) putAccessKey(w storage.Writer, ak AccessKey) error {
	sealed, err := s.sealer.Seal([]byte(ak.Secret), secretAAD(ak.AccessKeyID))
	if err != nil {
		return err
	}
	b, err := json.Marshal(accessKeyRecord{
		AccessKeyID: ak.AccessKeyID, Account: ak.Principal.Account, PrincipalARN: ak.Principal.ARN,
		UserID: ak.Principal.UserID, Type: ak.Principal.Type.String(), Status: StatusActive,
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
func NewAccessKeyID() (string, error) { return randomID("AKIA", 16) }

// newSessionKeyID returns a random temporary access key id: "ASIA"
// followed by 16 characters of A-Z and 2-7.
func newSessionKeyID() (string, error) { return randomID("ASIA", 16) }

// randomID returns prefix followed by n random characters of A-Z and 2-7
// (unique ids: AIDA... for users, AROA... for roles, ANPA... for policies,
// 21 characters in all as AWS).
func randomID(prefix string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return prefix + string(b), nil
}

// RootARN returns the ARN of an account's root user.
func RootARN(account string) string { return "arn:" + arn.Partition + ":iam::" + account + ":root" }

// NewSecretAccessKey returns a random 40-character secret access key.
func NewSecretAccessKey() (string, error) {
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
