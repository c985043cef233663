package keymaterial

import "testing"

func benchmarkSign(b *testing.B, spec KeySpec, alg SigningAlgorithm, mt MessageType) {
	k := testKey(b, spec)
	msg := messageFor(alg, mt)
	if mt == Raw {
		msg = make([]byte, 1024)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(alg, mt, msg, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkVerify(b *testing.B, spec KeySpec, alg SigningAlgorithm) {
	k := testKey(b, spec)
	msg := make([]byte, 1024)
	sig, err := k.Sign(alg, Raw, msg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := k.Verify(alg, Raw, msg, sig); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkSignECCNISTP256(b *testing.B) { benchmarkSign(b, ECCNISTP256, ECDSASHA256, Raw) }
func BenchmarkSignRSA2048PSS(b *testing.B)  { benchmarkSign(b, RSA2048, RSASSAPSSSHA256, Raw) }
func BenchmarkSignRSA2048PKCS1(b *testing.B) {
	benchmarkSign(b, RSA2048, RSASSAPKCS1V15SHA256, Raw)
}
func BenchmarkSignMLDSA65(b *testing.B)       { benchmarkSign(b, MLDSA65, MLDSASHAKE256, Raw) }
func BenchmarkVerifyECCNISTP256(b *testing.B) { benchmarkVerify(b, ECCNISTP256, ECDSASHA256) }
func BenchmarkVerifyRSA2048PSS(b *testing.B)  { benchmarkVerify(b, RSA2048, RSASSAPSSSHA256) }
func BenchmarkVerifyMLDSA65(b *testing.B)     { benchmarkVerify(b, MLDSA65, MLDSASHAKE256) }

// BenchmarkSignMLDSA65ExternalMu signs a 64-byte μ: internal/mldsa's
// SignMu from the key's skEncode form, hedged.
func BenchmarkSignMLDSA65ExternalMu(b *testing.B) {
	benchmarkSign(b, MLDSA65, MLDSASHAKE256, ExternalMu)
}

func BenchmarkMACHMAC256(b *testing.B) {
	k := testKey(b, HMAC256)
	msg := make([]byte, 1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.MAC(HMACSHA256, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMACHMAC256(b *testing.B) {
	k := testKey(b, HMAC256)
	msg := make([]byte, 1024)
	mac, _ := k.MAC(HMACSHA256, msg)
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := k.VerifyMAC(HMACSHA256, msg, mac); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkDeriveSharedSecretP256(b *testing.B) {
	k := testKey(b, ECCNISTP256)
	peer, _ := Generate(ECCNISTP256, nil)
	der, _ := peer.PublicKeyDER()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.DeriveSharedSecret(ECDH, der); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePrivateMLDSA65(b *testing.B) {
	der, _ := testKey(b, MLDSA65).MarshalPrivate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePrivate(MLDSA65, der); err != nil {
			b.Fatal(err)
		}
	}
}
