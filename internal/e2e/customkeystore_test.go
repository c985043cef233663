package e2e_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/server/servertest"
)

const testClusterID = "cluster-1234567890a"

// cksToken returns the SoftHSM token that scripts/softhsm-setup.sh prepares
// as an hsm.Config, skipping (or, with OPENKMS_REQUIRE_ALL=1, failing) the
// test when there is none.
func cksToken(t testing.TB) hsm.Config {
	t.Helper()
	module, token, pin := os.Getenv("OPENKMS_TEST_PKCS11_MODULE"), os.Getenv("OPENKMS_TEST_PKCS11_TOKEN"), os.Getenv("OPENKMS_TEST_PKCS11_PIN")
	if module == "" || token == "" || pin == "" {
		if os.Getenv("OPENKMS_REQUIRE_ALL") == "1" {
			t.Fatal("CI must provide SoftHSM: run scripts/softhsm-setup.sh and export its variables")
		}
		t.Skip("no PKCS#11 token: run scripts/softhsm-setup.sh and export its variables")
	}
	return hsm.Config{ModulePath: module, TokenLabel: token, PIN: pin}
}

func cksConfig(tok hsm.Config, clock *servertest.Clock) servertest.Options {
	return servertest.Options{Clock: clock, Config: func(c *config.Server) {
		c.SchedulerInterval = config.Duration(20 * time.Millisecond)
		c.HSMClusters = []config.HSMCluster{{ClusterID: testClusterID, Module: tok.ModulePath, TokenLabel: tok.TokenLabel}}
	}}
}

func describeStore(t *testing.T, c *kms.Client, id string) types.CustomKeyStoresListEntry {
	t.Helper()
	out, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeCustomKeyStores: %v", err)
	}
	if len(out.CustomKeyStores) != 1 {
		t.Fatalf("DescribeCustomKeyStores returned %d stores, want 1", len(out.CustomKeyStores))
	}
	return out.CustomKeyStores[0]
}

