package e2e_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

// The benchmarks measure whole requests: the AWS SDK signs with SigV4 and
// sends over loopback HTTP to an in-process server, which verifies, runs
// the operation and answers. Client and server share the machine's CPUs.
//
// Each has a serial sub-benchmark (one request at a time: latency) and a
// parallel one (parallelism × GOMAXPROCS goroutines: throughput).

const (
	benchPlaintextSize = 256
	benchParallelism   = 4 // goroutines per GOMAXPROCS in the parallel runs
)

// benchClient starts a server and returns a client whose connection pool
// is large enough for the parallel runs, plus a fresh key.
func benchClient(b *testing.B) (*kms.Client, *string) {
	b.Helper()
	s := servertest.Start(b, servertest.Options{})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c := kms.New(s.Client(servertest.Region).Options(), func(o *kms.Options) {
		o.HTTPClient = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	})
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("bench")})
	if err != nil {
		b.Fatalf("CreateKey: %v", err)
	}
	b.Cleanup(tr.CloseIdleConnections)
	return c, out.KeyMetadata.KeyId
}

// runSerialParallel runs op as "serial" and "parallel" sub-benchmarks.
func runSerialParallel(b *testing.B, op func() error) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkEncrypt(b *testing.B) {
	c, keyID := benchClient(b)
	pt := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
	runSerialParallel(b, func() error {
		_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: keyID, Plaintext: pt})
		return err
	})
}

func BenchmarkDecrypt(b *testing.B) {
	c, keyID := benchClient(b)
	pt := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: keyID, Plaintext: pt})
	if err != nil {
		b.Fatalf("Encrypt: %v", err)
	}
	runSerialParallel(b, func() error {
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		return err
	})
}

func BenchmarkGenerateDataKey(b *testing.B) {
	c, keyID := benchClient(b)
	runSerialParallel(b, func() error {
		_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: keyID, KeySpec: types.DataKeySpecAes256})
		return err
	})
}

// benchSign measures Sign end to end with a key of the given spec.
func benchSign(b *testing.B, spec types.KeySpec, alg types.SigningAlgorithmSpec) {
	c, _ := benchClient(b)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
	runSerialParallel(b, func() error {
		_, err := c.Sign(ctx, &kms.SignInput{KeyId: out.KeyMetadata.KeyId, Message: msg, SigningAlgorithm: alg})
		return err
	})
}

func BenchmarkSignECCNISTP256(b *testing.B) { benchSign(b, types.KeySpecEccNistP256, "ECDSA_SHA_256") }
func BenchmarkSignRSA2048(b *testing.B)     { benchSign(b, types.KeySpecRsa2048, "RSASSA_PSS_SHA_256") }
func BenchmarkSignMLDSA65(b *testing.B)     { benchSign(b, types.KeySpecMlDsa65, "ML_DSA_SHAKE_256") }

func BenchmarkGenerateMac(b *testing.B) {
	c, _ := benchClient(b)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		b.Fatal(err)
	}
	msg := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
	runSerialParallel(b, func() error {
		_, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: out.KeyMetadata.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		return err
	})
}

// BenchmarkEncryptAudit compares Encrypt with the audit log off, with the
// default (async) durability, and with sync durability.
func BenchmarkEncryptAudit(b *testing.B) {
	for _, mode := range []struct{ name, sink, durability string }{{"off", "off", ""}, {"async", "file", "async"}, {"sync", "file", "sync"}} {
		b.Run(mode.name, func(b *testing.B) {
			s := servertest.Start(b, servertest.Options{Config: func(c *config.Server) { c.AuditSink, c.AuditDurability = mode.sink, mode.durability }})
			c := s.Client(servertest.Region)
			out, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				b.Fatal(err)
			}
			pt := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
			runSerialParallel(b, func() error {
				_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: out.KeyMetadata.KeyId, Plaintext: pt})
				return err
			})
		})
	}
}

// BenchmarkEncryptWithKeyPolicy runs Encrypt as an IAM user under a
// realistic five-statement key policy (administrators, users, grants for
// AWS resources, an encryption-context deny, the account statement).
func BenchmarkEncryptWithKeyPolicy(b *testing.B) {
	s := servertest.Start(b, servertest.Options{})
	root := s.Client(servertest.Region)
	iamRoot := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	if _, err := iamRoot.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		b.Fatal(err)
	}
	ak, err := iamRoot.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		b.Fatal(err)
	}
	a := "arn:aws:iam::" + servertest.Account
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"` + a + `:root"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{"AWS":"` + a + `:user/admin"},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"},
	 {"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"` + a + `:user/app"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"},
	 {"Sid":"Allow attachment of persistent resources","Effect":"Allow","Principal":{"AWS":"` + a + `:user/app"},"Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}},
	 {"Sid":"Require a tenant","Effect":"Deny","Principal":"*","Action":["kms:Encrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"Null":{"kms:EncryptionContext:tenant":"true"}}}]}`
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policy)})
	if err != nil {
		b.Fatal(err)
	}
	app := kmsClient(s.Endpoint, *ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey, "")
	pt := bytes.Repeat([]byte{0x5a}, benchPlaintextSize)
	ec := map[string]string{"tenant": "acme"}
	runSerialParallel(b, func() error {
		_, err := app.Encrypt(ctx, &kms.EncryptInput{KeyId: out.KeyMetadata.Arn, Plaintext: pt, EncryptionContext: ec})
		return err
	})
}
