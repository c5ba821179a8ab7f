"""`outpost map` / `outpost alias` against what Debian's postmap/postalias
answered for the same files (tests/fixtures/tables/cases.json, recorded by
tools/record_postmap_fixtures.py). Postfix is not needed here.

Cases run in order in one scratch copy of tests/fixtures/tables/src (builds
come before the queries that use them). Compared: exit status, stdout
(as a set of lines when a case says "unordered"), and stderr with the
program name normalised ("postmap:" / "outpost:" -> "PROG:"); where
Outpost words a message differently on purpose the case carries a regular
expression (stderr_re) instead.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "tables")
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")

with open(os.path.join(FIX, "cases.json")) as f:
    CASES = json.load(f)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("map-fixtures"))
    src = os.path.join(FIX, "src")
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), d)
    for copy in ("basicf", "basicr", "basicw", "basicn1", "basicn0", "upd"):
        shutil.copy(os.path.join(d, "basic"), os.path.join(d, copy))
    db = sqlite3.connect(os.path.join(d, "users.sqlite"))
    with open(os.path.join(d, "users.sql")) as f:
        db.executescript(f.read())
    db.commit()
    db.close()
    return d


def normalise(text, scratch_dir):
    text = text.replace(scratch_dir + "/", "").replace(scratch_dir, ".")
    return re.sub(r"^outpost( map| alias)?: ", "PROG: ", text, flags=re.M)


def test_enough_cases():
    types = set()
    for c in CASES:
        for a in c["args"]:
            m = re.match(r"^(\w+):", a)
            if m:
                types.add(m.group(1))
    assert len(CASES) >= 150
    for t in ("texthash", "lmdb", "hash", "cdb", "regexp", "pcre", "cidr", "inline",
              "static", "unionmap", "pipemap", "sqlite"):
        assert t in types, t
    assert any(c["tool"] == "alias" for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, scratch):
    assert os.access(OUTPOST, os.X_OK), f"no binary at {OUTPOST} (set OUTPOST_BUILD)"
    env = dict(os.environ, LC_ALL="C")
    p = subprocess.run([OUTPOST, case["tool"]] + case["args"], cwd=scratch,
                       input=case.get("stdin", ""), capture_output=True, text=True,
                       env=env, timeout=60)
    err = normalise(p.stderr, scratch)
    detail = f"args={case['args']!r}\nstdout={p.stdout!r}\nstderr={err!r}"
    assert p.returncode == case["exit"], detail
    if case.get("unordered"):
        assert sorted(p.stdout.splitlines()) == sorted(case["stdout"].splitlines()), detail
    else:
        assert p.stdout == case["stdout"], detail
    if case.get("stderr_re"):
        assert re.search(case["stderr_re"], err, re.M), detail + f"\nwant /{case['stderr_re']}/"
    else:
        assert err == case["stderr"], detail + f"\nwant stderr={case['stderr']!r}"
