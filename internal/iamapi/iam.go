package iamapi

import (
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/policy"
	"github.com/openkms/openkms/internal/principal"
)

// operations is the route table: every action served, with its API.
func operations() []*operation {
	iam := func(name string, f func(*Handler, *call) (any, error)) *operation {
		return &operation{name: name, service: serviceIAM, handle: f}
	}
	return []*operation{
		iam("CreateUser", (*Handler).createUser),
		iam("GetUser", (*Handler).getUser),
		iam("ListUsers", (*Handler).listUsers),
		iam("DeleteUser", (*Handler).deleteUser),
		iam("TagUser", (*Handler).tagUser),
		iam("UntagUser", (*Handler).untagUser),
		iam("ListUserTags", (*Handler).listUserTags),
		iam("CreateAccessKey", (*Handler).createAccessKey),
		iam("ListAccessKeys", (*Handler).listAccessKeys),
		iam("UpdateAccessKey", (*Handler).updateAccessKey),
		iam("DeleteAccessKey", (*Handler).deleteAccessKey),
		iam("PutUserPolicy", (*Handler).putUserPolicy),
		iam("GetUserPolicy", (*Handler).getUserPolicy),
		iam("ListUserPolicies", (*Handler).listUserPolicies),
		iam("DeleteUserPolicy", (*Handler).deleteUserPolicy),
		iam("CreateRole", (*Handler).createRole),
		iam("GetRole", (*Handler).getRole),
		iam("ListRoles", (*Handler).listRoles),
		iam("DeleteRole", (*Handler).deleteRole),
		iam("UpdateAssumeRolePolicy", (*Handler).updateAssumeRolePolicy),
		iam("TagRole", (*Handler).tagRole),
		iam("UntagRole", (*Handler).untagRole),
		iam("ListRoleTags", (*Handler).listRoleTags),
		iam("PutRolePolicy", (*Handler).putRolePolicy),
		iam("GetRolePolicy", (*Handler).getRolePolicy),
		iam("ListRolePolicies", (*Handler).listRolePolicies),
		iam("DeleteRolePolicy", (*Handler).deleteRolePolicy),
		iam("CreatePolicy", (*Handler).createPolicy),
		iam("GetPolicy", (*Handler).getPolicy),
		iam("GetPolicyVersion", (*Handler).getPolicyVersion),
		iam("ListPolicies", (*Handler).listPolicies),
		iam("DeletePolicy", (*Handler).deletePolicy),
		iam("AttachUserPolicy", (*Handler).attachUserPolicy),
		iam("DetachUserPolicy", (*Handler).detachUserPolicy),
		iam("ListAttachedUserPolicies", (*Handler).listAttachedUserPolicies),
		iam("AttachRolePolicy", (*Handler).attachRolePolicy),
		iam("DetachRolePolicy", (*Handler).detachRolePolicy),
		iam("ListAttachedRolePolicies", (*Handler).listAttachedRolePolicies),

		{name: "GetCallerIdentity", service: serviceSTS, handle: (*Handler).getCallerIdentity},
		{name: "AssumeRole", service: serviceSTS, handle: (*Handler).assumeRole},

		{name: "CreateAccount", service: serviceAdmin, handle: (*Handler).createAccount},
	}
}

// Resource ARNs for authorization.

func iamARN(account, resource string) string { return "arn:aws:iam::" + account + ":" + resource }

// userResource is the ARN of a user of the caller's account, with its
// path when the user exists.
func (h *Handler) userResource(c *call, name string) string {
	if u, err := h.ids.GetUser(c.ctx, c.principal.Account, name); err == nil {
		return u.ARN
	}
	return iamARN(c.principal.Account, "user/"+name)
}

func (h *Handler) roleResource(c *call, name string) string {
	if r, err := h.ids.GetRole(c.ctx, c.principal.Account, name); err == nil {
		return r.ARN
	}
	return iamARN(c.principal.Account, "role/"+name)
}

