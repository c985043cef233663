package e2e_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// The AWS table of key specs, usages and signing algorithms, written out
// independently of the server's own tables.
var awsSigning = map[types.KeySpec][]types.SigningAlgorithmSpec{
	types.KeySpecRsa2048:             {"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"},
	types.KeySpecEccNistP256:         {"ECDSA_SHA_256"},
	types.KeySpecEccNistP384:         {"ECDSA_SHA_384"},
	types.KeySpecEccNistP521:         {"ECDSA_SHA_512"},
	types.KeySpecEccSecgP256k1:       {"ECDSA_SHA_256"},
	types.KeySpecEccNistEdwards25519: {"ED25519_SHA_512", "ED25519_PH_SHA_512"},
	types.KeySpecMlDsa65:             {"ML_DSA_SHAKE_256"},
	types.KeySpecSm2:                 {"SM2DSA"},
}

func createAsymmetric(t *testing.T, c *kms.Client, spec types.KeySpec, usage types.KeyUsageType) *types.KeyMetadata {
	t.Helper()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		t.Fatalf("CreateKey %s/%s: %v", spec, usage, err)
	}
	return out.KeyMetadata
}

// writePEMPublicKey stores a GetPublicKey result as a PEM file for openssl.
func writePEMPublicKey(t *testing.T, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return out
}

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	_, c := start(t)
	msg := []byte("sign me, as AWS would")
	for spec, algs := range awsSigning {
		md := createAsymmetric(t, c, spec, types.KeyUsageTypeSignVerify)
		if !slices.Equal(md.SigningAlgorithms, algs) {
			t.Errorf("%s SigningAlgorithms: got %v, want %v", spec, md.SigningAlgorithms, algs)
		}
		if len(md.EncryptionAlgorithms) != 0 {
			t.Errorf("%s SIGN_VERIFY lists encryption algorithms %v", spec, md.EncryptionAlgorithms)
		}
		for _, alg := range algs {
			in := &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: alg}
			if alg == "ED25519_PH_SHA_512" {
				d := sha512.Sum512(msg)
				in.Message, in.MessageType = d[:], types.MessageTypeDigest
			}
			sig, err := c.Sign(ctx, in)
			if err != nil {
				t.Errorf("%s %s Sign: %v", spec, alg, err)
				continue
			}
			if aws.ToString(sig.KeyId) != *md.Arn || sig.SigningAlgorithm != alg {
				t.Errorf("%s %s Sign output: got %+v", spec, alg, sig)
			}
			v, err := c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: in.Message, MessageType: in.MessageType, Signature: sig.Signature, SigningAlgorithm: alg})
			if err != nil || !v.SignatureValid {
				t.Errorf("%s %s Verify: %v", spec, alg, err)
			}
			bad := bytes.Clone(sig.Signature)
			bad[len(bad)/2] ^= 1
			_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: in.Message, MessageType: in.MessageType, Signature: bad, SigningAlgorithm: alg})
			wantAPIError(t, err, "KMSInvalidSignatureException", "")
		}
		// An algorithm of another spec is refused.
		other := types.SigningAlgorithmSpecEcdsaSha384
		if spec == types.KeySpecEccNistP384 {
			other = types.SigningAlgorithmSpecEcdsaSha256
		}
		_, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: other})
		wantAPIError(t, err, "InvalidKeyUsageException", "")
		// Symmetric operations are refused.
		_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: msg})
		wantAPIError(t, err, "InvalidKeyUsageException", *md.Arn+" key usage is SIGN_VERIFY which is not valid for Encrypt.")
	}
}

// mldsaRawPublicKey returns the FIPS 204 public key inside a GetPublicKey
// SubjectPublicKeyInfo.
func mldsaRawPublicKey(t *testing.T, spki []byte) []byte {
	t.Helper()
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(spki, &info); err != nil || len(rest) != 0 {
		t.Fatalf("SPKI: %v", err)
	}
	return info.PublicKey.Bytes
}

