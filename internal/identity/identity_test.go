package identity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/storage/boltstore"
)

const acct = "111122223333"

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	dir    string
	sealer rootkey.Sealer
	st     *boltstore.Store
	ids    *identity.Store
	clock  *clock
}

// newEnv opens a real bbolt store and file root key in a temporary
// directory and creates account acct.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	e.open(t)
	if _, err := e.ids.CreateAccount(ctx, acct, "", ""); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open(t *testing.T) {
	t.Helper()
	sealer, err := fileroot.NewProvider(filepath.Join(e.dir, "root.key")).Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(e.dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.sealer, e.st = sealer, st
	e.ids = identity.New(st, sealer, identity.WithClock(e.clock.Now))
}

// reopen closes the store and opens it again, as a restart does.
func (e *env) reopen(t *testing.T) {
	t.Helper()
	e.st.Close()
	e.open(t)
}

func wantCode(t *testing.T, err error, code identity.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	e := identity.AsError(err)
	if e == nil {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%q), want %s", e.Code, e.Message, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRootKeysStillWork(t *testing.T) {
	e := newEnv(t)
	has, err := e.ids.HasAccounts(ctx)
	if err != nil || !has {
		t.Fatalf("HasAccounts = %v, %v; want true", has, err)
	}
	ak, err := e.ids.EnsureAccessKey(ctx, "444455556666", "AKIAOPENKMSTEST00009", "secret-secret-secret-0009")
	must(t, err)
	cred, err := e.ids.LookupAccessKey(ctx, ak.AccessKeyID)
	must(t, err)
	want := principal.Principal{Account: "444455556666", ARN: "arn:aws:iam::444455556666:root", UserID: "444455556666",
		Type: principal.TypeRoot, AccessKeyID: ak.AccessKeyID}
	if cred.Principal != want {
		t.Fatalf("got principal %+v, want %+v", cred.Principal, want)
	}
	if !cred.Secret.Equal(sigv4.NewSecret("secret-secret-secret-0009")) || cred.SessionToken != "" {
		t.Fatalf("got secret/token mismatch, want the pinned secret and no token")
	}
	if _, err := e.ids.CreateAccount(ctx, acct, "", ""); !errors.Is(err, identity.ErrAccountExists) {
		t.Fatalf("got %v, want ErrAccountExists", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", ak, ak, ak, ak); strings.Contains(s, ak.Secret) {
		t.Fatalf("got %q, want no secret in the formatted access key", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", ak)
	if strings.Contains(buf.String(), ak.Secret) {
		t.Fatalf("got %q, want no secret in the log", buf.String())
	}
}

func TestUsersAndAccessKeys(t *testing.T) {
	e := newEnv(t)
	u, err := e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Path: "/eng/", Name: "Alice", Tags: []identity.Tag{{Key: "team", Value: "kms"}}})
	must(t, err)
	if got, want := u.ARN, "arn:aws:iam::111122223333:user/eng/Alice"; got != want {
		t.Fatalf("got ARN %s, want %s", got, want)
	}
	if len(u.ID) != 21 || !strings.HasPrefix(u.ID, "AIDA") {
		t.Fatalf("got UserId %q, want AIDA + 17 characters", u.ID)
	}
	_, err = e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "alice"})
	wantCode(t, err, identity.CodeEntityAlreadyExists)
	_, err = e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "bad name"})
	wantCode(t, err, identity.CodeValidationError)
	_, err = e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: strings.Repeat("a", 65)})
	wantCode(t, err, identity.CodeValidationError)
	_, err = e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "x", Path: "eng"})
	wantCode(t, err, identity.CodeValidationError)
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "bob"})))
	// Another account's namespace is separate.
	must(t, errOnly(e.ids.CreateUser(ctx, "444455556666", identity.CreateUserInput{Name: "alice"})))

	got, err := e.ids.GetUser(ctx, acct, "ALICE")
	must(t, err)
	if got.Name != "Alice" || got.ID != u.ID {
		t.Fatalf("got %+v, want user Alice %s (names match ignoring case)", got, u.ID)
	}
	list, err := e.ids.ListUsers(ctx, acct, "/eng/")
	must(t, err)
	if len(list) != 1 || list[0].Name != "Alice" {
		t.Fatalf("got %d users under /eng/, want [Alice]", len(list))
	}
	all, err := e.ids.ListUsers(ctx, acct, "")
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("got %d users, want 2", len(all))
	}

	must(t, e.ids.TagUser(ctx, acct, "Alice", []identity.Tag{{Key: "TEAM", Value: "crypto"}, {Key: "env", Value: "prod"}}))
	tags, err := e.ids.UserTags(ctx, acct, "Alice")
	must(t, err)
	if fmt.Sprint(tags) != "[{TEAM crypto} {env prod}]" {
		t.Fatalf("got tags %v, want [{TEAM crypto} {env prod}] (keys replace ignoring case)", tags)
	}
	wantCode(t, e.ids.TagUser(ctx, acct, "Alice", []identity.Tag{{Key: "a", Value: "1"}, {Key: "A", Value: "2"}}), identity.CodeInvalidInput)
	must(t, e.ids.UntagUser(ctx, acct, "Alice", []string{"env", "missing"}))

	k1, err := e.ids.CreateAccessKey(ctx, acct, "alice")
	must(t, err)
	if len(k1.AccessKeyID) != 20 || !strings.HasPrefix(k1.AccessKeyID, "AKIA") || len(k1.Secret) != 40 {
		t.Fatalf("got key %s with %d-char secret, want AKIA + 16 and 40", k1.AccessKeyID, len(k1.Secret))
	}
	must(t, errOnly(e.ids.CreateAccessKey(ctx, acct, "Alice")))
	_, err = e.ids.CreateAccessKey(ctx, acct, "Alice")
	wantCode(t, err, identity.CodeLimitExceeded)
	_, err = e.ids.CreateAccessKey(ctx, acct, "nobody")
	wantCode(t, err, identity.CodeNoSuchEntity)

	cred, err := e.ids.LookupAccessKey(ctx, k1.AccessKeyID)
	must(t, err)
	p := cred.Principal
	if p.Type != principal.TypeIAMUser || p.ARN != u.ARN || p.UserID != u.ID || p.UserName != "Alice" || p.Account != acct {
		t.Fatalf("got principal %+v, want IAM user Alice", p)
	}
	if v, ok := p.Tags.Get("team"); !ok || v != "crypto" {
		t.Fatalf("got tag team=%q (%v), want crypto", v, ok)
	}
	if !cred.Secret.Equal(sigv4.NewSecret(k1.Secret)) {
		t.Fatal("got a different secret, want the issued one")
	}

	keys, err := e.ids.ListAccessKeys(ctx, acct, "Alice")
	must(t, err)
	if len(keys) != 2 || keys[0].Status != "Active" {
		t.Fatalf("got keys %+v, want two active", keys)
	}
	wantCode(t, e.ids.UpdateAccessKey(ctx, acct, "Alice", k1.AccessKeyID, "Paused"), identity.CodeValidationError)
	wantCode(t, e.ids.UpdateAccessKey(ctx, acct, "bob", k1.AccessKeyID, "Inactive"), identity.CodeNoSuchEntity)
	must(t, e.ids.UpdateAccessKey(ctx, acct, "Alice", k1.AccessKeyID, "Inactive"))
	if _, err := e.ids.LookupAccessKey(ctx, k1.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Fatalf("got %v for an inactive key, want ErrUnknownAccessKey", err)
	}
	must(t, e.ids.UpdateAccessKey(ctx, acct, "Alice", k1.AccessKeyID, "Active"))
	must(t, errOnly(e.ids.LookupAccessKey(ctx, k1.AccessKeyID)))

	wantCode(t, e.ids.DeleteUser(ctx, acct, "Alice"), identity.CodeDeleteConflict)
	for _, k := range keys {
		must(t, e.ids.DeleteAccessKey(ctx, acct, "Alice", k.AccessKeyID))
	}
	wantCode(t, e.ids.DeleteAccessKey(ctx, acct, "Alice", k1.AccessKeyID), identity.CodeNoSuchEntity)
	if _, err := e.ids.LookupAccessKey(ctx, k1.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Fatalf("got %v for a deleted key, want ErrUnknownAccessKey", err)
	}
	must(t, e.ids.PutUserPolicy(ctx, acct, "Alice", "p", allowAll))
	wantCode(t, e.ids.DeleteUser(ctx, acct, "Alice"), identity.CodeDeleteConflict)
	must(t, e.ids.DeleteUserPolicy(ctx, acct, "Alice", "P"))
	must(t, e.ids.DeleteUser(ctx, acct, "Alice"))
	wantCode(t, errOnly(e.ids.GetUser(ctx, acct, "Alice")), identity.CodeNoSuchEntity)
}

