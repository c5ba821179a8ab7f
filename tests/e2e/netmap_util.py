"""Helpers for the network-table tests (test_map_socketmap.py,
test_map_pgsql.py, test_map_mysql.py, test_map_ldap.py).

Each of those modules starts real peers on loopback, writes .cf files, and
runs `outpost map -q KEY TABLE` for a list of cases. What Postfix's postmap
answered for the same case, against the same peer and data, is kept in
tests/fixtures/netmaps/NAME.json, so the tests replay it without Postfix.
Run a module with OUTPOST_RECORD_POSTFIX=1 (Debian's postfix, postfix-pgsql,
postfix-mysql, postfix-ldap installed) to record the answers anew.

Compared per case: the exit status and stdout exactly; stderr only in kind:
both empty, or both non-empty, and "query error" (a lookup failure) in
both or in neither. A case with outpost_only=True has no Postfix
counterpart (its expectations are written by hand in the module).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

from conftest import OUTPOST, ROOT

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "netmaps")
RECORD = os.environ.get("OUTPOST_RECORD_POSTFIX") == "1"


def need_binary(path_or_name):
    """A peer's program: its path, or the test fails (never skips)."""
    found = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
    assert found and os.access(found, os.X_OK), \
        f"{path_or_name} is missing: install the packages in scripts/packages.txt"
    return found


def scratch_dir(prefix):
    """A directory other users can enter (servers may drop to their own user)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def run_map(args, prog=None, stdin=None, timeout=60):
    """(exit, stdout, stderr) of `outpost map ARGS` (or postmap when recording)."""
    confdir = scratch_dir("outpost-netmap-conf-")
    open(os.path.join(confdir, "main.cf"), "w").close()
    if prog == "postmap":
        cmd = ["postmap", "-c", confdir] + args
    else:
        cmd = [OUTPOST, "map", "-c", confdir] + args
    try:
        p = subprocess.run(cmd, input=stdin or "", capture_output=True, text=True,
                           timeout=timeout, env=dict(os.environ, LC_ALL="C"))
    finally:
        shutil.rmtree(confdir, ignore_errors=True)
    return p.returncode, p.stdout, p.stderr


class Fixtures:
    """The recorded Postfix answers of one module, by case name."""

    def __init__(self, name):
        self.path = os.path.join(FIXTURES, name + ".json")
        self.cases = {}
        if not RECORD:
            with open(self.path) as f:
                self.cases = {c["name"]: c for c in json.load(f)}

    def expect(self, name, args, stdin=None):
        """Postfix's answer: recorded now (RECORD) or read from the file."""
        if RECORD:
            code, out, err = run_map(args, prog="postmap", stdin=stdin)
            self.cases[name] = {"name": name, "args": [generic(a) for a in args],
                                "exit": code, "stdout": out, "stderr": generic(err)}
            self.save()
        assert name in self.cases, f"no recorded answer for {name!r}: record with OUTPOST_RECORD_POSTFIX=1"
        return self.cases[name]

    def save(self):
        os.makedirs(FIXTURES, exist_ok=True)
        with open(self.path, "w") as f:
            json.dump(sorted(self.cases.values(), key=lambda c: c["name"]), f, indent=1)
            f.write("\n")


def generic(text):
    """Scratch paths and port numbers out of a recorded argument or message."""
    text = re.sub(r"/tmp/[^/\s:]+", "DIR", text)
    return re.sub(r"(127\.0\.0\.1|localhost|\]):\d+", r"\1:PORT", text)


def compare(fixtures, name, args, stdin=None):
    """Run the case through outpost and check it against Postfix's answer."""
    want = fixtures.expect(name, args, stdin)
    code, out, err = run_map(args, stdin=stdin)
    detail = (f"case {name!r}: args={args!r}\noutpost: exit={code} stdout={out!r} stderr={err!r}\n"
              f"postfix: exit={want['exit']} stdout={want['stdout']!r} stderr={want['stderr']!r}")
    assert code == want["exit"], detail
    assert out == want["stdout"], detail
    assert bool(err) == bool(want["stderr"]), detail
    assert ("query error" in err) == ("query error" in want["stderr"]), detail
