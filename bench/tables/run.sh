#!/bin/sh
# bench/tables/run.sh - batch lookups (`-q -`) with `outpost map` and
# Debian's postmap side by side, in one run:
#   1,000,000 keys against 1,000,000-entry lmdb and cdb tables,
#   100,000 keys against regexp and pcre tables of 100 and 1,000 patterns.
# Each (tool, table) is run BENCH_RUNS times (default 5) under
# /usr/bin/time -v; the medians of keys/second and peak RSS go to
# bench/tables/RESULTS.md (gathered into bench/RESULTS.md by bench/run.sh).
# Env: OUTPOST_BUILD (default: build), BENCH_RUNS, BENCH_KEEP=1 keeps the
# scratch directory.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OUTPOST_BUILD:-$root/build}
outpost=$build/src/cli/outpost
postmap=/usr/sbin/postmap
runs=${BENCH_RUNS:-5}
py=/usr/bin/python3

for tool in "$outpost" "$postmap" /usr/bin/time; do
	[ -x "$tool" ] || { echo "bench/tables: missing $tool" >&2; exit 1; }
done
work=$(mktemp -d /tmp/outpost-bench-tables.XXXXXX)
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/conf" "$work/pf" "$work/op"
echo "compatibility_level = 3.6" > "$work/conf/main.cf"

# --- data: fixed seeds, so every run measures the same work ---------------
$py - "$work" <<'PY'
import random, sys
w = sys.argv[1]
rnd = random.Random(20261122)
N = 1000000
with open(f"{w}/fixed", "w") as f:
    for i in range(N):
        f.write(f"user{i}@example{i % 1000}.com relay{i % 97}.example.net\n")
keys = [f"user{rnd.randrange(N * 10 // 9)}@example{rnd.randrange(1000)}.com" for _ in range(N)]
for i in range(0, N, 3):            # two thirds hit, one third miss
    k = rnd.randrange(N)
    keys[i] = f"user{k}@example{k % 1000}.com"
with open(f"{w}/keys-1m", "w") as f:
    f.write("\n".join(keys) + "\n")
with open(f"{w}/keys-100k", "w") as f:
    f.write("\n".join(keys[:100000]) + "\n")
for n in (100, 1000):
    lines = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            lines.append(f"/^user{i}[0-9]*@example{i % 1000}\\.com$/ REJECT rule {i}")
        elif kind == 1:
            lines.append(f"/@example{i}\\.org$/ OK domain {i}")
        elif kind == 2:
            lines.append(f"/^(bounce|noreply){i}-([a-z]+)@/ DISCARD $2")
        else:
            lines.append(f"/^user{i}\\+([^@]+)@example[0-9]+\\.com$/ FILTER smtp:[filter{i}]")
    for typ in ("regexp", "pcre"):
        with open(f"{w}/patterns{n}.{typ}", "w") as f:
            f.write("\n".join(lines) + "\n")
PY
cp "$work/fixed" "$work/pf/fixed"
cp "$work/fixed" "$work/op/fixed"

echo "bench/tables: building 1,000,000-entry tables"
build_secs() {	# build_secs TOOL TYPE CMD... - wall seconds of one build
	t=$1 ty=$2
	shift 2
	s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
	set -- "$t" "$ty"
	echo "$1 $2 $s $e" | awk '{ print $1, $2, $4 - $3 }' >> "$work/builds"
}
: > "$work/builds"
build_secs postmap lmdb "$postmap" -c "$work/conf" "lmdb:$work/pf/fixed"
build_secs postmap cdb "$postmap" -c "$work/conf" "cdb:$work/pf/fixed"
build_secs outpost lmdb "$outpost" map "lmdb:$work/op/fixed"
build_secs outpost cdb "$outpost" map "cdb:$work/op/fixed"

# measure TOOL TABLE KEYS - one run: "wall_seconds maxrss_kb cpu_seconds"
measure() {
	keys=$3
	if [ "$1" = postmap ]; then
		set -- "$postmap" -c "$work/conf" -q - "$2"
	else
		set -- "$outpost" map -q - "$2"
	fi
	/usr/bin/time -v -o "$work/time.out" "$@" < "$keys" > "$work/out" 2>/dev/null || true
	el=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.out")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.out")
	secs=$(echo "$el" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
	usr=$(sed -n 's/.*User time (seconds): //p' "$work/time.out")
	sys=$(sed -n 's/.*System time (seconds): //p' "$work/time.out")
	echo "$secs $rss $(echo "$usr $sys" | awk '{ print $1 + $2 }')"
}