// authorizeUser authorizes an action on the user named by the required
// UserName parameter and returns the name.
func (h *Handler) authorizeUser(c *call, action string) (string, error) {
	name, err := c.params.required("UserName", "userName")
	if err != nil {
		return "", err
	}
	return name, h.authorize(c, action, h.userResource(c, name), nil)
}

func (h *Handler) authorizeRole(c *call, action string) (string, error) {
	name, err := c.params.required("RoleName", "roleName")
	if err != nil {
		return "", err
	}
	return name, h.authorize(c, action, h.roleResource(c, name), nil)
}

// userOrSelf returns the UserName parameter or, when absent, the calling
// IAM user's name, as IAM does for access key operations and GetUser.
func userOrSelf(c *call) (string, error) {
	if name := c.params.get("UserName"); c.params.has("UserName") {
		return name, nil
	}
	if c.principal.Type == principal.TypeIAMUser {
		return c.principal.UserName, nil
	}
	return "", validationError("Must specify userName when calling with non-User credentials")
}

// ---- users

type userResult struct {
	User xUser `xml:"User"`
}

func (h *Handler) createUser(c *call) (any, error) {
	name, err := c.params.required("UserName", "userName")
	if err != nil {
		return nil, err
	}
	tags, err := c.params.tags("Tags")
	if err != nil {
		return nil, err
	}
	path := c.params.get("Path")
	if path == "" {
		path = "/"
	}
	err = h.authorize(c, "iam:CreateUser", iamARN(c.principal.Account, "user"+path+name), func(m policy.ContextMap) { setRequestTags(m, tags) })
	if err != nil {
		return nil, err
	}
	if c.params.has("PermissionsBoundary") {
		return nil, validationError("Permissions boundaries are not supported.")
	}
	u, err := h.ids.CreateUser(c.ctx, c.principal.Account, identity.CreateUserInput{Path: c.params.get("Path"), Name: name, Tags: tags})
	if err != nil {
		return nil, err
	}
	return userResult{wireUser(u, true)}, nil
}

