package iamapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/storage/boltstore"
)

const (
	testAccount = "111122223333"
	testAKID    = "AKIAIAMAPITEST000001"
	testSecret  = "iamapi-test-secret-access-key-0000000001"
)

// newTestHandler wires a Handler over a real bbolt store and file root key.
func newTestHandler(t testing.TB) (*Handler, *identity.Store) {
	t.Helper()
	dir := t.TempDir()
	sealer, err := fileroot.NewProvider(filepath.Join(dir, "root.key")).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ids := identity.New(st, sealer)
	if _, err := ids.EnsureAccessKey(context.Background(), testAccount, testAKID, testSecret); err != nil {
		t.Fatal(err)
	}
	return New(Config{Identity: ids, AdminAccount: testAccount}), ids
}

// do sends a signed form request to h and returns the status and body.
func do(t *testing.T, h http.Handler, service string, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	r := httptest.NewRequest(http.MethodPost, "http://openkms.test/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

var (
	requestIDRe = regexp.MustCompile(`<RequestId>[0-9a-f-]{36}</RequestId>`)
	dateRe      = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	uniqueIDRe  = regexp.MustCompile(`AIDA[A-Z2-7]{17}`)
)

func normalize(s string) string {
	s = requestIDRe.ReplaceAllString(s, "<RequestId>REQ</RequestId>")
	s = dateRe.ReplaceAllString(s, "DATE")
	return uniqueIDRe.ReplaceAllString(s, "AIDAXXXXXXXXXXXXXXXXX")
}

// TestXMLShapes pins whole responses: the envelope, namespaces, element
// names and order, lists and errors, as AWS sends them.
func TestXMLShapes(t *testing.T) {
	h, _ := newTestHandler(t)
	for _, tc := range []struct {
		name    string
		service string
		form    url.Values
		status  int
		want    string
	}{
		{"CreateUser", "iam", url.Values{"Action": {"CreateUser"}, "Version": {"2010-05-08"}, "UserName": {"bob"}, "Path": {"/ops/"},
			"Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"a=b c"}}, 200,
			`<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User>` +
				`<Path>/ops/</Path><UserName>bob</UserName><UserId>AIDAXXXXXXXXXXXXXXXXX</UserId><Arn>arn:aws:iam::111122223333:user/ops/bob</Arn>` +
				`<CreateDate>DATE</CreateDate><Tags><member><Key>team</Key><Value>a=b c</Value></member></Tags></User></CreateUserResult>` +
				`<ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></CreateUserResponse>`},
		{"DeleteUser missing", "iam", url.Values{"Action": {"DeleteUser"}, "Version": {"2010-05-08"}, "UserName": {"nobody"}}, 404,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
				`<Message>The user with name nobody cannot be found.</Message></Error><RequestId>REQ</RequestId></ErrorResponse>`},
		{"PutUserPolicy", "iam", url.Values{"Action": {"PutUserPolicy"}, "Version": {"2010-05-08"}, "UserName": {"bob"}, "PolicyName": {"p"},
			"PolicyDocument": {`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`}}, 200,
			`<PutUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></PutUserPolicyResponse>`},
		{"GetUserPolicy", "iam", url.Values{"Action": {"GetUserPolicy"}, "Version": {"2010-05-08"}, "UserName": {"BOB"}, "PolicyName": {"p"}}, 200,
			`<GetUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserPolicyResult><UserName>bob</UserName><PolicyName>p</PolicyName>` +
				`<PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kms%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D</PolicyDocument>` +
				`</GetUserPolicyResult><ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></GetUserPolicyResponse>`},
		{"ListUserPolicies", "iam", url.Values{"Action": {"ListUserPolicies"}, "Version": {"2010-05-08"}, "UserName": {"bob"}}, 200,
			`<ListUserPoliciesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUserPoliciesResult><PolicyNames><member>p</member></PolicyNames>` +
				`<IsTruncated>false</IsTruncated></ListUserPoliciesResult><ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></ListUserPoliciesResponse>`},
		{"GetCallerIdentity", "sts", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, 200,
			`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:root</Arn>` +
				`<UserId>111122223333</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></GetCallerIdentityResponse>`},
		{"AssumeRole as root", "sts", url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::111122223333:role/R"}, "RoleSessionName": {"s1"}}, 403,
			`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
				`<Message>Roles may not be assumed by root accounts.</Message></Error><RequestId>REQ</RequestId></ErrorResponse>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, h, tc.service, tc.form)
			want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + tc.want
			if got := normalize(body); status != tc.status || got != want {
				t.Fatalf("got %d\n%s\nwant %d\n%s", status, got, tc.status, want)
			}
		})
	}
}

func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		svc    service
		status int
		code   string
	}{
		{&identity.Error{Code: identity.CodeNoSuchEntity, Message: "m"}, serviceIAM, 404, "NoSuchEntity"},
		{&identity.Error{Code: identity.CodeEntityAlreadyExists}, serviceIAM, 409, "EntityAlreadyExists"},
		{&identity.Error{Code: identity.CodeLimitExceeded}, serviceIAM, 409, "LimitExceeded"},
		{&identity.Error{Code: identity.CodeDeleteConflict}, serviceIAM, 409, "DeleteConflict"},
		{&identity.Error{Code: identity.CodeMalformedPolicyDocument}, serviceIAM, 400, "MalformedPolicyDocument"},
		{&identity.Error{Code: identity.CodeInvalidInput}, serviceIAM, 400, "InvalidInput"},
		{&identity.Error{Code: identity.CodeValidationError}, serviceSTS, 400, "ValidationError"},
		{fmt.Errorf("wrapped: %w", &identity.Error{Code: identity.CodeNoSuchEntity}), serviceIAM, 404, "NoSuchEntity"},
		{accessDenied("x"), serviceSTS, 403, "AccessDenied"},
		{kmserr.New(kmserr.InvalidSignature, "x"), serviceIAM, 403, "SignatureDoesNotMatch"},
		{kmserr.New(kmserr.UnrecognizedClient, "x"), serviceSTS, 403, "InvalidClientTokenId"},
		{kmserr.New(kmserr.IncompleteSignature, "x"), serviceIAM, 400, "IncompleteSignature"},
		{kmserr.New(kmserr.MissingAuthenticationTok, "x"), serviceIAM, 403, "MissingAuthenticationToken"},
		{kmserr.Internal(errors.New("disk on fire")), serviceIAM, 500, "ServiceFailure"},
		{errors.New("disk on fire"), serviceSTS, 500, "InternalFailure"},
	} {
		status, e := toAPIError(tc.err, tc.svc)
		if status != tc.status || e.code != tc.code {
			t.Errorf("%v: got %d %s, want %d %s", tc.err, status, e.code, tc.status, tc.code)
		}
		if status == 500 && strings.Contains(e.message, "fire") {
			t.Errorf("%v: got message %q, want no internals", tc.err, e.message)
		}
	}
}

