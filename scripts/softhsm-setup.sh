#!/usr/bin/env bash
# softhsm-setup.sh makes a SoftHSM2 token available for the PKCS#11 tests of
# internal/hsm and internal/rootkey/pkcs11root (and for trying the HSM root
# key provider by hand; see docs/HSM.md).
#
# Usage: scripts/softhsm-setup.sh [setup|reset]
#
#   setup  (default) install softhsm2 if it is missing (Debian/Ubuntu, with
#          apt-get), write a SoftHSM configuration whose token directory is
#          private to OpenKMS, and initialise the token if it does not exist.
#   reset  delete the token directory and configuration, then run setup.
#
# Every run is idempotent. Progress goes to stderr; stdout carries only four
# export lines, so CI can run:
#
#   eval "$(bash scripts/softhsm-setup.sh | tail -4)"
#   go test -race ./internal/hsm/... ./internal/rootkey/pkcs11root/
#
# Environment (defaults in parentheses):
#   OPENKMS_SOFTHSM_DIR     configuration and token directory (/tmp/openkms-softhsm)
#   OPENKMS_HSM_TOKEN       token label (openkms-test)
#   OPENKMS_HSM_SO_PIN      security officer PIN (1234)
#   OPENKMS_HSM_PIN         user PIN, the one OpenKMS logs in with (openkms-pin: at least
#                           7 characters, as AWS requires of KeyStorePassword)
#
# These PINs are for a throwaway test token: they appear on the
# softhsm2-util command line and in the printed exports. Never use them for
# a token that protects real keys.
set -euo pipefail

DIR=${OPENKMS_SOFTHSM_DIR:-/tmp/openkms-softhsm}
TOKEN=${OPENKMS_HSM_TOKEN:-openkms-test}
SO_PIN=${OPENKMS_HSM_SO_PIN:-1234}
PIN=${OPENKMS_HSM_PIN:-openkms-pin}
CONF=$DIR/softhsm2.conf
TOKENDIR=$DIR/tokens

log() { echo "softhsm-setup: $*" >&2; }
die() {
	echo "softhsm-setup: error: $*" >&2
	exit 1
}

case "${1:-setup}" in
setup) ;;
reset)
	log "removing $DIR"
	rm -rf -- "$DIR"
	;;
*) die "unknown command '$1' (want setup or reset)" ;;
esac

if [ ${#TOKEN} -gt 32 ]; then
	die "token label '$TOKEN' is longer than 32 bytes (a PKCS#11 limit)"
fi
if [ ${#PIN} -lt 4 ] || [ ${#SO_PIN} -lt 4 ]; then
	die "SoftHSM PINs must be at least 4 characters"
fi

# install_softhsm installs the Debian package when softhsm2-util is missing.
install_softhsm() {
	if command -v softhsm2-util >/dev/null 2>&1; then
		return
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "softhsm2-util is not installed and apt-get is not available; install SoftHSM 2 (package softhsm2) by hand"
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "installing softhsm2 needs root (or sudo)"
		sudo=sudo
	fi
	log "installing softhsm2"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq softhsm2 >&2
	command -v softhsm2-util >/dev/null 2>&1 || die "softhsm2 installed, but softhsm2-util is still not on PATH"
}

# find_module prints the path of libsofthsm2.so.
find_module() {
	local candidates=()
	if command -v dpkg >/dev/null 2>&1; then
		# The stable path (/usr/lib/softhsm/...) sorts before the multiarch one.
		mapfile -t candidates < <(dpkg -L libsofthsm2 softhsm2 2>/dev/null | grep '/libsofthsm2\.so$' | sort)
	fi
	candidates+=(
		/usr/lib/softhsm/libsofthsm2.so
		/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
		/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so
		/usr/local/lib/softhsm/libsofthsm2.so
		/usr/lib64/pkcs11/libsofthsm2.so
		/opt/homebrew/lib/softhsm/libsofthsm2.so
	)
	local m
	for m in "${candidates[@]}"; do
		if [ -f "$m" ]; then
			echo "$m"
			return
		fi
	done
	die "libsofthsm2.so not found (looked in: ${candidates[*]})"
}

install_softhsm
MODULE=$(find_module)

mkdir -p -m 700 -- "$DIR" "$TOKENDIR"
want_conf="# Written by scripts/softhsm-setup.sh for OpenKMS tests.
directories.tokendir = $TOKENDIR
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false"
if [ ! -f "$CONF" ] || [ "$(cat -- "$CONF")" != "$want_conf" ]; then
	log "writing $CONF"
	printf '%s\n' "$want_conf" >"$CONF.tmp"
	chmod 600 -- "$CONF.tmp"
	mv -f -- "$CONF.tmp" "$CONF"
fi
export SOFTHSM2_CONF=$CONF

# token_exists succeeds if an initialised token carries the label.
token_exists() {
	softhsm2-util --show-slots 2>/dev/null |
		awk -v want="$TOKEN" '
			/^[[:space:]]*Label:/ { sub(/^[[:space:]]*Label:[[:space:]]*/, ""); sub(/[[:space:]]+$/, ""); if ($0 == want) found = 1 }
			END { exit !found }'
}

if token_exists; then
	log "token '$TOKEN' already exists in $TOKENDIR"
else
	log "initialising token '$TOKEN' in $TOKENDIR"
	softhsm2-util --init-token --free --label "$TOKEN" --so-pin "$SO_PIN" --pin "$PIN" >&2
	token_exists || die "softhsm2-util did not create token '$TOKEN'"
fi

printf 'export SOFTHSM2_CONF=%q\n' "$CONF"
printf 'export OPENKMS_TEST_PKCS11_MODULE=%q\n' "$MODULE"
printf 'export OPENKMS_TEST_PKCS11_TOKEN=%q\n' "$TOKEN"
printf 'export OPENKMS_TEST_PKCS11_PIN=%q\n' "$PIN"
