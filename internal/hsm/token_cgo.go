//go:build cgo

package hsm

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"
)

// Token is a logged-in PKCS#11 token with a pool of sessions. PKCS#11
// sessions must not be used by two goroutines at once, so every operation
// takes a session from the pool for its duration; a Token is safe for
// concurrent use, and at most Config.Sessions operations run at once (the
// others wait, or give up when their context is done).
type Token struct {
	mod   *module
	slot  uint
	login *slotState
	label string // token label
	size  int    // pool size
	pool  chan *session

	closeOnce sync.Once
	closed    chan struct{}
}

// session is a pool entry. When open is false, h is not valid and the next
// user opens a new session.
type session struct {
	h    pkcs11.SessionHandle
	open bool
}

const sessionFlags = pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION

// Open loads cfg.ModulePath, finds the token labelled cfg.TokenLabel, opens
// the session pool and logs in with cfg.PIN. Errors wrap ErrConfig,
// ErrModule, ErrTokenNotFound, ErrPINIncorrect or ErrPINLocked and say what
// to fix; they never contain the PIN. The caller must Close the Token.
func Open(cfg Config) (*Token, error) {
	size, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	mod, err := loadModule(cfg.ModulePath)
	if err != nil {
		return nil, err
	}
	slot, err := mod.findSlot(cfg.TokenLabel, cfg.ModulePath)
	if err != nil {
		mod.release()
		return nil, err
	}
	t := &Token{
		mod:    mod,
		slot:   slot,
		label:  cfg.TokenLabel,
		size:   size,
		pool:   make(chan *session, size),
		closed: make(chan struct{}),
	}
	t.login, err = mod.login(slot, cfg.TokenLabel, cfg.PIN)
	if err != nil {
		mod.release()
		return nil, err
	}
	for range size {
		t.pool <- &session{} // opened on first use
	}
	return t, nil
}

// Label returns the token label.
func (t *Token) Label() string { return t.label }

// Close waits for running operations, closes the sessions, logs out (unless
// another Token of this process uses the same token) and unloads the module
// (unless another Token uses it). Keys from t become invalid. Close is
// idempotent; it returns nil.
func (t *Token) Close() error {
	t.closeOnce.Do(func() {
		close(t.closed)
		for range t.size {
			if s := <-t.pool; s.open {
				t.mod.ctx.CloseSession(s.h)
			}
		}
		t.mod.logout(t.slot, t.login)
		t.mod.release()
	})
	return nil
}

// acquire takes a session from the pool, opening it if needed.
func (t *Token) acquire(ctx context.Context) (*session, error) {
	select {
	case <-t.closed:
		return nil, ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("hsm: %w", err)
	}
	var s *session
	select {
	case s = <-t.pool:
	case <-t.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("hsm: waiting for a session: %w", ctx.Err())
	}
	select {
	case <-t.closed:
		t.pool <- s // Close is draining the pool
		return nil, ErrClosed
	default:
	}
	if !s.open {
		h, err := t.mod.ctx.OpenSession(t.slot, sessionFlags)
		if err != nil {
			t.pool <- s
			return nil, fmt.Errorf("hsm: open a session on token %q: %w", t.label, ckrError("C_OpenSession", err))
		}
		s.h, s.open = h, true
	}
	return s, nil
}

// release returns s to the pool. If err shows the session may be unusable
// (or left with an operation active), s is closed and reopened on next use.
func (t *Token) release(s *session, err error) {
	if err != nil && !sessionStillClean(err) {
		t.mod.ctx.CloseSession(s.h)
		s.open = false
	}
	t.pool <- s
}

// sessionStillClean reports whether a session that returned err is known to
// be usable with no operation active.
func sessionStillClean(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true // not from PKCS#11: input validation, ErrKeyNotFound, ...
	}
	switch e.Code {
	case pkcs11.CKR_ATTRIBUTE_SENSITIVE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID,
		pkcs11.CKR_OBJECT_HANDLE_INVALID, pkcs11.CKR_KEY_HANDLE_INVALID:
		return true
	}
	return false
}

// with runs fn with a session.
func (t *Token) with(ctx context.Context, fn func(sh pkcs11.SessionHandle) error) error {
	s, err := t.acquire(ctx)
	if err != nil {
		return err
	}
	err = fn(s.h)
	t.release(s, err)
	return err
}

