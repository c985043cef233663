package kms

import "context"

// grantAllows reports whether a grant on the request's key allows the
// caller the action, and which grant.
func (s *Service) grantAllows(ctx context.Context, c Caller, r *authzRequest) (string, bool) {
	return "", false
}
