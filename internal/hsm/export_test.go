//go:build cgo

package hsm

import (
	"bytes"
	"context"
	"crypto/rand"

	"github.com/miekg/pkcs11"
)

// ReadValueForTest tries to read CKA_VALUE of k, which the token must
// refuse for a sensitive key.
func (t *Token) ReadValueForTest(ctx context.Context, k Key) ([]byte, error) {
	var v []byte
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		got, err := t.mod.ctx.GetAttributeValue(sh, pkcs11.ObjectHandle(k.handle), []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return ckrError("C_GetAttributeValue", err)
		}
		v = bytes.Clone(got[0].Value)
		return nil
	})
	return v, err
}

// WrapForTest makes a temporary session key allowed to wrap (CKA_WRAP) and
// tries to wrap k out of the token under it (C_WrapKey with
// CKM_AES_KEY_WRAP_PAD), which the token must refuse for a non-extractable
// key.
func (t *Token) WrapForTest(ctx context.Context, k Key) ([]byte, error) {
	var v []byte
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		wrapping, err := t.mod.ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		})
		if err != nil {
			return ckrError("C_GenerateKey", err)
		}
		defer t.mod.ctx.DestroyObject(sh, wrapping)
		w, err := t.mod.ctx.WrapKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}, wrapping, pkcs11.ObjectHandle(k.handle))
		if err != nil {
			return ckrError("C_WrapKey", err)
		}
		v = w
		return nil
	})
	return v, err
}

// SessionsOpenForTest counts the pool's open sessions. It must not run
// concurrently with operations.
func (t *Token) SessionsOpenForTest() int {
	n := 0
	for range t.size {
		s := <-t.pool
		if s.open {
			n++
		}
		defer func() { t.pool <- s }()
	}
	return n
}

// SetAttributeForTest tries to set a CK_BBOOL attribute of k.
func (t *Token) SetAttributeForTest(ctx context.Context, k Key, typ uint, value bool) error {
	return t.with(ctx, func(sh pkcs11.SessionHandle) error {
		return ckrError("C_SetAttributeValue", t.mod.ctx.SetAttributeValue(sh, pkcs11.ObjectHandle(k.handle), []*pkcs11.Attribute{pkcs11.NewAttribute(typ, value)}))
	})
}

// Attribute types for SetAttributeForTest.
const (
	CKAExtractableForTest = pkcs11.CKA_EXTRACTABLE
	CKASensitiveForTest   = pkcs11.CKA_SENSITIVE
)

// GenerateUncheckedForTest generates a key like GenerateAESKey but without
// refusing an existing label, as two processes racing could.
func (t *Token) GenerateUncheckedForTest(ctx context.Context, label string) (Key, error) {
	id := make([]byte, KeyIDSize)
	rand.Read(id)
	var k Key
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		h, err := t.generate(sh, label, id)
		k = Key{owner: t, handle: uint(h), label: label, id: id}
		return err
	})
	return k, err
}