// checkKey validates that k came from t.
func (t *Token) checkKey(k Key) error {
	if k.owner == nil {
		return fmt.Errorf("%w: zero Key", ErrInput)
	}
	if k.owner != t {
		return fmt.Errorf("%w: key %q belongs to another Token", ErrInput, k.label)
	}
	return nil
}

// keyErr maps an error about a key handle to ErrKeyNotFound.
func (t *Token) keyErr(k Key, err error) error {
	var e *Error
	if errors.As(err, &e) && (e.Code == pkcs11.CKR_OBJECT_HANDLE_INVALID || e.Code == pkcs11.CKR_KEY_HANDLE_INVALID) {
		return fmt.Errorf("%w: key %q (id %x) is no longer in token %q: %w", ErrKeyNotFound, k.label, k.id, t.label, err)
	}
	return err
}

// GenerateAESKey creates a persistent AES-256 key labelled label inside the
// token, with a random 16-byte CKA_ID. The key is private, sensitive and not
// extractable, usable for encryption and decryption only, and cannot be
// modified or copied: its value never leaves the token. It returns an error
// wrapping ErrKeyExists if an AES key with the label exists (checked under a
// lock shared by this process; two processes generating the same label at
// once can still both succeed, which FindKey then reports as
// ErrAmbiguousKey).
func (t *Token) GenerateAESKey(ctx context.Context, label string) (Key, error) {
	if err := validateKeyLabel(label); err != nil {
		return Key{}, err
	}
	id := make([]byte, KeyIDSize)
	rand.Read(id) // never fails (crypto/rand)
	t.login.genMu.Lock()
	defer t.login.genMu.Unlock()
	var key Key
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		existing, err := t.find(sh, labelTemplate(label), 1)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return fmt.Errorf("%w: token %q already holds an AES key labelled %q", ErrKeyExists, t.label, label)
		}
		h, err := t.generate(sh, label, id)
		if err != nil {
			return err
		}
		key = Key{owner: t, handle: uint(h), label: label, id: id}
		return nil
	})
	return key, err
}

// generate creates the key of GenerateAESKey, without checking the label.
func (t *Token) generate(sh pkcs11.SessionHandle, label string, id []byte) (pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_COPYABLE, false),
	}
	h, err := t.mod.ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
	if err != nil {
		return 0, fmt.Errorf("hsm: generate AES-256 key %q in token %q: %w", label, t.label, ckrError("C_GenerateKey", err))
	}
	return h, nil
}

// FindKey returns the AES key labelled label. It returns an error wrapping
// ErrKeyNotFound if there is none, and ErrAmbiguousKey if there are several.
func (t *Token) FindKey(ctx context.Context, label string) (Key, error) {
	if err := validateKeyLabel(label); err != nil {
		return Key{}, err
	}
	return t.findOne(ctx, labelTemplate(label), fmt.Sprintf("labelled %q", label))
}

// FindKeyByID returns the AES key whose CKA_ID is id, with the errors of
// FindKey.
func (t *Token) FindKeyByID(ctx context.Context, id []byte) (Key, error) {
	if len(id) == 0 || len(id) > maxKeyIDSize {
		return Key{}, fmt.Errorf("%w: key ID must be 1 to %d bytes", ErrInput, maxKeyIDSize)
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	}
	return t.findOne(ctx, tmpl, fmt.Sprintf("with id %x", id))
}

func labelTemplate(label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
}

func (t *Token) findOne(ctx context.Context, tmpl []*pkcs11.Attribute, what string) (Key, error) {
	var key Key
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		handles, err := t.find(sh, tmpl, 2)
		if err != nil {
			return err
		}
		switch len(handles) {
		case 0:
			return fmt.Errorf("%w: token %q holds no AES key %s", ErrKeyNotFound, t.label, what)
		case 1:
		default:
			return fmt.Errorf("%w: token %q holds several AES keys %s", ErrAmbiguousKey, t.label, what)
		}
		attrs, err := t.mod.ctx.GetAttributeValue(sh, handles[0], []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
			pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
		})
		if err != nil {
			return ckrError("C_GetAttributeValue", err)
		}
		key = Key{owner: t, handle: uint(handles[0]), label: string(attrs[0].Value), id: attrs[1].Value}
		return nil
	})
	return key, err
}

