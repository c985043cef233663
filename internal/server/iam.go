package server

import (
	"net/http"

	"github.com/openkms/openkms/internal/iamapi"
)

// withIAM serves the IAM, STS and admin Query APIs (form-encoded requests
// without X-Amz-Target, see iamapi.Matches) with iam, and everything else
// with kmsHandler, so that every API shares one endpoint URL as
// `aws --endpoint-url` users expect.
func withIAM(kmsHandler, iam http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if iamapi.Matches(r) {
			iam.ServeHTTP(w, r)
			return
		}
		kmsHandler.ServeHTTP(w, r)
	})
}
