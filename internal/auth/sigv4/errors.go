package sigv4

import (
	"strings"

	"github.com/openkms/openkms/internal/kmserr"
)

// Messages AWS returns verbatim.
const (
	msgMissingToken = "Request is missing Authentication Token"
	msgInvalidToken = "The security token included in the request is invalid."
	msgMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
)

func incomplete(format string, args ...any) *kmserr.Error {
	return kmserr.New(kmserr.IncompleteSignature, format, args...)
}

func mismatch() *kmserr.Error { return kmserr.New(kmserr.InvalidSignature, "%s", msgMismatch) }

func invalidToken() *kmserr.Error {
	return kmserr.New(kmserr.UnrecognizedClient, "%s", msgInvalidToken)
}

func missingToken() *kmserr.Error {
	return kmserr.New(kmserr.MissingAuthenticationTok, "%s", msgMissingToken)
}

func badDate(s string) *kmserr.Error {
	return incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(s))
}

// clip bounds client input echoed in a message and replaces control bytes,
// so that messages stay short and single-line in logs.
func clip(s string) string {
	const max = 256
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	clean := !cut
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] >= 0x20 && s[i] != 0x7f
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			b.WriteByte('?')
		} else {
			b.WriteByte(c)
		}
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}