// find returns up to max objects matching tmpl.
func (t *Token) find(sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute, max int) ([]pkcs11.ObjectHandle, error) {
	if err := t.mod.ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, ckrError("C_FindObjectsInit", err)
	}
	handles, _, err := t.mod.ctx.FindObjects(sh, max)
	ferr := t.mod.ctx.FindObjectsFinal(sh)
	if err != nil {
		return nil, ckrError("C_FindObjects", err)
	}
	if ferr != nil {
		return nil, ckrError("C_FindObjectsFinal", ferr)
	}
	return handles, nil
}

// DestroyKey deletes k from the token, for good. Every value encrypted
// under it becomes undecryptable.
func (t *Token) DestroyKey(ctx context.Context, k Key) error {
	if err := t.checkKey(k); err != nil {
		return err
	}
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		return ckrError("C_DestroyObject", t.mod.ctx.DestroyObject(sh, pkcs11.ObjectHandle(k.handle)))
	})
	return t.keyErr(k, err)
}

// EncryptGCM encrypts plaintext with AES-GCM under k inside the token and
// returns nonce || ciphertext || tag (12 + len(plaintext) + 16 bytes). The
// 96-bit nonce is drawn from crypto/rand and passed to the token; a token
// that insists on choosing its own IV (some cloud HSMs) writes it back, and
// that IV is the one returned. Random nonces bound one key to 2^32
// encryptions. aad is authenticated, not encrypted. plaintext and aad are
// at most MaxPlaintextSize and MaxAADSize bytes.
func (t *Token) EncryptGCM(ctx context.Context, k Key, plaintext, aad []byte) ([]byte, error) {
	if err := t.checkKey(k); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintextSize || len(aad) > MaxAADSize {
		return nil, fmt.Errorf("%w: plaintext (%d bytes) or aad (%d bytes) exceeds %d bytes", ErrInput, len(plaintext), len(aad), MaxPlaintextSize)
	}
	nonce := make([]byte, GCMNonceSize)
	rand.Read(nonce) // never fails (crypto/rand)
	var out []byte
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		params := pkcs11.NewGCMParams(nonce, aad, 8*GCMTagSize)
		defer params.Free()
		mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
		if err := t.mod.ctx.EncryptInit(sh, mech, pkcs11.ObjectHandle(k.handle)); err != nil {
			return ckrError("C_EncryptInit", err)
		}
		ct, err := t.mod.ctx.Encrypt(sh, plaintext)
		if err != nil {
			return ckrError("C_Encrypt", err)
		}
		if len(ct) != len(plaintext)+GCMTagSize {
			return fmt.Errorf("hsm: token %q returned %d bytes of AES-GCM output for %d bytes of plaintext, want %d", t.label, len(ct), len(plaintext), len(plaintext)+GCMTagSize)
		}
		used := params.IV()
		if len(used) != GCMNonceSize {
			return fmt.Errorf("hsm: token %q used a %d-byte GCM IV, want %d", t.label, len(used), GCMNonceSize)
		}
		out = make([]byte, 0, GCMNonceSize+len(ct))
		out = append(append(out, used...), ct...)
		return nil
	})
	if err != nil {
		return nil, t.keyErr(k, err)
	}
	return out, nil
}