// TestCustomKeyStoreOverPKCS11 runs the life of a custom key store over the
// SoftHSM token with the official client: keys generated in the token, GCM
// in the token, disconnect and reconnect, a wrong password, deletion.
func TestCustomKeyStoreOverPKCS11(t *testing.T) {
	tok := cksToken(t)
	clock := servertest.NewClock()
	s := servertest.Start(t, cksConfig(tok, clock))
	c := s.Client(servertest.Region)

	// Only AWS_CLOUDHSM stores over configured tokens.
	_, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("xks"), CustomKeyStoreType: types.CustomKeyStoreTypeExternalKeyStore})
	wantAPIError(t, err, "UnsupportedOperationException", "")
	_, err = c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("nope"),
		CloudHsmClusterId: aws.String("cluster-zzzzzzzzzzz"), TrustAnchorCertificate: aws.String("cert"), KeyStorePassword: aws.String(tok.PIN)})
	wantAPIError(t, err, "CloudHsmClusterNotFoundException", "")

	const anchor = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	created, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("hsm-store"),
		CloudHsmClusterId: aws.String(testClusterID), TrustAnchorCertificate: aws.String(anchor), KeyStorePassword: aws.String(tok.PIN)})
	if err != nil {
		t.Fatalf("CreateCustomKeyStore: %v", err)
	}
	storeID := *created.CustomKeyStoreId
	if !regexp.MustCompile(`^cks-[0-9a-f]{17}$`).MatchString(storeID) {
		t.Fatalf("got store id %q, want cks- and 17 hex digits", storeID)
	}
	_, err = c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("hsm-store"),
		CloudHsmClusterId: aws.String(testClusterID), TrustAnchorCertificate: aws.String(anchor), KeyStorePassword: aws.String(tok.PIN)})
	wantAPIError(t, err, "CustomKeyStoreNameInUseException", "")

	st := describeStore(t, c, storeID)
	if st.ConnectionState != types.ConnectionStateTypeDisconnected || *st.TrustAnchorCertificate != anchor || *st.CloudHsmClusterId != testClusterID ||
		*st.CustomKeyStoreName != "hsm-store" || st.CustomKeyStoreType != types.CustomKeyStoreTypeAwsCloudhsm {
		t.Fatalf("new store: got %+v", st)
	}
	byName, err := c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreName: aws.String("hsm-store")})
	if err != nil || len(byName.CustomKeyStores) != 1 || *byName.CustomKeyStores[0].CustomKeyStoreId != storeID {
		t.Fatalf("DescribeCustomKeyStores by name: %+v, %v", byName, err)
	}
	_, err = c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String("cks-00000000000000000")})
	wantAPIError(t, err, "CustomKeyStoreNotFoundException", "")

	// Keys need a connected store.
	_, err = c.CreateKey(ctx, &kms.CreateKeyInput{CustomKeyStoreId: aws.String(storeID), Origin: types.OriginTypeAwsCloudhsm})
	wantAPIError(t, err, "CustomKeyStoreInvalidStateException", "")
	if _, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatalf("ConnectCustomKeyStore: %v", err)
	}
	if st := describeStore(t, c, storeID); st.ConnectionState != types.ConnectionStateTypeConnected {
		t.Fatalf("after connect: got %s (%s), want CONNECTED", st.ConnectionState, st.ConnectionErrorCode)
	}
	_, err = c.CreateKey(ctx, &kms.CreateKeyInput{CustomKeyStoreId: aws.String(storeID), KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify})
	wantAPIError(t, err, "UnsupportedOperationException", "")

	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{CustomKeyStoreId: aws.String(storeID), Origin: types.OriginTypeAwsCloudhsm})
	if err != nil {
		t.Fatalf("CreateKey in the store: %v", err)
	}
	md := ck.KeyMetadata
	if md.Origin != types.OriginTypeAwsCloudhsm || aws.ToString(md.CustomKeyStoreId) != storeID || aws.ToString(md.CloudHsmClusterId) != testClusterID || md.KeyState != types.KeyStateEnabled {
		t.Fatalf("CreateKey metadata: got origin %s store %v cluster %v state %s", md.Origin, aws.ToString(md.CustomKeyStoreId), aws.ToString(md.CloudHsmClusterId), md.KeyState)
	}
	keyID := md.KeyId

	// The key object is in the token, AES-256, and can never leave it.
	token, err := hsm.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	defer token.Close()
	obj, err := token.FindKey(ctx, "openkms-"+*keyID)
	if err != nil {
		t.Fatalf("the token holds no key labelled openkms-%s: %v", *keyID, err)
	}
	attrs, err := token.KeyAttributes(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Extractable || !attrs.NeverExtractable || !attrs.Sensitive || !attrs.Token || attrs.ValueLen != 32 {
		t.Fatalf("token key attributes: got %+v, want sensitive, non-extractable, persistent, 32 bytes", attrs)
	}

	// Cryptography runs in the token; blobs work without a KeyId.
	encCtx := map[string]string{"purpose": "cks"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: keyID, Plaintext: []byte("in the HSM"), EncryptionContext: encCtx})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx})
	if err != nil || string(dec.Plaintext) != "in the HSM" || *dec.KeyId != *md.Arn {
		t.Fatalf("Decrypt: %v", err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "other"}})
	wantAPIError(t, err, "InvalidCiphertextException", "")
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: keyID, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	dkDec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, KeyId: keyID})
	if err != nil || !bytes.Equal(dkDec.Plaintext, dk.Plaintext) {
		t.Fatalf("Decrypt of the data key: %v", err)
	}
	soft := createKey(t, c)
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: encCtx, DestinationKeyId: soft.KeyId})
	if err != nil {
		t.Fatalf("ReEncrypt to a software key: %v", err)
	}
	back, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, DestinationKeyId: keyID})
	if err != nil {
		t.Fatalf("ReEncrypt back into the store: %v", err)
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: back.CiphertextBlob}); err != nil || string(dec.Plaintext) != "in the HSM" {
		t.Fatalf("Decrypt after two ReEncrypts: %v", err)
	}
	rnd, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(48), CustomKeyStoreId: aws.String(storeID)})
	if err != nil || len(rnd.Plaintext) != 48 {
		t.Fatalf("GenerateRandom from the token: %v", err)
	}
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: keyID})
	wantAPIError(t, err, "UnsupportedOperationException", "")
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: keyID})
	wantAPIError(t, err, "UnsupportedOperationException", "")

	// Disconnected: keys are Unavailable, management still works.
	if _, err := c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatalf("DisconnectCustomKeyStore: %v", err)
	}
	if d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: keyID}); err != nil || d.KeyMetadata.KeyState != types.KeyStateUnavailable {
		t.Fatalf("DescribeKey while disconnected: %+v, %v; want Unavailable", d, err)
	}
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: keyID, Plaintext: []byte("x")})
	wantAPIError(t, err, "KMSInvalidStateException", *md.Arn+" is unavailable.")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx})
	wantAPIError(t, err, "KMSInvalidStateException", *md.Arn+" is unavailable.")
	_, err = c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(8), CustomKeyStoreId: aws.String(storeID)})
	wantAPIError(t, err, "CustomKeyStoreInvalidStateException", "")
	if _, err := c.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: keyID, Description: aws.String("managed while disconnected")}); err != nil {
		t.Fatalf("UpdateKeyDescription while disconnected: %v", err)
	}

	// A wrong password fails the connection with INVALID_CREDENTIALS.
	if _, err := c.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID), KeyStorePassword: aws.String("wrong-password")}); err != nil {
		t.Fatalf("UpdateCustomKeyStore: %v", err)
	}
	if _, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatalf("ConnectCustomKeyStore: %v", err)
	}
	if st := describeStore(t, c, storeID); st.ConnectionState != types.ConnectionStateTypeFailed || st.ConnectionErrorCode != types.ConnectionErrorCodeTypeInvalidCredentials {
		t.Fatalf("with a wrong password: got %s (%s), want FAILED (INVALID_CREDENTIALS)", st.ConnectionState, st.ConnectionErrorCode)
	}
	_, err = c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)})
	wantAPIError(t, err, "CustomKeyStoreInvalidStateException", "")
	c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)})
	if _, err := c.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID), KeyStorePassword: aws.String(tok.PIN), NewCustomKeyStoreName: aws.String("hsm-store-2")}); err != nil {
		t.Fatalf("UpdateCustomKeyStore: %v", err)
	}

	// Reconnected: everything works again, including old ciphertexts.
	if _, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatalf("ConnectCustomKeyStore: %v", err)
	}
	if st := describeStore(t, c, storeID); st.ConnectionState != types.ConnectionStateTypeConnected || *st.CustomKeyStoreName != "hsm-store-2" {
		t.Fatalf("after reconnect: got %+v", st)
	}
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx}); err != nil || string(dec.Plaintext) != "in the HSM" {
		t.Fatalf("Decrypt after reconnecting: %v", err)
	}

	// A store with keys cannot be deleted.
	if _, err := c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)})
	wantAPIError(t, err, "CustomKeyStoreHasCMKsException", "")

	// After a restart the store reconnects on first use, as stored.
	if _, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	opts := cksConfig(tok, clock)
	opts.DataDir = s.DataDir
	s2 := servertest.Start(t, opts)
	c = s2.Client(servertest.Region)
	if dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx}); err != nil || string(dec.Plaintext) != "in the HSM" {
		t.Fatalf("Decrypt after a restart: %v", err)
	}

	// When its waiting period ends, the key object is destroyed in the token.
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: keyID, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	waitFor(t, func() bool {
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: keyID})
		return err != nil
	})
	waitFor(t, func() bool {
		_, err := token.FindKey(ctx, "openkms-"+*keyID)
		return errors.Is(err, hsm.ErrKeyNotFound)
	})
	if _, err := c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteCustomKeyStore(ctx, &kms.DeleteCustomKeyStoreInput{CustomKeyStoreId: aws.String(storeID)}); err != nil {
		t.Fatalf("DeleteCustomKeyStore of an empty store: %v", err)
	}
	_, err = c.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{CustomKeyStoreId: aws.String(storeID)})
	wantAPIError(t, err, "CustomKeyStoreNotFoundException", "")
}

