#!/usr/bin/env bash
# iam-e2e.sh drives a running OpenKMS server's IAM and STS APIs with the AWS
# CLI, as users do: a user with an access key and an inline policy, a role
# with a trust policy, a role session, and the new credentials at work.
#
# Usage: scripts/iam-e2e.sh ENDPOINT
#
# Credentials (an account's root access key) come from the standard AWS_*
# environment variables; the region defaults to us-east-1. Example:
#
#   AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=... \
#     scripts/iam-e2e.sh http://127.0.0.1:8080
#
# It prints "iam-e2e: ok" and exits 0 when every step passes, or names the
# failed step on stderr and exits non-zero. It deletes what it creates.
set -euo pipefail

EP=${1:?usage: iam-e2e.sh ENDPOINT}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_PAGER=""
unset AWS_SESSION_TOKEN AWS_PROFILE

iam() { aws --endpoint-url "$EP" iam "$@"; }
sts() { aws --endpoint-url "$EP" sts "$@"; }
fail() { echo "iam-e2e: FAIL: $*" >&2; exit 1; }
step() { echo "iam-e2e: $*"; }
# want NAME GOT WANT
want() { [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"; }
# as KEY SECRET [TOKEN] -- COMMAND...: run with other credentials.
as() {
	local key=$1 secret=$2 token=${3:-}
	shift 3
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token "$@"
}

suffix=$$-$RANDOM
user=iam-e2e-user-$suffix
role=iam-e2e-role-$suffix

step get-caller-identity as root
account=$(sts get-caller-identity --query Account --output text)
[[ $account =~ ^[0-9]{12}$ ]] || fail "get-caller-identity: got account '$account', want 12 digits"
want "get-caller-identity arn" "$(sts get-caller-identity --query Arn --output text)" "arn:aws:iam::$account:root"
role_arn=arn:aws:iam::$account:role/e2e/$role
user_arn=arn:aws:iam::$account:user/$user

step create-user
want "create-user arn" \
	"$(iam create-user --user-name "$user" --tags Key=purpose,Value=e2e --query User.Arn --output text)" "$user_arn"
want "get-user tag" "$(iam get-user --user-name "$user" --query 'User.Tags[0].Value' --output text)" e2e

step create-access-key
read -r key secret < <(iam create-access-key --user-name "$user" \
	--query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
[[ $key == AKIA* && -n $secret ]] || fail "create-access-key: got key '$key', want AKIA..."

step put-user-policy
iam put-user-policy --user-name "$user" --policy-name assume-e2e --policy-document \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"$role_arn\"}]}"
# The CLI decodes the URL-encoded document IAM returns.
want "get-user-policy" \
	"$(iam get-user-policy --user-name "$user" --policy-name assume-e2e --query 'PolicyDocument.Statement[0].Resource' --output text)" "$role_arn"
want "list-user-policies" "$(iam list-user-policies --user-name "$user" --query 'PolicyNames[0]' --output text)" assume-e2e

step create-role
want "create-role arn" "$(iam create-role --role-name "$role" --path /e2e/ --max-session-duration 7200 \
	--assume-role-policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$account:root\"},\"Action\":\"sts:AssumeRole\"}]}" \
	--query Role.Arn --output text)" "$role_arn"
want "get-role trust" \
	"$(iam get-role --role-name "$role" --query 'Role.AssumeRolePolicyDocument.Statement[0].Action' --output text)" sts:AssumeRole
iam put-role-policy --role-name "$role" --policy-name keys --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'

step get-caller-identity as the user
want "user identity" "$(as "$key" "$secret" "" sts get-caller-identity --query Arn --output text)" "$user_arn"

step assume-role as the user
read -r skey ssecret stoken < <(as "$key" "$secret" "" sts assume-role --role-arn "$role_arn" \
	--role-session-name e2e-session --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
[[ $skey == ASIA* && -n $stoken ]] || fail "assume-role: got key '$skey', want ASIA... and a session token"

step get-caller-identity with the session credentials
want "session identity" "$(as "$skey" "$ssecret" "$stoken" sts get-caller-identity --query Arn --output text)" \
	"arn:aws:sts::$account:assumed-role/$role/e2e-session"

step kms list-keys with the session credentials
as "$skey" "$ssecret" "$stoken" aws --endpoint-url "$EP" kms list-keys >/dev/null

step a key whose policy lets the role use it and denies the user
policy="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"root\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$account:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},{\"Sid\":\"deny-user\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"$user_arn\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}"
kid=$(aws --endpoint-url "$EP" kms create-key --policy "$policy" --query KeyMetadata.KeyId --output text)
ptfile=$(mktemp)
printf 'iam-e2e' >"$ptfile"
as "$skey" "$ssecret" "$stoken" aws --endpoint-url "$EP" kms encrypt --key-id "$kid" --plaintext "fileb://$ptfile" >/dev/null ||
	fail "encrypt as the role session: got an error, want success"
if out=$(as "$key" "$secret" "" aws --endpoint-url "$EP" kms encrypt --key-id "arn:aws:kms:$AWS_DEFAULT_REGION:$account:key/$kid" --plaintext "fileb://$ptfile" 2>&1); then
	fail "encrypt as the denied user: got success, want AccessDeniedException"
fi
[[ $out == *AccessDeniedException* ]] || fail "encrypt as the denied user: got '$out', want AccessDeniedException"
rm -f "$ptfile"
aws --endpoint-url "$EP" kms schedule-key-deletion --key-id "$kid" --pending-window-in-days 7 >/dev/null

step the session token is required
if as "$skey" "$ssecret" "" sts get-caller-identity >/dev/null 2>&1; then
	fail "get-caller-identity without the session token: got success, want InvalidClientTokenId"
fi

step clean up
iam delete-role-policy --role-name "$role" --policy-name keys
iam delete-role --role-name "$role"
iam delete-user-policy --user-name "$user" --policy-name assume-e2e
iam delete-access-key --user-name "$user" --access-key-id "$key"
iam delete-user --user-name "$user"
if iam get-user --user-name "$user" >/dev/null 2>&1; then
	fail "get-user after delete-user: got success, want NoSuchEntity"
fi

echo "iam-e2e: ok"
