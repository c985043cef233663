package keymaterial

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

type enum interface {
	~int
	fmt.Stringer
}

func checkEnum[E enum](t *testing.T, what string, all []E, parse func(string) (E, error)) {
	t.Helper()
	var zero E
	if zero.String() != "Unknown" {
		t.Errorf("%s zero value String() = %q, want Unknown", what, zero.String())
	}
	if _, err := parse("Unknown"); err == nil {
		t.Errorf("Parse%s(%q) succeeded, want error", what, "Unknown")
	}
	if _, err := parse("SYMMETRIC_DEFAULT"); err == nil || !errors.Is(err, ErrUnknownName) || KindOf(err) != KindValidation {
		t.Errorf("Parse%s(SYMMETRIC_DEFAULT) = %v, want ErrUnknownName/KindValidation", what, err)
	}
	seen := map[string]bool{}
	for _, v := range all {
		if v == zero {
			t.Errorf("%s list contains the zero value", what)
		}
		s := v.String()
		if seen[s] {
			t.Errorf("%s name %q is duplicated", what, s)
		}
		seen[s] = true
		got, err := parse(s)
		if err != nil || got != v {
			t.Errorf("Parse%s(%q) = %v, %v; want %v", what, s, got, err, v)
		}
	}
	if E(len(all)+1).String() != "Unknown" || E(-1).String() != "Unknown" {
		t.Errorf("%s out-of-range values must print Unknown", what)
	}
}

func TestEnums(t *testing.T) {
	checkEnum(t, "KeySpec", KeySpecs(), ParseKeySpec)
	checkEnum(t, "KeyUsage", KeyUsages(), ParseKeyUsage)
	checkEnum(t, "SigningAlgorithm", SigningAlgorithms(), ParseSigningAlgorithm)
	checkEnum(t, "MessageType", MessageTypes(), ParseMessageType)
	checkEnum(t, "EncryptionAlgorithm", EncryptionAlgorithms(), ParseEncryptionAlgorithm)
	checkEnum(t, "MacAlgorithm", MacAlgorithms(), ParseMacAlgorithm)
	checkEnum(t, "KeyAgreementAlgorithm", KeyAgreementAlgorithms(), ParseKeyAgreementAlgorithm)
	checkEnum(t, "DataKeyPairSpec", DataKeyPairSpecs(), ParseDataKeyPairSpec)
}

