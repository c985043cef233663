package keymaterial

// Interoperability with the openssl command line: what this package signs,
// encrypts and derives must be what an AWS KMS user gets with OpenSSL and the
// public key GetPublicKey returns, and the other way round. Skipped when
// openssl is not installed, unless OPENKMS_REQUIRE_ALL=1.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type openssl struct {
	t   *testing.T
	bin string
	dir string
}

func newOpenSSL(t *testing.T) *openssl {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("OPENKMS_REQUIRE_ALL") == "1" {
			t.Fatalf("openssl not found and OPENKMS_REQUIRE_ALL=1: %v", err)
		}
		t.Skip("openssl not found")
	}
	return &openssl{t: t, bin: bin, dir: t.TempDir()}
}

// file writes data to a fresh file in the temporary directory.
func (o *openssl) file(name string, data []byte) string {
	o.t.Helper()
	p := filepath.Join(o.dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return p
}

func (o *openssl) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

// run runs openssl and returns its combined output and error.
func (o *openssl) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Dir = o.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (o *openssl) must(args ...string) string {
	o.t.Helper()
	out, err := o.run(args...)
	if err != nil {
		o.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// genkey generates a key with openssl genpkey into name.pem and returns it
// as PKCS#8 DER (name.p8); false if this openssl cannot (e.g. unknown curve).
func (o *openssl) genkey(name string, args ...string) ([]byte, bool) {
	o.t.Helper()
	pem := filepath.Join(o.dir, name+".pem")
	if out, err := o.run(append([]string{"genpkey", "-out", pem}, args...)...); err != nil {
		o.t.Logf("openssl cannot generate %v: %s", args, out)
		return nil, false
	}
	o.must("pkcs8", "-topk8", "-nocrypt", "-in", pem, "-outform", "DER", "-out", name+".p8")
	return o.read(name + ".p8"), true
}

func TestOpenSSLVerifiesOurSignatures(t *testing.T) {
	o := newOpenSSL(t)
	msg := []byte("OpenKMS interop message")
	msgFile := o.file("msg", msg)
	cases := []struct {
		spec KeySpec
		alg  SigningAlgorithm
		args []string // verification command; %s = public key, signature
	}{
		{RSA2048, RSASSAPSSSHA256, []string{"dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"}},
		{RSA2048, RSASSAPSSSHA384, []string{"dgst", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"}},
		{RSA3072, RSASSAPSSSHA512, []string{"dgst", "-sha512", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"}},
		{RSA2048, RSASSAPKCS1V15SHA256, []string{"dgst", "-sha256"}},
		{RSA3072, RSASSAPKCS1V15SHA384, []string{"dgst", "-sha384"}},
		{RSA4096, RSASSAPKCS1V15SHA512, []string{"dgst", "-sha512"}},
		{ECCNISTP256, ECDSASHA256, []string{"dgst", "-sha256"}},
		{ECCNISTP384, ECDSASHA384, []string{"dgst", "-sha384"}},
		{ECCNISTP521, ECDSASHA512, []string{"dgst", "-sha512"}},
		{ECCSECGP256K1, ECDSASHA256, []string{"dgst", "-sha256"}},
		{ECCNISTEdwards25519, ED25519SHA512, []string{"pkeyutl", "-verify", "-rawin"}},
		{SM2, SM2DSA, []string{"pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:" + SM2DefaultID}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.spec, c.alg), func(t *testing.T) {
			k := testKey(t, c.spec)
			der, _ := k.PublicKeyDER()
			pub := o.file(c.spec.String()+".pub.der", der)
			// Sign the RAW message, and (where there is one) its digest.
			sigs := map[string][]byte{}
			sig, err := k.Sign(c.alg, Raw, msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			sigs["RAW"] = sig
			if pre, mt, ok := equivalentDigest(t, k, c.alg, msg); ok {
				if sig, err = k.Sign(c.alg, mt, pre, nil); err != nil {
					t.Fatal(err)
				}
				sigs[mt.String()] = sig
			}
			for name, sig := range sigs {
				sigFile := o.file("sig", sig)
				args := append([]string{}, c.args...)
				if c.args[0] == "dgst" {
					args = append(args, "-keyform", "DER", "-verify", pub, "-signature", sigFile, msgFile)
				} else {
					args = append(args, "-pubin", "-keyform", "DER", "-inkey", pub, "-sigfile", sigFile, "-in", msgFile)
				}
				out, err := o.run(args...)
				if err != nil || !strings.Contains(out, "Verified") {
					t.Errorf("%s signature: openssl %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
				// And a wrong signature fails in OpenSSL too.
				o.file("sig", xorLast(sig))
				if out, err := o.run(args...); err == nil {
					t.Errorf("openssl accepted a modified %s signature:\n%s", name, out)
				}
			}
		})
	}
}

func TestOpenSSLSignaturesVerifyHere(t *testing.T) {
	o := newOpenSSL(t)
	msg := []byte("signed by OpenSSL")
	msgFile := o.file("msg", msg)
	cases := []struct {
		spec    KeySpec
		alg     SigningAlgorithm
		genArgs []string
		sign    []string
	}{
		{RSA2048, RSASSAPSSSHA256, []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
			[]string{"dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"}},
		{RSA2048, RSASSAPKCS1V15SHA256, []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, []string{"dgst", "-sha256"}},
		{ECCNISTP256, ECDSASHA256, []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, []string{"dgst", "-sha256"}},
		{ECCNISTP384, ECDSASHA384, []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"}, []string{"dgst", "-sha384"}},
		{ECCNISTP521, ECDSASHA512, []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"}, []string{"dgst", "-sha512"}},
		{ECCSECGP256K1, ECDSASHA256, []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"}, []string{"dgst", "-sha256"}},
		{ECCNISTEdwards25519, ED25519SHA512, []string{"-algorithm", "ED25519"}, []string{"pkeyutl", "-sign", "-rawin"}},
		{SM2, SM2DSA, []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2"},
			[]string{"pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", "distid:" + SM2DefaultID}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.spec, c.alg), func(t *testing.T) {
			p8, ok := o.genkey("k", c.genArgs...)
			if !ok {
				t.Skip("curve not supported by this openssl")
			}
			// OpenSSL's PKCS#8 is importable; our public key is OpenSSL's.
			k, err := ParsePrivate(c.spec, p8)
			if err != nil {
				t.Fatalf("ParsePrivate(OpenSSL PKCS#8): %v", err)
			}
			o.must("pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "k.pub.der")
			if der, _ := k.PublicKeyDER(); !bytes.Equal(der, o.read("k.pub.der")) {
				t.Errorf("PublicKeyDER differs from OpenSSL's:\n ours %x\n theirs %x", der, o.read("k.pub.der"))
			}
			// Our MarshalPrivate is readable by OpenSSL and is the same key.
			ours, _ := k.MarshalPrivate()
			o.file("ours.p8", ours)
			o.must("pkey", "-inform", "DER", "-in", "ours.p8", "-pubout", "-outform", "DER", "-out", "ours.pub.der")
			if !bytes.Equal(o.read("ours.pub.der"), o.read("k.pub.der")) {
				t.Error("OpenSSL reads a different key from MarshalPrivate's output")
			}
			args := append([]string{}, c.sign...)
			if c.sign[0] == "dgst" {
				args = append(args, "-sign", "k.pem", "-out", "sig", msgFile)
			} else {
				args = append(args, "-inkey", "k.pem", "-out", "sig", "-in", msgFile)
			}
			o.must(args...)
			sig := o.read("sig")
			if ok, err := k.Verify(c.alg, Raw, msg, sig); !ok || err != nil {
				t.Errorf("Verify(OpenSSL signature) = %v, %v", ok, err)
			}
			if pre, mt, ok := equivalentDigest(t, k, c.alg, msg); ok {
				if ok, err := k.Verify(c.alg, mt, pre, sig); !ok || err != nil {
					t.Errorf("Verify(%s, OpenSSL signature) = %v, %v", mt, ok, err)
				}
			}
		})
	}
}

func TestOpenSSLEncryption(t *testing.T) {
	o := newOpenSSL(t)
	pt := []byte("secret for the KMS key")
	ptFile := o.file("pt", pt)
	cases := []struct {
		spec KeySpec
		alg  EncryptionAlgorithm
		opts []string
	}{
		{RSA2048, RSAESOAEPSHA256, []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"}},
		{RSA3072, RSAESOAEPSHA1, []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1", "-pkeyopt", "rsa_mgf1_md:sha1"}},
		{RSA4096, RSAESOAEPSHA256, []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"}},
		{SM2, SM2PKE, nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.spec, c.alg), func(t *testing.T) {
			k := testKey(t, c.spec)
			der, _ := k.PublicKeyDER()
			pub := o.file("pub.der", der)
			// OpenSSL encrypts with the downloaded public key; we decrypt.
			args := append([]string{"pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", pub, "-in", ptFile, "-out", "ct"}, c.opts...)
			o.must(args...)
			got, err := k.Decrypt(c.alg, o.read("ct"))
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("Decrypt(OpenSSL ciphertext) = %q, %v", got, err)
			}
			// We encrypt; OpenSSL decrypts with the private key.
			ct, err := k.Encrypt(c.alg, pt, nil)
			if err != nil {
				t.Fatal(err)
			}
			o.file("ct", ct)
			priv, _ := k.MarshalPrivate()
			o.file("priv.p8", priv)
			args = append([]string{"pkeyutl", "-decrypt", "-keyform", "DER", "-inkey", "priv.p8", "-in", "ct", "-out", "pt2"}, c.opts...)
			o.must(args...)
			if got := o.read("pt2"); !bytes.Equal(got, pt) {
				t.Errorf("OpenSSL decrypted %q, want %q", got, pt)
			}
		})
	}
}

func TestOpenSSLDerive(t *testing.T) {
	o := newOpenSSL(t)
	for spec, curve := range map[KeySpec]string{ECCNISTP256: "P-256", ECCNISTP384: "P-384", ECCNISTP521: "P-521"} {
		t.Run(spec.String(), func(t *testing.T) {
			k := testKey(t, spec)
			der, _ := k.PublicKeyDER()
			o.file("kms.pub.der", der)
			if _, ok := o.genkey("peer", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:"+curve); !ok {
				t.Fatal("openssl cannot generate the peer key")
			}
			o.must("pkey", "-in", "peer.pem", "-pubout", "-outform", "DER", "-out", "peer.pub.der")
			o.must("pkeyutl", "-derive", "-inkey", "peer.pem", "-peerkey", "kms.pub.der", "-peerform", "DER", "-out", "secret")
			got, err := k.DeriveSharedSecret(ECDH, o.read("peer.pub.der"))
			if err != nil {
				t.Fatal(err)
			}
			if want := o.read("secret"); !bytes.Equal(got, want) {
				t.Errorf("shared secret = %x, OpenSSL derived %x", got, want)
			}
		})
	}
	// A peer key on another curve is refused by both.
	k := testKey(t, ECCNISTP256)
	o.genkey("p384", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
	o.must("pkey", "-in", "p384.pem", "-pubout", "-outform", "DER", "-out", "p384.pub.der")
	if _, err := k.DeriveSharedSecret(ECDH, o.read("p384.pub.der")); KindOf(err) != KindValidation {
		t.Errorf("P-384 peer for a P-256 key: %v", err)
	}
}

// TestOpenSSLReadsDataKeyPairs checks that GenerateDataKeyPair's PKCS#8 and
// SPKI are what OpenSSL reads, for every data key pair spec.
func TestOpenSSLReadsDataKeyPairs(t *testing.T) {
	o := newOpenSSL(t)
	for _, spec := range DataKeyPairSpecs() {
		if spec == PairRSA4096 || spec == PairRSA3072 {
			continue // RSA is covered by RSA_2048; generation is slow
		}
		priv, pub, err := GenerateDataKeyPair(spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		o.file("dk.p8", priv)
		if out, err := o.run("pkey", "-inform", "DER", "-in", "dk.p8", "-pubout", "-outform", "DER", "-out", "dk.pub.der"); err != nil {
			t.Errorf("%s: OpenSSL cannot read the private key: %v\n%s", spec, err, out)
			continue
		}
		if !bytes.Equal(o.read("dk.pub.der"), pub) {
			t.Errorf("%s: OpenSSL derives a different public key", spec)
		}
	}
}
