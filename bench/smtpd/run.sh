#!/bin/sh
# bench/smtpd/run.sh - N concurrent SMTP sessions idle after EHLO, against
# Outpost (default configuration, one smtpd process) and Debian's Postfix
# (default_process_limit raised to serve them), in one run: memory per
# session (RSS and PSS summed over every process of each MTA) and how fast
# a fresh client still gets its 220 greeting. Writes bench/smtpd/RESULTS.md.
# Env: OUTPOST_BUILD (default: build), BENCH_SESSIONS (default 5000).
# Needs root for Postfix (it is skipped, and said so, otherwise).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OUTPOST_BUILD:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
n=${BENCH_SESSIONS:-5000}
work=$(mktemp -d /tmp/outpost-bench-smtpd.XXXXXX)
chmod 755 "$work"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
. "$here/../lib.sh"

# --- Outpost
op=$(free_port)
mkdir -p "$work/outpost"
cat > "$work/outpost/main.cf" <<EOC
myhostname = mx.bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
queue_directory = $work/outpost/queue
data_directory = $work/outpost/data
maillog_file = $work/outpost/maillog
mail_owner = $(id -un)
smtpd_peername_lookup = no
local_recipient_maps =
alias_maps =
# 5000 sessions come from one client address in this test
smtpd_client_connection_count_limit = 0
# Postfix needs minutes to fork its processes; keep everyone's sessions alive
smtpd_timeout = 3600s
EOC
echo "127.0.0.1:$op inet n - n - - smtpd" > "$work/outpost/master.cf"
"$build/src/cli/outpost" start -f -c "$work/outpost" > "$work/outpost/out" 2>&1 &
opid=$!
wait_port "$op"
outpost_json=$("$here/idle.py" "$op" "$n" "echo $opid; pgrep -P $opid")
kill -TERM "$opid"; wait "$opid" 2>/dev/null || true
echo "outpost: $outpost_json"

# --- Postfix
postfix_json='{"skipped": "needs root and Debian postfix"}'
if [ "$(id -u)" = 0 ] && command -v postfix >/dev/null; then
	pp=$(free_port)
	pc=$work/postfix
	q=$pc/queue
	postfix_dirs "$pc"
	cat > "$pc/main.cf" <<EOC
compatibility_level = 3.6
myhostname = mx.bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = $q
data_directory = $pc/data
default_process_limit = $((n + 100))
smtpd_client_connection_count_limit = 0
smtpd_peername_lookup = no
smtpd_timeout = 3600s
EOC
	cat > "$pc/master.cf" <<EOC
127.0.0.1:$pp inet n - y - - smtpd
pickup    unix n - y 60 1 pickup
cleanup   unix n - y - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - y - - trivial-rewrite
bounce    unix - - y - 0 bounce
defer     unix - - y - 0 bounce
trace     unix - - y - 0 bounce
verify    unix - - y - 1 verify
proxymap  unix - - n - - proxymap
anvil     unix - - y - 1 anvil
scache    unix - - y - 1 scache
EOC
	# postfix(1) refuses config directories not listed in the system's
	# alternate_config_directories; master(8) itself reads any -c DIR.
	/usr/lib/postfix/sbin/master -c "$pc" -d > "$pc/out" 2>&1 &
	mpid=$!
	if wait_port "$pp"; then
		postfix_json=$("$here/idle.py" "$pp" "$n" "echo $mpid; pgrep -P $mpid")
	else
		postfix_json='{"skipped": "postfix master did not start"}'
	fi
	kill -TERM "$mpid" 2>/dev/null || true
	wait "$mpid" 2>/dev/null || true
	echo "postfix: $postfix_json"
fi

/usr/bin/python3 - "$n" "$outpost_json" "$postfix_json" > "$here/RESULTS.md" <<'EOP'
import json, sys
n, o, p = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print("## smtpd: concurrent sessions idle after EHLO\n")
print(f"{n} sessions from one client on loopback, each idle after EHLO; memory summed over "
      "every process of the MTA (PSS counts shared pages once, RSS counts them per process); "
      "then a fresh client's wait for its 220 greeting. Run by bench/smtpd/run.sh.\n")
print("| MTA | sessions | processes | RSS/session KiB | PSS/session KiB | total PSS MiB | fresh greeting s |")
print("|---|---|---|---|---|---|---|")
for name, r in (("Outpost", o), ("Postfix 3.7", p)):
    if "skipped" in r:
        print(f"| {name} | skipped: {r['skipped']} | | | | | |")
    else:
        print(f"| {name} | {r['sessions']} | {r['processes']} | {r['rss_per_session_kib']} | "
              f"{r['pss_per_session_kib']} | {r['pss_kib'] / 1024:.1f} | {r['fresh_greeting_s']} |")
EOP
rm -rf "$work"
cat "$here/RESULTS.md"
