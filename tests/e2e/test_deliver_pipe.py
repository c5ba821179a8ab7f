"""The pipe(8) agent through qmgr: master.cf services whose command is
`pipe`, messages injected as queue files and routed by transport_maps.

Replays tests/fixtures/pipe/cases.json, recorded from Postfix 3.7 by
tests/fixtures/pipe/record.py: for each case the same master.cf
attributes, sender, recipients and message; the command (a recorder
script) must get the argv and stdin Postfix gave it, run as the same
user, and the log lines (to=, relay=, dsn=, status= and reason) must
match. Then Outpost-only cases: misconfigured services, limits, macros
that depend on the queue, and `outpost check`.

Identity changes need root; as another user the command runs with the
caller's identity and the user check is skipped.
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import OUTPOST
from test_queue_qmgr import inject, queue_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "pipe")
CASES = json.load(open(os.path.join(FIXTURES, "cases.json")))
sys.path.insert(0, FIXTURES)
from record import REC as POSTFIX_REC, RECORDER  # noqa: E402  (the same command as Postfix ran)
IS_ROOT = os.geteuid() == 0
CLIENT = {"client_address": "127.0.0.1", "client_name": "unknown",
          "helo_name": "client.helo.test", "protocol_name": "ESMTP"}
LOG_RE = re.compile(r": (\w+): (to=<[^>]*>, (?:orig_to=<[^>]*>, )?relay=\S+), "
                    r"delay=\S+, delays=\S+, (dsn=.*)$")

@pytest.fixture
def rec():
    """A recorder script in a directory the command's user can use."""
    d = tempfile.mkdtemp(prefix="outpost-pipe-")
    os.chmod(d, 0o755)
    os.mkdir(os.path.join(d, "out"))
    os.chmod(os.path.join(d, "out"), 0o777)
    path = os.path.join(d, "rec.py")
    with open(path, "w") as f:
        f.write(RECORDER)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(d, ignore_errors=True)


def runs(rec_path, want=1, timeout=15):
    out = os.path.join(os.path.dirname(rec_path), "out")
    end = time.time() + timeout
    while time.time() < end:
        files = sorted(os.listdir(out))
        if len(files) >= want:
            time.sleep(0.2)
            break
        time.sleep(0.1)
    return [json.load(open(os.path.join(out, f))) for f in sorted(os.listdir(out))]


def start(outpost, services, main="", transport="pipe.test p_case:\n"):
    master = "qmgr unix n - n 300 1 qmgr\n" + services
    return outpost(main=("transport_maps = texthash:{dir}/transport\n"
                         "recipient_delimiter = +\nminimal_backoff_time = 60s\n"
                         "maximal_backoff_time = 120s\nqueue_run_delay = 60s\n" + main),
                   master=master, files={"transport": transport},
                   wait_log=r"queue manager started")


def internal(addr):
    """A quoted local part as the queue keeps it (quotes removed)."""
    m = re.match(r'^"(.*)"(@.*)$', addr)
    return m.group(1) + m.group(2) if m else addr


def log_lines(srv, qid, n, timeout=20):
    end = time.time() + timeout
    got = []
    while time.time() < end:
        got = [m.group(2) + ", " + m.group(3) for m in map(LOG_RE.search, srv.log().splitlines())
               if m and m.group(1) == qid]
        if len(got) >= n:
            break
        time.sleep(0.1)
    return got


def normalize_stdin(s, qid):
    s = s.replace(qid, "QUEUEID")
    return re.sub(r"^(>?From \S*  )\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", r"\1DATE", s,
                  flags=re.M)


def replay(outpost, rec_path, case):
    svc = "p_" + case["name"]
    service = case["service"].replace("{rec}", rec_path)
    bnc = f"pbnc unix - n n - - pipe user=nobody argv={rec_path} BOUNCE\n"
    main = "\n".join(l.replace("{svc}", "p_case") for l in case.get("main", []))
    srv = start(outpost, f"p_case unix - n n - - pipe {service}\n" + bnc, main=main + "\n",
                transport=f"pipe.test p_case:{case.get('nexthop', '')}\nbnc.test pbnc:\n")
    qid = inject(srv, queue_file(case["sender"], [internal(r) for r in case["rcpts"]],
                                 case["message"], attrs=CLIENT))
    pf = case["postfix"]
    got_log = log_lines(srv, qid, len(pf["log"]), timeout=case.get("wait", 20))
    got_runs = runs(rec_path, len(pf["runs"]) + (1 if "bounce" in pf else 0), timeout=10)
    return srv, qid, svc, got_log, got_runs


