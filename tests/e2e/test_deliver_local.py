"""Local and virtual delivery through `outpost deliver-test deliver`:
Maildir and mbox contents byte for byte, unknown users, loops, size limits,
aliases (|command, /file, :include:, forwarding into a new queue file) and
an mbox held locked by another process.

Deliveries that change identity need root; as another user the same
deliveries run with the caller's identity, so the tests use the account
running them (or nobody when that is root).
"""
import fcntl
import json
import os
import pwd
import subprocess
import re
import shutil
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")

ARRIVAL = 1700000000  # Tue Nov 14 22:13:20 2023 UTC
FROM_LINE = "From sender@example.org  Tue Nov 14 22:13:20 2023\n"
MESSAGE = ("Received: from client.example.org by mx.example.net\n"
           "From: Sender <sender@example.org>\n"
           "To: someone@vmail.example\n"
           "Subject: test\n"
           "\n"
           "From the start of a line\n"
           ">From already quoted\n"
           "last line\n")

if os.geteuid() == 0:
    USER = pwd.getpwnam("nobody")
else:
    USER = pwd.getpwuid(os.getuid())


@pytest.fixture
def tmp_path():
    """A scratch directory the mailbox owner can traverse (pytest's is 0700)."""
    d = tempfile.mkdtemp(prefix="outpost-deliver-")
    os.chmod(d, 0o755)
    yield __import__("pathlib").Path(d)
    shutil.rmtree(d, ignore_errors=True)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def deliver(conf, transport, rcpts, sender="sender@example.org", extra=(), msg=None):
    msgfile = os.path.join(conf, "message")
    write(msgfile, MESSAGE if msg is None else msg)
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "deliver", "-t", transport,
                        "-f", sender, "-a", str(ARRIVAL), "-q", "4ZqTest1z1", *extra,
                        msgfile, *rcpts], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    return {r["recipient"]: r for r in json.loads(p.stdout)}, p.stderr


