package e2e_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/server/servertest"
)

// wrapWithOpenSSL wraps key material for import the way AWS's documentation
// tells customers to, with the openssl command line and nothing of ours.
func wrapWithOpenSSL(t *testing.T, alg types.AlgorithmSpec, publicKeyDER, material []byte) []byte {
	t.Helper()
	requireTool(t, "openssl")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	pub := write("WrappingPublicKey.bin", publicKeyDER)
	mat := write("PlaintextKeyMaterial.bin", material)
	md := "sha256"
	if alg == types.AlgorithmSpecRsaesOaepSha1 || alg == types.AlgorithmSpecRsaAesKeyWrapSha1 {
		md = "sha1"
	}
	oaep := []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:" + md, "-pkeyopt", "rsa_mgf1_md:" + md}
	out := filepath.Join(dir, "EncryptedKeyMaterial.bin")
	switch alg {
	case types.AlgorithmSpecRsaesOaepSha1, types.AlgorithmSpecRsaesOaepSha256:
		run(append([]string{"pkeyutl", "-encrypt", "-in", mat, "-out", out, "-inkey", pub, "-keyform", "DER", "-pubin"}, oaep...)...)
	case types.AlgorithmSpecRsaAesKeyWrapSha1, types.AlgorithmSpecRsaAesKeyWrapSha256:
		aesKey := make([]byte, 32)
		rand.Read(aesKey)
		aesPath := write("aes-key.bin", aesKey)
		wrappedMat := filepath.Join(dir, "key-material-wrapped.bin")
		run("enc", "-id-aes256-wrap-pad", "-K", hex.EncodeToString(aesKey), "-iv", "A65959A6", "-in", mat, "-out", wrappedMat)
		wrappedKey := filepath.Join(dir, "aes-key-wrapped.bin")
		run(append([]string{"pkeyutl", "-encrypt", "-in", aesPath, "-out", wrappedKey, "-inkey", pub, "-keyform", "DER", "-pubin"}, oaep...)...)
		a, _ := os.ReadFile(wrappedKey)
		b, _ := os.ReadFile(wrappedMat)
		write("EncryptedKeyMaterial.bin", append(a, b...))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func importMaterial(t *testing.T, c *kms.Client, keyID *string, alg types.AlgorithmSpec, spec types.WrappingKeySpec, material []byte, in kms.ImportKeyMaterialInput) (*kms.ImportKeyMaterialOutput, error) {
	t.Helper()
	p, err := c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: keyID, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatalf("GetParametersForImport: %v", err)
	}
	in.KeyId, in.ImportToken = keyID, p.ImportToken
	in.EncryptedKeyMaterial = wrapWithOpenSSL(t, alg, p.PublicKey, material)
	if in.ExpirationModel == "" {
		in.ExpirationModel = types.ExpirationModelTypeKeyMaterialDoesNotExpire
	}
	return c.ImportKeyMaterial(ctx, &in)
}

// openBlobByTheDoc decrypts a ciphertext blob with the customer's own copy
// of the key material, following docs/CIPHERTEXT.md with plain AES-GCM.
func openBlobByTheDoc(t *testing.T, material, blob []byte) []byte {
	t.Helper()
	const headerLen = 1 + 8 + 16 + 4
	if len(blob) < headerLen+12+16 || blob[0] != 1 {
		t.Fatalf("blob of %d bytes does not have the documented layout", len(blob))
	}
	block, _ := aes.NewCipher(material)
	gcm, _ := cipher.NewGCM(block)
	pt, err := gcm.Open(nil, blob[headerLen:headerLen+12], blob[headerLen+12:], blob[:headerLen]) // no encryption context
	if err != nil {
		t.Fatalf("opening the blob with the imported material: %v", err)
	}
	return pt
}

func TestBYOKWithOpenSSL(t *testing.T) {
	_, c := start(t)
	cases := []struct {
		alg  types.AlgorithmSpec
		spec types.WrappingKeySpec
	}{
		{types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048},
		{types.AlgorithmSpecRsaesOaepSha1, types.WrappingKeySpecRsa3072},
		{types.AlgorithmSpecRsaAesKeyWrapSha256, types.WrappingKeySpecRsa2048},
		{types.AlgorithmSpecRsaAesKeyWrapSha1, types.WrappingKeySpecRsa4096},
	}
	for _, tc := range cases {
		t.Run(string(tc.alg), func(t *testing.T) {
			out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
			if err != nil {
				t.Fatal(err)
			}
			md := out.KeyMetadata
			if md.KeyState != types.KeyStatePendingImport || md.Enabled || md.Origin != types.OriginTypeExternal {
				t.Fatalf("new EXTERNAL key: got state %s enabled %v origin %s", md.KeyState, md.Enabled, md.Origin)
			}
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
			wantAPIError(t, err, "KMSInvalidStateException", *md.Arn+" is pending import.")

			material := make([]byte, 32)
			rand.Read(material)
			imp, err := importMaterial(t, c, md.KeyId, tc.alg, tc.spec, material, kms.ImportKeyMaterialInput{})
			if err != nil {
				t.Fatalf("ImportKeyMaterial: %v", err)
			}
			if aws.ToString(imp.KeyId) != *md.Arn || len(aws.ToString(imp.KeyMaterialId)) != 64 {
				t.Errorf("ImportKeyMaterial output: got %+v", imp)
			}
			d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
			if d.KeyMetadata.KeyState != types.KeyStateEnabled || d.KeyMetadata.ExpirationModel != types.ExpirationModelTypeKeyMaterialDoesNotExpire {
				t.Errorf("after import: got state %s, expiration model %s", d.KeyMetadata.KeyState, d.KeyMetadata.ExpirationModel)
			}
			enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("bring your own key")})
			if err != nil {
				t.Fatal(err)
			}
			// The imported material is the one in use: the customer's copy opens the blob.
			if got := openBlobByTheDoc(t, material, enc.CiphertextBlob); string(got) != "bring your own key" {
				t.Errorf("blob opened with the customer's material: got %q", got)
			}
		})
	}
}

