#!/bin/sh
# bench/run.sh - `make bench`: run every bench/*/run.sh (each compares
# Outpost with Postfix side by side and writes bench/NAME/RESULTS.md),
# then gather those sections into bench/RESULTS.md.
# bench/run.sh NAME... runs only those benchmarks (the others' last
# sections are still gathered).
# Env: OUTPOST_BUILD (default: build), BENCH_RUNS (default 5).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*/run.sh; do
	[ -x "$script" ] || continue
	name=$(basename "$(dirname "$script")")
	if [ $# -gt 0 ]; then
		case " $* " in *" $name "*) ;; *) continue ;; esac
	fi
	echo "== $name"
	"$script" || status=1
done
{
	echo "# Outpost benchmarks"
	echo
	echo "Each section below is written by bench/NAME/run.sh (run all with \`make bench\`);"
	echo "numbers are medians of repeated runs, Outpost and Postfix measured in the same run."
	for section in "$here"/*/RESULTS.md; do
		[ -f "$section" ] || continue
		echo
		cat "$section"
	done
} > "$here/RESULTS.md"
exit $status