# row LABEL TYPE OUTPOST_TABLE POSTMAP_TABLE KEYS NKEYS
: > "$work/rows"
row() {
	label=$1 op_table=$3 pf_table=$4 keys=$5 nkeys=$6
	: > "$work/op.runs"
	: > "$work/pf.runs"
	i=0
	while [ $i -lt "$runs" ]; do	# interleaved, so load changes hit both
		measure outpost "$op_table" "$keys" >> "$work/op.runs"
		cp "$work/out" "$work/op.out"
		measure postmap "$pf_table" "$keys" >> "$work/pf.runs"
		i=$((i + 1))
	done
	if ! cmp -s "$work/op.out" "$work/out"; then
		echo "bench/tables: $label: outpost and postmap answers differ" >&2
		diff "$work/op.out" "$work/out" | head -5 >&2
		echo "$label DIFFER" >> "$work/rows"
		return
	fi
	$py - "$label" "$nkeys" "$work/op.runs" "$work/pf.runs" "$(wc -l < "$work/out")" >> "$work/rows" <<'PY'
import statistics, sys
label, n, opf, pff, found = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def load(p):
    rows = [l.split() for l in open(p) if l.strip()]
    med = statistics.median
    return (med(n / max(float(r[2]), 1e-3) for r in rows), med(n / max(float(r[0]), 1e-3) for r in rows),
            med(int(r[1]) for r in rows))
ocpu, owall, orss = load(opf)
pcpu, pwall, prss = load(pff)
print(f"| {label} | {found} | {ocpu:,.0f} | {pcpu:,.0f} | **{ocpu / pcpu:.2f}x** "
      f"| {owall / pwall:.2f}x | {orss / 1024:.1f} | {prss / 1024:.1f} | {orss / prss:.2f} |")
PY
	tail -1 "$work/rows"
}

echo "bench/tables: $runs runs per row"
row "lmdb, 1,000,000 entries, 1,000,000 keys" lmdb "lmdb:$work/op/fixed" "lmdb:$work/pf/fixed" "$work/keys-1m" 1000000
row "cdb, 1,000,000 entries, 1,000,000 keys" cdb "cdb:$work/op/fixed" "cdb:$work/pf/fixed" "$work/keys-1m" 1000000
for n in 100 1000; do
	for typ in regexp pcre; do
		row "$typ, $n patterns, 100,000 keys" $typ "$typ:$work/patterns$n.$typ" \
			"$typ:$work/patterns$n.$typ" "$work/keys-100k" 100000
	done
done

# --- report ---------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "## Lookup tables: \`outpost map -q -\` vs \`postmap -q -\`"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $cpu, $(nproc) CPUs,"
	echo "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr);"
	echo "postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null), outpost $("$outpost" version | cut -d' ' -f2)."
	echo "Medians of $runs interleaved runs per row. keys/s = keys / CPU seconds (user + system)"
	echo "of the whole process (open, read stdin, look up, write stdout): the machine is shared,"
	echo "so wall-clock time includes waiting for a CPU; the wall-clock ratio is shown too."
	echo "Peak RSS from /usr/bin/time -v. Rows marked DIFFER had different answers (none should)."
	echo
	echo "| table | keys found | outpost keys/s (CPU) | postmap keys/s (CPU) | speed ratio (CPU) | speed ratio (wall) | outpost MiB | postmap MiB | RSS ratio |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	cat "$work/rows"
	echo
	echo "Index builds of the 1,000,000-entry source (seconds, one run):"
	echo
	awk '{ printf "- %s %s: %.1f s\n", $1, $2, $3 }' "$work/builds"
	echo
	echo "Commands (\$W is the scratch directory; data generated by the script with fixed seeds):"
	echo
	echo '```'
	echo "postmap -c \$W/conf lmdb:\$W/pf/fixed            # and cdb:"
	echo "outpost map lmdb:\$W/op/fixed                    # and cdb:"
	echo "/usr/bin/time -v outpost map -q - lmdb:\$W/op/fixed < \$W/keys-1m > \$W/out"
	echo "/usr/bin/time -v postmap -c \$W/conf -q - lmdb:\$W/pf/fixed < \$W/keys-1m > \$W/out"
	echo "/usr/bin/time -v outpost map -q - regexp:\$W/patterns100.regexp < \$W/keys-100k > \$W/out"
	echo "/usr/bin/time -v postmap -c \$W/conf -q - regexp:\$W/patterns100.regexp < \$W/keys-100k > \$W/out"
	echo '```'
} > "$here/RESULTS.md"
echo "bench/tables: results in bench/tables/RESULTS.md"
