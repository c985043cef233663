package kms

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
)

// TestInvariant1NoKeyMaterialAtRest creates keys and data keys, then reads
// the raw database file and checks that no key material appears in it, in
// raw, hex or base64 form.
func TestInvariant1NoKeyMaterialAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sealer, err := fileroot.NewProvider(filepath.Join(dir, "root.key")).Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "openkms.db")
	st, err := boltstore.Open(dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{Store: st, Sealer: sealer})
	c := Caller{Principal: principal.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", Type: principal.TypeRoot}, Region: "us-east-1"}

	var secrets [][]byte
	for i := 0; i < 20; i++ {
		md, err := svc.CreateKey(ctx, c, CreateKeyInput{Description: "k"})
		if err != nil {
			t.Fatal(err)
		}
		dk, err := svc.GenerateDataKey(ctx, c, GenerateDataKeyInput{KeyID: md.KeyID, KeySpec: "AES_256"}, true)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, dk.Plaintext)
		var rec *keyRecord
		err = st.View(ctx, func(r storage.Reader) error {
			rec, err = getKeyRecord(r, c.Region, c.Principal.Account, md.KeyID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sealer.Open(rec.Materials[0].Sealed, materialAAD(rec.arn(), rec.Materials[0].Version))
		if err != nil {
			t.Fatalf("unsealing material: %v", err)
		}
		if len(raw) != 32 {
			t.Fatalf("material length: got %d, want 32", len(raw))
		}
		secrets = append(secrets, raw)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := os.ReadFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range secrets {
		for _, form := range [][]byte{s, []byte(hex.EncodeToString(s)), []byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawStdEncoding.EncodeToString(s))} {
			if bytes.Contains(db, form) {
				t.Fatalf("secret %d found in the database file", i)
			}
		}
	}
	if bytes.Contains(db, bytes.TrimSpace(rootKey)) {
		t.Fatal("root key file contents found in the database file")
	}
}

// TestSealedMaterialIsBoundToItsKey moves one key's sealed material into
// another key's record: the service must refuse to use it.
func TestSealedMaterialIsBoundToItsKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sealer, err := fileroot.NewProvider(filepath.Join(dir, "root.key")).Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "openkms.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := New(Config{Store: st, Sealer: sealer})
	c := Caller{Principal: principal.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root", Type: principal.TypeRoot}, Region: "us-east-1"}
	a, _ := svc.CreateKey(ctx, c, CreateKeyInput{})
	b, _ := svc.CreateKey(ctx, c, CreateKeyInput{})
	err = st.Update(ctx, func(w storage.Writer) error {
		ra, err := getKeyRecord(w, c.Region, c.Principal.Account, a.KeyID)
		if err != nil {
			return err
		}
		rb, err := getKeyRecord(w, c.Region, c.Principal.Account, b.KeyID)
		if err != nil {
			return err
		}
		rb.Materials = ra.Materials
		return putKeyRecord(w, rb)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Encrypt(ctx, c, EncryptInput{KeyID: b.KeyID, Plaintext: []byte("x")})
	if err == nil {
		t.Fatal("Encrypt with material moved from another key: got success, want failure")
	}
}