def expected_log(line, svc, rec_path):
    # addresses are logged in external (quoted) form, as Postfix does
    return line.replace(svc, "p_case").replace(POSTFIX_REC, rec_path)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_replay_postfix(outpost, rec, case):
    srv, qid, svc, got_log, got_runs = replay(outpost, rec, case)
    pf = case["postfix"]
    want_log = [expected_log(l, svc, rec) for l in pf["log"]]
    if case.get("compare") == "status":
        strip = lambda l: re.sub(r" \(.*", "", l)
        assert [strip(l) for l in got_log] == [strip(l) for l in want_log]
    else:
        assert got_log == want_log
    bounce = [r for r in got_runs if r["argv"] == ["BOUNCE"]]
    got_runs = [r for r in got_runs if r["argv"] != ["BOUNCE"]]
    assert len(got_runs) == len(pf["runs"])
    for got, want in zip(got_runs, pf["runs"]):
        assert [a.replace(qid, "QUEUEID") for a in got["argv"]] == \
            want["argv"]
        assert normalize_stdin(got["stdin"], qid) == want["stdin"]
        if IS_ROOT:
            assert pwd.getpwuid(got["uid"]).pw_name == want["user"]
    if "bounce" in pf:
        assert bounce, "no bounce reached the sender"
        text = bounce[0]["stdin"]
        assert re.search(r"^Action: " + re.escape(pf["bounce"]["action"]), text, re.M)
        assert re.search(r"^Status: " + re.escape(pf["bounce"]["status"]), text, re.M)
        reason = pf["bounce"]["text"].split(": ", 1)[1]
        assert reason in re.sub(r"\s*\n\s*", " ", text)
    if case["name"] == "delivered_two_rcpts":
        assert re.search(r"warning: pipe service p_case .*flag D needs "
                         r"p_case_destination_recipient_limit = 1", srv.log())
    if case["name"] == "time_limit":
        assert re.search(r"warning: \w+: command time limit of 2s exceeded", srv.log())


def one(outpost, rec, service, rcpts=("a@pipe.test",), main="", attrs=None, message=None,
        sender="sender@example.org", nruns=1):
    srv = start(outpost, f"p_case unix - n n - - pipe {service}\n", main=main)
    msg = message or "Subject: x\n\nbody\n"
    qid = inject(srv, queue_file(sender, list(rcpts), msg, attrs=attrs or CLIENT))
    lines = log_lines(srv, qid, len(rcpts))
    return srv, qid, lines, runs(rec, nruns, timeout=5 if nruns else 1)


def test_identity_directory_and_environment(outpost, rec):
    d = os.path.dirname(rec)
    srv, qid, lines, got = one(outpost, rec, f"user=nobody:nogroup directory={d} argv={rec}",
                               main="export_environment = TZ LANG FOO=bar\n")
    assert "status=sent (delivered via p_case service)" in lines[0]
    r = got[0]
    if IS_ROOT:
        assert r["uid"] == pwd.getpwnam("nobody").pw_uid
        assert r["gid"] == __import__("grp").getgrnam("nogroup").gr_gid
        assert r["groups"] == [r["gid"]]
    assert r["cwd"] == d
    assert r["env"]["PATH"] == "/usr/bin:/bin"
    assert r["env"]["MAIL_CONFIG"] == srv.dir
    assert r["env"]["FOO"] == "bar"
    assert "SENDER" not in r["env"] and "HOME" not in r["env"]


def test_default_directory_is_the_queue(outpost, rec):
    srv = start(outpost, f"p_case unix - n n - - pipe user=nobody argv={rec}\n")
    qdir = os.path.join(srv.dir, "queue")
    d = qdir
    while d != "/":   # let user= reach it (pytest's directories are private)
        os.chmod(d, os.stat(d).st_mode | 0o011)
        d = os.path.dirname(d)
    inject(srv, queue_file("sender@example.org", ["a@pipe.test"], "Subject: x\n\nbody\n",
                           attrs=CLIENT))
    assert runs(rec)[0]["cwd"] == qdir