func errOnly[T any](_ T, err error) error { return err }

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`

func trustAccount(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

// policyOfSize returns an identity policy with exactly n characters other
// than white space (n >= 110).
func policyOfSize(n int) string {
	base := `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`
	pad := n - len(base)
	return strings.Replace(base, `"Sid":""`, `"Sid":"`+strings.Repeat("a", pad)+`"`, 1) + "\n\n  "
}

func TestPolicyDocumentsAndLimits(t *testing.T) {
	e := newEnv(t)
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "u"})))
	must(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "r", TrustPolicy: trustAccount(acct)})))

	for _, tc := range []struct {
		name, doc string
		code      identity.Code
	}{
		{"not json", `{"Version":`, identity.CodeMalformedPolicyDocument},
		{"array", `[]`, identity.CodeMalformedPolicyDocument},
		{"no statement", `{"Version":"2012-10-17"}`, identity.CodeMalformedPolicyDocument},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, identity.CodeMalformedPolicyDocument},
		{"principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}`, identity.CodeMalformedPolicyDocument},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"kms:*"}}`, identity.CodeMalformedPolicyDocument},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"kms:*","Resource":"*"}}`, identity.CodeMalformedPolicyDocument},
		{"control char", "{\x01}", identity.CodeValidationError},
		{"empty", "", identity.CodeValidationError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.ids.PutUserPolicy(ctx, acct, "u", "p", tc.doc), tc.code)
		})
	}

	// Users: 2,048 characters for all inline policies together, white
	// space not counted.
	must(t, e.ids.PutUserPolicy(ctx, acct, "u", "a", policyOfSize(2048)))
	must(t, e.ids.PutUserPolicy(ctx, acct, "u", "A", policyOfSize(2048))) // replaces "a"
	wantCode(t, e.ids.PutUserPolicy(ctx, acct, "u", "b", policyOfSize(120)), identity.CodeLimitExceeded)
	must(t, e.ids.PutUserPolicy(ctx, acct, "u", "a", policyOfSize(1928)))
	must(t, e.ids.PutUserPolicy(ctx, acct, "u", "b", policyOfSize(120)))
	names, err := e.ids.ListUserPolicies(ctx, acct, "u")
	must(t, err)
	if fmt.Sprint(names) != "[a b]" {
		t.Fatalf("got %v, want [a b]", names)
	}
	got, err := e.ids.GetUserPolicy(ctx, acct, "u", "B")
	must(t, err)
	if got.Document != policyOfSize(120) {
		t.Fatalf("got document %q, want it as stored", got.Document)
	}
	wantCode(t, errOnly(e.ids.GetUserPolicy(ctx, acct, "u", "c")), identity.CodeNoSuchEntity)

	// Roles: 10,240.
	must(t, e.ids.PutRolePolicy(ctx, acct, "r", "a", policyOfSize(6000)))
	must(t, e.ids.PutRolePolicy(ctx, acct, "r", "b", policyOfSize(4240)))
	wantCode(t, e.ids.PutRolePolicy(ctx, acct, "r", "c", policyOfSize(120)), identity.CodeLimitExceeded)

	// Managed: 6,144 per policy.
	must(t, errOnly(e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Name: "big", Document: policyOfSize(6144)})))
	wantCode(t, errOnly(e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Name: "bigger", Document: policyOfSize(6145)})), identity.CodeLimitExceeded)

	// Trust policies: 2,048, Principal required, Resource forbidden.
	wantCode(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "r2", TrustPolicy: allowAll})), identity.CodeMalformedPolicyDocument)
	wantCode(t, e.ids.UpdateAssumeRolePolicy(ctx, acct, "r", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Sid":"`+strings.Repeat("x", 2048)+`"}}`), identity.CodeLimitExceeded)

	// The grammar is package policy's.
	err = e.ids.PutUserPolicy(ctx, acct, "u", "b", strings.Replace(policyOfSize(120), "kms:Encrypt", "kms Encrypt", 1))
	wantCode(t, err, identity.CodeMalformedPolicyDocument)
	if msg := identity.AsError(err).Message; !strings.Contains(msg, "invalid action") {
		t.Fatalf("got message %q, want it to name the invalid action", msg)
	}
	// Trust policies may not name users or roles that do not exist.
	err = e.ids.UpdateAssumeRolePolicy(ctx, acct, "r", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ghost"},"Action":"sts:AssumeRole"}}`)
	wantCode(t, err, identity.CodeMalformedPolicyDocument)
	must(t, e.ids.UpdateAssumeRolePolicy(ctx, acct, "r", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u"},"Action":"sts:AssumeRole"}}`))
}

func TestManagedPoliciesAndAttachments(t *testing.T) {
	e := newEnv(t)
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "u"})))
	must(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "r", TrustPolicy: trustAccount(acct)})))
	p, err := e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Path: "/kms/", Name: "KeyUsers", Document: allowAll, Description: "d"})
	must(t, err)
	if p.ARN != "arn:aws:iam::111122223333:policy/kms/KeyUsers" || p.DefaultVersionID != "v1" || !strings.HasPrefix(p.ID, "ANPA") {
		t.Fatalf("got %+v, want ARN .../policy/kms/KeyUsers, v1, ANPA id", p)
	}
	wantCode(t, errOnly(e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Name: "keyusers", Document: allowAll})), identity.CodeEntityAlreadyExists)
	v, err := e.ids.GetPolicyVersion(ctx, acct, p.ARN, "v1")
	must(t, err)
	if v.Document != allowAll || !v.IsDefault {
		t.Fatalf("got %+v, want default v1 with the document", v)
	}
	wantCode(t, errOnly(e.ids.GetPolicyVersion(ctx, acct, p.ARN, "v2")), identity.CodeNoSuchEntity)
	wantCode(t, errOnly(e.ids.GetPolicy(ctx, acct, "arn:aws:iam::111122223333:policy/KeyUsers")), identity.CodeNoSuchEntity)
	wantCode(t, errOnly(e.ids.GetPolicy(ctx, "444455556666", p.ARN)), identity.CodeNoSuchEntity)

	must(t, e.ids.AttachUserPolicy(ctx, acct, "u", p.ARN))
	must(t, e.ids.AttachUserPolicy(ctx, acct, "u", p.ARN)) // idempotent
	must(t, e.ids.AttachRolePolicy(ctx, acct, "r", p.ARN))
	got, err := e.ids.GetPolicy(ctx, acct, p.ARN)
	must(t, err)
	if got.AttachmentCount != 2 {
		t.Fatalf("got AttachmentCount %d, want 2", got.AttachmentCount)
	}
	wantCode(t, e.ids.AttachUserPolicy(ctx, "444455556666", "u", p.ARN), identity.CodeNoSuchEntity)
	wantCode(t, e.ids.DeletePolicy(ctx, acct, p.ARN), identity.CodeDeleteConflict)
	wantCode(t, e.ids.DeleteRole(ctx, acct, "r"), identity.CodeDeleteConflict)
	att, err := e.ids.ListAttachedUserPolicies(ctx, acct, "u", "")
	must(t, err)
	if len(att) != 1 || att[0].Name != "KeyUsers" || att[0].ARN != p.ARN {
		t.Fatalf("got %+v, want [KeyUsers]", att)
	}
	only, err := e.ids.ListPolicies(ctx, acct, "", true)
	must(t, err)
	if len(only) != 1 {
		t.Fatalf("got %d attached policies, want 1", len(only))
	}

	// At most 10 attached policies per user.
	for i := range 10 {
		q, err := e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Name: fmt.Sprintf("p%d", i), Document: allowAll})
		must(t, err)
		err = e.ids.AttachUserPolicy(ctx, acct, "u", q.ARN)
		if i < 9 {
			must(t, err)
		} else {
			wantCode(t, err, identity.CodeLimitExceeded)
		}
	}

	must(t, e.ids.DetachUserPolicy(ctx, acct, "u", p.ARN))
	wantCode(t, e.ids.DetachUserPolicy(ctx, acct, "u", p.ARN), identity.CodeNoSuchEntity)
	must(t, e.ids.DetachRolePolicy(ctx, acct, "r", p.ARN))
	must(t, e.ids.DeletePolicy(ctx, acct, p.ARN))
	must(t, e.ids.DeleteRole(ctx, acct, "r"))
}