func (h *Handler) getUser(c *call) (any, error) {
	if !c.params.has("UserName") && c.principal.Type == principal.TypeRoot {
		acct, err := h.ids.GetAccount(c.ctx, c.principal.Account)
		if err != nil {
			return nil, err
		}
		return userResult{xUser{UserID: c.principal.Account, Arn: c.principal.ARN, CreateDate: isoTime(acct.Created)}}, nil
	}
	name, err := userOrSelf(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:GetUser", h.userResource(c, name), nil); err != nil {
		return nil, err
	}
	u, err := h.ids.GetUser(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return userResult{wireUser(u, true)}, nil
}

type listUsersResult struct {
	Users members[xUser] `xml:"Users"`
	page
}

func (h *Handler) listUsers(c *call) (any, error) {
	if err := h.authorize(c, "iam:ListUsers", iamARN(c.principal.Account, "user/*"), nil); err != nil {
		return nil, err
	}
	users, err := h.ids.ListUsers(c.ctx, c.principal.Account, c.params.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	key := func(u identity.User) string { return lower(u.Name) }
	sortBy(users, key)
	items, pg, err := paginate(c.params, users, key)
	if err != nil {
		return nil, err
	}
	out := listUsersResult{page: pg, Users: members[xUser]{Member: make([]xUser, len(items))}}
	for i, u := range items {
		out.Users.Member[i] = wireUser(u, false)
	}
	return out, nil
}

func (h *Handler) deleteUser(c *call) (any, error) {
	name, err := h.authorizeUser(c, "iam:DeleteUser")
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DeleteUser(c.ctx, c.principal.Account, name)
}

func (h *Handler) tagUser(c *call) (any, error) {
	name, err := c.params.required("UserName", "userName")
	if err != nil {
		return nil, err
	}
	tags, err := requiredTags(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:TagUser", h.userResource(c, name), func(m policy.ContextMap) { setRequestTags(m, tags) }); err != nil {
		return nil, err
	}
	return nil, h.ids.TagUser(c.ctx, c.principal.Account, name, tags)
}

func requiredTags(c *call) ([]identity.Tag, error) {
	tags, err := c.params.tags("Tags")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		return nil, missing("tags")
	}
	return tags, nil
}

func requiredTagKeys(c *call) ([]string, error) {
	keys := c.params.list("TagKeys")
	if keys == nil {
		return nil, missing("tagKeys")
	}
	return keys, nil
}

func (h *Handler) untagUser(c *call) (any, error) {
	name, err := c.params.required("UserName", "userName")
	if err != nil {
		return nil, err
	}
	keys, err := requiredTagKeys(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:UntagUser", h.userResource(c, name), func(m policy.ContextMap) { m.Set("aws:TagKeys", keys...) }); err != nil {
		return nil, err
	}
	return nil, h.ids.UntagUser(c.ctx, c.principal.Account, name, keys)
}

type listTagsResult struct {
	Tags members[xTag] `xml:"Tags"`
	page
}

func tagsPage(c *call, tags []identity.Tag) (any, error) {
	tags = append([]identity.Tag(nil), tags...)
	key := func(t identity.Tag) string { return lower(t.Key) }
	sortBy(tags, key)
	items, pg, err := paginate(c.params, tags, key)
	if err != nil {
		return nil, err
	}
	return listTagsResult{Tags: wireTagList(items), page: pg}, nil
}

func (h *Handler) listUserTags(c *call) (any, error) {
	name, err := h.authorizeUser(c, "iam:ListUserTags")
	if err != nil {
		return nil, err
	}
	tags, err := h.ids.UserTags(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return tagsPage(c, tags)
}

// ---- access keys

type createAccessKeyResult struct {
	AccessKey xAccessKey `xml:"AccessKey"`
}

func (h *Handler) createAccessKey(c *call) (any, error) {
	name, err := userOrSelf(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:CreateAccessKey", h.userResource(c, name), nil); err != nil {
		return nil, err
	}
	k, err := h.ids.CreateAccessKey(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return createAccessKeyResult{xAccessKey{
		UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: isoTime(k.Created),
	}}, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata members[xAccessKeyMetadata] `xml:"AccessKeyMetadata"`
	page
}

func (h *Handler) listAccessKeys(c *call) (any, error) {
	name, err := userOrSelf(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:ListAccessKeys", h.userResource(c, name), nil); err != nil {
		return nil, err
	}
	keys, err := h.ids.ListAccessKeys(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	key := func(k identity.AccessKeyInfo) string { return k.AccessKeyID }
	sortBy(keys, key)
	items, pg, err := paginate(c.params, keys, key)
	if err != nil {
		return nil, err
	}
	out := listAccessKeysResult{page: pg, AccessKeyMetadata: members[xAccessKeyMetadata]{Member: make([]xAccessKeyMetadata, len(items))}}
	for i, k := range items {
		out.AccessKeyMetadata.Member[i] = xAccessKeyMetadata{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: isoTime(k.Created)}
	}
	return out, nil
}

func (h *Handler) updateAccessKey(c *call) (any, error) {
	akid, err := c.params.required("AccessKeyId", "accessKeyId")
	if err != nil {
		return nil, err
	}
	status, err := c.params.required("Status", "status")
	if err != nil {
		return nil, err
	}
	name, err := userOrSelf(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:UpdateAccessKey", h.userResource(c, name), nil); err != nil {
		return nil, err
	}
	return nil, h.ids.UpdateAccessKey(c.ctx, c.principal.Account, name, akid, status)
}

func (h *Handler) deleteAccessKey(c *call) (any, error) {
	akid, err := c.params.required("AccessKeyId", "accessKeyId")
	if err != nil {
		return nil, err
	}
	name, err := userOrSelf(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:DeleteAccessKey", h.userResource(c, name), nil); err != nil {
		return nil, err
	}
	return nil, h.ids.DeleteAccessKey(c.ctx, c.principal.Account, name, akid)
}

// ---- inline policies (users and roles)

type inlineParams struct {
	entity, policyName, document string
}

func (h *Handler) putUserPolicy(c *call) (any, error) {
	in, err := h.inlinePut(c, "UserName", "userName", "iam:PutUserPolicy", h.userResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.PutUserPolicy(c.ctx, c.principal.Account, in.entity, in.policyName, in.document)
}

func (h *Handler) putRolePolicy(c *call) (any, error) {
	in, err := h.inlinePut(c, "RoleName", "roleName", "iam:PutRolePolicy", h.roleResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.PutRolePolicy(c.ctx, c.principal.Account, in.entity, in.policyName, in.document)
}

func (h *Handler) inlinePut(c *call, param, field, action string, resource func(*call, string) string) (inlineParams, error) {
	var in inlineParams
	var err error
	if in.entity, err = c.params.required(param, field); err != nil {
		return in, err
	}
	if in.policyName, err = c.params.required("PolicyName", "policyName"); err != nil {
		return in, err
	}
	if in.document, err = c.params.required("PolicyDocument", "policyDocument"); err != nil {
		return in, err
	}
	return in, h.authorize(c, action, resource(c, in.entity), nil)
}

func (h *Handler) inlineName(c *call, param, field, action string, resource func(*call, string) string) (string, string, error) {
	name, err := c.params.required(param, field)
	if err != nil {
		return "", "", err
	}
	policyName, err := c.params.required("PolicyName", "policyName")
	if err != nil {
		return "", "", err
	}
	return name, policyName, h.authorize(c, action, resource(c, name), nil)
}

type getUserPolicyResult struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (h *Handler) getUserPolicy(c *call) (any, error) {
	name, policyName, err := h.inlineName(c, "UserName", "userName", "iam:GetUserPolicy", h.userResource)
	if err != nil {
		return nil, err
	}
	p, err := h.ids.GetUserPolicy(c.ctx, c.principal.Account, name, policyName)
	if err != nil {
		return nil, err
	}
	return getUserPolicyResult{UserName: p.EntityName, PolicyName: p.Name, PolicyDocument: encodePolicy(p.Document)}, nil
}

type getRolePolicyResult struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (h *Handler) getRolePolicy(c *call) (any, error) {
	name, policyName, err := h.inlineName(c, "RoleName", "roleName", "iam:GetRolePolicy", h.roleResource)
	if err != nil {
		return nil, err
	}
	p, err := h.ids.GetRolePolicy(c.ctx, c.principal.Account, name, policyName)
	if err != nil {
		return nil, err
	}
	return getRolePolicyResult{RoleName: p.EntityName, PolicyName: p.Name, PolicyDocument: encodePolicy(p.Document)}, nil
}

type listPolicyNamesResult struct {
	PolicyNames members[string] `xml:"PolicyNames"`
	page
}

func policyNamesPage(c *call, names []string) (any, error) {
	sortBy(names, lower)
	items, pg, err := paginate(c.params, names, lower)
	if err != nil {
		return nil, err
	}
	return listPolicyNamesResult{PolicyNames: members[string]{Member: items}, page: pg}, nil
}

func (h *Handler) listUserPolicies(c *call) (any, error) {
	name, err := h.authorizeUser(c, "iam:ListUserPolicies")
	if err != nil {
		return nil, err
	}
	names, err := h.ids.ListUserPolicies(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return policyNamesPage(c, names)
}

func (h *Handler) listRolePolicies(c *call) (any, error) {
	name, err := h.authorizeRole(c, "iam:ListRolePolicies")
	if err != nil {
		return nil, err
	}
	names, err := h.ids.ListRolePolicies(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return policyNamesPage(c, names)
}

func (h *Handler) deleteUserPolicy(c *call) (any, error) {
	name, policyName, err := h.inlineName(c, "UserName", "userName", "iam:DeleteUserPolicy", h.userResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DeleteUserPolicy(c.ctx, c.principal.Account, name, policyName)
}

func (h *Handler) deleteRolePolicy(c *call) (any, error) {
	name, policyName, err := h.inlineName(c, "RoleName", "roleName", "iam:DeleteRolePolicy", h.roleResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DeleteRolePolicy(c.ctx, c.principal.Account, name, policyName)
}

// ---- roles

type roleResult struct {
	Role xRole `xml:"Role"`
}

func (h *Handler) createRole(c *call) (any, error) {
	name, err := c.params.required("RoleName", "roleName")
	if err != nil {
		return nil, err
	}
	doc, err := c.params.required("AssumeRolePolicyDocument", "assumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	maxSession, set, err := c.params.integer("MaxSessionDuration", "maxSessionDuration")
	if err != nil {
		return nil, err
	}
	if set && maxSession == 0 {
		return nil, validationError("1 validation error detected: Value '0' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", identity.DefaultMaxSessionLength)
	}
	tags, err := c.params.tags("Tags")
	if err != nil {
		return nil, err
	}
	path := c.params.get("Path")
	if path == "" {
		path = "/"
	}
	err = h.authorize(c, "iam:CreateRole", iamARN(c.principal.Account, "role"+path+name), func(m policy.ContextMap) { setRequestTags(m, tags) })
	if err != nil {
		return nil, err
	}
	if c.params.has("PermissionsBoundary") {
		return nil, validationError("Permissions boundaries are not supported.")
	}
	r, err := h.ids.CreateRole(c.ctx, c.principal.Account, identity.CreateRoleInput{
		Path: c.params.get("Path"), Name: name, TrustPolicy: doc, Description: c.params.get("Description"),
		MaxSessionDuration: maxSession, Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	return roleResult{wireRole(r, true)}, nil
}

func (h *Handler) getRole(c *call) (any, error) {
	name, err := h.authorizeRole(c, "iam:GetRole")
	if err != nil {
		return nil, err
	}
	r, err := h.ids.GetRole(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return roleResult{wireRole(r, true)}, nil
}

type listRolesResult struct {
	Roles members[xRole] `xml:"Roles"`
	page
}

func (h *Handler) listRoles(c *call) (any, error) {
	if err := h.authorize(c, "iam:ListRoles", iamARN(c.principal.Account, "role/*"), nil); err != nil {
		return nil, err
	}
	roles, err := h.ids.ListRoles(c.ctx, c.principal.Account, c.params.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	key := func(r identity.Role) string { return lower(r.Name) }
	sortBy(roles, key)
	items, pg, err := paginate(c.params, roles, key)
	if err != nil {
		return nil, err
	}
	out := listRolesResult{page: pg, Roles: members[xRole]{Member: make([]xRole, len(items))}}
	for i, r := range items {
		out.Roles.Member[i] = wireRole(r, false)
	}
	return out, nil
}

func (h *Handler) deleteRole(c *call) (any, error) {
	name, err := h.authorizeRole(c, "iam:DeleteRole")
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DeleteRole(c.ctx, c.principal.Account, name)
}

func (h *Handler) updateAssumeRolePolicy(c *call) (any, error) {
	name, err := c.params.required("RoleName", "roleName")
	if err != nil {
		return nil, err
	}
	doc, err := c.params.required("PolicyDocument", "policyDocument")
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:UpdateAssumeRolePolicy", h.roleResource(c, name), nil); err != nil {
		return nil, err
	}
	return nil, h.ids.UpdateAssumeRolePolicy(c.ctx, c.principal.Account, name, doc)
}

func (h *Handler) tagRole(c *call) (any, error) {
	name, err := c.params.required("RoleName", "roleName")
	if err != nil {
		return nil, err
	}
	tags, err := requiredTags(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:TagRole", h.roleResource(c, name), func(m policy.ContextMap) { setRequestTags(m, tags) }); err != nil {
		return nil, err
	}
	return nil, h.ids.TagRole(c.ctx, c.principal.Account, name, tags)
}

func (h *Handler) untagRole(c *call) (any, error) {
	name, err := c.params.required("RoleName", "roleName")
	if err != nil {
		return nil, err
	}
	keys, err := requiredTagKeys(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:UntagRole", h.roleResource(c, name), func(m policy.ContextMap) { m.Set("aws:TagKeys", keys...) }); err != nil {
		return nil, err
	}
	return nil, h.ids.UntagRole(c.ctx, c.principal.Account, name, keys)
}

func (h *Handler) listRoleTags(c *call) (any, error) {
	name, err := h.authorizeRole(c, "iam:ListRoleTags")
	if err != nil {
		return nil, err
	}
	tags, err := h.ids.RoleTags(c.ctx, c.principal.Account, name)
	if err != nil {
		return nil, err
	}
	return tagsPage(c, tags)
}

// ---- managed policies

type policyResult struct {
	Policy xPolicy `xml:"Policy"`
}

func (h *Handler) createPolicy(c *call) (any, error) {
	name, err := c.params.required("PolicyName", "policyName")
	if err != nil {
		return nil, err
	}
	doc, err := c.params.required("PolicyDocument", "policyDocument")
	if err != nil {
		return nil, err
	}
	tags, err := c.params.tags("Tags")
	if err != nil {
		return nil, err
	}
	path := c.params.get("Path")
	if path == "" {
		path = "/"
	}
	err = h.authorize(c, "iam:CreatePolicy", iamARN(c.principal.Account, "policy"+path+name), func(m policy.ContextMap) { setRequestTags(m, tags) })
	if err != nil {
		return nil, err
	}
	p, err := h.ids.CreatePolicy(c.ctx, c.principal.Account, identity.CreatePolicyInput{
		Path: c.params.get("Path"), Name: name, Document: doc, Description: c.params.get("Description"), Tags: tags,
	})
	if err != nil {
		return nil, err
	}
	return policyResult{wirePolicy(p, true)}, nil
}

func (h *Handler) policyARN(c *call, action string) (string, error) {
	policyARN, err := c.params.required("PolicyArn", "policyArn")
	if err != nil {
		return "", err
	}
	return policyARN, h.authorize(c, action, policyARN, nil)
}

func (h *Handler) getPolicy(c *call) (any, error) {
	policyARN, err := h.policyARN(c, "iam:GetPolicy")
	if err != nil {
		return nil, err
	}
	p, err := h.ids.GetPolicy(c.ctx, c.principal.Account, policyARN)
	if err != nil {
		return nil, err
	}
	return policyResult{wirePolicy(p, true)}, nil
}

type policyVersionResult struct {
	PolicyVersion xPolicyVersion `xml:"PolicyVersion"`
}

func (h *Handler) getPolicyVersion(c *call) (any, error) {
	policyARN, err := h.policyARN(c, "iam:GetPolicyVersion")
	if err != nil {
		return nil, err
	}
	version, err := c.params.required("VersionId", "versionId")
	if err != nil {
		return nil, err
	}
	v, err := h.ids.GetPolicyVersion(c.ctx, c.principal.Account, policyARN, version)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{xPolicyVersion{
		Document: encodePolicy(v.Document), VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.Created),
	}}, nil
}

type listPoliciesResult struct {
	Policies members[xPolicy] `xml:"Policies"`
	page
}

func (h *Handler) listPolicies(c *call) (any, error) {
	scope := c.params.get("Scope")
	switch scope {
	case "", "All", "Local", "AWS":
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", clipParam(scope))
	}
	onlyAttached, err := c.params.boolean("OnlyAttached", "onlyAttached")
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:ListPolicies", iamARN(c.principal.Account, "policy/*"), nil); err != nil {
		return nil, err
	}
	var pols []identity.ManagedPolicy
	if scope != "AWS" { // OpenKMS has no AWS managed policies
		if pols, err = h.ids.ListPolicies(c.ctx, c.principal.Account, c.params.get("PathPrefix"), onlyAttached); err != nil {
			return nil, err
		}
	}
	key := func(p identity.ManagedPolicy) string { return lower(p.Name) }
	sortBy(pols, key)
	items, pg, err := paginate(c.params, pols, key)
	if err != nil {
		return nil, err
	}
	out := listPoliciesResult{page: pg, Policies: members[xPolicy]{Member: make([]xPolicy, len(items))}}
	for i, p := range items {
		out.Policies.Member[i] = wirePolicy(p, false)
	}
	return out, nil
}

func (h *Handler) deletePolicy(c *call) (any, error) {
	policyARN, err := h.policyARN(c, "iam:DeletePolicy")
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DeletePolicy(c.ctx, c.principal.Account, policyARN)
}

// ---- attachments

// attachParams reads the entity name and PolicyArn and authorizes the
// action on the entity, with iam:PolicyARN as a condition key.
func (h *Handler) attachParams(c *call, param, field, action string, resource func(*call, string) string) (string, string, error) {
	name, err := c.params.required(param, field)
	if err != nil {
		return "", "", err
	}
	policyARN, err := c.params.required("PolicyArn", "policyArn")
	if err != nil {
		return "", "", err
	}
	err = h.authorize(c, action, resource(c, name), func(m policy.ContextMap) { m.Set("iam:PolicyARN", policyARN) })
	return name, policyARN, err
}

func (h *Handler) attachUserPolicy(c *call) (any, error) {
	name, policyARN, err := h.attachParams(c, "UserName", "userName", "iam:AttachUserPolicy", h.userResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.AttachUserPolicy(c.ctx, c.principal.Account, name, policyARN)
}

func (h *Handler) detachUserPolicy(c *call) (any, error) {
	name, policyARN, err := h.attachParams(c, "UserName", "userName", "iam:DetachUserPolicy", h.userResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DetachUserPolicy(c.ctx, c.principal.Account, name, policyARN)
}

func (h *Handler) attachRolePolicy(c *call) (any, error) {
	name, policyARN, err := h.attachParams(c, "RoleName", "roleName", "iam:AttachRolePolicy", h.roleResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.AttachRolePolicy(c.ctx, c.principal.Account, name, policyARN)
}

func (h *Handler) detachRolePolicy(c *call) (any, error) {
	name, policyARN, err := h.attachParams(c, "RoleName", "roleName", "iam:DetachRolePolicy", h.roleResource)
	if err != nil {
		return nil, err
	}
	return nil, h.ids.DetachRolePolicy(c.ctx, c.principal.Account, name, policyARN)
}

type listAttachedResult struct {
	AttachedPolicies members[xAttachedPolicy] `xml:"AttachedPolicies"`
	page
}

func attachedPage(c *call, att []identity.AttachedPolicy) (any, error) {
	key := func(a identity.AttachedPolicy) string { return a.ARN }
	sortBy(att, key)
	items, pg, err := paginate(c.params, att, key)
	if err != nil {
		return nil, err
	}
	out := listAttachedResult{page: pg, AttachedPolicies: members[xAttachedPolicy]{Member: make([]xAttachedPolicy, len(items))}}
	for i, a := range items {
		out.AttachedPolicies.Member[i] = xAttachedPolicy{PolicyName: a.Name, PolicyArn: a.ARN}
	}
	return out, nil
}

func (h *Handler) listAttachedUserPolicies(c *call) (any, error) {
	name, err := h.authorizeUser(c, "iam:ListAttachedUserPolicies")
	if err != nil {
		return nil, err
	}
	att, err := h.ids.ListAttachedUserPolicies(c.ctx, c.principal.Account, name, c.params.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	return attachedPage(c, att)
}

func (h *Handler) listAttachedRolePolicies(c *call) (any, error) {
	name, err := h.authorizeRole(c, "iam:ListAttachedRolePolicies")
	if err != nil {
		return nil, err
	}
	att, err := h.ids.ListAttachedRolePolicies(c.ctx, c.principal.Account, name, c.params.get("PathPrefix"))
	if err != nil {
		return nil, err
	}
	return attachedPage(c, att)
}
