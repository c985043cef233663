#!/usr/bin/env bash
# cks-e2e.sh drives custom key stores with the AWS CLI against a running
# OpenKMS whose configuration maps CLUSTER_ID to a PKCS#11 token:
# create-custom-key-store, connect, create-key --custom-key-store-id,
# encrypt, decrypt, disconnect, and clean up.
#
# Usage: scripts/cks-e2e.sh ENDPOINT CLUSTER_ID TOKEN_PIN
# Credentials come from the standard AWS_* variables (region us-east-1).
set -euo pipefail
EP=${1:?usage: cks-e2e.sh ENDPOINT CLUSTER_ID TOKEN_PIN}
CLUSTER=${2:?cluster id}
PIN=${3:?token PIN}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} AWS_PAGER=""
k() { aws --endpoint-url "$EP" kms "$@"; }
fail() { echo "cks-e2e: FAIL: $*" >&2; exit 1; }
step() { echo "cks-e2e: $*"; }

step create-custom-key-store
cks=$(k create-custom-key-store --custom-key-store-name "cli-$$-$RANDOM" --cloud-hsm-cluster-id "$CLUSTER" \
	--trust-anchor-certificate "-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----" \
	--key-store-password "$PIN" --query CustomKeyStoreId --output text)
[[ $cks == cks-* ]] || fail "got store id '$cks'"

step connect-custom-key-store
k connect-custom-key-store --custom-key-store-id "$cks" >/dev/null
state=$(k describe-custom-key-stores --custom-key-store-id "$cks" --query 'CustomKeyStores[0].ConnectionState' --output text)
[[ $state == CONNECTED ]] || fail "ConnectionState: got $state, want CONNECTED"

step create-key in the store
kid=$(k create-key --custom-key-store-id "$cks" --origin AWS_CLOUDHSM --query KeyMetadata.KeyId --output text)
origin=$(k describe-key --key-id "$kid" --query KeyMetadata.Origin --output text)
[[ $origin == AWS_CLOUDHSM ]] || fail "Origin: got $origin"

step encrypt and decrypt in the HSM
tmp=$(mktemp -d)
printf 'kept in the HSM' >"$tmp/pt"
k encrypt --key-id "$kid" --plaintext "fileb://$tmp/pt" --query CiphertextBlob --output text | base64 -d >"$tmp/ct"
k decrypt --ciphertext-blob "fileb://$tmp/ct" --query Plaintext --output text | base64 -d >"$tmp/out"
cmp -s "$tmp/pt" "$tmp/out" || fail "decrypted plaintext differs"

step disconnect makes the key unavailable
k disconnect-custom-key-store --custom-key-store-id "$cks" >/dev/null
if out=$(k encrypt --key-id "$kid" --plaintext "fileb://$tmp/pt" 2>&1); then fail "encrypt while disconnected succeeded"; fi
[[ $out == *KMSInvalidStateException* ]] || fail "encrypt while disconnected: got '$out'"
rm -rf "$tmp"
echo "cks-e2e: ok"