func TestEncodePolicy(t *testing.T) {
	doc := "{\"a\": \"b+c /d~e_f.g-h\u00e9\"}\n"
	enc := encodePolicy(doc)
	if want := "%7B%22a%22%3A%20%22b%2Bc%20%2Fd~e_f.g-h%C3%A9%22%7D%0A"; enc != want {
		t.Fatalf("got %s, want %s", enc, want)
	}
	if dec, err := url.QueryUnescape(enc); err != nil || dec != doc {
		t.Fatalf("got %q, %v decoding, want %q", dec, err, doc)
	}
	if dec, err := url.PathUnescape(enc); err != nil || dec != doc {
		t.Fatalf("got %q, %v path-decoding, want %q", dec, err, doc)
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		method, target, contentType, query string
		want                               bool
	}{
		{"POST", "", "application/x-www-form-urlencoded; charset=utf-8", "", true},
		{"POST", "", "application/x-www-form-urlencoded", "", true},
		{"POST", "TrentService.ListKeys", "application/x-www-form-urlencoded", "", false},
		{"POST", "TrentService.ListKeys", "application/x-amz-json-1.1", "", false},
		{"POST", "", "application/x-amz-json-1.1", "", false},
		{"POST", "", "", "", false},
		{"GET", "", "", "Action=ListUsers&Version=2010-05-08", true},
		{"GET", "", "", "X-Amz-Target=TrentService.ListKeys&Action=x", false},
		{"GET", "", "", "", false},
		{"PUT", "", "application/x-www-form-urlencoded", "Action=ListUsers", false},
	} {
		r := httptest.NewRequest(tc.method, "http://x/?"+tc.query, nil)
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if tc.contentType != "" {
			r.Header.Set("Content-Type", tc.contentType)
		}
		if got := Matches(r); got != tc.want {
			t.Errorf("%s %q %q %q: got %v, want %v", tc.method, tc.target, tc.contentType, tc.query, got, tc.want)
		}
	}
}