// externalMu computes what an AWS client sends as an EXTERNAL_MU message:
// FIPS 204's μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64), the message
// representative of pure ML-DSA with an empty context.
func externalMu(pk, msg []byte) []byte {
	h := sha3.NewSHAKE256()
	h.Write(sha3.SumSHAKE256(pk, 64))
	h.Write([]byte{0, 0}) // pure ML-DSA, context length 0
	h.Write(msg)
	mu := make([]byte, 64)
	h.Read(mu)
	return mu
}

// circlVerifyMLDSA verifies a pure ML-DSA signature of msg (empty context)
// offline, with circl.
func circlVerifyMLDSA(t *testing.T, spec types.KeySpec, pk, msg, sig []byte) bool {
	t.Helper()
	var err error
	ok := false
	switch spec {
	case types.KeySpecMlDsa44:
		var k mldsa44.PublicKey
		if err = k.UnmarshalBinary(pk); err == nil {
			ok = mldsa44.Verify(&k, msg, nil, sig)
		}
	case types.KeySpecMlDsa65:
		var k mldsa65.PublicKey
		if err = k.UnmarshalBinary(pk); err == nil {
			ok = mldsa65.Verify(&k, msg, nil, sig)
		}
	case types.KeySpecMlDsa87:
		var k mldsa87.PublicKey
		if err = k.UnmarshalBinary(pk); err == nil {
			ok = mldsa87.Verify(&k, msg, nil, sig)
		}
	default:
		t.Fatalf("%s is not ML-DSA", spec)
	}
	if err != nil {
		t.Fatalf("%s public key: %v", spec, err)
	}
	return ok
}

// TestMLDSAExternalMu: through the AWS SDK, ML_DSA_SHAKE_256 Sign and Verify
// accept MessageType EXTERNAL_MU with the 64-byte μ a client computes from
// GetPublicKey's key. A signature of μ(M) verifies as RAW over M (on the
// server and offline with circl) and a RAW signature of M verifies as
// EXTERNAL_MU over μ(M); a wrong μ is KMSInvalidSignatureException and a
// 63-byte one ValidationException.
func TestMLDSAExternalMu(t *testing.T) {
	_, c := start(t)
	msg := []byte("signed through its external mu")
	const alg = types.SigningAlgorithmSpecMlDsaShake256
	for _, spec := range []types.KeySpec{types.KeySpecMlDsa44, types.KeySpecMlDsa65, types.KeySpecMlDsa87} {
		t.Run(string(spec), func(t *testing.T) {
			md := createAsymmetric(t, c, spec, types.KeyUsageTypeSignVerify)
			pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			pk := mldsaRawPublicKey(t, pub.PublicKey)
			mu := externalMu(pk, msg)

			// EXTERNAL_MU signature → RAW verification.
			muSig, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: mu, MessageType: types.MessageTypeExternalMu, SigningAlgorithm: alg})
			if err != nil {
				t.Fatalf("Sign EXTERNAL_MU: %v", err)
			}
			if aws.ToString(muSig.KeyId) != *md.Arn || muSig.SigningAlgorithm != alg {
				t.Errorf("Sign output: %+v", muSig)
			}
			v, err := c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: msg, MessageType: types.MessageTypeRaw, Signature: muSig.Signature, SigningAlgorithm: alg})
			if err != nil || !v.SignatureValid {
				t.Errorf("Verify RAW of an EXTERNAL_MU signature: %v", err)
			}
			if !circlVerifyMLDSA(t, spec, pk, msg, muSig.Signature) {
				t.Error("circl does not verify the EXTERNAL_MU signature over the message")
			}

			// RAW signature → EXTERNAL_MU verification.
			rawSig, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: alg})
			if err != nil {
				t.Fatalf("Sign RAW: %v", err)
			}
			v, err = c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: mu, MessageType: types.MessageTypeExternalMu, Signature: rawSig.Signature, SigningAlgorithm: alg})
			if err != nil || !v.SignatureValid {
				t.Errorf("Verify EXTERNAL_MU of a RAW signature: %v", err)
			}

			// A wrong μ does not verify.
			wrong := bytes.Clone(mu)
			wrong[0] ^= 1
			_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: wrong, MessageType: types.MessageTypeExternalMu, Signature: muSig.Signature, SigningAlgorithm: alg})
			wantAPIError(t, err, "KMSInvalidSignatureException", "")

			// μ must be 64 bytes.
			lengthErr := "Digest is invalid length for algorithm ML_DSA_SHAKE_256."
			_, err = c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: mu[:63], MessageType: types.MessageTypeExternalMu, SigningAlgorithm: alg})
			wantAPIError(t, err, "ValidationException", lengthErr)
			_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: mu[:63], MessageType: types.MessageTypeExternalMu, Signature: muSig.Signature, SigningAlgorithm: alg})
			wantAPIError(t, err, "ValidationException", lengthErr)
		})
	}
}

