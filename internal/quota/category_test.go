package quota

import (
	"strings"
	"testing"
)

// TestDefaults pins the defaults to the AWS table "Request quotas for each
// AWS KMS API operation",
// https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
// (us-east-1 where the quota varies by Region).
func TestDefaults(t *testing.T) {
	want := map[string]float64{
		"symmetric": 100_000, "rsa": 1000, "ecc": 1000, "mldsa": 1000, "management": 5,
		"CancelKeyDeletion": 5, "ConnectCustomKeyStore": 5, "CreateCustomKeyStore": 5,
		"DeleteCustomKeyStore": 5, "DescribeCustomKeyStores": 5, "DisconnectCustomKeyStore": 5,
		"UpdateCustomKeyStore": 5, "CreateAlias": 5, "CreateGrant": 50, "CreateKey": 5,
		"DeleteAlias": 15, "DeleteImportedKeyMaterial": 15, "DescribeKey": 2000,
		"DisableKey": 5, "DisableKeyRotation": 5, "EnableKey": 5, "EnableKeyRotation": 15,
		"GetKeyLastUsage": 5, "GetKeyPolicy": 1000, "GetKeyRotationStatus": 1000,
		"GetParametersForImport": 1, "GetPublicKey": 2000, "ImportKeyMaterial": 15,
		"ListAliases": 500, "ListGrants": 100, "ListKeyPolicies": 100, "ListKeyRotations": 100,
		"ListKeys": 500, "ListResourceTags": 2000, "ListRetirableGrants": 100,
		"PutKeyPolicy": 15, "ReplicateKey": 5, "RetireGrant": 50, "RevokeGrant": 50,
		"RotateKeyOnDemand": 5, "ScheduleKeyDeletion": 15, "TagResource": 10,
		"UntagResource": 5, "UpdateAlias": 5, "UpdateKeyDescription": 5, "UpdatePrimaryRegion": 5,
		"GenerateDataKeyPair(RSA_2048)": 20, "GenerateDataKeyPair(RSA_3072)": 4,
		"GenerateDataKeyPair(RSA_4096)": 1, "GenerateDataKeyPair(ECC_NIST_P256)": 100,
		"GenerateDataKeyPair(ECC_NIST_P384)": 100, "GenerateDataKeyPair(ECC_NIST_P521)": 100,
		"GenerateDataKeyPair(ECC_SECG_P256K1)": 100, "GenerateDataKeyPair(ECC_NIST_EDWARDS25519)": 100,
		"GenerateDataKeyPair(SM2)": 25,
	}
	if len(want) != len(Categories()) {
		t.Errorf("%d categories, %d in the expected table", len(Categories()), len(want))
	}
	for _, c := range Categories() {
		w, ok := want[c.String()]
		if !ok {
			t.Errorf("category %v is not in the expected table", c)
			continue
		}
		if got := DefaultRate(c); got != w {
			t.Errorf("DefaultRate(%v) = %v, want %v", c, got, w)
		}
	}
	if got := DefaultRate(Unknown); got != DefaultManagementRate {
		t.Errorf("DefaultRate(Unknown) = %v, want %v", got, DefaultManagementRate)
	}
}

func TestCategoryFor(t *testing.T) {
	for _, tc := range []struct {
		op, spec string
		want     Category
	}{
		{"Encrypt", "", Symmetric},
		{"Encrypt", "SYMMETRIC_DEFAULT", Symmetric},
		{"Encrypt", "RSAES_OAEP_SHA_256", RSA},
		{"Encrypt", "RSA_2048", RSA},
		{"Encrypt", "SM2PKE", ECC},
		{"Decrypt", "", Symmetric},
		{"Decrypt", "RSAES_OAEP_SHA_1", RSA},
		{"Decrypt", "SM2", ECC},
		{"ReEncrypt", "RSAES_OAEP_SHA_256", RSA},
		{"ReEncrypt", "SYMMETRIC_DEFAULT", Symmetric},
		{"Sign", "RSASSA_PSS_SHA_256", RSA},
		{"Sign", "RSASSA_PKCS1_V1_5_SHA_512", RSA},
		{"Sign", "ECDSA_SHA_256", ECC},
		{"Sign", "ED25519_SHA_512", ECC},
		{"Sign", "ED25519_PH_SHA_512", ECC},
		{"Sign", "SM2DSA", ECC},
		{"Sign", "ML_DSA_SHAKE_256", MLDSA},
		{"Sign", "", RSA},
		{"Verify", "ECC_NIST_P384", ECC},
		{"Verify", "ECC_NIST_EDWARDS25519", ECC},
		{"Verify", "ML_DSA_65", MLDSA},
		{"Verify", "RSA_4096", RSA},
		{"DeriveSharedSecret", "ECDH", ECC},
		{"DeriveSharedSecret", "", ECC},
		{"GenerateDataKey", "", Symmetric},
		{"GenerateDataKeyWithoutPlaintext", "RSA_2048", Symmetric},
		{"GenerateMac", "HMAC_SHA_256", Symmetric},
		{"VerifyMac", "HMAC_512", Symmetric},
		{"GenerateRandom", "", Symmetric},
		{"GenerateDataKeyPair", "RSA_2048", dataKeyPairRSA2048},
		{"GenerateDataKeyPairWithoutPlaintext", "ECC_NIST_EDWARDS25519", dataKeyPairECCNISTEdwards25519},
		{"GenerateDataKeyPair", "SM2", dataKeyPairSM2},
		{"GenerateDataKeyPair", "ML_DSA_44", Management},
		{"GenerateDataKeyPair", "", Management},
		{"CreateKey", "RSA_2048", opCreateKey},
		{"DescribeKey", "", opDescribeKey},
		{"GetPublicKey", "ML_DSA_87", opGetPublicKey},
		{"ConnectCustomKeyStore", "", opConnectCustomKeyStore},
		{"UpdateCustomKeyStore", "", opUpdateCustomKeyStore},
		{"NoSuchOperation", "", Management},
		{"", "", Management},
		{"encrypt", "", Management}, // operation names are exact
	} {
		if got := CategoryFor(tc.op, tc.spec); got != tc.want {
			t.Errorf("CategoryFor(%q, %q) = %v, want %v", tc.op, tc.spec, got, tc.want)
		}
	}
}

