package iamapi

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/openkms/openkms/internal/identity"
)

// params are the decoded parameters of a Query request. Repeated names keep
// their first value.
type params map[string]string

// parseParams decodes a form-encoded body or query string, bounding the
// number of parameters.
func parseParams(raw string) (params, error) {
	if n := strings.Count(raw, "&") + 1; n > maxParams {
		return nil, &apiError{code: "MalformedQueryString", message: "The request has more than " + strconv.Itoa(maxParams) + " parameters."}
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &apiError{code: "MalformedQueryString", message: "The request parameters are not well-formed."}
	}
	ps := make(params, len(q))
	for k, v := range q {
		if len(v) > 0 {
			ps[k] = v[0]
		}
	}
	return ps, nil
}

func (ps params) get(name string) string { return ps[name] }

func (ps params) has(name string) bool { _, ok := ps[name]; return ok }

// required returns a parameter that must be present; field is its name in
// AWS's validation message (lower camel case).
func (ps params) required(name, field string) (string, error) {
	v, ok := ps[name]
	if !ok {
		return "", missing(field)
	}
	return v, nil
}

// integer returns an optional integer parameter (0 when absent).
func (ps params) integer(name, field string) (int, bool, error) {
	v, ok := ps[name]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, true, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", clipParam(v), field)
	}
	return n, true, nil
}

// boolean returns an optional boolean parameter.
func (ps params) boolean(name, field string) (bool, error) {
	v, ok := ps[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", clipParam(v), field)
}

// maxListMembers bounds the members read from one list parameter; lists
// with more are cut there, and the identity store rejects them by its own
// limits.
const maxListMembers = 100

// list returns the members Name.member.1, Name.member.2, ... up to the
// first missing index.
func (ps params) list(name string) []string {
	var out []string
	for i := 1; i <= maxListMembers; i++ {
		v, ok := ps[name+".member."+strconv.Itoa(i)]
		if !ok {
			break
		}
		out = append(out, v)
	}
	return out
}

// tags returns Name.member.N.Key / Name.member.N.Value pairs. A member
// without Key is a validation error.
func (ps params) tags(name string) ([]identity.Tag, error) {
	var out []identity.Tag
	for i := 1; i <= maxListMembers; i++ {
		prefix := name + ".member." + strconv.Itoa(i) + "."
		k, hasK := ps[prefix+"Key"]
		v, hasV := ps[prefix+"Value"]
		if !hasK && !hasV {
			break
		}
		if !hasK {
			return nil, missing(strings.ToLower(name[:1]) + name[1:] + ".member." + strconv.Itoa(i) + ".key")
		}
		out = append(out, identity.Tag{Key: k, Value: v})
	}
	return out, nil
}