func TestSignDigestAndLimits(t *testing.T) {
	_, c := start(t)
	md := createAsymmetric(t, c, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	msg := []byte("digest me")
	d := sha256.Sum256(msg)
	raw, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	if err != nil {
		t.Fatal(err)
	}
	// A RAW signature verifies as a DIGEST of the same message.
	if _, err := c.Verify(ctx, &kms.VerifyInput{KeyId: md.KeyId, Message: d[:], MessageType: types.MessageTypeDigest, Signature: raw.Signature, SigningAlgorithm: "ECDSA_SHA_256"}); err != nil {
		t.Errorf("RAW signature as DIGEST: %v", err)
	}
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: d[:31], MessageType: types.MessageTypeDigest, SigningAlgorithm: "ECDSA_SHA_256"})
	wantAPIError(t, err, "ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.")
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: make([]byte, 4097), SigningAlgorithm: "ECDSA_SHA_256"})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_257"})
	wantAPIError(t, err, "ValidationException", "")
	c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: md.KeyId})
	_, err = c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: "ECDSA_SHA_256"})
	wantAPIError(t, err, "DisabledException", "")
}

func TestCreateKeySpecUsageRules(t *testing.T) {
	_, c := start(t)
	refused := []struct {
		spec  types.KeySpec
		usage types.KeyUsageType
	}{
		{types.KeySpecEccSecgP256k1, types.KeyUsageTypeKeyAgreement},
		{types.KeySpecEccNistEdwards25519, types.KeyUsageTypeEncryptDecrypt},
		{types.KeySpecRsa2048, types.KeyUsageTypeKeyAgreement},
		{types.KeySpecHmac256, types.KeyUsageTypeSignVerify},
		{types.KeySpecMlDsa44, types.KeyUsageTypeEncryptDecrypt},
		{types.KeySpecEccNistP256, types.KeyUsageTypeEncryptDecrypt},
		{types.KeySpecHmac256, ""},
	}
	for _, r := range refused {
		_, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: r.spec, KeyUsage: r.usage})
		wantAPIError(t, err, "ValidationException", "")
	}
}

func TestSignaturesVerifyWithOpenSSL(t *testing.T) {
	requireTool(t, "openssl")
	_, c := start(t)
	msg := []byte("verified outside OpenKMS")
	msgFile := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msgFile, msg, 0o600)
	cases := []struct {
		spec types.KeySpec
		alg  types.SigningAlgorithmSpec
		args []string // openssl verification options
	}{
		{types.KeySpecRsa2048, "RSASSA_PSS_SHA_256", []string{"-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"}},
		{types.KeySpecRsa3072, "RSASSA_PKCS1_V1_5_SHA_384", []string{"-sha384"}},
		{types.KeySpecEccNistP256, "ECDSA_SHA_256", []string{"-sha256"}},
		{types.KeySpecEccNistP384, "ECDSA_SHA_384", []string{"-sha384"}},
		{types.KeySpecEccNistP521, "ECDSA_SHA_512", []string{"-sha512"}},
		{types.KeySpecEccSecgP256k1, "ECDSA_SHA_256", []string{"-sha256"}},
	}
	for _, tc := range cases {
		md := createAsymmetric(t, c, tc.spec, types.KeyUsageTypeSignVerify)
		pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
		if err != nil {
			t.Fatal(err)
		}
		if pub.KeySpec != tc.spec || pub.KeyUsage != types.KeyUsageTypeSignVerify || !slices.Contains(pub.SigningAlgorithms, tc.alg) {
			t.Errorf("GetPublicKey %s: got %+v", tc.spec, pub)
		}
		sig, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		sigFile := filepath.Join(t.TempDir(), "sig")
		os.WriteFile(sigFile, sig.Signature, 0o600)
		args := append([]string{"dgst"}, tc.args...)
		args = append(args, "-verify", writePEMPublicKey(t, pub.PublicKey), "-signature", sigFile, msgFile)
		if out := openssl(t, args...); !bytes.Contains(out, []byte("Verified OK")) {
			t.Errorf("%s %s: openssl says %s", tc.spec, tc.alg, out)
		}
	}
	// Ed25519: openssl verifies the raw message with pkeyutl -rawin.
	md := createAsymmetric(t, c, types.KeySpecEccNistEdwards25519, types.KeyUsageTypeSignVerify)
	pub, _ := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
	sig, err := c.Sign(ctx, &kms.SignInput{KeyId: md.KeyId, Message: msg, SigningAlgorithm: "ED25519_SHA_512"})
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(t.TempDir(), "sig")
	os.WriteFile(sigFile, sig.Signature, 0o600)
	if out := openssl(t, "pkeyutl", "-verify", "-pubin", "-inkey", writePEMPublicKey(t, pub.PublicKey), "-rawin", "-in", msgFile, "-sigfile", sigFile); !bytes.Contains(out, []byte("Signature Verified Successfully")) {
		t.Errorf("Ed25519: openssl says %s", out)
	}
}

