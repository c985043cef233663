package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/storage"
)

// Session is the temporary credential of a role session. It formats
// without its secret and token (String, GoString, LogValue).
type Session struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// AssumedRoleID is "ROLEID:SessionName".
	AssumedRoleID string
	// ARN is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	ARN string
	// Principal is who requests signed with the credential are.
	Principal principal.Principal
}

// String describes the session without its secret or token.
func (s Session) String() string {
	return "Session{" + s.AccessKeyID + " of " + s.ARN + " until " + s.Expiration.Format(time.RFC3339) + ", secret REDACTED}"
}

// GoString describes the session without its secret or token.
func (s Session) GoString() string { return s.String() }

// LogValue makes slog print the session without its secret or token.
func (s Session) LogValue() slog.Value { return slog.StringValue(s.String()) }

// AssumeRoleInput is the request of AssumeRole. The caller has already
// decided that the principal may assume the role.
type AssumeRoleInput struct {
	RoleARN string
	// RoleID, when set, must be the role's unique id: the one whose trust
	// policy the caller evaluated (a role deleted and re-created meanwhile
	// is not assumed).
	RoleID      string
	SessionName string
	// DurationSeconds is the session length; 0 means 3600. It must be
	// 900..the role's MaxSessionDuration.
	DurationSeconds int
	// Tags are session tags (principal tags of the session).
	Tags []Tag
	// Chained is true when the caller is itself a role session: role
	// chaining limits the session to one hour.
	Chained bool
}

// AssumeRole issues temporary credentials for a role session, valid until
// now + DurationSeconds, and stores them (sealed) so that they survive a
// restart until they expire. Errors: ValidationError, NoSuchEntity (the
// role), InvalidInput and LimitExceeded (tags).
func (s *Store) AssumeRole(ctx context.Context, in AssumeRoleInput) (Session, error) {
	if err := CheckSessionName(in.SessionName); err != nil {
		return Session{}, err
	}
	dur := in.DurationSeconds
	switch {
	case dur == 0:
		dur = DefaultSessionDuration
	case dur < MinSessionDuration:
		return Session{}, validationError("durationSeconds", strconv.Itoa(dur), fmt.Sprintf("must have value greater than or equal to %d", MinSessionDuration))
	case dur > MaxMaxSessionDuration:
		return Session{}, validationError("durationSeconds", strconv.Itoa(dur), fmt.Sprintf("must have value less than or equal to %d", MaxMaxSessionDuration))
	}
	if in.Chained && dur > 3600 {
		return Session{}, newError(CodeValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return Session{}, err
	}
	account, _, roleName, ok := SplitRoleARN(in.RoleARN)
	if !ok || len(roleName) > MaxNameLen {
		return Session{}, newError(CodeNoSuchEntity, "The role %s cannot be found.", clip(in.RoleARN))
	}

	akid, err := newSessionKeyID()
	if err != nil {
		return Session{}, err
	}
	secret, err := NewSecretAccessKey()
	if err != nil {
		return Session{}, err
	}
	token, err := newSessionToken()
	if err != nil {
		return Session{}, err
	}
	sealedSecret, err := s.sealer.Seal([]byte(secret), secretAAD(akid))
	if err != nil {
		return Session{}, err
	}
	sealedToken, err := s.sealer.Seal([]byte(token), tokenAAD(akid))
	if err != nil {
		return Session{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	expires := now.Add(time.Duration(dur) * time.Second)
	sessionARN := "arn:" + arn.Partition + ":sts::" + account + ":assumed-role/" + roleName + "/" + in.SessionName

	var out Session
	err = s.store.Update(ctx, func(w storage.Writer) error {
		role, err := getEntity(w, roleKind, account, roleName)
		if err != nil {
			return err
		}
		if role.ARN != in.RoleARN || in.RoleID != "" && role.ID != in.RoleID {
			return roleKind.notFound(roleName)
		}
		if dur > role.MaxSession {
			return newError(CodeValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		if _, err := w.Get(prefixAccessKey + akid); err == nil {
			return fmt.Errorf("identity: generated access key id %s exists", akid)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		// The session ARN carries the role name as stored (its case).
		sessionARN = "arn:" + arn.Partition + ":sts::" + account + ":assumed-role/" + role.Name + "/" + in.SessionName
		rec := accessKeyRecord{
			AccessKeyID: akid, Account: account, PrincipalARN: sessionARN, UserID: role.ID + ":" + in.SessionName,
			Type: principal.TypeAssumedRole.String(), Status: StatusActive, Created: now, SealedSecret: sealedSecret,
			RoleName: role.Name, RoleARN: role.ARN, SessionName: in.SessionName, Expires: expires,
			SessionTags: in.Tags, SealedToken: sealedToken,
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := w.Put(prefixAccessKey+akid, b); err != nil {
			return err
		}
		if err := w.Put(sessionIndexKey(expires, akid), []byte{1}); err != nil {
			return err
		}
		out = Session{
			AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Expiration: expires,
			AssumedRoleID: rec.UserID, ARN: sessionARN,
			Principal: principal.Principal{
				Account: account, ARN: sessionARN, UserID: rec.UserID, Type: principal.TypeAssumedRole,
				AccessKeyID: akid, RoleARN: role.ARN, SessionName: in.SessionName, Tags: principalTags(role.Tags, in.Tags),
			},
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	return out, nil
}

// newSessionToken returns an opaque, unguessable session token: 96 random
// bytes, base64. The server binds it to the session; it carries nothing.
func newSessionToken() (string, error) {
	b := make([]byte, 96)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func sessionIndexKey(expires time.Time, akid string) string {
	return fmt.Sprintf("%s%020d/%s", prefixSessionX, expires.Unix(), akid)
}

// sessionCleanupBatch bounds the sessions deleted per transaction.
const sessionCleanupBatch = 256

// DeleteExpiredSessions deletes the stored credentials of every role
// session that has expired, and returns how many it deleted. Expired
// sessions are refused on lookup anyway; this reclaims their storage. Run
// it periodically (the server's scheduler does).
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int, error) {
	total := 0
	for {
		now := s.now().Unix()
		n := 0
		err := s.store.Update(ctx, func(w storage.Writer) error {
			n = 0
			var keys []string
			err := w.Scan(prefixSessionX, "", func(key string, _ []byte) (bool, error) {
				ts, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(key, prefixSessionX), "/", 2)[0], 10, 64)
				if err != nil {
					return true, nil // not an index key this version wrote
				}
				if ts > now {
					return false, nil
				}
				keys = append(keys, key)
				return len(keys) < sessionCleanupBatch, nil
			})
			if err != nil {
				return err
			}
			for _, key := range keys {
				akid := key[strings.LastIndexByte(key, '/')+1:]
				if err := w.Delete(prefixAccessKey + akid); err != nil {
					return err
				}
				if err := w.Delete(key); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < sessionCleanupBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