func TestImportLifecycle(t *testing.T) {
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock, Config: fastJobs})
	c := s.Client(servertest.Region)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	if err != nil {
		t.Fatal(err)
	}
	id, arn := out.KeyMetadata.KeyId, *out.KeyMetadata.Arn
	material := make([]byte, 32)
	rand.Read(material)
	alg, spec := types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048

	// Validation of the expiration model.
	_, err = importMaterial(t, c, id, alg, spec, material, kms.ImportKeyMaterialInput{ExpirationModel: types.ExpirationModelTypeKeyMaterialExpires})
	wantAPIError(t, err, "ValidationException", "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")

	// Import with an expiry ten days out.
	validTo := clock.Now().Add(10 * 24 * time.Hour)
	if _, err := importMaterial(t, c, id, alg, spec, material, kms.ImportKeyMaterialInput{
		ExpirationModel: types.ExpirationModelTypeKeyMaterialExpires, ValidTo: aws.Time(validTo)}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if d.KeyMetadata.ValidTo == nil || d.KeyMetadata.ValidTo.Unix() != validTo.Unix() {
		t.Errorf("ValidTo: got %v, want %v", d.KeyMetadata.ValidTo, validTo)
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("payload")})
	if err != nil {
		t.Fatal(err)
	}

	// Different material is refused.
	other := make([]byte, 32)
	rand.Read(other)
	_, err = importMaterial(t, c, id, alg, spec, other, kms.ImportKeyMaterialInput{})
	wantAPIError(t, err, "IncorrectKeyMaterialException", "")

	// Tokens: one for another key, and an expired one.
	otherKey, _ := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	p, _ := c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: otherKey.KeyMetadata.KeyId, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapWithOpenSSL(t, alg, p.PublicKey, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantAPIError(t, err, "InvalidImportTokenException", "")
	p, _ = c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	wrapped := wrapWithOpenSSL(t, alg, p.PublicKey, material)
	clock.Advance(25 * time.Hour)
	_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: wrapped, ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantAPIError(t, err, "ExpiredImportTokenException", "")
	// Garbage wrapped material.
	p, _ = c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: id, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: id, ImportToken: p.ImportToken,
		EncryptedKeyMaterial: bytes.Repeat([]byte{1}, 256), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
	wantAPIError(t, err, "InvalidCiphertextException", "")

	// Expiry at ValidTo, by the background job.
	clock.Advance(10 * 24 * time.Hour)
	waitFor(t, func() bool {
		d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		return d.KeyMetadata.KeyState == types.KeyStatePendingImport
	})
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantAPIError(t, err, "KMSInvalidStateException", arn+" is pending import.")

	// Reimport of the same material brings old ciphertexts back.
	if _, err := importMaterial(t, c, id, alg, spec, material, kms.ImportKeyMaterialInput{}); err != nil {
		t.Fatalf("reimport: %v", err)
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "payload" {
		t.Fatalf("Decrypt after reimport: %v", err)
	}

	// DeleteImportedKeyMaterial: PendingImport again; then reimport.
	del, err := c.DeleteImportedKeyMaterial(ctx, &kms.DeleteImportedKeyMaterialInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.KeyId) != arn {
		t.Errorf("DeleteImportedKeyMaterial KeyId: got %s", aws.ToString(del.KeyId))
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	if _, err := importMaterial(t, c, id, alg, spec, material, kms.ImportKeyMaterialInput{}); err != nil {
		t.Fatalf("reimport after delete: %v", err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt after reimport: %v", err)
	}

	// AWS_KMS keys take no imports.
	normal := createKey(t, c)
	_, err = c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: normal.KeyId, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	wantAPIError(t, err, "UnsupportedOperationException", *normal.Arn+" origin is AWS_KMS which is not valid for this operation.")
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id})
	wantAPIError(t, err, "UnsupportedOperationException", "")
}

func TestImportedMaterialOnDemandRotation(t *testing.T) {
	_, c := start(t)
	out, _ := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
	id := out.KeyMetadata.KeyId
	alg, spec := types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048
	first, second := make([]byte, 32), make([]byte, 32)
	rand.Read(first)
	rand.Read(second)
	if _, err := importMaterial(t, c, id, alg, spec, first, kms.ImportKeyMaterialInput{}); err != nil {
		t.Fatal(err)
	}
	old, _ := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("old")})
	_, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	if _, err := importMaterial(t, c, id, alg, spec, second, kms.ImportKeyMaterialInput{ImportType: types.ImportTypeNewKeyMaterial}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	enc, _ := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("new")})
	if got := openBlobByTheDoc(t, second, enc.CiphertextBlob); string(got) != "new" {
		t.Errorf("after rotation the new material is not in use")
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Errorf("old ciphertext after rotation: %v", err)
	}
}

