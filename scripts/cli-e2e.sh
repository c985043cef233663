#!/usr/bin/env bash
# cli-e2e.sh drives a running OpenKMS server with the AWS CLI, as users do:
# keys, aliases, encryption, data keys, tags, the key lifecycle, and ML-DSA
# signing from a client-computed mu (EXTERNAL_MU).
#
# Usage: scripts/cli-e2e.sh ENDPOINT
#
# Credentials come from the standard AWS_* environment variables; the
# region defaults to us-east-1. Example:
#
#   AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=... \
#     scripts/cli-e2e.sh http://127.0.0.1:8080
#
# It prints "cli-e2e: ok" and exits 0 when every step passes, or names the
# failed step on stderr and exits non-zero.
set -euo pipefail

EP=${1:?usage: cli-e2e.sh ENDPOINT}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_PAGER=""

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kms() { aws --endpoint-url "$EP" kms "$@"; }
fail() { echo "cli-e2e: FAIL: $*" >&2; exit 1; }
step() { echo "cli-e2e: $*"; }
# want NAME GOT WANT
want() { [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"; }

step create-key
key_id=$(kms create-key --description cli --query KeyMetadata.KeyId --output text)
[[ -n $key_id && $key_id != None ]] || fail "create-key: got KeyId '$key_id', want a key id"

alias_name=alias/cli-e2e
step create-alias
kms create-alias --alias-name "$alias_name" --target-key-id "$key_id"

step describe-key via alias
want "describe-key $alias_name" \
	"$(kms describe-key --key-id "$alias_name" --query KeyMetadata.KeyId --output text)" "$key_id"

step encrypt and decrypt
head -c 256 /dev/urandom >"$work/plain.bin"
kms encrypt --key-id "$alias_name" --plaintext "fileb://$work/plain.bin" \
	--encryption-context purpose=cli --query CiphertextBlob --output text |
	base64 -d >"$work/cipher.bin"
kms decrypt --ciphertext-blob "fileb://$work/cipher.bin" --encryption-context purpose=cli \
	--output text --query Plaintext | base64 -d >"$work/decrypted.bin"
cmp -s "$work/plain.bin" "$work/decrypted.bin" || fail "decrypt: got bytes different from the plaintext"
if kms decrypt --ciphertext-blob "fileb://$work/cipher.bin" --encryption-context purpose=other \
	>/dev/null 2>"$work/err"; then
	fail "decrypt with the wrong encryption context: got success, want InvalidCiphertextException"
fi
grep -q InvalidCiphertextException "$work/err" ||
	fail "decrypt with the wrong encryption context: got '$(cat "$work/err")', want InvalidCiphertextException"

step generate-data-key
kms generate-data-key --key-id "$key_id" --key-spec AES_256 \
	--query '[Plaintext,CiphertextBlob]' --output text >"$work/dk.txt"
read -r dk_plain dk_blob <"$work/dk.txt"
base64 -d <<<"$dk_plain" >"$work/dk-plain.bin"
base64 -d <<<"$dk_blob" >"$work/dk-blob.bin"
want "generate-data-key plaintext bytes" "$(wc -c <"$work/dk-plain.bin" | tr -d ' ')" 32
kms decrypt --ciphertext-blob "fileb://$work/dk-blob.bin" --output text --query Plaintext |
	base64 -d >"$work/dk-decrypted.bin"
cmp -s "$work/dk-plain.bin" "$work/dk-decrypted.bin" ||
	fail "decrypt data key: got bytes different from the data key's plaintext"

step list-keys
want list-keys "$(kms list-keys --query "Keys[?KeyId=='$key_id'].KeyId" --output text)" "$key_id"

step list-aliases
want list-aliases \
	"$(kms list-aliases --query "Aliases[?AliasName=='$alias_name'].TargetKeyId" --output text)" "$key_id"

step tag-resource and list-resource-tags
kms tag-resource --key-id "$key_id" --tags TagKey=team,TagValue=cli
want list-resource-tags \
	"$(kms list-resource-tags --key-id "$key_id" --query "Tags[?TagKey=='team'].TagValue" --output text)" cli

step disable-key
kms disable-key --key-id "$key_id"
want "key state after disable-key" \
	"$(kms describe-key --key-id "$key_id" --query KeyMetadata.KeyState --output text)" Disabled
if kms encrypt --key-id "$key_id" --plaintext "fileb://$work/plain.bin" >/dev/null 2>"$work/err"; then
	fail "encrypt under a disabled key: got success, want DisabledException"
fi
grep -q DisabledException "$work/err" ||
	fail "encrypt under a disabled key: got '$(cat "$work/err")', want DisabledException"

step enable-key
kms enable-key --key-id "$key_id"
kms encrypt --key-id "$key_id" --plaintext "fileb://$work/plain.bin" >/dev/null

step schedule-key-deletion
want schedule-key-deletion \
	"$(kms schedule-key-deletion --key-id "$key_id" --pending-window-in-days 7 --query KeyState --output text)" \
	PendingDeletion

step cancel-key-deletion
cancelled=$(kms cancel-key-deletion --key-id "$key_id" --query KeyId --output text)
[[ $cancelled == *"$key_id" ]] || fail "cancel-key-deletion: got KeyId '$cancelled', want the ARN of $key_id"
# As in AWS KMS, a key whose deletion is cancelled is disabled.
want "key state after cancel-key-deletion" \
	"$(kms describe-key --key-id "$key_id" --query KeyMetadata.KeyState --output text)" Disabled

step sign with ML-DSA EXTERNAL_MU, verify RAW
# The client computes FIPS 204's mu itself from GetPublicKey's key (Python's
# hashlib, not OpenKMS code): mu = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64).
mldsa_id=$(kms create-key --key-spec ML_DSA_65 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)
kms get-public-key --key-id "$mldsa_id" --query PublicKey --output text | base64 -d >"$work/mldsa.spki"
printf 'a message for ML-DSA' >"$work/msg.bin"
python3 - "$work/mldsa.spki" "$work/msg.bin" "$work/mu.bin" <<'PY'
import hashlib, sys
spki, msg = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
pk = spki[-1952:]  # ML-DSA-65's public key ends the SubjectPublicKeyInfo
tr = hashlib.shake_256(pk).digest(64)
open(sys.argv[3], "wb").write(hashlib.shake_256(tr + b"\x00\x00" + msg).digest(64))
PY
kms sign --key-id "$mldsa_id" --message "fileb://$work/mu.bin" --message-type EXTERNAL_MU \
	--signing-algorithm ML_DSA_SHAKE_256 --query Signature --output text | base64 -d >"$work/mldsa.sig"
want "verify RAW of an EXTERNAL_MU signature" \
	"$(kms verify --key-id "$mldsa_id" --message "fileb://$work/msg.bin" --message-type RAW \
		--signing-algorithm ML_DSA_SHAKE_256 --signature "fileb://$work/mldsa.sig" --query SignatureValid --output text)" True

echo "cli-e2e: ok"
