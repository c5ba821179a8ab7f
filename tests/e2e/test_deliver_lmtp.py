"""The LMTP client against Debian's Dovecot LMTP server, started here with
a temporary configuration: delivery over a unix socket and over TCP into
Maildirs that Dovecot then serves (read back with doveadm), and the
per-recipient replies LMTP gives.

Dovecot's master needs root to run its services as mail_uid; the tests
are skipped otherwise.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(DOVECOT),
                                reason="needs root and dovecot-core/dovecot-lmtpd")

MESSAGE = ("From: Sender <sender@example.org>\n"
           "To: alice@vmail.test\n"
           "Subject: lmtp test\n"
           "\n"
           ".dot first\n"
           "body line\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def dovecot():
    d = tempfile.mkdtemp(prefix="outpost-dovecot-")
    os.chmod(d, 0o755)
    for sub in ("run", "state", "mail"):
        os.mkdir(os.path.join(d, sub))
    os.chmod(os.path.join(d, "mail"), 0o777)
    port = free_port()
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
mail_location = maildir:{d}/mail/%n/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = home={d}/mail/%n
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""")
    p = subprocess.Popen([DOVECOT, "-F", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(50):
        if os.path.exists(os.path.join(d, "run", "lmtp")):
            break
        time.sleep(0.1)
    assert p.poll() is None, p.stdout.read()
    yield {"dir": d, "conf": conf, "socket": os.path.join(d, "run", "lmtp"), "port": port}
    p.terminate()
    p.wait(timeout=10)
    shutil.rmtree(d, ignore_errors=True)


def deliver(tmp_path, nexthop, rcpts):
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "main.cf").write_text("myhostname = mx.example.net\n")
    (conf / "message").write_text(MESSAGE)
    p = subprocess.run([OUTPOST, "deliver-test", "-c", str(conf), "deliver", "-t", "lmtp", "-n", nexthop,
                        "-f", "sender@example.org", str(conf / "message"), *rcpts],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return {r["recipient"]: r for r in json.loads(p.stdout)}, p.stderr


def fetch(dovecot, user):
    p = subprocess.run([DOVEADM, "-c", dovecot["conf"], "fetch", "-u", user, "hdr.subject body", "all"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_lmtp_unix_socket_into_dovecot_maildir(tmp_path, dovecot):
    res, log = deliver(tmp_path, "unix:" + dovecot["socket"],
                       ["alice@vmail.test", "bob@vmail.test", "no body@vmail.test"])
    for who in ("alice@vmail.test", "bob@vmail.test"):
        r = res[who]
        assert (r["status"], r["dsn"]) == ("sent", "2.0.0"), r
        assert r["reply"].startswith(f"250 2.0.0 <{who}>") and r["reply"].endswith("Saved")
        assert r["relay"] == f"mx.example.net[{dovecot['socket']}]"
    bad = res["no body@vmail.test"]
    assert (bad["status"], bad["dsn"]) == ("bounced", "5.1.1")
    assert bad["reply"].endswith("(in reply to RCPT TO command)")
    new = os.path.join(dovecot["dir"], "mail", "alice", "Maildir", "new")
    files = os.listdir(new)
    assert len(files) == 1
    with open(os.path.join(new, files[0])) as f:
        stored = f.read()
    assert stored.endswith(MESSAGE)  # dot-stuffing undone, LF in the store
    out = fetch(dovecot, "alice")
    assert "hdr.subject: lmtp test" in out and ".dot first\nbody line" in out
    assert "lmtp test" in fetch(dovecot, "bob")


def test_lmtp_inet(tmp_path, dovecot):
    res, _ = deliver(tmp_path, f"inet:127.0.0.1:{dovecot['port']}", ["carol@vmail.test"])
    r = res["carol@vmail.test"]
    assert (r["status"], r["relay"]) == ("sent", f"127.0.0.1[127.0.0.1]:{dovecot['port']}"), r
    assert "lmtp test" in fetch(dovecot, "carol")
