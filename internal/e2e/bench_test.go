package e2e_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

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
