#!/bin/sh
# deps.sh [LIST…] - install the Debian packages Outpost needs, if missing.
# As root: apt-get installs what is missing (quiet, idempotent, fast when
# all is present). Otherwise: print the exact apt-get line and fail.
set -eu
here=$(dirname "$0")
[ $# -gt 0 ] || set -- "$here/packages.txt"
want=$(cat "$@" | sed 's/#.*//' | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u)
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "outpost: missing Debian packages; as root run:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "outpost: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if [ -n "$(echo "$missing" | grep -w postfix || true)" ]; then
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
