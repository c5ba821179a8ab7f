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
import time

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


def stop_process(proc):
    """SIGTERM a server we started, SIGKILL if it lingers; None-safe."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def running(server):
    """For a module fixture: init() the server, yield it, then stop() it
    and remove its scratch directory (server.dir) whatever happened."""
    try:
        server.init()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(server.dir, ignore_errors=True)


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


class MapSession:
    """`outpost map -q - SPEC` as a co-process, driven one key at a time
    (it flushes its output before every read), to see one process's
    connection survive what happens to the server between two keys."""

    def __init__(self, spec):
        self.p = subprocess.Popen([OUTPOST, "map", "-q", "-", spec], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ask(self, key):
        """The output line for a key that is found."""
        self.p.stdin.write(key + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline()

    def last(self, key, timeout=60):
        """Send the last key, end input: (exit, stdout, stderr)."""
        out, err = self.p.communicate(input=key + "\n", timeout=timeout)
        return self.p.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def check_restart(server, spec, key, value):
    """A restarted server costs no failed lookup: the broken connection is
    noticed and the query runs again on a new one. server has stop() and
    start()."""
    line = f"{key}\t{value}\n"
    with MapSession(spec) as m:
        assert m.ask(key) == line
        server.stop()
        server.start()
        code, out, err = m.last(key)
        assert (code, out) == (0, line), err


def check_down_then_back(server, spec, key, value):
    """While the server is down lookups fail temporarily (never "not
    found"), within the client's time limits; once it is back they
    succeed again."""
    try:
        with MapSession(spec) as m:
            assert m.ask(key) == f"{key}\t{value}\n"
            server.stop()
            start = time.time()
            code, out, err = m.last(key)
            assert code == 1 and "query error" in err, (out, err)
            assert time.time() - start < 30
    finally:
        server.start()
    code, out, err = run_map(["-q", key, spec])
    assert (code, out) == (0, value + "\n"), err


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


# --- SQL tables: one data set and one list of cases for pgsql: and mysql: ---
SQL_ALIASES = [
    ("alice@example.com", "alice@mail.example.com"),
    ("team@example.com", "b@x"), ("team@example.com", "a@x"), ("team@example.com", "c@x"),
    ("o'brien@example.com", "obrien@mail"),
    ("holes@example.com", None), ("holes@example.com", ""), ("holes@example.com", "kept"),
    ("back\\slash@example.com", "bs@mail"),
    ("bob", "bob@local"),
    ("@example.com", "catchall@example.com"),
    ("a@mail.example.com", "deep@mail"),
]


def sql_literal(s, backslash_escapes):
    """s as an SQL string literal (None as NULL)."""
    if s is None:
        return "NULL"
    s = s.replace("'", "''")
    return "'" + (s.replace("\\", "\\\\") if backslash_escapes else s) + "'"


def sql_setup(backslash_escapes):
    """Statements that create the test data (alias, pair, numbers, domains)."""
    lit = lambda s: sql_literal(s, backslash_escapes)  # noqa: E731
    out = ["CREATE TABLE alias (address VARCHAR(100), goto VARCHAR(100))",
           "CREATE TABLE pair (k VARCHAR(100), a VARCHAR(100), b VARCHAR(100))",
           "CREATE TABLE numbers (k VARCHAR(100), n INTEGER)"]
    out += [f"INSERT INTO alias VALUES ({lit(a)}, {lit(g)})" for a, g in SQL_ALIASES]
    out += ["INSERT INTO pair VALUES ('two', 'first', 'second')",
            "INSERT INTO pair VALUES ('two', 'third', NULL)",
            "INSERT INTO numbers VALUES ('ten', 10)"]
    return out


Q = "SELECT goto FROM alias WHERE address = '%s'"
SQL_CFS = {
    "basic": f"query = {Q}\n",
    "ordered": f"query = {Q} ORDER BY goto\n",
    "columns": "query = SELECT a, b FROM pair WHERE k = '%s'\n",
    "number": "query = SELECT n FROM numbers WHERE k = '%s'\n",
    "format": f"query = {Q}\nresult_format = smtp:[%d] for %U\n",
    "format_parts": f"query = {Q}\nresult_format = %u at %d\n",
    "domain": f"query = {Q}\ndomain = example.com, other.example\n",
    "domain_table": f"query = {Q}\ndomain = inline:{{example.com=yes}}\n",
    "parts": "query = SELECT goto FROM alias WHERE address = '%u@%d'\n",
    "labels": "query = SELECT '%3-%2-%1' FROM numbers\n",
    "limit_ok": f"query = {Q}\nexpansion_limit = 3\n",
    "limit_hit": f"query = {Q}\nexpansion_limit = 2\n",
    "sql_error": "query = SELECT goto FROM nosuchtable WHERE address = '%s'\n",
    "legacy": "select_field = goto\ntable = alias\nwhere_field = address\n"
              "additional_conditions = AND goto <> 'b@x'\n",
    "percent": "query = SELECT '100%%' FROM numbers WHERE k = '%s'\n",
    "continued": "# a comment\nquery = SELECT goto\n  FROM alias\n  WHERE address = '%s'\n",
}
SQL_CASES = [
    ("basic", "alice@example.com"), ("basic", "ALICE@EXAMPLE.COM"), ("basic", "nobody@example.com"),
    ("basic", "o'brien@example.com"), ("basic", "x' OR '1'='1"), ("basic", "holes@example.com"),
    ("basic", "back\\slash@example.com"), ("basic", "back\\' OR 1=1 -- "), ("basic", "bob"),
    ("basic", "@example.com"),
    ("ordered", "team@example.com"),
    ("columns", "two"), ("number", "ten"),
    ("format", "alice@example.com"), ("format", "bob"), ("format_parts", "team@example.com"),
    ("domain", "alice@example.com"), ("domain", "bob"), ("domain", "@example.com"),
    ("domain", "alice@elsewhere.example"), ("domain", "example.com"),
    ("domain_table", "alice@example.com"), ("domain_table", "alice@elsewhere.example"),
    ("parts", "alice@example.com"), ("parts", "bob"), ("parts", "@example.com"),
    ("labels", "a@mail.example.com"), ("labels", "a@example.com"), ("labels", "bob"),
    ("limit_ok", "team@example.com"), ("limit_hit", "team@example.com"),
    ("limit_hit", "alice@example.com"),
    ("sql_error", "alice@example.com"),
    ("legacy", "team@example.com"), ("percent", "ten"), ("continued", "alice@example.com"),
]