@pytest.fixture
def vconf(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    base = tmp_path / "vmail"
    base.mkdir()
    os.chown(base, USER.pw_uid, USER.pw_gid)
    write(conf / "main.cf",
          "myhostname = mx.example.net\n"
          "mydestination = $myhostname, localhost\n"
          "virtual_mailbox_domains = vmail.example\n"
          f"virtual_mailbox_base = {base}\n"
          f"virtual_mailbox_maps = texthash:{conf}/vmailbox\n"
          f"virtual_uid_maps = static:{USER.pw_uid}\n"
          f"virtual_gid_maps = static:{USER.pw_gid}\n"
          "virtual_minimum_uid = 1\n"
          "virtual_mailbox_limit = 100000\n")
    write(conf / "vmailbox",
          "alice@vmail.example vmail.example/alice/\n"
          "bob@vmail.example vmail.example/bob\n")
    return str(conf), str(base)


def maildir_files(d, sub="new"):
    p = os.path.join(d, sub)
    return sorted(os.path.join(p, f) for f in os.listdir(p))


def test_virtual_maildir_byte_for_byte(vconf):
    conf, base = vconf
    res, log = deliver(conf, "virtual", ["alice@vmail.example"],
                       extra=["-o", "alice@vmail.example=Alice@VMail.example"])
    r = res["alice@vmail.example"]
    assert (r["status"], r["dsn"], r["relay"]) == ("sent", "2.0.0", "virtual")
    files = maildir_files(os.path.join(base, "vmail.example/alice"))
    assert len(files) == 1
    assert maildir_files(os.path.join(base, "vmail.example/alice"), "tmp") == []
    name = os.path.basename(files[0])
    assert re.match(r"^\d+\.M\d+P\d+R[0-9a-f]+\.[^/]+$", name), name
    with open(files[0]) as f:
        assert f.read() == ("Return-Path: <sender@example.org>\n"
                            "X-Original-To: Alice@VMail.example\n"
                            "Delivered-To: alice@vmail.example\n" + MESSAGE)
    assert os.stat(files[0]).st_uid == USER.pw_uid
    assert "4ZqTest1z1: to=<alice@vmail.example>, orig_to=<Alice@VMail.example>, relay=virtual" in log
    assert "dsn=2.0.0, status=sent (delivered to maildir)" in log


def test_virtual_mbox_byte_for_byte_twice(vconf):
    conf, base = vconf
    deliver(conf, "virtual", ["bob@vmail.example"])
    res, _ = deliver(conf, "virtual", ["bob@vmail.example"], sender="")
    assert res["bob@vmail.example"]["status"] == "sent"
    one = ("Delivered-To: bob@vmail.example\n" + MESSAGE.replace(
        "\nFrom the start", "\n>From the start") + "\n")
    with open(os.path.join(base, "vmail.example/bob")) as f:
        assert f.read() == (FROM_LINE + "Return-Path: <sender@example.org>\n" + one +
                            "From MAILER-DAEMON  Tue Nov 14 22:13:20 2023\n"
                            "Return-Path: <>\n" + one)


def test_virtual_unknown_user_loop_and_limit(vconf):
    conf, base = vconf
    looped = "Delivered-To: alice@vmail.example\n" + MESSAGE
    res, _ = deliver(conf, "virtual", ["carol@vmail.example"])
    assert (res["carol@vmail.example"]["status"], res["carol@vmail.example"]["dsn"]) == \
        ("bounced", "5.1.1")
    res, _ = deliver(conf, "virtual", ["alice@vmail.example"], msg=looped)
    assert res["alice@vmail.example"]["dsn"] == "5.4.6"
    assert "loop" in res["alice@vmail.example"]["reply"]
    res, _ = deliver(conf, "virtual", ["bob@vmail.example"], msg=MESSAGE + "x" * 200000 + "\n")
    assert (res["bob@vmail.example"]["status"], res["bob@vmail.example"]["dsn"]) == \
        ("bounced", "5.2.2")
    bob = os.path.join(base, "vmail.example/bob")
    assert not os.path.exists(bob) or os.path.getsize(bob) == 0


def test_virtual_uid_below_minimum_defers(vconf):
    conf, _ = vconf
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("virtual_minimum_uid = 4000000000\n")
    res, _ = deliver(conf, "virtual", ["alice@vmail.example"])
    assert (res["alice@vmail.example"]["status"], res["alice@vmail.example"]["dsn"]) == \
        ("deferred", "4.3.5")


@pytest.fixture
def lconf(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    spool = tmp_path / "spool"
    spool.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    queue = tmp_path / "queue"
    (queue / "incoming").mkdir(parents=True)
    write(conf / "main.cf",
          "myhostname = mx.example.net\n"
          "mydestination = $myhostname, localhost\n"
          f"alias_maps = texthash:{conf}/aliases\n"
          f"mail_spool_directory = {spool}\n"
          f"queue_directory = {queue}\n"
          f"default_privs = {USER.pw_name}\n"
          "recipient_delimiter = +\n"
          "mailbox_delivery_lock = fcntl, dotlock\n"
          "deliver_lock_delay = 1s\n"
          "allow_mail_to_files = alias, forward, include\n")
    write(conf / "include", f"{USER.pw_name}\n{out}/included\n")
    # texthash keys are "key value" (postalias-built tables drop the colon)
    write(conf / "aliases",
          f"postmaster {USER.pw_name}\n"
          f"team {USER.pw_name}, \"|cat > {out}/piped; echo $RECIPIENT $EXTENSION > {out}/env\"\n"
          f"filer {out}/filed\n"
          f"incl :include:{conf}/include\n"
          "away someone@remote.example, other@remote.example\n"
          "loop1 loop2\n"
          "loop2 loop1\n"
          "nocmd |/bin/true\n"
          "list someone@remote.example\n"
          "owner-list postmaster\n")
    return str(conf), str(spool), str(out), str(queue)


def test_local_spool_mbox_and_alias(lconf):
    conf, spool, _, _ = lconf
    res, _ = deliver(conf, "local", ["postmaster@mx.example.net"])
    r = res["postmaster@mx.example.net"]
    assert (r["status"], r["dsn"], r["relay"]) == ("sent", "2.0.0", "local")
    box = os.path.join(spool, USER.pw_name)
    with open(box) as f:
        assert f.read() == (FROM_LINE + "Return-Path: <sender@example.org>\n"
                            "Delivered-To: postmaster@mx.example.net\n" +
                            MESSAGE.replace("\nFrom the start", "\n>From the start") + "\n")
    assert os.stat(box).st_uid == USER.pw_uid


def test_local_command_file_include_and_extension(lconf):
    conf, spool, out, _ = lconf
    res, _ = deliver(conf, "local", ["team+ops@mx.example.net", "filer@mx.example.net",
                                     "incl@localhost"])
    assert all(r["status"] == "sent" for r in res.values()), res
    with open(os.path.join(out, "piped")) as f:
        piped = f.read()
    assert piped.startswith(FROM_LINE + "Return-Path: <sender@example.org>\n")
    assert piped.endswith(MESSAGE)
    with open(os.path.join(out, "env")) as f:
        assert f.read() == "team+ops@mx.example.net ops\n"
    with open(os.path.join(out, "filed")) as f:
        assert f.read().startswith(FROM_LINE)
    with open(os.path.join(out, "included")) as f:
        assert "Delivered-To: incl@localhost\n" in f.read()
    with open(os.path.join(spool, USER.pw_name)) as f:
        assert f.read().count(FROM_LINE) == 2  # team and incl both name the user


def test_local_unknown_loop_restricted_and_forward(lconf):
    conf, _, _, queue = lconf
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("allow_mail_to_commands = forward\n")
    res, _ = deliver(conf, "local", ["nosuchuser@mx.example.net", "loop1@mx.example.net",
                                     "nocmd@mx.example.net", "away@mx.example.net"])
    assert (res["nosuchuser@mx.example.net"]["dsn"],
            res["nosuchuser@mx.example.net"]["reply"]) == ("5.1.1", 'unknown user: "nosuchuser"')
    assert res["loop1@mx.example.net"]["dsn"] == "5.4.6"
    assert (res["nocmd@mx.example.net"]["status"], res["nocmd@mx.example.net"]["dsn"]) == \
        ("bounced", "5.7.1")
    fwd = res["away@mx.example.net"]
    assert fwd["status"] == "sent" and fwd["reply"].startswith("forwarded as ")
    qid = fwd["reply"].split()[-1]
    path = os.path.join(queue, "incoming", qid)
    with open(path, "rb") as f:
        data = f.read()
    assert b"someone@remote.example" in data and b"other@remote.example" in data
    assert b"Delivered-To: away@mx.example.net\n" in data


def test_local_mbox_waits_for_lock(lconf):
    conf, spool, _, _ = lconf
    box = os.path.join(spool, USER.pw_name)
    write(box, "")
    os.chown(box, USER.pw_uid, USER.pw_gid)
    held = threading.Event()

    def hold():
        with open(box, "r+") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            held.set()
            time.sleep(2.5)

    t = threading.Thread(target=hold)
    t.start()
    held.wait()
    start = time.monotonic()
    res, _ = deliver(conf, "local", ["postmaster@mx.example.net"])
    t.join()
    assert res["postmaster@mx.example.net"]["status"] == "sent"
    with open(box) as f:
        assert f.read().startswith(FROM_LINE)
    assert time.monotonic() - start >= 1.5


def test_local_owner_alias_becomes_forwarding_sender(lconf):
    conf, _, _, queue = lconf
    res, _ = deliver(conf, "local", ["list@mx.example.net"])
    r = res["list@mx.example.net"]
    assert r["status"] == "sent" and r["reply"].startswith("forwarded as "), r
    with open(os.path.join(queue, "incoming", r["reply"].split()[-1]), "rb") as f:
        data = f.read()
    assert b"owner-list@mx.example.net" in data and b"sender@example.org" not in data.split(b"\nC")[0]


def test_local_mailbox_command(lconf):
    conf, spool, out, _ = lconf
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write(f"mailbox_command = /bin/sh -c 'cat > {out}/mbcmd; id -u > {out}/uid'\n")
    res, _ = deliver(conf, "local", ["postmaster@mx.example.net"])
    r = res["postmaster@mx.example.net"]
    assert (r["status"], r["dsn"]) == ("sent", "2.0.0"), r
    assert r["reply"].startswith("delivered to command: ")
    with open(os.path.join(out, "mbcmd")) as f:
        assert f.read() == (FROM_LINE + "Return-Path: <sender@example.org>\n"
                            "Delivered-To: postmaster@mx.example.net\n" + MESSAGE)
    with open(os.path.join(out, "uid")) as f:
        assert int(f.read()) == USER.pw_uid
    assert not os.path.exists(os.path.join(spool, USER.pw_name))


@pytest.fixture
def home_user(tmp_path):
    """A throw-away account whose home is a scratch directory (root only)."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to create a test account")
    name = f"opt{os.getpid() % 100000}"
    home = tmp_path / "home"
    subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    try:
        pw = pwd.getpwnam(name)
        home.mkdir()
        os.chown(home, pw.pw_uid, pw.pw_gid)
        yield pw
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def test_home_mailbox_maildir_and_forward_files(lconf, home_user):
    conf, _, out, _ = lconf
    pw = home_user
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("home_mailbox = Maildir/\n")
    res, _ = deliver(conf, "local", [f"{pw.pw_name}@mx.example.net"])
    assert res[f"{pw.pw_name}@mx.example.net"]["reply"] == "delivered to maildir"
    new = os.path.join(pw.pw_dir, "Maildir", "new")
    files = os.listdir(new)
    assert len(files) == 1 and os.stat(os.path.join(new, files[0])).st_uid == pw.pw_uid
    with open(os.path.join(new, files[0])) as f:
        assert f.read() == ("Return-Path: <sender@example.org>\n"
                            f"Delivered-To: {pw.pw_name}@mx.example.net\n" + MESSAGE)

    # .forward keeps a copy (\user) and runs a command as the user; .forward+ext wins for +ext
    fwd = os.path.join(pw.pw_dir, ".forward")
    write(fwd, f"\\{pw.pw_name}, \"|id -u > {out}/fwd-uid\"\n")
    os.chown(fwd, pw.pw_uid, pw.pw_gid)
    fwd_ext = os.path.join(pw.pw_dir, ".forward+lists")
    write(fwd_ext, f"{out}/lists-file\n")
    os.chown(fwd_ext, pw.pw_uid, pw.pw_gid)
    res, _ = deliver(conf, "local", [f"{pw.pw_name}@mx.example.net", f"{pw.pw_name}+lists@mx.example.net"])
    assert all(r["status"] == "sent" for r in res.values()), res
    assert len(os.listdir(new)) == 2
    with open(os.path.join(out, "fwd-uid")) as f:
        assert int(f.read()) == pw.pw_uid
    with open(os.path.join(out, "lists-file")) as f:
        assert f.read().startswith(FROM_LINE)

    # a .forward owned by someone else is ignored, as Postfix does
    os.chown(fwd, 0, 0)
    os.chown(fwd_ext, 0, 0)
    os.unlink(os.path.join(out, "fwd-uid"))
    res, _ = deliver(conf, "local", [f"{pw.pw_name}@mx.example.net"])
    assert res[f"{pw.pw_name}@mx.example.net"]["reply"] == "delivered to maildir"
    assert not os.path.exists(os.path.join(out, "fwd-uid"))


def test_extension_with_slash_never_reaches_forward_path(lconf, home_user):
    """user+x/../evil must not turn $home/.forward+x/../evil into a .forward:
    the extension is dropped with a warning, as Postfix's local(8) does."""
    conf, _, out, _ = lconf
    pw = home_user
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("home_mailbox = Maildir/\n")
    os.mkdir(os.path.join(pw.pw_dir, ".forward+x"))
    os.chown(os.path.join(pw.pw_dir, ".forward+x"), pw.pw_uid, pw.pw_gid)
    evil = os.path.join(pw.pw_dir, "evil")
    write(evil, f"{out}/evil-file\n")
    os.chown(evil, pw.pw_uid, pw.pw_gid)
    rcpt = f"{pw.pw_name}+x/../evil@mx.example.net"
    res, err = deliver(conf, "local", [rcpt])
    assert res[rcpt]["status"] == "sent" and res[rcpt]["reply"] == "delivered to maildir", res
    assert not os.path.exists(os.path.join(out, "evil-file"))
    assert "illegal extension" in err