// The AWS names, copied from the AWS SDK for Go v2 service/kms/types enums
// (v1.62.6), minus SYMMETRIC_DEFAULT and the ML_KEM specs this package does
// not implement.
func TestEnumNamesMatchAWS(t *testing.T) {
	names := func(vs []fmt.Stringer) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.String())
		}
		slices.Sort(out)
		return out
	}
	toS := func(n int, f func(int) fmt.Stringer) []fmt.Stringer {
		var out []fmt.Stringer
		for i := 1; i <= n; i++ {
			out = append(out, f(i))
		}
		return out
	}
	cases := []struct {
		got  []string
		want []string
	}{
		{names(toS(len(KeySpecs()), func(i int) fmt.Stringer { return KeySpec(i) })), []string{
			"ECC_NIST_EDWARDS25519", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
			"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87",
			"RSA_2048", "RSA_3072", "RSA_4096", "SM2"}},
		{names(toS(len(SigningAlgorithms()), func(i int) fmt.Stringer { return SigningAlgorithm(i) })), []string{
			"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "ED25519_PH_SHA_512", "ED25519_SHA_512",
			"ML_DSA_SHAKE_256", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
			"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "SM2DSA"}},
		{names(toS(4, func(i int) fmt.Stringer { return KeyUsage(i) })), []string{
			"ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "SIGN_VERIFY"}},
		{names(toS(3, func(i int) fmt.Stringer { return MessageType(i) })), []string{"DIGEST", "EXTERNAL_MU", "RAW"}},
		{names(toS(3, func(i int) fmt.Stringer { return EncryptionAlgorithm(i) })), []string{
			"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}},
		{names(toS(4, func(i int) fmt.Stringer { return MacAlgorithm(i) })), []string{
			"HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"}},
		{names(toS(len(DataKeyPairSpecs()), func(i int) fmt.Stringer { return DataKeyPairSpec(i) })), []string{
			"ECC_NIST_EDWARDS25519", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
			"RSA_2048", "RSA_3072", "RSA_4096", "SM2"}},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("names = %v, want %v", c.got, c.want)
		}
	}
}

// describeKey is what DescribeKey reports per (key spec, key usage), from the
// AWS key spec reference and DescribeKey examples (order as AWS returns it).
var describeKey = map[KeySpec]map[KeyUsage][]string{
	RSA2048: {
		EncryptDecrypt: {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"},
		SignVerify: {"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
			"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"},
	},
	ECCNISTP256:         {SignVerify: {"ECDSA_SHA_256"}, KeyAgreement: {"ECDH"}},
	ECCNISTP384:         {SignVerify: {"ECDSA_SHA_384"}, KeyAgreement: {"ECDH"}},
	ECCNISTP521:         {SignVerify: {"ECDSA_SHA_512"}, KeyAgreement: {"ECDH"}},
	ECCSECGP256K1:       {SignVerify: {"ECDSA_SHA_256"}},
	ECCNISTEdwards25519: {SignVerify: {"ED25519_SHA_512", "ED25519_PH_SHA_512"}},
	MLDSA44:             {SignVerify: {"ML_DSA_SHAKE_256"}},
	MLDSA65:             {SignVerify: {"ML_DSA_SHAKE_256"}},
	MLDSA87:             {SignVerify: {"ML_DSA_SHAKE_256"}},
	HMAC224:             {GenerateVerifyMAC: {"HMAC_SHA_224"}},
	HMAC256:             {GenerateVerifyMAC: {"HMAC_SHA_256"}},
	HMAC384:             {GenerateVerifyMAC: {"HMAC_SHA_384"}},
	HMAC512:             {GenerateVerifyMAC: {"HMAC_SHA_512"}},
	SM2:                 {EncryptDecrypt: {"SM2PKE"}, SignVerify: {"SM2DSA"}, KeyAgreement: {"ECDH"}},
}

func init() {
	describeKey[RSA3072] = describeKey[RSA2048]
	describeKey[RSA4096] = describeKey[RSA2048]
}

func algorithmNames(a Algorithms) []string {
	var out []string
	for _, x := range a.Encryption {
		out = append(out, x.String())
	}
	for _, x := range a.Signing {
		out = append(out, x.String())
	}
	for _, x := range a.Mac {
		out = append(out, x.String())
	}
	for _, x := range a.KeyAgreement {
		out = append(out, x.String())
	}
	return out
}

func TestUsageAndAlgorithmTable(t *testing.T) {
	for _, spec := range KeySpecs() {
		want := describeKey[spec]
		if want == nil {
			t.Fatalf("no expectation for %s", spec)
		}
		for _, u := range KeyUsages() {
			got := algorithmNames(AlgorithmsFor(spec, u))
			if spec.Allows(u) != (want[u] != nil) {
				t.Errorf("%s.Allows(%s) = %v, want %v", spec, u, spec.Allows(u), want[u] != nil)
			}
			if !slices.Equal(got, want[u]) {
				t.Errorf("AlgorithmsFor(%s, %s) = %v, want %v", spec, u, got, want[u])
			}
		}
		var usages []KeyUsage
		for _, u := range KeyUsages() {
			if want[u] != nil {
				usages = append(usages, u)
			}
		}
		if got := spec.KeyUsages(); !slices.Equal(got, usages) {
			t.Errorf("%s.KeyUsages() = %v, want %v", spec, got, usages)
		}
	}
	if got := AlgorithmsFor(KeySpecUnknown, SignVerify); !reflect.DeepEqual(got, Algorithms{}) {
		t.Errorf("AlgorithmsFor(Unknown) = %v, want empty", got)
	}
	// Returned slices are copies.
	a := AlgorithmsFor(RSA2048, SignVerify)
	a.Signing[0] = SM2DSA
	if AlgorithmsFor(RSA2048, SignVerify).Signing[0] != RSASSAPKCS1V15SHA256 {
		t.Error("AlgorithmsFor returned the table's own slice")
	}
}

func TestFIPSMarking(t *testing.T) {
	nonFIPS := map[KeySpec]bool{ECCSECGP256K1: true, SM2: true}
	for _, spec := range KeySpecs() {
		if spec.FIPS() == nonFIPS[spec] {
			t.Errorf("%s.FIPS() = %v, want %v", spec, spec.FIPS(), !nonFIPS[spec])
		}
	}
	if SM2DSA.FIPS() || SM2PKE.FIPS() || !ECDSASHA256.FIPS() || !ECDH.FIPS() || !HMACSHA224.FIPS() {
		t.Error("algorithm FIPS markers are wrong")
	}
	if SigningAlgorithmUnknown.FIPS() || EncryptionAlgorithmUnknown.FIPS() {
		t.Error("Unknown algorithms must not be FIPS-approved")
	}
	cases := []struct {
		got, want bool
		name      string
	}{
		{ApprovedSigning(ECCNISTP256, ECDSASHA256), true, "P256/ECDSA_SHA_256"},
		{ApprovedSigning(ECCSECGP256K1, ECDSASHA256), false, "P256K1/ECDSA_SHA_256"},
		{ApprovedSigning(SM2, SM2DSA), false, "SM2/SM2DSA"},
		{ApprovedSigning(ECCNISTP256, ECDSASHA384), false, "P256/ECDSA_SHA_384 (unsupported)"},
		{ApprovedSigning(MLDSA65, MLDSASHAKE256), true, "ML_DSA_65"},
		{ApprovedEncryption(RSA2048, RSAESOAEPSHA1), true, "RSA/OAEP_SHA_1"},
		{ApprovedEncryption(SM2, SM2PKE), false, "SM2PKE"},
		{ApprovedKeyAgreement(ECCNISTP384, ECDH), true, "P384/ECDH"},
		{ApprovedKeyAgreement(SM2, ECDH), false, "SM2/ECDH"},
		{ApprovedMac(HMAC384, HMACSHA384), true, "HMAC_384"},
		{PairSM2.FIPS(), false, "data key pair SM2"},
		{PairECCNISTP521.FIPS(), true, "data key pair P521"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s approved = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	// AWS Encrypt reference: maximum plaintext per key spec and algorithm.
	want := []struct {
		spec KeySpec
		alg  EncryptionAlgorithm
		max  int
	}{
		{RSA2048, RSAESOAEPSHA1, 214}, {RSA2048, RSAESOAEPSHA256, 190},
		{RSA3072, RSAESOAEPSHA1, 342}, {RSA3072, RSAESOAEPSHA256, 318},
		{RSA4096, RSAESOAEPSHA1, 470}, {RSA4096, RSAESOAEPSHA256, 446},
		{SM2, SM2PKE, 1024},
	}
	for _, w := range want {
		if got, ok := MaxPlaintextSize(w.spec, w.alg); !ok || got != w.max {
			t.Errorf("MaxPlaintextSize(%s, %s) = %d, %v; want %d", w.spec, w.alg, got, ok, w.max)
		}
	}
	if _, ok := MaxPlaintextSize(SM2, RSAESOAEPSHA1); ok {
		t.Error("MaxPlaintextSize(SM2, RSAES_OAEP_SHA_1) should not be ok")
	}
	digest := map[SigningAlgorithm]int{
		RSASSAPSSSHA256: 32, RSASSAPSSSHA384: 48, RSASSAPSSSHA512: 64,
		RSASSAPKCS1V15SHA256: 32, RSASSAPKCS1V15SHA384: 48, RSASSAPKCS1V15SHA512: 64,
		ECDSASHA256: 32, ECDSASHA384: 48, ECDSASHA512: 64, ED25519PHSHA512: 64, SM2DSA: 32,
	}
	for _, alg := range SigningAlgorithms() {
		n, ok := MessageLength(alg, Digest)
		if w, has := digest[alg]; ok != has || n != w {
			t.Errorf("MessageLength(%s, DIGEST) = %d, %v; want %d, %v", alg, n, ok, w, has)
		}
		// EXTERNAL_MU: FIPS 204's 64-byte μ, for ML_DSA_SHAKE_256 only.
		n, ok = MessageLength(alg, ExternalMu)
		if want := alg == MLDSASHAKE256; ok != want || (ok && n != 64) || (!ok && n != 0) {
			t.Errorf("MessageLength(%s, EXTERNAL_MU) = %d, %v; want 64 for ML_DSA_SHAKE_256 only", alg, n, ok)
		}
		if _, ok := MessageLength(alg, Raw); ok {
			t.Errorf("MessageLength(%s, RAW) should not be ok", alg)
		}
	}
}
