"""The full name of a local submitter in the From: header that cleanup adds,
replayed from Debian's Postfix (tests/fixtures/fullname: cases.json, and
expected.json recorded by record.py there): sendmail -F, the NAME
environment variable, the GECOS field with '&' and its comma cut,
quoting, header_from_format, and the cases where no name is used.

GECOS cases run sendmail in a private mount namespace whose /etc/passwd
gives uid 0 the login and GECOS field of a passwd.extra user, so they
need root and unshare(1); the rest run anywhere.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import OUTPOST, ROOT

FIX = os.path.join(ROOT, "tests", "fixtures", "fullname")
CASES = json.load(open(os.path.join(FIX, "cases.json")))
EXPECTED = json.load(open(os.path.join(FIX, "expected.json")))
PICKUP = "pickup unix n - n 60 1 pickup\n"
# the recorder's message text and header extraction, shared
_spec = importlib.util.spec_from_file_location("fullname_record", os.path.join(FIX, "record.py"))
RECORD = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(RECORD)
CAN_FAKE_USERS = os.geteuid() == 0 and shutil.which("unshare") is not None


def fake_passwd(tmp_path, user):
    """/etc/passwd with uid 0 named and described as a passwd.extra user."""
    for line in open(os.path.join(FIX, "passwd.extra")):
        f = line.rstrip("\n").split(":")
        if f[0] == user:
            f[2:4] = ["0", "0"]
            path = tmp_path / "passwd"
            path.write_text(":".join(f) + "\n" + open("/etc/passwd").read())
            return str(path)
    raise KeyError(user)


def sendmail(srv, tmp_path, case):
    link = tmp_path / "sendmail"
    if not link.exists():
        os.symlink(OUTPOST, link)
    argv = [str(link), "-C", srv.dir] + case["args"] + ["rcpt@example.test"]
    env = {k: v for k, v in os.environ.items() if k != "NAME"}
    env.update(case.get("env", {}))
    if case.get("user"):
        argv = ["unshare", "-m", "sh", "-c",
                f'mount --bind {fake_passwd(tmp_path, case["user"])} /etc/passwd && exec "$@"',
                "sh"] + argv
    r = subprocess.run(argv, input=RECORD.message(case).encode(), env=env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr


def queued_content(srv, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        r = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "list", "--json"],
                           capture_output=True, text=True)
        msgs = [json.loads(x) for x in r.stdout.splitlines()]
        done = [m for m in msgs if m["queue_name"] != "maildrop"]
        if done:
            qid = done[0]["queue_id"]
            show = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "show", qid],
                                  capture_output=True).stdout
            show = show.decode("utf-8", "surrogateescape")
            return show.split(f"*** MESSAGE CONTENTS {qid} ***\n", 1)[1]
        time.sleep(0.1)
    raise AssertionError("nothing left maildrop/: " + srv.log()[-2000:])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_added_from_matches_postfix(outpost, tmp_path, case):
    if case.get("user") and not CAN_FAKE_USERS:
        pytest.skip("needs root and unshare(1) to stand in for another user")
    main = "".join(f"{k} = {v}\n" for k, v in case.get("main", {}).items())
    srv = outpost(main=main, master=PICKUP, wait_log=r"daemon started")
    sendmail(srv, tmp_path, case)
    assert RECORD.from_lines(queued_content(srv)) == EXPECTED[case["name"]]


def test_bad_header_from_format_is_a_clear_error(outpost, tmp_path):
    srv = outpost(main="header_from_format = fancy\n", master=PICKUP, wait_log=r"daemon started")
    sendmail(srv, tmp_path, {"name": "bad", "args": ["-F", "X"]})
    srv.wait_log(r'header_from_format: unknown value "fancy" \(use standard or obsolete\)')