func TestRSAEncryptionWithOpenSSL(t *testing.T) {
	requireTool(t, "openssl")
	_, c := start(t)
	for _, spec := range []types.KeySpec{types.KeySpecRsa2048, types.KeySpecRsa4096} {
		md := createAsymmetric(t, c, spec, types.KeyUsageTypeEncryptDecrypt)
		if !slices.Equal(md.EncryptionAlgorithms, []types.EncryptionAlgorithmSpec{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}) {
			t.Errorf("%s EncryptionAlgorithms: got %v", spec, md.EncryptionAlgorithms)
		}
		pub, _ := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
		dir := t.TempDir()
		pt := []byte("encrypted by openssl, decrypted by OpenKMS")
		os.WriteFile(filepath.Join(dir, "pt"), pt, 0o600)
		openssl(t, "pkeyutl", "-encrypt", "-pubin", "-inkey", writePEMPublicKey(t, pub.PublicKey), "-in", filepath.Join(dir, "pt"), "-out", filepath.Join(dir, "ct"),
			"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256")
		ct, _ := os.ReadFile(filepath.Join(dir, "ct"))
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: md.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
		if err != nil || !bytes.Equal(dec.Plaintext, pt) || dec.EncryptionAlgorithm != "RSAES_OAEP_SHA_256" {
			t.Fatalf("%s Decrypt of an openssl ciphertext: %v", spec, err)
		}
		// Our own Encrypt round-trips; the wrong algorithm fails; the size limit holds.
		enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: pt, EncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: md.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_1"}); err != nil {
			t.Errorf("%s round trip: %v", spec, err)
		}
		_, err = c.Decrypt(ctx, &kms.DecryptInput{KeyId: md.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256"})
		wantAPIError(t, err, "InvalidCiphertextException", "")
		_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: pt})
		wantAPIError(t, err, "InvalidKeyUsageException", "")
		if spec == types.KeySpecRsa2048 {
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: make([]byte, 215), EncryptionAlgorithm: "RSAES_OAEP_SHA_1"})
			wantAPIError(t, err, "ValidationException", "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes.")
		}
	}
}