func TestPoliciesFor(t *testing.T) {
	e := newEnv(t)
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "u"})))
	ak, err := e.ids.CreateAccessKey(ctx, acct, "u")
	must(t, err)
	mp, err := e.ids.CreatePolicy(ctx, acct, identity.CreatePolicyInput{Name: "m", Document: allowAll})
	must(t, err)
	must(t, e.ids.PutUserPolicy(ctx, acct, "u", "inline", policyOfSize(200)))
	must(t, e.ids.AttachUserPolicy(ctx, acct, "u", mp.ARN))

	cred, err := e.ids.LookupAccessKey(ctx, ak.AccessKeyID)
	must(t, err)
	pols, err := e.ids.PoliciesFor(ctx, cred.Principal)
	must(t, err)
	if len(pols) != 2 || pols[0].Name != "inline" || pols[0].ARN != "" || pols[1].ARN != mp.ARN || pols[1].Document != allowAll {
		t.Fatalf("got %+v, want the inline policy then the managed one", pols)
	}

	root, err := e.ids.PoliciesFor(ctx, principal.Principal{Type: principal.TypeRoot, Account: acct})
	if err != nil || root != nil {
		t.Fatalf("got %v, %v for root, want nil, nil", root, err)
	}

	must(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Path: "/svc/", Name: "R", TrustPolicy: trustAccount(acct)})))
	must(t, e.ids.PutRolePolicy(ctx, acct, "R", "rp", allowAll))
	sess, err := e.ids.AssumeRole(ctx, identity.AssumeRoleInput{RoleARN: "arn:aws:iam::111122223333:role/svc/R", SessionName: "s1"})
	must(t, err)
	rp, err := e.ids.PoliciesFor(ctx, sess.Principal)
	must(t, err)
	if len(rp) != 1 || rp[0].Name != "rp" {
		t.Fatalf("got %+v, want the role's policy rp", rp)
	}

	// A user deleted and re-created under the same name is another user.
	must(t, e.ids.DetachUserPolicy(ctx, acct, "u", mp.ARN))
	must(t, e.ids.DeleteUserPolicy(ctx, acct, "u", "inline"))
	must(t, e.ids.DeleteAccessKey(ctx, acct, "u", ak.AccessKeyID))
	must(t, e.ids.DeleteUser(ctx, acct, "u"))
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "u"})))
	if _, err := e.ids.PoliciesFor(ctx, cred.Principal); !errors.Is(err, identity.ErrNoSuchEntity) {
		t.Fatalf("got %v for a replaced user, want ErrNoSuchEntity", err)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	roleARN := "arn:aws:iam::111122223333:role/Admin"
	role, err := e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{
		Name: "Admin", TrustPolicy: trustAccount(acct), MaxSessionDuration: 7200,
		Tags: []identity.Tag{{Key: "dept", Value: "ops"}, {Key: "level", Value: "1"}},
	})
	must(t, err)
	if role.ARN != roleARN || !strings.HasPrefix(role.ID, "AROA") || len(role.ID) != 21 {
		t.Fatalf("got role %s %s, want %s and an AROA id", role.ARN, role.ID, roleARN)
	}
	wantCode(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "x", TrustPolicy: trustAccount(acct), MaxSessionDuration: 100})), identity.CodeValidationError)

	for _, tc := range []struct {
		in   identity.AssumeRoleInput
		code identity.Code
	}{
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "a"}, identity.CodeValidationError},
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "a b"}, identity.CodeValidationError},
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "ok", DurationSeconds: 899}, identity.CodeValidationError},
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "ok", DurationSeconds: 7201}, identity.CodeValidationError},
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "ok", DurationSeconds: 3601, Chained: true}, identity.CodeValidationError},
		{identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "ok", RoleID: "AROAXXXXXXXXXXXXXXXXX"}, identity.CodeNoSuchEntity},
		{identity.AssumeRoleInput{RoleARN: "arn:aws:iam::111122223333:role/x/Admin", SessionName: "ok"}, identity.CodeNoSuchEntity},
		{identity.AssumeRoleInput{RoleARN: "arn:aws:iam::111122223333:role/Nope", SessionName: "ok"}, identity.CodeNoSuchEntity},
	} {
		wantCode(t, errOnly(e.ids.AssumeRole(ctx, tc.in)), tc.code)
	}

	start := e.clock.Now()
	sess, err := e.ids.AssumeRole(ctx, identity.AssumeRoleInput{
		RoleARN: roleARN, RoleID: role.ID, SessionName: "alice@example.com", DurationSeconds: 900,
		Tags: []identity.Tag{{Key: "Level", Value: "2"}},
	})
	must(t, err)
	if !strings.HasPrefix(sess.AccessKeyID, "ASIA") || len(sess.AccessKeyID) != 20 || len(sess.SessionToken) < 64 {
		t.Fatalf("got key %s, token of %d chars; want ASIA + 16 and a long token", sess.AccessKeyID, len(sess.SessionToken))
	}
	if want := start.Add(900 * time.Second); !sess.Expiration.Equal(want) {
		t.Fatalf("got expiration %v, want %v", sess.Expiration, want)
	}
	if s := fmt.Sprintf("%v %+v %#v", sess, sess, sess); strings.Contains(s, sess.SecretAccessKey) || strings.Contains(s, sess.SessionToken) {
		t.Fatalf("got %q, want no secret or token in the formatted session", s)
	}

	e.reopen(t) // sessions survive a restart
	cred, err := e.ids.LookupAccessKey(ctx, sess.AccessKeyID)
	must(t, err)
	p := cred.Principal
	wantARN := "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"
	if p.Type != principal.TypeAssumedRole || p.ARN != wantARN || p.RoleARN != roleARN ||
		p.SessionName != "alice@example.com" || p.UserID != role.ID+":alice@example.com" {
		t.Fatalf("got principal %+v, want assumed-role %s", p, wantARN)
	}
	if cred.SessionToken != sess.SessionToken || !cred.Secret.Equal(sigv4.NewSecret(sess.SecretAccessKey)) {
		t.Fatal("got a different secret or token, want the issued ones")
	}
	if got := p.Tags.String(); got != "dept=ops,Level=2" {
		t.Fatalf("got principal tags %q, want dept=ops,Level=2 (session tags override role tags)", got)
	}

	// The secret and the token are sealed at rest.
	raw, err := os.ReadFile(filepath.Join(e.dir, "db"))
	must(t, err)
	for _, secret := range []string{sess.SecretAccessKey, sess.SessionToken} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatal("got a session secret in the database file, want it sealed")
		}
	}

	if n, err := e.ids.DeleteExpiredSessions(ctx); err != nil || n != 0 {
		t.Fatalf("got %d, %v before expiry, want 0, nil", n, err)
	}
	e.clock.Advance(899 * time.Second)
	must(t, errOnly(e.ids.LookupAccessKey(ctx, sess.AccessKeyID)))
	e.clock.Advance(time.Second)
	if _, err := e.ids.LookupAccessKey(ctx, sess.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Fatalf("got %v for an expired session, want ErrUnknownAccessKey", err)
	}
	if n, err := e.ids.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Fatalf("got %d, %v after expiry, want 1, nil", n, err)
	}
	if n, err := e.ids.DeleteExpiredSessions(ctx); err != nil || n != 0 {
		t.Fatalf("got %d, %v on the second run, want 0, nil", n, err)
	}

	// Sessions of a deleted role stop authenticating.
	s2, err := e.ids.AssumeRole(ctx, identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "s2"})
	must(t, err)
	must(t, e.ids.DeleteRole(ctx, acct, "Admin"))
	if _, err := e.ids.LookupAccessKey(ctx, s2.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Fatalf("got %v for a session of a deleted role, want ErrUnknownAccessKey", err)
	}
}