func TestPaginate(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	var got []string
	ps := params{"MaxItems": "2"}
	for range 10 {
		page, pg, err := paginate(ps, items, id)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if !pg.IsTruncated {
			break
		}
		ps["Marker"] = pg.Marker
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("got %v, want a..e", got)
	}
	for _, bad := range []params{{"MaxItems": "0"}, {"MaxItems": "1001"}, {"MaxItems": "x"}, {"Marker": "!!"}} {
		if _, _, err := paginate(bad, items, id); err == nil {
			t.Errorf("%v: got success, want ValidationError", bad)
		}
	}
}

func TestEveryOperationIsRouted(t *testing.T) {
	want := strings.Fields(`CreateUser GetUser ListUsers DeleteUser TagUser UntagUser ListUserTags CreateAccessKey
		ListAccessKeys UpdateAccessKey DeleteAccessKey PutUserPolicy GetUserPolicy ListUserPolicies DeleteUserPolicy
		CreateRole GetRole ListRoles DeleteRole UpdateAssumeRolePolicy TagRole UntagRole ListRoleTags PutRolePolicy
		GetRolePolicy ListRolePolicies DeleteRolePolicy CreatePolicy GetPolicy GetPolicyVersion ListPolicies DeletePolicy
		AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies AttachRolePolicy DetachRolePolicy ListAttachedRolePolicies
		GetCallerIdentity AssumeRole CreateAccount`)
	h, _ := newTestHandler(t)
	if got := len(h.Operations()); got != len(want) {
		t.Errorf("got %d operations, want %d", got, len(want))
	}
	for _, name := range want {
		if h.ops[name] == nil {
			t.Errorf("got no route for %s, want one", name)
		}
	}
}

// FuzzOperations calls every operation, as the root user and as an IAM user
// without policies, with parameters from the fuzzer: no input may panic, and
// every error must be a client error or a generic server fault.
func FuzzOperations(f *testing.F) {
	for _, seed := range []string{
		"UserName=u&Path=/a/&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=99999999999999999999",
		"PolicyName=p&PolicyDocument=%7B%22Statement%22%3A%5B%5D%7D&PolicyArn=arn:aws:iam::111122223333:policy/p",
		"RoleArn=arn:aws:iam::111122223333:role/r&RoleSessionName=ss&DurationSeconds=-1&Tags.member.2.Key=x",
		"UserName=&MaxItems=5&Marker=AAAA&TagKeys.member.1=k&AccessKeyId=AKIA0000000000000000&Status=Inactive",
		"AccountId=000000000001&VersionId=v1&Scope=Local&OnlyAttached=maybe",
	} {
		f.Add(seed)
	}
	h, ids := newTestHandler(f)
	ctx := context.Background()
	if _, err := ids.CreateUser(ctx, testAccount, identity.CreateUserInput{Name: "u"}); err != nil {
		f.Fatal(err)
	}
	u, err := ids.GetUser(ctx, testAccount, "u")
	if err != nil {
		f.Fatal(err)
	}
	callers := []principal.Principal{
		{Account: testAccount, ARN: "arn:aws:iam::111122223333:root", UserID: testAccount, Type: principal.TypeRoot},
		{Account: testAccount, ARN: u.ARN, UserID: u.ID, Type: principal.TypeIAMUser, UserName: "u"},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ps, err := parseParams(raw)
		if err != nil {
			return
		}
		for _, op := range h.ops {
			if op.name == "CreateAccount" && ps.get("AccountId") == "" {
				continue // would create random accounts without end
			}
			for _, p := range callers {
				c := &call{ctx: ctx, principal: p, region: "us-east-1", params: ps, op: op}
				_, err := op.handle(h, c)
				if err == nil {
					continue
				}
				if status, e := toAPIError(err, op.service); status >= 500 {
					t.Errorf("%s(%q): got %d %s (%v), want a client error", op.name, raw, status, e.code, err)
				}
			}
		}
	})
}
