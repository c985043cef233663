//go:build cgo

package hsm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 module is initialised once per process (C_Initialize), and the
// login state of a token is shared by every session the process has on it.
// Two Tokens for the same module (or the same token) in one process must
// therefore share one initialised module and one login, counted by
// references. This table is that sharing; it is not a registry of backends.
var modules = struct {
	sync.Mutex
	byPath map[string]*module
}{byPath: make(map[string]*module)}

// module is one loaded and initialised PKCS#11 library. Its fields other
// than ctx and path are guarded by modules.Mutex.
type module struct {
	ctx       *pkcs11.Ctx
	path      string // canonical path, the key in modules.byPath
	refs      int
	finalize  bool                // we initialised it, so we finalize it
	pinMACKey []byte              // random, for comparing PINs of shared logins
	slots     map[uint]*slotState // logged-in slots
}

// slotState is the process-wide login on one token. PKCS#11 logs the
// process out when its last session on the token closes, so the login is
// held by an anchor session that no operation uses; the pool's sessions can
// then be closed and reopened freely.
type slotState struct {
	anchor pkcs11.SessionHandle
	refs   int
	pinMAC []byte     // HMAC-SHA256(pinMACKey, PIN) of the PIN that logged in
	genMu  sync.Mutex // serialises GenerateAESKey's check-then-create
}

// loadModule returns the shared module for path, loading and initialising
// it on first use.
func loadModule(path string) (*module, error) {
	canon, err := canonicalModulePath(path)
	if err != nil {
		return nil, err
	}
	modules.Lock()
	defer modules.Unlock()
	if m := modules.byPath[canon]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(canon)
	if ctx == nil {
		return nil, fmt.Errorf("%w: %s exists but cannot be loaded: it is not a shared library for this machine's architecture, or its own dependencies are missing (check with ldd); set the module path to the vendor's PKCS#11 library", ErrModule, path)
	}
	finalize := true
	if err := ctx.Initialize(); err != nil {
		if code(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			ctx.Destroy()
			return nil, fmt.Errorf("%w: %s: initialisation failed; check the module's own configuration (for SoftHSM2: SOFTHSM2_CONF and its token directory): %w", ErrModule, path, ckrError("C_Initialize", err))
		}
		finalize = false // someone else in this process owns it
	}
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	m := &module{ctx: ctx, path: canon, refs: 1, finalize: finalize, pinMACKey: key, slots: make(map[uint]*slotState)}
	modules.byPath[canon] = m
	return m, nil
}

// release drops one reference to m, finalizing and unloading it with the
// last.
func (m *module) release() {
	modules.Lock()
	defer modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(modules.byPath, m.path)
	if m.finalize {
		m.ctx.Finalize() // nothing useful to do with an error here
	}
	m.ctx.Destroy()
}

// canonicalModulePath resolves symlinks so that two spellings of one
// library share one module, and turns a missing file into an error that
// says what to fix.
func canonicalModulePath(path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		hint := "install the vendor's PKCS#11 library, or correct the path"
		if strings.Contains(strings.ToLower(path), "softhsm") {
			hint = "install SoftHSM2 (Debian: apt-get install softhsm2; the module is /usr/lib/softhsm/libsofthsm2.so), or run scripts/softhsm-setup.sh"
		}
		return "", fmt.Errorf("%w: %s does not exist: %s", ErrModule, path, hint)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModule, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file; set the module path to the vendor's PKCS#11 library (a .so file)", ErrModule, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModule, err)
	}
	canon, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrModule, err)
	}
	return canon, nil
}

// findSlot returns the slot of the one initialised token labelled label.
func (m *module) findSlot(label, modulePath string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrTokenNotFound, ckrError("C_GetSlotList", err))
	}
	var found []uint
	var others []string
	for _, s := range slots {
		info, err := m.ctx.GetTokenInfo(s)
		if err != nil {
			continue // a slot that cannot describe itself is not ours
		}
		if info.Label == label {
			found = append(found, s)
			if info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
				return 0, fmt.Errorf("%w: token %q in %s is not initialised; initialise it with the vendor's tool (SoftHSM2: softhsm2-util --init-token)", ErrTokenNotFound, label, modulePath)
			}
			if info.Flags&pkcs11.CKF_USER_PIN_INITIALIZED == 0 {
				return 0, fmt.Errorf("%w: token %q has no user PIN yet; set one with the vendor's tool", ErrPINLocked, label)
			}
			if info.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0 {
				return 0, fmt.Errorf("%w: the user PIN of token %q is locked after too many wrong PINs; the security officer must unlock it (reset the user PIN) before openkms can log in", ErrPINLocked, label)
			}
		} else if info.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0 {
			others = append(others, fmt.Sprintf("%q", info.Label))
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		present := "no initialised tokens"
		if len(others) > 0 {
			present = "tokens present: " + strings.Join(others, ", ")
		}
		return 0, fmt.Errorf("%w: no token labelled %q in %s (%s); correct the token label, or initialise the token (SoftHSM2: check SOFTHSM2_CONF points at the right token directory)", ErrTokenNotFound, label, modulePath, present)
	default:
		return 0, fmt.Errorf("%w: %d tokens are labelled %q in %s; give each token a unique label", ErrTokenNotFound, len(found), label, modulePath)
	}
}

