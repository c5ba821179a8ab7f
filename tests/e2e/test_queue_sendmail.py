"""sendmail(1) and local submission: the message is durable in maildrop/
before sendmail exits, is kept when the mail system is down, works for an
unprivileged user, and (once cleanup and pickup are built) is delivered
through pickup -> cleanup -> qmgr, also after a restart.
"""
import glob
import json
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import OUTPOST, ROOT

HAVE_CLEANUP = bool(glob.glob(os.path.join(ROOT, "src", "cleanup", "*.c")))
MASTER = "qmgr unix n - n 300 1 qmgr\npickup unix n - n 60 1 pickup\n"


def sendmail_link(tmp_path):
    link = tmp_path / "sendmail"
    if not link.exists():
        os.symlink(OUTPOST, link)
    return str(link)


def make_conf(tmp_path, extra=""):
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "main.cf").write_text(f"queue_directory = {tmp_path}/queue\n"
                                  f"myhostname = mx.example.test\n{extra}")
    (conf / "master.cf").write_text("")
    return str(conf)


def run(argv, text, user=None):
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}",
                "--clear-groups", "--"] + argv
    return subprocess.run(argv, input=text, capture_output=True, text=True, timeout=30)


def queue_json(conf):
    r = subprocess.run([OUTPOST, "queue", "-c", conf, "list", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_sendmail_keeps_mail_when_down(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    os.chmod(tmp_path / "queue" / "maildrop", 0o1733)
    r = run([sm, "-C", conf, "-f", "alice@src.test", "-N", "success,delay", "-V", "E1",
             "-R", "hdrs", "bob@example.test, carol@example.test"],
            "Subject: down\n\nstill here\n.\nafter the dot\n")
    assert r.returncode == 0, r.stderr
    assert "mail system is down" in r.stderr and "maildrop" in r.stderr
    (msg,) = queue_json(conf)
    assert msg["queue_name"] == "maildrop"
    assert msg["sender"] == "alice@src.test"
    assert [x["address"] for x in msg["recipients"]] == ["bob@example.test", "carol@example.test"]
    show = subprocess.run([OUTPOST, "queue", "-c", conf, "show", msg["queue_id"]],
                          capture_output=True, text=True).stdout
    assert "envid: E1" in show and "ret: HDRS" in show and "notify=10" in show
    assert "still here" in show and "after the dot" not in show  # "." ends the message


def test_sendmail_t_and_i(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    r = run([sm, "-C", conf, "-t", "-i", "extra@example.test"],
            'To: "A, B" <ab@example.test>, c@example.test\nCc: d@example.test\n'
            "Bcc: e@example.test\nSubject: t\n\nbody\n.\nmore body\n")
    assert r.returncode == 0, r.stderr
    (msg,) = queue_json(conf)
    assert sorted(x["address"] for x in msg["recipients"]) == [
        "ab@example.test", "c@example.test", "d@example.test", "e@example.test",
        "extra@example.test"]
    show = subprocess.run([OUTPOST, "queue", "-c", conf, "show", msg["queue_id"]],
                          capture_output=True, text=True).stdout
    assert "more body" in show  # -i: a lone dot is content


def test_sendmail_resent_headers_win(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    r = run([sm, "-C", conf, "-t"],
            "To: old@example.test\nResent-To: new@example.test\nSubject: r\n\nx\n")
    assert r.returncode == 0, r.stderr
    (msg,) = queue_json(conf)
    assert [x["address"] for x in msg["recipients"]] == ["new@example.test"]


@pytest.mark.parametrize("args,stdin,why", [
    ([], "Subject: x\n\n", "recipient addresses must be given"),
    (["-t"], "Subject: no rcpt\n\nx\n", "no recipient addresses found"),
    (["-N", "sometimes", "a@b.test"], "x\n", "bad or incomplete option -N sometimes"),
    (["-R", "most", "a@b.test"], "x\n", "bad or incomplete option -R most"),
    (["-Z"], "", "bad or incomplete option -Z"),
])
def test_sendmail_usage_errors(tmp_path, args, stdin, why):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    r = run([sm, "-C", conf] + args, stdin)
    assert r.returncode == 64
    assert why in r.stderr and "usage: sendmail" in r.stderr
    assert os.listdir(tmp_path / "queue" / "maildrop") == []


def test_sendmail_fails_cleanly_without_queue(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    r = run([sm, "-C", conf, "a@b.test"], "x\n")
    assert r.returncode == 75
    assert "cannot queue the message" in r.stderr


def test_sendmail_bs(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    r = run([sm, "-C", conf, "-bs"],
            "EHLO me\r\nRCPT TO:<early@example.test>\r\nMAIL FROM:<a@src.test>\r\n"
            "RCPT TO:<b@example.test>\r\nDATA\r\nSubject: bs\r\n\r\n..dotted\r\n.\r\n"
            "FOO\r\nQUIT\r\n")
    codes = [line[:3] for line in r.stdout.splitlines() if line[3:4] == " "]
    assert codes == ["220", "250", "503", "250", "250", "354", "250", "502", "221"], r.stdout
    (msg,) = queue_json(conf)
    assert msg["sender"] == "a@src.test"
    show = subprocess.run([OUTPOST, "queue", "-c", conf, "show", msg["queue_id"]],
                          capture_output=True, text=True).stdout
    assert "\n.dotted\n" in show


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to act as another user")
def test_sendmail_unprivileged_user():
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="outpost-sendmail-"))
    try:
        unprivileged(tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def unprivileged(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    os.chmod(tmp_path / "queue" / "maildrop", 0o1733)
    for d in (tmp_path, tmp_path / "queue"):
        os.chmod(d, 0o755)
    os.chmod(conf, 0o755)
    r = run([sm, "-C", conf, "x@example.test"], "Subject: from nobody\n\nhi\n", user="nobody")
    assert r.returncode == 0, r.stderr
    (name,) = os.listdir(tmp_path / "queue" / "maildrop")
    st = os.stat(tmp_path / "queue" / "maildrop" / name)
    assert st.st_uid == pwd.getpwnam("nobody").pw_uid
    (msg,) = queue_json(conf)
    assert msg["sender"] == "nobody"


@pytest.mark.skipif(not HAVE_CLEANUP, reason="pickup needs the cleanup module, not built yet")
def test_sendmail_delivered_through_pickup_also_after_down_time(outpost, tmp_path):
    srv = outpost(main="transport_maps = texthash:{dir}/transport\n", master=MASTER,
                  files={"transport": "discard.test discard:\n"},
                  wait_log=r"queue manager started")
    sm = sendmail_link(tmp_path)
    r = run([sm, "-C", srv.dir, "-f", "alice@src.test", "a@discard.test"], "Subject: up\n\nx\n")
    assert r.returncode == 0 and "down" not in r.stderr, r.stderr
    m = srv.wait_log(r"(\w+): uid=\d+ from=<alice@src.test>")
    srv.wait_log(rf"{m.group(1)}: to=<a@discard.test>, .*status=sent")
    srv.stop()
    r = run([sm, "-C", srv.dir, "-f", "alice@src.test", "b@discard.test"], "Subject: later\n\nx\n")
    assert r.returncode == 0 and "mail system is down" in r.stderr
    srv.start()
    srv.wait_log(r"to=<b@discard.test>, .*status=sent", timeout=15)
    assert os.listdir(os.path.join(srv.dir, "queue", "maildrop")) == []


def test_sendmail_bp_lists_and_q_needs_the_system(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path)
    os.makedirs(tmp_path / "queue" / "maildrop")
    assert run([sm, "-C", conf, "-f", "a@src.test", "z@example.test"], "x\n").returncode == 0
    r = run([sm, "-C", conf, "-bp"], "")
    assert r.returncode == 0 and "z@example.test" in r.stdout and "1 Request." in r.stdout
    r = run([sm, "-C", conf, "-q"], "")
    assert r.returncode == 75 and "mail system is down" in r.stderr


def test_sendmail_bi_runs_newaliases(tmp_path):
    sm = sendmail_link(tmp_path)
    conf = make_conf(tmp_path, extra=f"alias_maps = texthash:{tmp_path}/aliases\n"
                                      f"alias_database = lmdb:{tmp_path}/aliases\n")
    (tmp_path / "aliases").write_text("postmaster: root\n")
    r = run([sm, "-C", conf, "-bi"], "")
    assert r.returncode == 0, r.stderr
    assert glob.glob(str(tmp_path / "aliases.*")), "the alias database was built"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_full_disk_is_a_452_and_leaves_nothing(tmp_path):
    q = tmp_path / "queue"
    q.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(q)]).returncode:
        pytest.skip("cannot mount tmpfs here")
    try:
        os.makedirs(q / "maildrop")
        sm = sendmail_link(tmp_path)
        conf = make_conf(tmp_path)
        big = "Subject: big\n\n" + ("y" * 70 + "\n") * 4000   # ~280 KB > 64 KB
        r = run([sm, "-C", conf, "a@example.test"], big)
        assert r.returncode == 75
        assert "452 4.3.1 Insufficient system storage" in r.stderr
        assert os.listdir(q / "maildrop") == []
        r = run([sm, "-C", conf, "a@example.test"], "Subject: small\n\nfits\n")
        assert r.returncode == 0, r.stderr
    finally:
        subprocess.run(["umount", str(q)])