def test_queue_macros(outpost, rec):
    attrs = dict(CLIENT, client_port="40000", sasl_method="PLAIN", sasl_username="alice")
    msg = "Subject: size\n\n" + "x" * 100 + "\n"
    srv, qid, lines, got = one(
        outpost, rec, f"user=nobody argv={rec} ${{queue_id}} ${{size}} ${{client_port}} "
        "${sasl_method} ${sasl_username}", attrs=attrs, message=msg)
    assert got[0]["argv"] == [qid, str(len(msg)), "40000", "PLAIN", "alice"]


def test_recipient_limit_one_runs_per_recipient(outpost, rec):
    srv, qid, lines, got = one(outpost, rec, f"flags=D user=nobody argv={rec} ${{recipient}}",
                               rcpts=("a@pipe.test", "b@pipe.test"), nruns=2,
                               main="p_case_destination_recipient_limit = 1\n")
    assert sorted(r["argv"][0] for r in got) == ["a@pipe.test", "b@pipe.test"]
    for r in got:
        assert r["stdin"].startswith("Delivered-To: " + r["argv"][0] + "\n")
    assert all("status=sent" in l for l in lines)


@pytest.mark.parametrize("service,why", [
    ("argv={rec}", r"missing user= attribute"),
    ("user=nobody", r"missing argv= attribute"),
    ("user=root argv={rec}", r"user=root: refusing to run a command with root privileges"),
    ("user=no-such-user-here argv={rec}", r"user=no-such-user-here: no such user"),
    ("flags=Z user=nobody argv={rec}", r"flags=: unknown flag 'Z'"),
    ("user=nobody argv={rec} ${nosuchmacro}", r'unknown macro name "nosuchmacro"'),
    ("user=nobody chroot=/tmp argv={rec}", r"chroot= is not supported"),
])
def test_misconfigured_service_defers(outpost, rec, service, why):
    srv, qid, lines, got = one(outpost, rec, service.replace("{rec}", rec), nruns=0)
    assert lines == ["to=<a@pipe.test>, relay=p_case, dsn=4.3.5, "
                     "status=deferred (mail system configuration error)"]
    assert re.search(r"warning: pipe service p_case \(.*master.cf, line 2\): .*" + why, srv.log())
    assert got == []


def test_mail_owner_is_refused(outpost, rec):
    owner = pwd.getpwuid(os.getuid()).pw_name   # the tests' mail_owner (conftest)
    srv, qid, lines, got = one(outpost, rec, f"user={owner} argv={rec}", nruns=0)
    assert "status=deferred (mail system configuration error)" in lines[0]
    assert re.search(r"refusing to run a command (with root privileges|as the mail system owner)",
                     srv.log())


def test_check_flags_pipe_services(outpost, tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.cf").write_text("queue_directory = %s\n" % (tmp_path / "q"))
    (conf / "master.cf").write_text(
        "qmgr unix n - n 300 1 qmgr\n"
        "nouser unix - n n - - pipe argv=/bin/cat\n"
        "noargv unix - n n - - pipe flags=R user=nobody\n"
        "rooted unix - n n - - pipe user=root argv=/bin/cat\n"
        "dflag unix - n n - - pipe flags=DR user=nobody argv=/bin/cat ${recipient}\n"
        "good unix - n n - - pipe flags=DR user=nobody argv=/bin/cat ${recipient}\n")
    with open(conf / "main.cf", "a") as f:
        f.write("good_destination_recipient_limit = 1\n")
    p = subprocess.run([OUTPOST, "check", "-c", str(conf)], capture_output=True, text=True)
    out = p.stdout + p.stderr
    assert re.search(r"master.cf, line 2: .*nouser.*missing user=", out)
    assert re.search(r"master.cf, line 3: .*noargv.*missing argv=", out)
    assert re.search(r"master.cf, line 4: .*rooted.*root", out)
    assert re.search(r"master.cf, line 5: .*dflag.*dflag_destination_recipient_limit = 1", out)
    assert "line 6" not in out