// login logs the process in to slot through a new anchor session, or joins
// the login another Token of this process already made with the same PIN.
func (m *module) login(slot uint, label, pin string) (*slotState, error) {
	mac := hmac.New(sha256.New, m.pinMACKey)
	mac.Write([]byte(pin))
	pinMAC := mac.Sum(nil)

	modules.Lock()
	defer modules.Unlock()
	if st := m.slots[slot]; st != nil {
		if !hmac.Equal(st.pinMAC, pinMAC) {
			// The token is already logged in for this process, so it cannot
			// check this PIN; refuse rather than accept an unchecked PIN.
			return nil, fmt.Errorf("%w: token %q is already logged in by this process with a different PIN; check the configured PIN", ErrPINIncorrect, label)
		}
		st.refs++
		return st, nil
	}
	sh, err := m.ctx.OpenSession(slot, sessionFlags)
	if err != nil {
		return nil, fmt.Errorf("hsm: open a session on token %q: %w", label, ckrError("C_OpenSession", err))
	}
	err = m.ctx.Login(sh, pkcs11.CKU_USER, pin)
	if c := code(err); c != pkcs11.CKR_OK && c != pkcs11.CKR_USER_ALREADY_LOGGED_IN {
		m.ctx.CloseSession(sh)
	}
	switch code(err) {
	case pkcs11.CKR_OK, pkcs11.CKR_USER_ALREADY_LOGGED_IN:
	case pkcs11.CKR_PIN_INCORRECT:
		return nil, fmt.Errorf("%w: token %q rejected the PIN; check the configured PIN (each wrong try counts towards locking the token): %w", ErrPINIncorrect, label, ckrError("C_Login", err))
	case pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED:
		return nil, fmt.Errorf("%w: the user PIN of token %q is locked or expired; the security officer must reset it: %w", ErrPINLocked, label, ckrError("C_Login", err))
	case pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID:
		return nil, fmt.Errorf("%w: token %q rejected the PIN as malformed (wrong length or characters); check the configured PIN: %w", ErrPINIncorrect, label, ckrError("C_Login", err))
	default:
		return nil, fmt.Errorf("hsm: log in to token %q: %w", label, ckrError("C_Login", err))
	}
	st := &slotState{anchor: sh, refs: 1, pinMAC: pinMAC}
	m.slots[slot] = st
	return st, nil
}

// logout drops one reference to st. With the last, it logs out and closes
// the anchor session.
func (m *module) logout(slot uint, st *slotState) {
	modules.Lock()
	defer modules.Unlock()
	st.refs--
	if st.refs > 0 {
		return
	}
	delete(m.slots, slot)
	m.ctx.Logout(st.anchor)       // errors: the session is gone, so is the login
	m.ctx.CloseSession(st.anchor) // (idem)
}

// code returns the CK_RV of a pkcs11 error, CKR_OK for nil, and
// CKR_GENERAL_ERROR for anything else.
func code(err error) uint {
	if err == nil {
		return pkcs11.CKR_OK
	}
	var e pkcs11.Error
	if errors.As(err, &e) {
		return uint(e)
	}
	return pkcs11.CKR_GENERAL_ERROR
}

// ckrError turns a pkcs11 error into an *Error naming fn. It returns nil
// for nil.
func ckrError(fn string, err error) error {
	if err == nil {
		return nil
	}
	c := code(err)
	return &Error{Func: fn, Code: c, Name: ckrName(c)}
}

// ckrName returns the CKR_ constant for c.
func ckrName(c uint) string {
	if c >= pkcs11.CKR_VENDOR_DEFINED {
		return fmt.Sprintf("CKR_VENDOR_DEFINED+0x%X", c-pkcs11.CKR_VENDOR_DEFINED)
	}
	// pkcs11.Error formats as "pkcs11: 0x<hex>: <name>", the name empty
	// when unknown.
	s := pkcs11.Error(c).Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s[i+2:], "CKR_") {
		return s[i+2:]
	}
	return fmt.Sprintf("CKR_0x%X", c)
}