// DecryptGCM reverses EncryptGCM inside the token. Any sealed value that
// does not authenticate under k and aad yields ErrDecrypt, with no detail;
// other errors are failures of the token, the session or the key (which
// wrap ErrKeyNotFound if k no longer exists).
func (t *Token) DecryptGCM(ctx context.Context, k Key, sealed, aad []byte) ([]byte, error) {
	if err := t.checkKey(k); err != nil {
		return nil, err
	}
	if len(sealed) < GCMOverhead || len(sealed) > GCMOverhead+MaxPlaintextSize || len(aad) > MaxAADSize {
		return nil, ErrDecrypt
	}
	var out []byte
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		params := pkcs11.NewGCMParams(sealed[:GCMNonceSize], aad, 8*GCMTagSize)
		defer params.Free()
		mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
		if err := t.mod.ctx.DecryptInit(sh, mech, pkcs11.ObjectHandle(k.handle)); err != nil {
			return ckrError("C_DecryptInit", err)
		}
		pt, err := t.mod.ctx.Decrypt(sh, sealed[GCMNonceSize:])
		if err != nil {
			if tokenFault(code(err)) {
				return ckrError("C_Decrypt", err)
			}
			return &decryptFailure{ckrError("C_Decrypt", err)}
		}
		if len(pt) != len(sealed)-GCMOverhead {
			clear(pt)
			return fmt.Errorf("hsm: token %q returned %d bytes of AES-GCM plaintext, want %d", t.label, len(pt), len(sealed)-GCMOverhead)
		}
		out = pt
		return nil
	})
	var df *decryptFailure
	if errors.As(err, &df) {
		return nil, ErrDecrypt
	}
	if err != nil {
		return nil, t.keyErr(k, err)
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// tokenFault reports whether a C_Decrypt failure is the token's (or the
// session's) rather than the ciphertext's. Tokens report a GCM tag mismatch
// in different ways: CKR_ENCRYPTED_DATA_INVALID as the standard says, but
// SoftHSM2 returns CKR_GENERAL_ERROR and others CKR_FUNCTION_FAILED. So every
// code not listed here counts as "does not authenticate".
func tokenFault(c uint) bool {
	switch c {
	case pkcs11.CKR_HOST_MEMORY, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_DEVICE_MEMORY,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_COUNT,
		pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
		pkcs11.CKR_OPERATION_NOT_INITIALIZED, pkcs11.CKR_OPERATION_ACTIVE,
		pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID,
		pkcs11.CKR_FUNCTION_CANCELED, pkcs11.CKR_FUNCTION_NOT_SUPPORTED:
		return true
	}
	return false
}

// decryptFailure carries a failed authentication through release (which
// closes the session, as C_Decrypt's failure may leave it in any state) to
// DecryptGCM, which returns ErrDecrypt.
type decryptFailure struct{ err error }

func (d *decryptFailure) Error() string { return d.err.Error() }
func (d *decryptFailure) Unwrap() error { return d.err }

// Random returns n bytes (1 to MaxRandomSize) from the token's random
// number generator (C_GenerateRandom).
func (t *Token) Random(ctx context.Context, n int) ([]byte, error) {
	if n < 1 || n > MaxRandomSize {
		return nil, fmt.Errorf("%w: Random(%d): want 1 to %d bytes", ErrInput, n, MaxRandomSize)
	}
	var out []byte
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		b, err := t.mod.ctx.GenerateRandom(sh, n)
		if err != nil {
			return ckrError("C_GenerateRandom", err)
		}
		if len(b) != n {
			return fmt.Errorf("hsm: token %q returned %d random bytes, want %d", t.label, len(b), n)
		}
		out = b
		return nil
	})
	return out, err
}

// KeyAttributes reads k's security attributes from the token.
func (t *Token) KeyAttributes(ctx context.Context, k Key) (Attributes, error) {
	if err := t.checkKey(k); err != nil {
		return Attributes{}, err
	}
	var a Attributes
	err := t.with(ctx, func(sh pkcs11.SessionHandle) error {
		types := []uint{
			pkcs11.CKA_TOKEN, pkcs11.CKA_PRIVATE, pkcs11.CKA_SENSITIVE, pkcs11.CKA_EXTRACTABLE,
			pkcs11.CKA_ALWAYS_SENSITIVE, pkcs11.CKA_NEVER_EXTRACTABLE, pkcs11.CKA_VALUE_LEN,
		}
		tmpl := make([]*pkcs11.Attribute, len(types))
		for i, typ := range types {
			tmpl[i] = pkcs11.NewAttribute(typ, nil)
		}
		got, err := t.mod.ctx.GetAttributeValue(sh, pkcs11.ObjectHandle(k.handle), tmpl)
		if err != nil {
			return ckrError("C_GetAttributeValue", err)
		}
		bools := []*bool{&a.Token, &a.Private, &a.Sensitive, &a.Extractable, &a.AlwaysSensitive, &a.NeverExtractable}
		for i, p := range bools {
			v := got[i].Value
			if len(v) != 1 {
				return fmt.Errorf("hsm: token %q returned a %d-byte CK_BBOOL for attribute 0x%X", t.label, len(v), types[i])
			}
			*p = v[0] != 0
		}
		n, err := ulong(got[len(bools)].Value)
		if err != nil {
			return fmt.Errorf("hsm: token %q: CKA_VALUE_LEN: %w", t.label, err)
		}
		a.ValueLen = int(n)
		return nil
	})
	return a, t.keyErr(k, err)
}

// ulong decodes a CK_ULONG in the machine's byte order.
func ulong(b []byte) (uint64, error) {
	switch len(b) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(b)), nil
	case 8:
		return binary.NativeEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("a CK_ULONG of %d bytes", len(b))
}