func TestMacs(t *testing.T) {
	_, c := start(t)
	for _, n := range []int{224, 256, 384, 512} {
		spec, alg := types.KeySpec(fmt.Sprintf("HMAC_%d", n)), types.MacAlgorithmSpec(fmt.Sprintf("HMAC_SHA_%d", n))
		md := createAsymmetric(t, c, spec, types.KeyUsageTypeGenerateVerifyMac)
		if !slices.Equal(md.MacAlgorithms, []types.MacAlgorithmSpec{alg}) {
			t.Errorf("%s MacAlgorithms: got %v", spec, md.MacAlgorithms)
		}
		mac, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: alg})
		if err != nil || len(mac.Mac) != n/8 {
			t.Fatalf("%s GenerateMac: %v", spec, err)
		}
		v, err := c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: alg, Mac: mac.Mac})
		if err != nil || !v.MacValid {
			t.Errorf("%s VerifyMac: %v", spec, err)
		}
		_, err = c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: md.KeyId, Message: []byte("n"), MacAlgorithm: alg, Mac: mac.Mac})
		wantAPIError(t, err, "KMSInvalidMacException", "")
		wrong := types.MacAlgorithmSpecHmacSha256
		if alg == wrong {
			wrong = types.MacAlgorithmSpecHmacSha512
		}
		_, err = c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: md.KeyId, Message: []byte("m"), MacAlgorithm: wrong})
		wantAPIError(t, err, "InvalidKeyUsageException", fmt.Sprintf("Algorithm %s is incompatible with key spec %s.", wrong, spec))
		_, err = c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
		wantAPIError(t, err, "UnsupportedOperationException", "")
	}
}

func TestDeriveSharedSecretMatchesPeer(t *testing.T) {
	_, c := start(t)
	md := createAsymmetric(t, c, types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)
	if !slices.Equal(md.KeyAgreementAlgorithms, []types.KeyAgreementAlgorithmSpec{"ECDH"}) {
		t.Errorf("KeyAgreementAlgorithms: got %v", md.KeyAgreementAlgorithms)
	}
	peer, _ := ecdh.P256().GenerateKey(rand.Reader)
	peerDER, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
	out, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: md.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: peerDER})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: md.KeyId})
	parsed, err := x509.ParsePKIXPublicKey(pub.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := parsedECDH(parsed)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := peer.ECDH(ours)
	if !bytes.Equal(out.SharedSecret, want) {
		t.Errorf("shared secret differs from the peer's computation")
	}
	other, _ := ecdh.P384().GenerateKey(rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(other.PublicKey())
	_, err = c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: md.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: otherDER})
	wantAPIError(t, err, "ValidationException", "")
	signing := createAsymmetric(t, c, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	_, err = c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: signing.KeyId, KeyAgreementAlgorithm: "ECDH", PublicKey: peerDER})
	wantAPIError(t, err, "InvalidKeyUsageException", "")
}

func parsedECDH(k any) (*ecdh.PublicKey, error) {
	type ecdhKey interface {
		ECDH() (*ecdh.PublicKey, error)
	}
	if e, ok := k.(ecdhKey); ok {
		return e.ECDH()
	}
	return nil, fmt.Errorf("%T is not an EC key", k)
}

func TestGenerateDataKeyPair(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	ec := map[string]string{"pair": "yes"}
	for _, spec := range []types.DataKeyPairSpec{"RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_SECG_P256K1"} {
		out, err := c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: id, KeyPairSpec: spec, EncryptionContext: ec})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if spec != "ECC_SECG_P256K1" {
			if _, err := x509.ParsePKCS8PrivateKey(out.PrivateKeyPlaintext); err != nil {
				t.Errorf("%s private key is not PKCS#8: %v", spec, err)
			}
			if _, err := x509.ParsePKIXPublicKey(out.PublicKey); err != nil {
				t.Errorf("%s public key is not SPKI: %v", spec, err)
			}
		}
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
		if err != nil || !bytes.Equal(dec.Plaintext, out.PrivateKeyPlaintext) {
			t.Errorf("%s encrypted private key does not decrypt to the plaintext one: %v", spec, err)
		}
	}
	wp, err := c.GenerateDataKeyPairWithoutPlaintext(ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: id, KeyPairSpec: "ECC_NIST_P256"})
	if err != nil || len(wp.PublicKey) == 0 || len(wp.PrivateKeyCiphertextBlob) == 0 {
		t.Fatalf("WithoutPlaintext: %v", err)
	}
	rsaKey := createAsymmetric(t, c, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	_, err = c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: rsaKey.KeyId, KeyPairSpec: "ECC_NIST_P256"})
	wantAPIError(t, err, "InvalidKeyUsageException", "")
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: rsaKey.KeyId, KeySpec: types.DataKeySpecAes256})
	wantAPIError(t, err, "InvalidKeyUsageException", "")
}