// servedOperations is the route table of internal/api; every one of them
// has a documented quota, so none may fall back to Management (given a
// valid key pair spec, for GenerateDataKeyPair).
var servedOperations = []string{
	"ConnectCustomKeyStore", "CreateCustomKeyStore", "DeleteCustomKeyStore",
	"DescribeCustomKeyStores", "DisconnectCustomKeyStore", "UpdateCustomKeyStore",
	"CancelKeyDeletion", "CreateAlias", "CreateGrant", "CreateKey", "Decrypt", "DeleteAlias",
	"DeriveSharedSecret", "DescribeKey", "DeleteImportedKeyMaterial", "DisableKey",
	"DisableKeyRotation", "EnableKey", "EnableKeyRotation", "Encrypt", "GenerateDataKey",
	"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
	"GenerateDataKeyWithoutPlaintext", "GenerateMac", "GenerateRandom",
	"GetKeyLastUsage", "GetKeyPolicy", "GetKeyRotationStatus", "GetParametersForImport",
	"GetPublicKey", "ImportKeyMaterial", "ListAliases", "ListGrants", "ListKeyPolicies",
	"ListKeyRotations", "ListKeys", "ListResourceTags", "ListRetirableGrants", "PutKeyPolicy",
	"ReEncrypt", "RetireGrant", "RevokeGrant", "RotateKeyOnDemand", "ScheduleKeyDeletion",
	"Sign", "TagResource", "UntagResource", "UpdateAlias", "UpdateKeyDescription", "Verify",
	"VerifyMac",
}

func TestEveryServedOperationHasAQuota(t *testing.T) {
	for _, op := range servedOperations {
		if strings.HasPrefix(op, "GenerateDataKeyPair") {
			continue // below
		}
		if c := CategoryFor(op, ""); c == Management || c == Unknown {
			t.Errorf("CategoryFor(%q) = %v, want a documented quota", op, c)
		}
	}
	for _, spec := range []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
		"ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2"} {
		for _, op := range []string{"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"} {
			if c := CategoryFor(op, spec); c == Management || c.String() != "GenerateDataKeyPair("+spec+")" {
				t.Errorf("CategoryFor(%s, %q) = %v", op, spec, c)
			}
		}
	}
}

func TestKeyDependent(t *testing.T) {
	specs := []string{"", "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256", "RSASSA_PSS_SHA_256", "SM2PKE",
		"ECDSA_SHA_256", "ML_DSA_SHAKE_256", "RSA_2048", "ECC_NIST_P256", "SM2", "ML_DSA_44", "HMAC_256"}
	for _, op := range append(servedOperations, "NoSuchOperation") {
		varies := false
		for _, spec := range specs {
			if CategoryFor(op, spec) != CategoryFor(op, "") {
				varies = true
			}
		}
		if KeyDependent(op) != varies {
			t.Errorf("KeyDependent(%q) = %v, but CategoryFor varies with spec: %v", op, KeyDependent(op), varies)
		}
	}
}

func TestCategoryStringParse(t *testing.T) {
	for _, c := range Categories() {
		for _, s := range []string{c.String(), strings.ToUpper(c.String()), strings.ToLower(c.String())} {
			got, err := ParseCategory(s)
			if err != nil || got != c {
				t.Errorf("ParseCategory(%q) = %v, %v; want %v", s, got, err, c)
			}
		}
		if wantMgmt := c == Management || c >= opCancelKeyDeletion; IsManagement(c) != wantMgmt {
			t.Errorf("IsManagement(%v) = %v", c, IsManagement(c))
		}
	}
	for _, s := range []string{"", "unknown", "Unknown", "sym", "Encrypt", "GenerateDataKeyPair", "GenerateDataKeyPair(AES_256)", " rsa"} {
		if c, err := ParseCategory(s); err == nil {
			t.Errorf("ParseCategory(%q) = %v, want an error", s, c)
		}
	}
	if got := Category(999).String(); got != "Category(999)" {
		t.Errorf("Category(999).String() = %q", got)
	}
	if got := Unknown.String(); got != "unknown" {
		t.Errorf("Unknown.String() = %q", got)
	}
}

func TestCategoryForDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		CategoryFor("Sign", "ML_DSA_SHAKE_256")
		CategoryFor("DescribeKey", "")
		CategoryFor("GenerateDataKeyPair", "RSA_2048")
	}); n != 0 {
		t.Errorf("CategoryFor allocates %v times per call, want 0", n)
	}
}
