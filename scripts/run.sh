#!/bin/sh
# run.sh - what `make run` does after building: start Outpost in the
# foreground with the example configuration, on loopback, as you.
#
# The first run creates run/ from examples/ (queue_directory points into
# run/; mail_owner and the mailbox owner are the invoking user) and a self-signed
# TLS certificate with openssl. Later runs reuse run/ as it is, so edits
# there stick; remove run/ to start over. Ctrl-C stops the server.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN="${OUTPOST_RUN_DIR:-$ROOT/run}"
BUILD="${OUTPOST_BUILD:-$ROOT/build}"
OUTPOST="$BUILD/src/cli/outpost"

if [ ! -x "$OUTPOST" ]; then
	echo "run.sh: $OUTPOST not found; build first (make)" >&2
	exit 1
fi

# A mailbox owned by root (make run as root, in a container) must be allowed.
MIN_UID=100
[ "$(id -u)" -lt 100 ] && MIN_UID=$(id -u)

if [ ! -f "$RUN/main.cf" ]; then
	mkdir -p "$RUN"
	for f in "$ROOT"/examples/*; do
		[ "$(basename "$f")" = main.cf ] || cp "$f" "$RUN/"
	done
	sed -e "s#^queue_directory = .*#queue_directory = $RUN/queue#" \
	    -e "s#^mail_owner = .*#mail_owner = $(id -un)#" \
	    -e "s#^virtual_uid_maps = .*#virtual_uid_maps = static:$(id -u)#" \
	    -e "s#^virtual_gid_maps = .*#virtual_gid_maps = static:$(id -g)#" \
	    -e "s#^virtual_minimum_uid = .*#virtual_minimum_uid = $MIN_UID#" \
	    "$ROOT/examples/main.cf" > "$RUN/main.cf"
	echo "run.sh: created $RUN from examples/"
fi

if [ ! -f "$RUN/cert.pem" ] || [ ! -f "$RUN/key.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
	    -subj "/CN=mx.example.test" -addext "subjectAltName=DNS:mx.example.test,DNS:localhost" \
	    -keyout "$RUN/key.pem" -out "$RUN/cert.pem" 2>/dev/null
	chmod 600 "$RUN/key.pem"
	echo "run.sh: created a self-signed certificate in $RUN/cert.pem"
fi

if [ ! -d "$RUN/accounts" ]; then
	"$OUTPOST" account -c "$RUN" rebuild
	echo "run.sh: created the (empty) account tables in $RUN/accounts"
fi

echo "run.sh: starting Outpost (configuration $RUN); Ctrl-C stops it"
exec "$OUTPOST" start -f -c "$RUN"