func TestImportAsymmetricAndHMACMaterial(t *testing.T) {
	requireTool(t, "openssl")
	_, c := start(t)

	// An RSA signing key made by openssl, imported with the key-wrap algorithm.
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "key.pem")
	if out, err := exec.Command("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pemFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	der, err := exec.Command("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", pemFile, "-outform", "DER").Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := importMaterial(t, c, id, types.AlgorithmSpecRsaAesKeyWrapSha256, types.WrappingKeySpecRsa4096, der, kms.ImportKeyMaterialInput{}); err != nil {
		t.Fatalf("importing an RSA private key: %v", err)
	}
	pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command("openssl", "pkey", "-in", pemFile, "-pubout", "-outform", "DER").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pub.PublicKey, want) {
		t.Errorf("GetPublicKey of the imported key differs from openssl's public key")
	}
	if _, err := c.Sign(ctx, &kms.SignInput{KeyId: id, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256}); err != nil {
		t.Errorf("Sign with the imported key: %v", err)
	}

	// An HMAC key: the MAC matches one computed with the customer's copy.
	out, err = c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	if _, err := importMaterial(t, c, out.KeyMetadata.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048, secret, kms.ImportKeyMaterialInput{}); err != nil {
		t.Fatalf("importing HMAC material: %v", err)
	}
	mac, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: out.KeyMetadata.KeyId, Message: []byte("message"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("message"))
	if !bytes.Equal(mac.Mac, h.Sum(nil)) {
		t.Errorf("GenerateMac with imported material differs from the customer's HMAC")
	}
	// Material of the wrong kind is refused.
	other, _ := c.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal, KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	_, err = importMaterial(t, c, other.KeyMetadata.KeyId, types.AlgorithmSpecRsaAesKeyWrapSha256, types.WrappingKeySpecRsa2048, der, kms.ImportKeyMaterialInput{})
	wantAPIError(t, err, "IncorrectKeyMaterialException", "")
}
