package sigv4

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
)

// authParamsOf splits an Authorization value the way a reader would: the
// algorithm, then the key=value tokens between commas and white space, in
// any order.
func authParamsOf(h string) (string, []string) {
	alg, rest, _ := strings.Cut(h, " ")
	toks := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	slices.Sort(toks)
	return alg, toks
}

// FuzzVerify fuzzes the Authorization header and the body of a signed KMS
// request. Verify must not panic, must fail with a client *kmserr.Error that
// does not carry the secret, and may succeed only for the original body and
// the original algorithm, credential, signed headers and signature (in any
// order, with any separators).
func FuzzVerify(f *testing.F) {
	base, origBody := defaultSpec().sign(f)
	orig := base.Header.Get("Authorization")
	origAlg, origToks := authParamsOf(orig)
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime.Add(time.Minute))}

	f.Add(orig, origBody)
	f.Add(strings.ReplaceAll(orig, ", ", ","), origBody)
	f.Add(orig, append(bytes.Clone(origBody), ' '))
	f.Add(strings.Replace(orig, "Signature=", "Signature=0", 1), origBody)
	f.Add(strings.Replace(orig, "Credential=", "Credential= ", 1), origBody)
	f.Add(strings.Replace(orig, "/kms/", "/kms//", 1), origBody)
	f.Add(strings.Replace(orig, ";host;", ";;", 1), origBody)
	f.Add("AWS4-HMAC-SHA256", []byte{})
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=", []byte("{}"))
	f.Add("AWS4-HMAC-SHA256 =,=,=", []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=\x00/\xff/ሴ/kms/aws4_request", []byte("\x00"))

	f.Fuzz(func(t *testing.T, h string, body []byte) {
		r := base.Clone(base.Context())
		r.Header = base.Header.Clone()
		r.Header["Authorization"] = []string{h}
		res, err := v.Verify(r, body)
		if err != nil {
			var ke *kmserr.Error
			if !errors.As(err, &ke) || ke.Server {
				t.Fatalf("error %v (%T) is not a client *kmserr.Error", err, err)
			}
			if strings.Contains(ke.Message, testSecret) {
				t.Fatalf("message contains the secret: %q", ke.Message)
			}
			return
		}
		alg, toks := authParamsOf(h)
		if !bytes.Equal(body, origBody) || alg != origAlg || !slices.Equal(toks, origToks) {
			t.Fatalf("verified a modified request:\nheader %q\nbody %q", h, body)
		}
		if res.AccessKeyID != testAKID {
			t.Fatalf("Result = %+v", res)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	r, body := defaultSpec().sign(b)
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime)}
	b.Run("header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("header/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(r, body); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("header/uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := &Verifier{Source: v.Source, Now: v.Now}
			if _, err := v.Verify(r, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	pr, pbody := defaultSpec().presign(b, 300)
	b.Run("presigned", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(pr, pbody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bad signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r, pbody[:1]); err == nil {
				b.Fatal("verified")
			}
		}
	})
}
