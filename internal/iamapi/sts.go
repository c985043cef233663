package iamapi

import (
	"errors"

	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/principal"
)

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// getCallerIdentity needs no permission, as in AWS.
func (h *Handler) getCallerIdentity(c *call) (any, error) {
	p := c.principal
	return getCallerIdentityResult{Arn: p.ARN, UserID: p.UserID, Account: p.Account}, nil
}

type xCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type xAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials      xCredentials     `xml:"Credentials"`
	AssumedRoleUser  xAssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int             `xml:"PackedPolicySize,omitempty"`
}

// unsupportedAssumeRoleParams are AssumeRole parameters OpenKMS refuses
// rather than ignores: each would change what the session may do.
var unsupportedAssumeRoleParams = []struct{ param, what string }{
	{"Policy", "Session policies (Policy)"},
	{"PolicyArns.member.1.arn", "Session policies (PolicyArns)"},
	{"SerialNumber", "MFA (SerialNumber)"},
	{"TokenCode", "MFA (TokenCode)"},
	{"SourceIdentity", "SourceIdentity"},
	{"TransitiveTagKeys.member.1", "Transitive session tags (TransitiveTagKeys)"},
	{"ProvidedContexts.member.1.ProviderArn", "ProvidedContexts"},
}

func (h *Handler) assumeRole(c *call) (any, error) {
	roleARN, err := c.params.required("RoleArn", "roleArn")
	if err != nil {
		return nil, err
	}
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validationError("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20 and less than or equal to 2048", clipParam(roleARN))
	}
	sessionName, err := c.params.required("RoleSessionName", "roleSessionName")
	if err != nil {
		return nil, err
	}
	if err := identity.CheckSessionName(sessionName); err != nil {
		return nil, err
	}
	duration, set, err := c.params.integer("DurationSeconds", "durationSeconds")
	if err != nil {
		return nil, err
	}
	if set && duration < identity.MinSessionDuration {
		return nil, validationError("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", duration, identity.MinSessionDuration)
	}
	tags, err := c.params.tags("Tags")
	if err != nil {
		return nil, err
	}
	for _, u := range unsupportedAssumeRoleParams {
		if c.params.has(u.param) {
			return nil, validationError("%s are not supported by OpenKMS.", u.what)
		}
	}
	if ext := c.params.get("ExternalId"); c.params.has("ExternalId") && (len(ext) < 2 || len(ext) > 1224) {
		return nil, validationError("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2 and less than or equal to 1224", clipParam(ext))
	}

	// A role that does not exist is denied like one whose trust policy
	// does not allow the caller: the caller learns nothing about it.
	role, err := h.ids.GetRoleByARN(c.ctx, roleARN)
	if errors.Is(err, identity.ErrNoSuchEntity) {
		if c.principal.Type == principal.TypeRoot {
			return nil, accessDenied("Roles may not be assumed by root accounts.")
		}
		return nil, notAuthorized(c.principal, "sts:AssumeRole", roleARN, false)
	}
	if err != nil {
		return nil, err
	}
	cm := requestContext(c)
	setRequestTags(cm, tags)
	cm.Set("sts:RoleSessionName", sessionName)
	if c.params.has("ExternalId") {
		cm.Set("sts:ExternalId", c.params.get("ExternalId"))
	}
	if err := h.authorizeAssumeRole(c, role, cm, len(tags) > 0); err != nil {
		return nil, err
	}
	sess, err := h.ids.AssumeRole(c.ctx, identity.AssumeRoleInput{
		RoleARN: role.ARN, RoleID: role.ID, SessionName: sessionName, DurationSeconds: duration, Tags: tags,
		Chained: c.principal.Type == principal.TypeAssumedRole,
	})
	if err != nil {
		return nil, err
	}
	out := assumeRoleResult{
		Credentials: xCredentials{
			AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken,
			Expiration: isoTime(sess.Expiration),
		},
		AssumedRoleUser: xAssumedRoleUser{AssumedRoleID: sess.AssumedRoleID, Arn: sess.ARN},
	}
	if len(tags) > 0 {
		// The share of the packed policy and tag quota used, in percent;
		// OpenKMS does not pack tags, so it reports the tag count's share.
		size := len(tags) * 100 / identity.MaxTagsPerResource
		out.PackedPolicySize = &size
	}
	return out, nil
}
