#!/bin/sh
# bench/relay/run.sh - relay throughput, Outpost beside Debian's Postfix in
# one run: Postfix's smtp-source sends BENCH_MESSAGES messages of 5 KB over
# loopback at concurrency 10 and 50 to the MTA, which relays them (relayhost)
# to Postfix's smtp-sink; we time from the first connection until the sink
# has every message (delivered msg/s) and until smtp-source is done
# (accepted msg/s). Then, at concurrency 1, the time from the end of DATA
# to the 250 reply (median of BENCH_LATENCY messages). Each MTA runs with
# its default durability (Postfix: fsync per queue file; Outpost: group
# commit, one syncfs per batch). Medians of BENCH_RUNS runs go to
# bench/relay/RESULTS.md.
# Env: OUTPOST_BUILD (default: build), BENCH_RUNS (3), BENCH_MESSAGES
# (20000), BENCH_LATENCY (300), BENCH_POSTFIX (yes; "no" measures Outpost
# alone, for quick profiling runs). Postfix needs root (skipped otherwise).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OUTPOST_BUILD:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
runs=${BENCH_RUNS:-3}
msgs=${BENCH_MESSAGES:-20000}
nlat=${BENCH_LATENCY:-300}
work=$(mktemp -d /var/tmp/outpost-bench-relay.XXXXXX)
chmod 755 "$work"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
results=$work/results.txt
: > "$results"
load0=$(cut -d' ' -f1 /proc/loadavg)

. "$here/../lib.sh"
now() { date +%s.%N; }

