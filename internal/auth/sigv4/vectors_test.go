package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
)

// Vectors from the AWS SigV4 test suite (aws-sig-v4-test-suite, also
// awslabs/aws-c-auth tests/aws-signing-test-suite/v4): credential
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z,
// us-east-1, service "service", SignedHeaders=host;x-amz-date.
const (
	suiteAKID   = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

func suiteVerifier() *Verifier {
	return &Verifier{
		Source:  mapSource{suiteAKID: {Secret: NewSecret(suiteSecret), Principal: testPrincipal}},
		Service: "service",
		Now:     fixedClock(suiteTime),
	}
}

func TestAWSTestSuiteVectors(t *testing.T) {
	for _, tc := range []struct {
		name, requestLine, signature string
	}{
		{"get-vanilla", "GET / HTTP/1.1", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"post-vanilla", "POST / HTTP/1.1", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-utf8", "GET /ሴ HTTP/1.1", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
		{"get-unreserved", "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
		// The -normalized vectors: AWS removes dot segments and repeated slashes.
		{"get-slashes-normalized", "GET //example// HTTP/1.1", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
		{"get-relative-normalized", "GET /example/.. HTTP/1.1", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-slash-dot-slash-normalized", "GET /./ HTTP/1.1", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := tc.requestLine + "\r\n" +
				"Host: example.amazonaws.com\r\n" +
				"X-Amz-Date: " + suiteDate + "\r\n" +
				"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + tc.signature + "\r\n" +
				"\r\n"
			r, body := parseWire(t, wire)
			res, err := suiteVerifier().Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Region != "us-east-1" || res.AccessKeyID != suiteAKID {
				t.Errorf("Result = %+v", res)
			}

			// The same request with any other signature fails.
			bad := tc.signature[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", tc.signature[63])+1)%16])
			r, body = parseWire(t, strings.Replace(wire, tc.signature, bad, 1))
			_, err = suiteVerifier().Verify(r, body)
			checkErr(t, err, kmserr.InvalidSignature, msgMismatch)
		})
	}
}

// TestDateHeader checks the Date fallback with a signature computed by hand
// from the documented algorithm, independently of the package.
func TestDateHeader(t *testing.T) {
	canonical := "GET\n/\n\ndate:" + suiteDate + "\nhost:example.amazonaws.com\n\ndate;host\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := "AWS4-HMAC-SHA256\n" + suiteDate + "\n20150830/us-east-1/service/aws4_request\n" + hex.EncodeToString(sum[:])
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+suiteSecret), "20150830"), "us-east-1"), "service"), "aws4_request")
	sig := hex.EncodeToString(mac(key, stringToSign))

	wire := func(date string) string {
		return "GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\nDate: " + date + "\r\n" +
			"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=date;host, Signature=" + sig + "\r\n\r\n"
	}
	r, body := parseWire(t, wire(suiteDate))
	if _, err := suiteVerifier().Verify(r, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// AWS signs the Date header as sent, so it must be in ISO-8601 basic format too.
	r, body = parseWire(t, wire("Sun, 30 Aug 2015 12:36:00 GMT"))
	_, err := suiteVerifier().Verify(r, body)
	checkErr(t, err, kmserr.IncompleteSignature,
		"Date must be in ISO-8601 'basic format'. Got 'Sun, 30 Aug 2015 12:36:00 GMT'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// TestDerivedSigningKey checks the key derivation against the example in
// the IAM user guide ("Calculate the signature"), for IAM in us-east-1.
func TestDerivedSigningKey(t *testing.T) {
	got := deriveSigningKey([]byte(suiteSecret), "20150830", "us-east-1", "iam")
	const want = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
	if h := hex.EncodeToString(got[:]); h != want {
		t.Errorf("signing key = %s, want %s", h, want)
	}
}
