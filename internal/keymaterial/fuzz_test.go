package keymaterial

// Fuzzers for every entry point that takes attacker-controlled bytes:
// private and public key DER, signatures, ciphertexts and peer public keys.
// None may panic (the package's panic guards re-panic under test, see
// init), and every error must be an *Error with a Kind.

import (
	"errors"
	"testing"
)

func init() {
	recoveredPanic = func(r any) { panic(r) }
}

// fuzzSpecs are the specs the fuzzers use (RSA_2048 stands for RSA: larger
// keys take seconds to generate in each fuzz worker).
var fuzzSpecs = []KeySpec{RSA2048, ECCNISTP256, ECCNISTP384, ECCNISTP521, ECCSECGP256K1,
	ECCNISTEdwards25519, MLDSA44, MLDSA65, MLDSA87, HMAC256, SM2}

func pick[T any](xs []T, b byte) T { return xs[int(b)%len(xs)] }

func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if err != nil && (!errors.As(err, &e) || e.Kind == KindUnknown) {
		t.Fatalf("error without a Kind: %v", err)
	}
}

func FuzzParsePrivate(f *testing.F) {
	for i, spec := range fuzzSpecs {
		der, _ := testKey(f, spec).MarshalPrivate()
		f.Add(byte(i), der)
	}
	f.Add(byte(0), unhex(f, wycheproofRSAPrivatePKCS8))
	f.Fuzz(func(t *testing.T, s byte, der []byte) {
		spec := pick(fuzzSpecs, s)
		k, err := ParsePrivate(spec, der)
		checkErr(t, err)
		if err != nil {
			return
		}
		out, err := k.MarshalPrivate()
		if err != nil {
			t.Fatalf("MarshalPrivate of a parsed key: %v", err)
		}
		if _, err := ParsePrivate(spec, out); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	for i, spec := range fuzzSpecs {
		if der, err := testKey(f, spec).PublicKeyDER(); err == nil {
			f.Add(byte(i), der)
		}
	}
	for _, c := range wycheproofECDH {
		f.Add(byte(1), unhex(f, c.public))
	}
	f.Fuzz(func(t *testing.T, s byte, der []byte) {
		spec := pick(fuzzSpecs, s)
		p, err := ParsePublicKey(spec, der)
		checkErr(t, err)
		if err == nil && p.Spec() != spec {
			t.Fatal("spec mismatch")
		}
	})
}

func FuzzVerify(f *testing.F) {
	for i, spec := range fuzzSpecs {
		k := testKey(f, spec)
		algs := AlgorithmsFor(spec, SignVerify).Signing
		if len(algs) == 0 {
			continue
		}
		for j, alg := range SigningAlgorithms() {
			if alg != algs[0] {
				continue
			}
			mt := MessageTypesFor(alg)[0]
			msg := messageFor(alg, mt)
			sig, _ := k.Sign(alg, mt, msg, nil)
			f.Add(byte(i), byte(j), byte(mt-1), msg, sig)
		}
	}
	for _, c := range wycheproofECDSA[wycheproofECDSAKey2] {
		f.Add(byte(1), byte(6), byte(0), unhex(f, c.msg), unhex(f, c.sig))
	}
	f.Fuzz(func(t *testing.T, s, a, m byte, msg, sig []byte) {
		k := testKey(t, pick(fuzzSpecs, s))
		alg := pick(SigningAlgorithms(), a)
		mt := pick(MessageTypes(), m)
		_, err := k.Verify(alg, mt, msg, sig)
		checkErr(t, err)
	})
}

func FuzzDecrypt(f *testing.F) {
	specs := []KeySpec{RSA2048, SM2}
	for i, spec := range specs {
		k := testKey(f, spec)
		alg := AlgorithmsFor(spec, EncryptDecrypt).Encryption[0]
		ct, _ := k.Encrypt(alg, []byte("plaintext"), nil)
		f.Add(byte(i), ct)
	}
	f.Fuzz(func(t *testing.T, s byte, ct []byte) {
		spec := pick(specs, s)
		k := testKey(t, spec)
		for _, alg := range AlgorithmsFor(spec, EncryptDecrypt).Encryption {
			if _, err := k.Decrypt(alg, ct); err != nil && !isDecryptionError(err) {
				t.Fatalf("Decrypt error is not the opaque error: %v", err)
			}
		}
	})
}

func FuzzDeriveSharedSecret(f *testing.F) {
	specs := []KeySpec{ECCNISTP256, ECCNISTP521, SM2}
	for i, spec := range specs {
		der, _ := testKey(f, spec).PublicKeyDER()
		f.Add(byte(i), der)
	}
	for _, c := range wycheproofECDH {
		f.Add(byte(0), unhex(f, c.public))
	}
	f.Fuzz(func(t *testing.T, s byte, peer []byte) {
		k := testKey(t, pick(specs, s))
		secret, err := k.DeriveSharedSecret(ECDH, peer)
		checkErr(t, err)
		if err == nil && len(secret) == 0 {
			t.Fatal("empty secret")
		}
	})
}