func TestManySessionsCleanup(t *testing.T) {
	e := newEnv(t)
	roleARN := "arn:aws:iam::111122223333:role/R"
	must(t, errOnly(e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "R", TrustPolicy: trustAccount(acct)})))
	const n = 300 // more than one cleanup batch
	for i := range n {
		must(t, errOnly(e.ids.AssumeRole(ctx, identity.AssumeRoleInput{RoleARN: roleARN, SessionName: fmt.Sprintf("s%d", i), DurationSeconds: 900 + i%3})))
	}
	keep, err := e.ids.AssumeRole(ctx, identity.AssumeRoleInput{RoleARN: roleARN, SessionName: "keep", DurationSeconds: 3600})
	must(t, err)
	e.clock.Advance(time.Hour - time.Second)
	got, err := e.ids.DeleteExpiredSessions(ctx)
	if err != nil || got != n {
		t.Fatalf("got %d, %v, want %d, nil", got, err, n)
	}
	must(t, errOnly(e.ids.LookupAccessKey(ctx, keep.AccessKeyID)))
}

// TestCredentialCacheFollowsStorage checks that LookupAccessKey, which
// caches the credentials it builds, sees every change made through another
// Store on the same storage (another node of a cluster) at the next lookup:
// tags, deactivation, reactivation, deletion, session expiry and the
// deletion of a session's role.
func TestCredentialCacheFollowsStorage(t *testing.T) {
	e := newEnv(t)
	other := identity.New(e.st, e.sealer, identity.WithClock(e.clock.Now)) // a second node
	must(t, errOnly(e.ids.CreateUser(ctx, acct, identity.CreateUserInput{Name: "alice", Tags: []identity.Tag{{Key: "team", Value: "a"}}})))
	key, err := e.ids.CreateAccessKey(ctx, acct, "alice")
	must(t, err)
	team := func() string {
		t.Helper()
		cred, err := e.ids.LookupAccessKey(ctx, key.AccessKeyID)
		must(t, err)
		if !cred.Secret.Equal(sigv4.NewSecret(key.Secret)) {
			t.Fatal("cached credential has the wrong secret")
		}
		v, _ := cred.Principal.Tags.Get("team")
		return v
	}
	unknown := func(id, when string) {
		t.Helper()
		if _, err := e.ids.LookupAccessKey(ctx, id); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
			t.Fatalf("%s: LookupAccessKey = %v, want ErrUnknownAccessKey", when, err)
		}
	}
	if team() != "a" || team() != "a" {
		t.Fatal("want tag team=a")
	}
	must(t, other.TagUser(ctx, acct, "alice", []identity.Tag{{Key: "team", Value: "b"}}))
	if got := team(); got != "b" {
		t.Fatalf("after another node retagged the user: team=%q, want b", got)
	}
	must(t, other.UpdateAccessKey(ctx, acct, "alice", key.AccessKeyID, identity.StatusInactive))
	unknown(key.AccessKeyID, "after another node deactivated the key")
	must(t, other.UpdateAccessKey(ctx, acct, "alice", key.AccessKeyID, identity.StatusActive))
	if team() != "b" {
		t.Fatal("after reactivation: want the key to work again")
	}
	must(t, other.DeleteAccessKey(ctx, acct, "alice", key.AccessKeyID))
	unknown(key.AccessKeyID, "after another node deleted the key")

	role, err := e.ids.CreateRole(ctx, acct, identity.CreateRoleInput{Name: "ops", TrustPolicy: trustAccount(acct), MaxSessionDuration: 3600})
	must(t, err)
	session := func() identity.Session {
		t.Helper()
		s, err := e.ids.AssumeRole(ctx, identity.AssumeRoleInput{RoleARN: role.ARN, RoleID: role.ID, SessionName: "ops-session", DurationSeconds: 900})
		must(t, err)
		for range 2 { // the second lookup is served from the cache
			if _, err := e.ids.LookupAccessKey(ctx, s.AccessKeyID); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	s1 := session()
	e.clock.Advance(901 * time.Second)
	unknown(s1.AccessKeyID, "after the session expired")
	s2 := session()
	must(t, other.DeleteRole(ctx, acct, "ops"))
	unknown(s2.AccessKeyID, "after another node deleted the session's role")
}