# sink_count FILE - messages the sink has taken so far
sink_count() { tr '\r' '\n' < "$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1; }

# one_run MTA SMTPPORT SINKOUT CONCURRENCY - append "MTA conc delivered accepted".
# Each run starts from a settled machine: the previous run's dirty pages
# (either MTA's queue files and logs) are written out first, so neither
# MTA pays for the other's writeback.
one_run() {
	sync; sleep 2
	base=$(sink_count "$3"); base=${base:-0}
	t0=$(now)
	smtp-source -s "$4" -m "$msgs" -l 5120 -f sender@src.bench.test \
		-t rcpt@dst.bench.test "127.0.0.1:$2" > /dev/null 2>&1 || true
	t1=$(now)
	i=0
	while :; do	# (shell functions share variables: no "c" here)
		got=$(sink_count "$3"); got=${got:-0}
		[ $((got - base)) -ge "$msgs" ] && break
		i=$((i + 1))
		if [ $i -gt 6000 ]; then echo "$1: only $((got - base)) of $msgs delivered" >&2; break; fi
		sleep 0.05
	done
	t2=$(now)
	echo "$1 $4 $(echo "$msgs / ($t2 - $t0)" | bc -l) $(echo "$msgs / ($t1 - $t0)" | bc -l)" >> "$results"
}

# latency MTA SMTPPORT - "MTA latency MEDIAN_MS"
latency() {
	/usr/bin/python3 - "$2" "$nlat" <<'EOP' | sed "s/^/$1 latency /" >> "$results"
import socket, statistics, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if line[3:4] != b"-":
            return line
reply(); s.sendall(b"EHLO bench.test\r\n"); reply()
body = b"Subject: latency\r\n\r\n" + (b"x" * 76 + b"\r\n") * 66
times = []
for i in range(n):
    s.sendall(b"MAIL FROM:<sender@src.bench.test>\r\n"); reply()
    s.sendall(b"RCPT TO:<rcpt@dst.bench.test>\r\n"); reply()
    s.sendall(b"DATA\r\n"); reply()
    s.sendall(body)
    t = time.perf_counter()
    s.sendall(b".\r\n")
    r = reply()
    times.append(time.perf_counter() - t)
    assert r.startswith(b"250"), r
s.sendall(b"QUIT\r\n")
print("%.3f" % (statistics.median(times) * 1000))
EOP
}

# --- sinks (one per MTA, so each count is its own)
sink_o=$(free_port); sink_p=$(free_port)
smtp-sink -u nobody -c "127.0.0.1:$sink_o" 2000 > "$work/sink-outpost" 2>&1 &
spid_o=$!
smtp-sink -u nobody -c "127.0.0.1:$sink_p" 2000 > "$work/sink-postfix" 2>&1 &
spid_p=$!
wait_port "$sink_o"; wait_port "$sink_p"

# --- Outpost
op=$(free_port)
mkdir -p "$work/outpost"
cat > "$work/outpost/main.cf" <<EOC
myhostname = mx.bench.test
mydestination = bench.test
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink_o
queue_directory = $work/outpost/queue
data_directory = $work/outpost/data
maillog_file = $work/outpost/maillog
mail_owner = $(id -un)
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
local_recipient_maps =
alias_maps =
EOC
cat > "$work/outpost/master.cf" <<EOC
127.0.0.1:$op inet n - n - - smtpd
qmgr unix n - n 300 1 qmgr
smtp unix - - n - - smtp
EOC
"$build/src/cli/outpost" start -f -c "$work/outpost" > "$work/outpost/out" 2>&1 &
opid=$!
wait_port "$op"

# --- Postfix
pp=
if [ "${BENCH_POSTFIX:-yes}" != no ] && [ "$(id -u)" = 0 ] && command -v postfix >/dev/null; then
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
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sink_p
queue_directory = $q
data_directory = $pc/data
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_peername_lookup = no
maillog_file = $pc/maillog
EOC
	cat > "$pc/master.cf" <<EOC
127.0.0.1:$pp inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
proxymap  unix - - n - - proxymap
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOC
	/usr/lib/postfix/sbin/master -c "$pc" -d > "$pc/out" 2>&1 &
	mpid=$!
	wait_port "$pp" || pp=
fi

for r in $(seq "$runs"); do
	for c in 10 50; do
		# which MTA goes first alternates, so neither always runs in the
		# other's wake (its TIME_WAIT sockets, its idle processes)
		if [ $((r % 2)) -eq 1 ] || [ -z "$pp" ]; then
			one_run outpost "$op" "$work/sink-outpost" "$c"
			[ -n "$pp" ] && one_run postfix "$pp" "$work/sink-postfix" "$c"
		else
			one_run postfix "$pp" "$work/sink-postfix" "$c"
			one_run outpost "$op" "$work/sink-outpost" "$c"
		fi
	done
	latency outpost "$op"
	[ -n "$pp" ] && latency postfix "$pp"
done

kill -TERM "$opid" 2>/dev/null || true; wait "$opid" 2>/dev/null || true
[ -n "${mpid:-}" ] && { kill -TERM "$mpid" 2>/dev/null || true; wait "$mpid" 2>/dev/null || true; }
kill "$spid_o" "$spid_p" 2>/dev/null || true

load1=$(cut -d' ' -f1 /proc/loadavg)
/usr/bin/python3 - "$results" "$msgs" "$runs" "$nlat" "${pp:-none}" "$load0" "$load1" "$(nproc)" > "$here/RESULTS.md" <<'EOP'
import collections, statistics, sys
path, msgs, runs, nlat, pp, load0, load1, ncpu = sys.argv[1:9]
d = collections.defaultdict(list)
for line in open(path):
    f = line.split()
    if f[1] == "latency":
        d[(f[0], "lat")].append(float(f[2]))
    else:
        d[(f[0], int(f[1]))].append((float(f[2]), float(f[3])))
print("## relay: smtp-source -> MTA -> smtp-sink on loopback\n")
print(f"{msgs} messages of 5 KB per run, {runs} runs, medians; Postfix 3.7 and Outpost "
      "measured in the same run, each with its default durability, relaying everything to "
      "smtp-sink via relayhost. Delivered = messages at the sink per second from the first "
      "connection; accepted = smtp-source's own rate. Latency: concurrency 1, end of DATA "
      f"to the 250 reply, median of {nlat} messages. Run by bench/relay/run.sh. "
      f"Load average {load0} at the start and {load1} at the end, on {ncpu} CPUs: numbers "
      "taken on a busy machine compare the two MTAs with each other, not with other "
      "machines.\n")
print("| MTA | concurrency | delivered msg/s | accepted msg/s | delivered, each run |")
print("|---|---|---|---|---|")
for mta in ("outpost", "postfix"):
    for c in (10, 50):
        v = d.get((mta, c))
        name = "Outpost" if mta == "outpost" else "Postfix 3.7"
        if not v:
            print(f"| {name} | {c} | skipped | | |")
            continue
        each = " / ".join(f"{x[0]:.0f}" for x in v)
        print(f"| {name} | {c} | {statistics.median(x[0] for x in v):.0f} | "
              f"{statistics.median(x[1] for x in v):.0f} | {each} |")
print("\n| MTA | end of DATA to 250, median ms |")
print("|---|---|")
for mta, name in (("outpost", "Outpost"), ("postfix", "Postfix 3.7")):
    v = d.get((mta, "lat"))
    print(f"| {name} | {statistics.median(v):.2f} |" if v else f"| {name} | skipped |")
EOP
[ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
cat "$here/RESULTS.md"