// TestCustomKeyStoreCLI runs scripts/cks-e2e.sh with the AWS CLI.
func TestCustomKeyStoreCLI(t *testing.T) {
	requireTool(t, "aws")
	tok := cksToken(t)
	s := servertest.Start(t, cksConfig(tok, nil))
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "cks-e2e.sh"), s.Endpoint, testClusterID, tok.PIN)
	cmd.Env = awsCLIEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cks-e2e: ok") {
		t.Fatalf("cks-e2e.sh: %v\n%s", err, out)
	}
}

// BenchmarkEncryptHSMKey compares Encrypt with a key in a custom key store
// (AES-GCM inside the PKCS#11 token) against a software key.
func BenchmarkEncryptHSMKey(b *testing.B) {
	tok := cksToken(b)
	s := servertest.Start(b, cksConfig(tok, nil))
	c := s.Client(servertest.Region)
	store, err := c.CreateCustomKeyStore(ctx, &kms.CreateCustomKeyStoreInput{CustomKeyStoreName: aws.String("bench"),
		CloudHsmClusterId: aws.String(testClusterID), TrustAnchorCertificate: aws.String("-----BEGIN CERTIFICATE-----x-----END CERTIFICATE-----"),
		KeyStorePassword: aws.String(tok.PIN)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.ConnectCustomKeyStore(ctx, &kms.ConnectCustomKeyStoreInput{CustomKeyStoreId: store.CustomKeyStoreId}); err != nil {
		b.Fatal(err)
	}
	hsmKey, err := c.CreateKey(ctx, &kms.CreateKeyInput{CustomKeyStoreId: store.CustomKeyStoreId, Origin: types.OriginTypeAwsCloudhsm})
	if err != nil {
		b.Fatal(err)
	}
	swKey, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	pt := bytes.Repeat([]byte{0x5a}, 256)
	for _, k := range []struct {
		name string
		id   *string
	}{{"hsm", hsmKey.KeyMetadata.KeyId}, {"software", swKey.KeyMetadata.KeyId}} {
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.id, Plaintext: pt}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	c.DisconnectCustomKeyStore(ctx, &kms.DisconnectCustomKeyStoreInput{CustomKeyStoreId: store.CustomKeyStoreId})
}
