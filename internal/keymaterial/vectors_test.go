package keymaterial

// External test vectors: RFC 8032 (Ed25519, Ed25519ph), RFC 4231 (HMAC),
// Wycheproof (ECDSA P-256, RSA-PSS, RSA-OAEP, ECDH P-256) and NIST ACVP
// (ML-DSA keyGen and sigVer). Sources are cited per table; values are copied
// verbatim.

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

func ed25519Key(t *testing.T, seedHex string) *Key {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(unhex(t, seedHex)))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivate(ECCNISTEdwards25519, der)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RFC 8032, Section 7.1, TEST 1-3 (Ed25519).
func TestRFC8032Ed25519(t *testing.T) {
	vectors := []struct{ name, seed, pub, msg, sig string }{
		{"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
		{"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
		{"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			k := ed25519Key(t, v.seed)
			der, _ := k.PublicKeyDER()
			if got := hex.EncodeToString(der[12:]); got != v.pub {
				t.Errorf("public key = %s, want %s", got, v.pub)
			}
			sig, err := k.Sign(ED25519SHA512, Raw, unhex(t, v.msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(sig); got != v.sig {
				t.Errorf("signature = %s, want %s", got, v.sig)
			}
			pub, err := ParsePublicKey(ECCNISTEdwards25519, der)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := pub.Verify(ED25519SHA512, Raw, unhex(t, v.msg), unhex(t, v.sig)); !ok || err != nil {
				t.Errorf("Verify = %v, %v; want true", ok, err)
			}
		})
	}
}

// RFC 8032, Section 7.3, TEST abc (Ed25519ph). The message "abc" is shorter
// than the 64-byte DIGEST that ED25519_PH_SHA_512 takes through the AWS
// API, so the vector checks the primitive Sign and Verify use (ed25519ph +
// the standard library's Ed25519ph) directly.
func TestRFC8032Ed25519ph(t *testing.T) {
	k := ed25519Key(t, "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
	if got := hex.EncodeToString(k.pub.ed); got != "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf" {
		t.Fatalf("public key = %s", got)
	}
	const want = "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
	sig, err := k.ed.Sign(nil, ed25519ph([]byte("abc")), &ed25519.Options{Hash: crypto.SHA512})
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sig); got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
	// Through the API: a 64-byte input is prehashed once more, so the
	// signature of input d is the RFC 8032 Ed25519ph signature of message d.
	d := bytes.Repeat([]byte{0xab}, 64)
	apiSig, err := k.Sign(ED25519PHSHA512, Digest, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	refSig, _ := k.ed.Sign(nil, ed25519ph(d), &ed25519.Options{Hash: crypto.SHA512})
	if !bytes.Equal(apiSig, refSig) {
		t.Error("API Ed25519ph signature differs from the RFC 8032 construction")
	}
}

// RFC 4231, Section 4, test cases 1-4. The keys are shorter than the HMAC
// key sizes ParsePrivate accepts, so the vectors check the primitive MAC
// uses; the API path is checked against crypto/hmac in TestMAC.
func TestRFC4231(t *testing.T) {
	vectors := []struct {
		key, data string
		alg       MacAlgorithm
		mac       string
	}{
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", HMACSHA224, "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", HMACSHA256, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", HMACSHA384, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", HMACSHA512, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", HMACSHA224, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", HMACSHA256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", HMACSHA384, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", HMACSHA512, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", hex.EncodeToString(bytes.Repeat([]byte{0xdd}, 50)), HMACSHA256, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"0102030405060708090a0b0c0d0e0f10111213141516171819", hex.EncodeToString(bytes.Repeat([]byte{0xcd}, 50)), HMACSHA256, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	}
	for i, v := range vectors {
		if got := hex.EncodeToString(hmacSum(v.alg, unhex(t, v.key), unhex(t, v.data))); got != v.mac {
			t.Errorf("case %d %s: got %s, want %s", i, v.alg, got, v.mac)
		}
	}
}

type wycheproofCase struct {
	tcID   int
	msg    string
	sig    string // or ciphertext
	result string // valid, invalid, acceptable
}

// Wycheproof testvectors_v1/ecdsa_secp256r1_sha256_test.json (C2SP/wycheproof),
// groups 1 and 2.
const (
	wycheproofECDSAKey1 = "3059301306072a8648ce3d020106082a8648ce3d0301070342000404aaec73635726f213fb8a9e64da3b8632e41495a944d0045b522eba7240fad587d9315798aaa3a5ba01775787ced05eaaf7b4e09fc81d6d1aa546e8365d525d"
	wycheproofECDSAKey2 = "3059301306072a8648ce3d020106082a8648ce3d030107034200042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e"
)

var wycheproofECDSA = map[string][]wycheproofCase{
	wycheproofECDSAKey1: {
		{1, "", "3045022100b292a619339f6e567a305c951c0dcbcc42d16e47f219f9e98e76e09d8770b34a02200177e60492c5a8242f76f07bfe3661bde59ec2a17ce5bd2dab2abebdf89a62e2", "valid"},
		{2, "4d7367", "30450220530bd6b0c9af2d69ba897f6b5fb59695cfbf33afe66dbadcf5b8d2a2a6538e23022100d85e489cb7a161fd55ededcedbf4cc0c0987e3e3f0f242cae934c72caa3f43e9", "valid"},
	},
	wycheproofECDSAKey2: {
		{5, "313233343030", "304402202ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e1802204cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76", "valid"},
		{6, "313233343030", "304402202ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e180220b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db", "invalid"},
		{7, "313233343030", "304502202ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18022100b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db", "valid"},
		{8, "313233343030", "30814502202ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18022100b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db", "invalid"},
		{163, "313233343030", "30460221ff4cd60b865d442f5a3c7b11eb6c4e0ae79578ec6353a20bf783ecb4b6ea97b825022100b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db", "invalid"},
		{165, "313233343030", "3046022101b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db022100b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db", "invalid"},
		{168, "313233343030", "3006020100020100", "invalid"},
		{195, "313233343030", "3046022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", "invalid"},
	},
}

func TestWycheproofECDSAP256(t *testing.T) {
	for keyDER, cases := range wycheproofECDSA {
		pub, err := ParsePublicKey(ECCNISTP256, unhex(t, keyDER))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			ok, err := pub.Verify(ECDSASHA256, Raw, unhex(t, c.msg), unhex(t, c.sig))
			if err != nil || ok != (c.result == "valid") {
				t.Errorf("tcId %d: Verify = %v, %v; want %s", c.tcID, ok, err, c.result)
			}
		}
	}
}

// Wycheproof testvectors_v1/rsa_pss_2048_sha256_mgf1_32_test.json: SHA-256,
// MGF1-SHA-256, 32-byte salt — exactly RSASSA_PSS_SHA_256.
const wycheproofPSSKey = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d50203010001"

var wycheproofPSS = []wycheproofCase{
	{1, "", "4f01e0c12b08625ecac89a69231906edf826380f37c959a96690d046316d68ffce9d5c471694fcebfc6b45534864689256e4fc81c78e583f675d0c94b449647451e81beff01a11a516d5e5ce3f1a910437cb8a3a5096b19fb15f4524a35b23d89cdba12cf5b71aac1047b28c562df7c5542c34ce23a182cf7e0e231934b17294799d44877a1d68ef1b8f073619b7618e6b7c22db20030d98cf591ffc3d4da5f58613ecd5ecfc3b40a1d02f40891ca43695cd4c088b05a8054c89c595a47e274816f35384226f74459ee63e25a1bfc03c360490552ec38343f8ace502f065303b00bc0ec320711b211fde92e57feb9013c3609342495ec0d7cabdec21e54acc38", "valid"},
	{4, "313233343030", "68caf07e71ee654ffabf07d342fc4059deb4f7e5970746c423b1e8f668d5332275cc35eb61270aebd27855b1e80d59def47fe8882867fd33c2308c91976baa0b1df952caa78db4828ab81e79949bf145cbdfd1c4987ed036f81e8442081016f20fa4b587574884ca6f6045959ce3501ae7c02b1902ec1d241ef28dee356c0d30d28a950f1fbc683ee7d9aad26b048c13426fe3975d5638afeb5b9c1a99d162d3a5810e8b074d7a2eae2be52b577151f76e1f734b0a956ef4f22be64dc20a81ad1316e4f79dff5fc41fc08a20bc612283a88415d41595bfea66d59de7ac12e230f72244ad9905aef0ead3fa41ed70bf4218863d5f041292f2d14ce0a7271c6d36", "valid"},
	{70, "313233343030", "5d8c3644e0e18da9d81ba3fd33436e4379d3c3fa8127b41f2eb901836b31a78f0954d3287d452887ee3a285701a920b0f6fb8da0e017c7bcbe59cb9bf5d5aacb1032cdc4ddd85492c0638519a4694f686e77305d138b9d3491460f408abb8abfd7e3622aff5a4a96b383ff87560e9be962aa4696be3668645e6a43b460b18c93af0578a8de3b4d2fc657376c7ec9a23c473a81ac57da1262b47204c13f5befc0ce2b4339b83999cbedafa334ddc73624eae8b7002c082d8ca7064b6963b443ae32b2a16fcdb4ad5e8c9b8073305ac4c14fe0c29514320d09b6e48ddea9f3e02cf3273f5cb5871a0bb81a935606b7fe56bebe410c5afea5a8af3c426b72cd291a", "invalid"},
	{71, "313233343030", "563e94111eade9526d1f2e93da16ee171273291abfb90aeb94ae7b95f16395949ef3d3f0994852de035cebf8cd002b76579d0758325c6750ffc917be419174d255a2b798ce287f6240a97d4fcae47e88308658898ce37407e9684caca197c46ec9f66a0ba4e8aecf6a7ae749304fddf1ec4155a17de5d01117a3cbf2a34fa77d0556a39451b697c869e6fab3283541816bd6c7520b5eb0ee6b592a19331ffcccdcaa403f4f25e732a847ff260ec40ecfb52abc6f65f95d21715acd2c0dadb23d7e1c0fa8cac3e60c6f19b430f9c252ce1f392cd2f7bc87a4be0a4dc0b7f909afa7c25ed1b5be611bf86a648592786385f02c345eaedd03c4b0bb5bb758254d9d", "invalid"},
	{73, "313233343030", "1591ae743c58ceb723a76f502e21ff6a65c24cabf5f527bab5a6f2a69f20c776fd2251e43ad22e09b1486ceb1935b2dc2ade95e233f296cc0e5a8af8109659be76b6bfdf37e14837fd6c34bfed1f19ec9d21f974b984fe4d4773896ebcc7fb862fd641cd0d77178485c70c2d68b4d9be1d863f6f254b77991fc9053f5d5415d1aa74ba9067e2e6607fb651638c9cc0430a40c9b691977b557a31d95a290a95b56ef2ec8e4313686a9c5ef48235912b210fdd2c50aafac28131104c795c42ae75810b0284b2d257e81ecac4240622ebc261ab8bceeeebe80f1cfa70f18d782aebb97d803ea3a895be541be6941df103eaaabd870848bfaf58cdaf6cecdd5a10bf", "valid"},
	{75, "313233343030", "37487b948dac95a1e57bf1ac40888b8e074cf9db9c9825e7b7267d3b105a8c67cb9b33c0e5fd641836798f41b8b1f024b13243da4fa5e527098337e5cac41e0523a28fb135ae060e7c1e4eb9556222bc43bf1659f65a2a2db108ac9b7c9942a5658fcbca5622c115e34ead883ea4ef03f7f62990f282fa791b04489053771329a482467cba8a13ad98f27ff7b61c24a452e085d432130b7259e59b2866e55320119b21e3c706f3596ec174517c43cdbe957e012b573961b1fa925373945ab3209a1007d197e1e9301dd0afa485acf6643ba0587a69f7c44bdf1e53c32f05a3b96db0c462509c292d7de09a6c78ebf1131453d37ab037176011296730f57cda97", "invalid"},
	{85, "313233343030", "83d3f4b18d2653189572e75e9b4464292ca649591a82b1569ce13838c245da67371b1ea78e4215eba8de713411ff060a980405f0bad99546989153017a380f9c7b566500fdd5a15830eb0c5f4723e341391268933a41311e9832b340efbc2cffb4baa9c5dd47783eac81a41e3d6336572d38b034dfe5ef4b94e5c3f903cf3e8e0a3c2c59cfd13f99f696b0fbfe71368cda5a1d28bad1af3c8976e3f6c1bac08707d2684f6d55c2ed4b433c9efde91b206e0842e534be7e88fa219763b960d9d5a43a479990aa9732661693b9e4da89a7bb5dda878ae43f5e1a11944f7a5c6efad600ddd13a148c1fc8fd2574b9667342c73f2a8b96511a5f75cb1ce486b9df81", "invalid"},
}

func TestWycheproofRSAPSS(t *testing.T) {
	pub, err := ParsePublicKey(RSA2048, unhex(t, wycheproofPSSKey))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range wycheproofPSS {
		ok, err := pub.Verify(RSASSAPSSSHA256, Raw, unhex(t, c.msg), unhex(t, c.sig))
		if err != nil || ok != (c.result == "valid") {
			t.Errorf("tcId %d: Verify = %v, %v; want %s", c.tcID, ok, err, c.result)
		}
		d := sha256.Sum256(unhex(t, c.msg))
		if ok2, _ := pub.Verify(RSASSAPSSSHA256, Digest, d[:], unhex(t, c.sig)); ok2 != ok {
			t.Errorf("tcId %d: DIGEST verification disagrees with RAW", c.tcID)
		}
	}
}

// Wycheproof testvectors_v1/rsa_oaep_2048_sha256_mgf1sha256_test.json
// (privateKeyPkcs8 of the group; the same key as the PSS vectors): OAEP with
// SHA-256 for the hash and MGF1 and an empty label — RSAES_OAEP_SHA_256.
const wycheproofRSAPrivatePKCS8 = "308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d502030100010282010024cdc62317f5d72a6f6ba6cc9632899b01d1ff28867d72f61688995bc855a4e420a8405250089bdb13cf8e09543827b748b9d27fbb2b4d9e20af8c5a6a862796d1a4cc18ad16ea678bc1bd4a83bbbe9c5e57453b5ce7388e41a3ba4ce2b77b4438a229e954f720dae0353dc088ac8a76b26dc276f8e1b7851ddd6398ad16ff2e78195123b9b036e945c38c9d12434f6df76fe22359eb3e1ac9c011678fc926fad3ae475a4fffff55feb2d147e9c894f4c0e29a599e762462482d968bf42780945fc0d2c31c573c4431b8f4fe8b8c67bec815abd44f7a86edca1c2308737358d2c2ae5e2e0e2dadf730980262377e58b13b7d9992060a0bc870ccfdb4a9319ee102818100dc431050f782e894fb5248247d98cb7d58b8d1e24f3b55d041c56e4de086b0d5bb028bda42eeb5d234d5681e5809d415e6a289ad4cfbf78f978f6c35814f50eebff1c5b80a69f788e81e6bab5ddaa78369d659d143ec6f17e79813a575cfad9c569156b90113e2e9110ad9e7b48a1c9348a6e653321191290ea36cfb3a5b18f102818100bd1a81e7977f9898122273ae3222b598ea5fb19eb4eabc38308a5e32196603b2e500ffb79f5b886816611debc472fac45544070beb057c941378a6868af3b7a03d3f9880ec47d5e089b94fbde542aba9ae8d72c57088d7abf5b131f39098f7bc160f90536abc9492fd4e06f3ed7299d4b97bb03677207d95669f140cfbc20f2502818100a94b528b28f291599121d91952ffd1c7f21d7c1479d99d478885fb161870ee1218bf08472612dbe5497e8d9c650688e09c786961ae3e2c354dc48ae34514759c4c23c4588488961dc06b414e61c0e1e7fbbd2923d31532fe289f96da220711e58c14019808e00414276933bb07e4efb9b4a9b37656917205209f33f09515d7c10281803af0e72a933aef09ff2503df78bafed531c02ff1a2bc437c540cdcbd4ad35435cf511763596543480629b114ca7f780ff7efa32ea0cb6e000d6d9ea1f2ef71fd9cf9948422a165557e37e755edfe70d90b920502eb478bc98a63f788ce3a0f856d6ede7251a383bfa8fa480a81a925af7b3cc538c4bab8c9f7597ffb68011d8d0281802640fbfbcfefb163ee7a87b6483a66ee41f956d90fa8a7939bfc042ee0924b1b7993d0445f758d51933e85179c0320b0c968b48a91c38b5be923e1097c0c562f88d42294b6a2759bafa5428a74f1270874e45f6fcc60f21602de5eccd143cf31241f5921b5ad3983fb54ef17be3b285367e50c999c67247b552fe4bfce945f7b"

var wycheproofOAEP = []wycheproofCase{
	{1, "", "6e62bf24d95aff6868afec2a92a445b6458f16f688c19fe1212f66a63137831653cedd359d8cff4dd485d77dfd55812c181373201f54aafd65730d2a304e623455d51125d891e65d97fce52341cae45fb64c38a384a1c621e2713ee6794633f029a9fd4d774f56551eac2176162e162640f25eab873a3451c475570f19228bcede4c67c370a75ed7fabccd538c9819eff182481b10d42f1a9f6a05373b8cf9b71818d467bd3b8ebacb619e8ad42916e600c043effceb3855bc48a629e60ae886f51b2a7876b0e623fb2ce68af4b039242f963adb0e4240aed0ed07f65f1ee7c0cc77d210d0c2d1dc10c81b881aa0c9c9e9499665cf2970d2ccfeeb3191531765", "valid"},
	{4, "313233343030", "0da290b0bf71a1141b2adc62b5b42b07fc52520cb05d1f39ccca7b7c22d379a6c2f2d93143d057050140527a1e5638243938b531ec3de7014b0151301e49b9fa433482a02abdfd94193dc9c70157e557776a69ded01ecbeac405133595c61165a428b6284729a4746b47d2bbaca9d7432c3b5693591cfee488eb3c68ddb6cde0dd61cfc6952423f994abecee34f5683732b29934a2c498ad48cdd30c149177189f48eefd9cc7232df18be11ff5f7e3af7319e3115997c599e2d8f7f4f663dcc40032d403436d3058a5ea66473660f0e195281ec6eba997d2a951ca6ca5f3c112715c89da1d3dfb20a21940594ed10ade90ed7452b753757d7241cb8a803c373a", "valid"},
	{21, "313233343030", "8e5f01ff0c1775870715fd0366a8748531f8b00803df35e0e2308db63bbec4eca4e093351876b794213b904e5dde284a82d74abfcbfff94bc9a8300bea99edd07fe97d6e0b11219f85ac15acc404d37d3da16819a14a438f3f72f8178b312526232386e918a8a7e11fc38f4668c499a00480cf9d2d75aabc0198d3ba9ba345fba9105c6564df5f6ce796f14100d186abffe4d83d57969c1caddc7c7aa340b4d1bab23d9b3982278328ddebe648f5c52588738f3c56a88b3f34c890c03fafc27f485a17677a53e974dc1dd86f463a927f4328ac51bbc61705ae8abd7f45628957489e2defd8e043b955b118fb2a1c407d45893004aae0f945f06add1e45b41a03", "valid"},
	{19, "313233343030", "a166bf7b5c2cf1896c0b924a69233a0a585bd47ed7f2330654aa68806deb0ff68c6475050ab45c691bbbcc58dbc2f5c817729e8e195ebd39d48bd5e14977abae0829636831655917fb5a758fb43a8e505d6ce595f625970685f7ec81cb5592210f5d68c6e2e1ef26b4ef8c92bf44f077e1d5099f379cb8120ad185bf07877979ca81f251fb81be0ad3c14f4d7885fcec496f80033fd4279b6830a20cbdead27c0967e28d1e06ef4bd7ba89210ec0d696274a187dc2f13212f5adf06e9450eca398325cfda73431036ac21b087d373c9f575c941f8cb078961176e31859a61c49baf8ff4f817a11010448d6a0e40dcede1a5ac3befa4c6e9d9d67d8e8fd8b6de3", "invalid"},
	{23, "313233343030", "3f92a694661cae336cac7a3c5a6f67e0655d10218a64459739ab9664f2cec58978939512df621e6b92fe3429bb22c08b5103da648a7719e7e95a04e6b61601546955825d60f4c517619f851780ad17f1b8a955cf8c7f1a5e26ca4a0cc19cca751d0790d56e1140a4705e19274f638b7c16d9d3e423a7f787d02699235e3e9e4d543a954f9b1bce5411c8ebdcae86a4bb86c66818a0bab51a2b00383b318e53d95508bab1b19e388cd5a03cdceba0f7176c1782e19ef62cff69352d444b1ce0e1f339e96d8a65c07aa37f5f2cf33867f6c496e0da6cd79b3e2183b57064ce21a1b92072702e555a82cad75107fdfd8bd5e7ea5f119cfbbc1770e962fd0b781aff", "invalid"},
	{26, "313233343030", "a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf7820283f742b9d4", "invalid"},
	{29, "313233343030", "", "invalid"},
	{32, "313233343030", "a290b0bf71a1141b2adc62b5b42b07fc52520cb05d1f39ccca7b7c22d379a6c2f2d93143d057050140527a1e5638243938b531ec3de7014b0151301e49b9fa433482a02abdfd94193dc9c70157e557776a69ded01ecbeac405133595c61165a428b6284729a4746b47d2bbaca9d7432c3b5693591cfee488eb3c68ddb6cde0dd61cfc6952423f994abecee34f5683732b29934a2c498ad48cdd30c149177189f48eefd9cc7232df18be11ff5f7e3af7319e3115997c599e2d8f7f4f663dcc40032d403436d3058a5ea66473660f0e195281ec6eba997d2a951ca6ca5f3c112715c89da1d3dfb20a21940594ed10ade90ed7452b753757d7241cb8a803c373a", "invalid"},
}

func TestWycheproofRSAOAEP(t *testing.T) {
	k, err := ParsePrivate(RSA2048, unhex(t, wycheproofRSAPrivatePKCS8))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range wycheproofOAEP {
		pt, err := k.Decrypt(RSAESOAEPSHA256, unhex(t, c.sig))
		if c.result == "valid" {
			if err != nil || !bytes.Equal(pt, unhex(t, c.msg)) {
				t.Errorf("tcId %d: Decrypt = %x, %v; want %s", c.tcID, pt, err, c.msg)
			}
		} else if !isDecryptionError(err) {
			t.Errorf("tcId %d: Decrypt = %x, %v; want the opaque error", c.tcID, pt, err)
		}
	}
}

// Wycheproof testvectors_v1/ecdh_secp256r1_test.json (public keys as SPKI,
// private keys as scalars).
var wycheproofECDH = []struct {
	tcID                    int
	public, private, shared string
	result                  string
}{
	{1, "3059301306072a8648ce3d020106082a8648ce3d0301070342000462d5bd3372af75fe85a040715d0f502428e07046868b0bfdfa61d731afe44f26ac333a93a9e70a81cd5a95b5bf8d13990eb741c8c38872b4a07d275a014e30cf",
		"0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346", "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285", "valid"},
	{2, "3039301306072a8648ce3d020106082a8648ce3d0301070322000362d5bd3372af75fe85a040715d0f502428e07046868b0bfdfa61d731afe44f26",
		"0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346", "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285", "acceptable"},
	{3, "3059301306072a8648ce3d020106082a8648ce3d0301070342000458fd4168a87795603e2b04390285bdca6e57de6027fe211dd9d25e2212d29e62080d36bd224d7405509295eed02a17150e03b314f96da37445b0d1d29377d12c",
		"0a0d622a47e48f6bc1038ace438c6f528aa00ad2bd1da5f13ee46bf5f633d71a", "0000000000000000000000000000000000000000000000000000000000000000", "valid"},
	{4, "3059301306072a8648ce3d020106082a8648ce3d03010703420004a1ecc24bf0d0053d23f5fd80ddf1735a1925039dc1176c581a7e795163c8b9ba2cb5a4e4d5109f4527575e3137b83d79a9bcb3faeff90d2aca2bed71bb523e7e",
		"0a0d622a47e48f6bc1038ace438c6f528aa00ad2bd1da5f13ee46bf5f633d71a", "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc", "valid"},
	{364, "304e301006072a8648ce3d020106052b81040021033a0004074f56dc2ea648ef89c3b72e23bbd2da36f60243e4d2067b70604af1c2165cec2f86603d60c8a611d5b84ba3d91dfe1a480825bcc4af3bcf",
		"4f3414d1589b49f7172d439cbbe78e5b5350dc85dea40cd2d6274740c6e0239c", "", "invalid"},
	{367, "308201333081ec06072a8648ce3d02013081e0020101302c06072a8648ce3d0101022100ffffffff00000001000000000000000000000000ffffffffffffffffffffffff3044042084b73db8827e8b3be3e19999bfc0edbd1a8d7d4a769c98c908722ae616c2707504204b07e7fb93c8c70ac19473fb808237fd22283557803c4f9a40c7fc4451b5321a0441045496d929cd5407ffbb4511d623a153fb672a3842f13c31aa1c0279dc9812bcafc9198ab53fc4fa2b78e9743103402985880a15ea2246c3479ed617e419c29b83022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551020101034200045496d929cd5407ffbb4511d623a153fb672a3842f13c31aa1c0279dc9812bcaf36e67549c03b05d587168bcefcbfd67a77f5ea16ddb93cb86129e81be63d647c",
		"4f3414d1589b49f7172d439cbbe78e5b5350dc85dea40cd2d6274740c6e0239c", "", "invalid"},
	{369, "3076301006072a8648ce3d020106052b81040022036200041f17901e731b06f349b6e9d7d17d45e8a2b46115a47485be16197932db87b39405b5c941b36fd61b9ef7dd20878e129e55a2277099c601dcdb3747f80ad6e166116378e1ebce2c95744a0986128cfeeaac7f90b71787d9a1cfe417cd4c8f6af5",
		"b44f9670fedba887ad8e806226063e77604b27c362836326e93ecb7fcc6dc297", "", "invalid"},
	{371, "3056301006072a8648ce3d020106052b8104000a034200048028d16082b07696d4aa4aab9d6b1f1463435ac097900631108f9888e13da67c4841fd8dd3ced6e7ad8c6fc656621c2f93d3db0eb29d48d1423154519865dbc1",
		"b44f9670fedba887ad8e806226063e77604b27c362836326e93ecb7fcc6dc297", "", "invalid"},
}

func TestWycheproofECDHP256(t *testing.T) {
	for _, c := range wycheproofECDH {
		priv, err := ecdh.P256().NewPrivateKey(unhex(t, c.private))
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePrivate(ECCNISTP256, der)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := k.DeriveSharedSecret(ECDH, unhex(t, c.public))
		switch c.result {
		case "valid":
			if err != nil || hex.EncodeToString(secret) != c.shared {
				t.Errorf("tcId %d: secret = %x, %v; want %s", c.tcID, secret, err, c.shared)
			}
		case "invalid":
			if err == nil || KindOf(err) != KindValidation {
				t.Errorf("tcId %d: secret = %x, %v; want an error", c.tcID, secret, err)
			}
		case "acceptable": // compressed point: may be refused, must not be wrong
			if err == nil && hex.EncodeToString(secret) != c.shared {
				t.Errorf("tcId %d: secret = %x, want %s", c.tcID, secret, c.shared)
			}
		}
	}
}

type mldsaACVP struct {
	KeyGen []struct {
		TcID         int    `json:"tcId"`
		ParameterSet string `json:"parameterSet"`
		Seed         string `json:"seed"`
		PkSHA256     string `json:"pkSHA256"`
		SkSHA256     string `json:"skSHA256"`
	} `json:"keyGen"`
}

var acvpSpec = map[string]KeySpec{"ML-DSA-44": MLDSA44, "ML-DSA-65": MLDSA65, "ML-DSA-87": MLDSA87}

// mldsaACVPSigVer is the sigVer part of internal/mldsa's ACVP subset
// (../mldsa/testdata/acvp_subset.json; its source field says where the
// vectors come from).
type mldsaACVPSigVer struct {
	SigVer []struct {
		ParameterSet string `json:"parameterSet"`
		Pk           string `json:"pk"`
		Tests        []struct {
			TcID       int    `json:"tcId"`
			Message    string `json:"message"`
			Signature  string `json:"signature"`
			TestPassed bool   `json:"testPassed"`
		} `json:"tests"`
	} `json:"sigVer"`
}

// NIST ACVP ML-DSA (FIPS 204) vectors. keyGen (testdata/mldsa_acvp_subset.json)
// is checked through circl. sigVer (internal/mldsa's subset) is checked
// through ParsePublicKey and Verify with EXTERNAL_MU: those vectors test
// ML-DSA.Verify_internal on a message M′, so the μ sent is
// SHAKE256(SHAKE256(pk, 64) || M′, 64). internal/mldsa's TestACVP runs the
// sigGen vectors; RAW signatures are checked by TestSignCrossProduct.
func TestACVPMLDSA(t *testing.T) {
	t.Run("keyGen", testACVPMLDSAKeyGen)
	t.Run("sigVer", testACVPMLDSASigVer)
}

func testACVPMLDSASigVer(t *testing.T) {
	raw, err := os.ReadFile("../mldsa/testdata/acvp_subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var v mldsaACVPSigVer
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, g := range v.SigVer {
		spec := acvpSpec[g.ParameterSet]
		pkRaw := unhex(t, g.Pk)
		der, err := marshalSPKI(mldsaOID(spec), asnAbsent, pkRaw)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParsePublicKey(spec, der)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		for _, c := range g.Tests {
			h := sha3.NewSHAKE256()
			h.Write(sha3.SumSHAKE256(pkRaw, 64))
			h.Write(unhex(t, c.Message))
			mu := make([]byte, 64)
			h.Read(mu)
			ok, err := pub.Verify(MLDSASHAKE256, ExternalMu, mu, unhex(t, c.Signature))
			if err != nil || ok != c.TestPassed {
				t.Errorf("tcId %d (%s): Verify = %v, %v; want %v", c.TcID, spec, ok, err, c.TestPassed)
			}
			cases++
		}
	}
	if cases != 9 {
		t.Errorf("%d sigVer cases, want 9", cases)
	}
}

func testACVPMLDSAKeyGen(t *testing.T) {
	raw, err := os.ReadFile("testdata/mldsa_acvp_subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var v mldsaACVP
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.KeyGen) != 6 {
		t.Fatalf("unexpected vector file shape")
	}
	for _, c := range v.KeyGen {
		spec := acvpSpec[c.ParameterSet]
		// Key generation from the seed, through the stored (PKCS#8) form.
		k, err := ParsePrivate(spec, pkcs8For(t, spec, append([]byte{0x80, 0x20}, unhex(t, c.Seed)...)))
		if err != nil {
			t.Fatalf("tcId %d: %v", c.TcID, err)
		}
		pkRaw := mldsaPublicRaw(t, k.pub)
		pk := sha256.Sum256(pkRaw)
		sk := sha256.Sum256(k.mldsaExpanded())
		if hex.EncodeToString(pk[:]) != c.PkSHA256 || hex.EncodeToString(sk[:]) != c.SkSHA256 {
			t.Errorf("tcId %d (%s): SHA-256(pk) = %x, SHA-256(sk) = %x; want %s, %s", c.TcID, spec, pk, sk, c.PkSHA256, c.SkSHA256)
		}
		// The SPKI carries exactly that public key.
		der, _ := k.PublicKeyDER()
		if !bytes.HasSuffix(der, pkRaw) {
			t.Errorf("tcId %d: SPKI does not end with the public key", c.TcID)
		}
		// ParsePublicKey of that SPKI yields the same key.
		pub, err := ParsePublicKey(spec, der)
		if err != nil || !bytes.Equal(mldsaPublicRaw(t, pub), pkRaw) {
			t.Errorf("tcId %d: ParsePublicKey(SPKI) = %v", c.TcID, err)
		}
	}
}
