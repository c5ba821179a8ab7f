#!/usr/bin/python3
"""Run every Outpost test and end with one line: "N passed, N failed".

Unit tests are the cmocka programs Meson knows (suite 'unit'), run in each
build directory given (the plain build and the sanitizer build); each cmocka
case counts once, read from its TAP output. Fuzz targets (suite 'fuzz', in a
clang build) run over their seed corpus for a bounded time. End-to-end tests
are pytest under /usr/bin/python3, counted from its JUnit XML report.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
passed = 0
failed = 0
failures = []


def note(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        failures.append(name)
    print(("ok     " if ok else "FAILED ") + name + (("  " + detail) if detail else ""), flush=True)


def meson_tests(build):
    out = subprocess.run(["meson", "introspect", "--tests", build],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def run_unit(build, t):
    env = dict(os.environ)
    env.update(t.get("env") or {})
    env["CMOCKA_MESSAGE_OUTPUT"] = "TAP"
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    label = f"{os.path.basename(build)}/{t['name']}"
    try:
        p = subprocess.run(t["cmd"], cwd=t.get("workdir") or ROOT, env=env,
                           capture_output=True, text=True, errors="replace",
                           timeout=max(t.get("timeout") or 0, 600))  # meson's 30 s is too short under ASan
    except subprocess.TimeoutExpired:
        note(False, label, "timed out")
        return
    cases = 0
    for line in p.stdout.splitlines():
        m = re.match(r"^(not ok|ok) \d+ - (.*)$", line)
        if m:
            cases += 1
            note(m.group(1) == "ok", f"{label}: {m.group(2)}")
    if p.returncode != 0 and (cases == 0 or "not ok" not in p.stdout):
        note(False, label, f"exit status {p.returncode}")
    if p.returncode != 0:
        sys.stdout.write(p.stdout[-4000:])
        sys.stdout.write(p.stderr[-4000:])


def run_fuzz(build, t, seconds, seed):
    """One fuzz target over its committed seeds, then mutations for a while.
    A fixed seed (make test) makes the run a repeatable regression check;
    seed 0 (make fuzz) lets libFuzzer pick a new one and explore."""
    label = f"fuzz/{t['name']}"
    corpus = [a for a in t["cmd"][1:] if not a.startswith("-")]
    with tempfile.TemporaryDirectory() as scratch:
        cmd = [t["cmd"][0], scratch] + corpus + [
            f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
            "-print_final_stats=0"] + ([f"-seed={seed}", f"-runs={seconds * 400}"] if seed else [])
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                               timeout=seconds + 120,
                               cwd=scratch)
        except subprocess.TimeoutExpired:
            note(False, label, "timed out")
            return
    note(p.returncode == 0, label, "" if p.returncode == 0 else p.stderr[-3000:])


def run_e2e(build, paths, extra):
    env = dict(os.environ)
    env["OUTPOST_BUILD"] = os.path.abspath(build)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "junit.xml")
        cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-rfE", f"--junitxml={report}"] + extra + paths
        p = subprocess.run(cmd, cwd=ROOT, env=env)
        if not os.path.exists(report):
            note(False, "e2e", f"pytest exit status {p.returncode}, no report")
            return
        tree = ET.parse(report)
        for case in tree.iter("testcase"):
            name = f"e2e/{case.get('classname', '')}.{case.get('name')}"
            bad = case.find("failure") is not None or case.find("error") is not None
            if case.find("skipped") is not None:
                print("skip   " + name)
                continue
            note(not bad, name)
        if p.returncode not in (0, 1, 5):
            note(False, "e2e", f"pytest exit status {p.returncode}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", action="append", default=[], help="build dir with unit tests")
    ap.add_argument("--fuzz-build", help="clang build dir with fuzz targets")
    ap.add_argument("--fuzz-seconds", type=int, default=5)
    ap.add_argument("--fuzz-seed", type=int, default=0, help="fixed libFuzzer seed (0: random)")
    ap.add_argument("--e2e-build", help="build dir whose binaries the e2e tests drive")
    ap.add_argument("--e2e", nargs="*", default=None, help="pytest paths (default tests/e2e)")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression")
    args = ap.parse_args()

    for build in args.build:
        for t in meson_tests(build):
            if "unit" in t.get("suite", []) or any(s.endswith(":unit") for s in t.get("suite", [])):
                run_unit(build, t)
    if args.fuzz_build:
        for t in meson_tests(args.fuzz_build):
            if any(s == "fuzz" or s.endswith(":fuzz") for s in t.get("suite", [])):
                run_fuzz(args.fuzz_build, t, args.fuzz_seconds, args.fuzz_seed)
    if args.e2e_build:
        paths = args.e2e if args.e2e else [os.path.join(ROOT, "tests", "e2e")]
        extra = ["-k", args.keyword] if args.keyword else []
        run_e2e(args.e2e_build, paths, extra)

    if failures:
        print("\nfailed:")
        for f in failures:
            print("  " + f)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
