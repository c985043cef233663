package keymaterial

import (
	"fmt"
	"io"
)

// GenerateDataKeyPair generates a data key pair for GenerateDataKeyPair and
// GenerateDataKeyPairWithoutPlaintext: the private key as PKCS#8 DER (what
// AWS returns as PrivateKeyPlaintext, before it is encrypted under the KMS
// key) and the public key as DER SubjectPublicKeyInfo. The private key
// bytes are the caller's to encrypt and then discard.
func GenerateDataKeyPair(spec DataKeyPairSpec, rand io.Reader) (privatePKCS8DER, publicSPKIDER []byte, err error) {
	if !spec.Valid() {
		return nil, nil, &Error{Kind: KindUnsupported, Err: ErrUnsupportedKeySpec,
			Msg: fmt.Sprintf("keymaterial: unsupported data key pair spec %s", spec)}
	}
	k, err := Generate(spec.KeySpec(), rand)
	if err != nil {
		return nil, nil, err
	}
	priv, err := k.MarshalPrivate()
	if err != nil {
		return nil, nil, err
	}
	return priv, k.pub.DER(), nil
}
