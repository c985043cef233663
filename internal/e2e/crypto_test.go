package e2e_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestEncryptDecrypt(t *testing.T) {
	_, c := start(t)
	md := createKey(t, c)
	ec := map[string]string{"purpose": "test", "tenant": "42"}
	for _, size := range []int{1, 256, 4096} {
		pt := bytes.Repeat([]byte{byte(size)}, size)
		enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: pt, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", size, err)
		}
		if aws.ToString(enc.KeyId) != *md.Arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
			t.Errorf("Encrypt: got KeyId %s alg %s, want %s SYMMETRIC_DEFAULT", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm, *md.Arn)
		}
		// Decrypt needs no KeyId: the blob names its key.
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if !bytes.Equal(dec.Plaintext, pt) || aws.ToString(dec.KeyId) != *md.Arn {
			t.Errorf("Decrypt: got %d bytes from %s, want %d from %s", len(dec.Plaintext), aws.ToString(dec.KeyId), size, *md.Arn)
		}
		if aws.ToString(dec.KeyMaterialId) != aws.ToString(md.CurrentKeyMaterialId) {
			t.Errorf("KeyMaterialId: got %s, want %s", aws.ToString(dec.KeyMaterialId), aws.ToString(md.CurrentKeyMaterialId))
		}
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("hello"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	// The encryption context is bound: any difference fails.
	for _, bad := range []map[string]string{nil, {"purpose": "test"}, {"purpose": "test", "tenant": "43"}, {"purpose": "test", "tenant": "42", "x": "y"}} {
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: bad})
		wantAPIError(t, err, "InvalidCiphertextException", "")
	}
	// KeyId, when given, must name the key that made the blob; an alias works.
	c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/enc"), TargetKeyId: md.KeyId})
	for _, id := range []string{*md.KeyId, *md.Arn, "alias/enc"} {
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(id)}); err != nil {
			t.Errorf("Decrypt with KeyId %s: %v", id, err)
		}
	}
	other := createKey(t, c)
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: other.KeyId})
	wantAPIError(t, err, "IncorrectKeyException", "")
	// Tampered and garbage blobs.
	tampered := bytes.Clone(enc.CiphertextBlob)
	tampered[len(tampered)-1] ^= 1
	for _, blob := range [][]byte{tampered, []byte("garbage"), enc.CiphertextBlob[:40], append(bytes.Clone(enc.CiphertextBlob), "bad_data"...)} {
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
		wantAPIError(t, err, "InvalidCiphertextException", "")
	}
	// Disabled key: Decrypt is refused too.
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: md.KeyId})
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	wantAPIError(t, err, "DisabledException", "")
}

func TestEncryptLimits(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: make([]byte, 4097)})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte{}})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	wantAPIError(t, err, "InvalidKeyUsageException", "")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: make([]byte, 6145)})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), GrantTokens: make([]string, 11)})
	wantAPIError(t, err, "ValidationException", "")
}

func TestDryRun(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	enc, _ := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", "")
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256, DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DryRunOperationException", "")
	// A dry run of a request that would fail reports the failure.
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), DryRun: aws.Bool(true)})
	wantAPIError(t, err, "DisabledException", "")
}

func TestReEncrypt(t *testing.T) {
	_, c := start(t)
	a, b := createKey(t, c), createKey(t, c)
	srcCtx, dstCtx := map[string]string{"a": "1"}, map[string]string{"b": "2"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("move me"), EncryptionContext: srcCtx})
	if err != nil {
		t.Fatal(err)
	}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx,
		DestinationKeyId: b.KeyId, DestinationEncryptionContext: dstCtx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyId) != *a.Arn || aws.ToString(re.KeyId) != *b.Arn ||
		re.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault ||
		re.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("ReEncrypt: got %+v", re)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: dstCtx})
	if err != nil || string(dec.Plaintext) != "move me" || aws.ToString(dec.KeyId) != *b.Arn {
		t.Fatalf("Decrypt of re-encrypted: got %v, %v", dec, err)
	}
	_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: map[string]string{"a": "2"}, DestinationKeyId: b.KeyId})
	wantAPIError(t, err, "InvalidCiphertextException", "")
	_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx, SourceKeyId: b.KeyId, DestinationKeyId: b.KeyId})
	wantAPIError(t, err, "IncorrectKeyException", "")
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: b.KeyId})
	_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx, DestinationKeyId: b.KeyId})
	wantAPIError(t, err, "DisabledException", "")
}

func TestGenerateDataKey(t *testing.T) {
	_, c := start(t)
	md := createKey(t, c)
	ec := map[string]string{"file": "a.txt"}
	cases := []struct {
		name string
		in   kms.GenerateDataKeyInput
		n    int
	}{
		{"AES_256", kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes256}, 32},
		{"AES_128", kms.GenerateDataKeyInput{KeySpec: types.DataKeySpecAes128}, 16},
		{"NumberOfBytes 1", kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1)}, 1},
		{"NumberOfBytes 1024", kms.GenerateDataKeyInput{NumberOfBytes: aws.Int32(1024)}, 1024},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.KeyId, in.EncryptionContext = md.KeyId, ec
			out, err := c.GenerateDataKey(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Plaintext) != tc.n || aws.ToString(out.KeyId) != *md.Arn {
				t.Fatalf("got %d bytes from %s, want %d from %s", len(out.Plaintext), aws.ToString(out.KeyId), tc.n, *md.Arn)
			}
			dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatalf("Decrypt of the data key: %v", err)
			}
		})
	}
	wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Fatalf("Decrypt of a data key made without plaintext: %v", err)
	}
	bad := []kms.GenerateDataKeyInput{
		{KeyId: md.KeyId},
		{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)},
		{KeyId: md.KeyId, NumberOfBytes: aws.Int32(1025)},
		{KeyId: md.KeyId, KeySpec: "AES_512"},
	}
	for _, in := range bad {
		_, err := c.GenerateDataKey(ctx, &in)
		wantAPIError(t, err, "ValidationException", "")
	}
}

func TestGenerateRandom(t *testing.T) {
	_, c := start(t)
	a, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
	if len(a.Plaintext) != 32 || bytes.Equal(a.Plaintext, b.Plaintext) {
		t.Errorf("GenerateRandom: got %x and %x, want two different 32-byte values", a.Plaintext, b.Plaintext)
	}
	if out, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1024)}); err != nil || len(out.Plaintext) != 1024 {
		t.Errorf("GenerateRandom(1024): %v", err)
	}
	_, err = c.GenerateRandom(ctx, &kms.GenerateRandomInput{})
	wantAPIError(t, err, "ValidationException", "NumberOfBytes is required.")
	for _, n := range []*int32{aws.Int32(1025), aws.Int32(2048)} {
		_, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: n})
		wantAPIError(t, err, "ValidationException", "")
	}
}
