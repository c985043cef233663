package e2e_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

// hsmConfig points a server at the SoftHSM token that
// scripts/softhsm-setup.sh prepares, with a key label unique to the test.
func hsmConfig(t *testing.T) func(*config.Server) {
	t.Helper()
	module, token, pin := os.Getenv("OPENKMS_TEST_PKCS11_MODULE"), os.Getenv("OPENKMS_TEST_PKCS11_TOKEN"), os.Getenv("OPENKMS_TEST_PKCS11_PIN")
	if module == "" || token == "" || pin == "" {
		if os.Getenv("OPENKMS_REQUIRE_ALL") == "1" {
			t.Fatal("CI must provide SoftHSM: run scripts/softhsm-setup.sh and export its variables")
		}
		t.Skip("no PKCS#11 token: run scripts/softhsm-setup.sh and export its variables")
	}
	label := "e2e-root-" + filepath.Base(t.TempDir())
	return func(c *config.Server) {
		c.RootKeyProvider = "pkcs11"
		c.PKCS11Module, c.PKCS11Token, c.PKCS11PIN, c.PKCS11KeyLabel = module, token, pin, label
	}
}

// TestHSMRootKeyAcrossRestart runs a server whose root key is a
// non-extractable key in the token: no root key file is ever written, and a
// restart decrypts everything made before it.
func TestHSMRootKeyAcrossRestart(t *testing.T) {
	cfg := hsmConfig(t)
	s := servertest.Start(t, servertest.Options{Config: cfg})
	c := s.Client(servertest.Region)
	md := createKey(t, c)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("sealed by the HSM hierarchy")})
	if err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	if _, err := os.Stat(filepath.Join(s.DataDir, "root.key")); !os.IsNotExist(err) {
		t.Fatalf("a file root key exists next to an HSM-backed store: %v", err)
	}
	s2 := servertest.Start(t, servertest.Options{DataDir: s.DataDir, Config: cfg})
	dec, err := s2.Client(servertest.Region).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "sealed by the HSM hierarchy" {
		t.Fatalf("Decrypt after restart with the HSM root key: %v", err)
	}
}

// TestAdoptFileRootKeyIntoHSM moves a data directory from the file root key
// to the HSM with `openkms admin root-key adopt-hsm` and decrypts what was
// made before.
func TestAdoptFileRootKeyIntoHSM(t *testing.T) {
	hsmCfg := hsmConfig(t)
	s := servertest.Start(t, servertest.Options{})
	c := s.Client(servertest.Region)
	md := createKey(t, c)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("made under the file root key")})
	if err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	var probe config.Server
	hsmCfg(&probe)
	env := []string{"OPENKMS_PKCS11_PIN=" + probe.PKCS11PIN}
	mustRun(t, env, "admin", "root-key", "adopt-hsm", "--data-dir", s.DataDir, "--pkcs11-module", probe.PKCS11Module,
		"--pkcs11-token", probe.PKCS11Token, "--pkcs11-key-label", probe.PKCS11KeyLabel)
	if err := os.Remove(filepath.Join(s.DataDir, "root.key")); err != nil {
		t.Fatal(err)
	}
	s2 := servertest.Start(t, servertest.Options{DataDir: s.DataDir, Config: hsmCfg})
	dec, err := s2.Client(servertest.Region).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "made under the file root key" {
		t.Fatalf("Decrypt after adopting the root key into the HSM: %v", err)
	}
}
