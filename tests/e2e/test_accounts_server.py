"""Accounts, aliases and send-as grants through the running server, with the
default configuration of examples/ (what `make run` starts), on free ports.

The postmortem's users and the docker-mailserver cases: an account that is
also an alias target keeps its own address; an alias target can send as the
alias; +tag works; a catch-all does not swallow existing mailboxes; a grant
of noreply@external.example is sendable while external.example stays remote;
revoking a grant takes effect without a restart.
"""
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import threading
import time

import pytest

from conftest import OUTPOST, ROOT, free_port, start_dnsmasq, wait_port

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Sink:
    """An aiosmtpd next hop (relayhost) that records what reaches it."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: sunk"


# account_backend = sqlite: the same tables, answered by one shared database
# (docs/outpost-account.md shows these lines).
SQLITE_TABLES = {
    "virtual_mailbox_domains": "sqlite:$account_directory/domains.cf",
    "virtual_mailbox_maps": "sqlite:$account_directory/vmailbox.cf",
    "virtual_alias_maps": "sqlite:$account_directory/virtual.cf",
    "smtpd_sasl_password_maps": "sqlite:$account_directory/passwords.cf",
}
SQLITE_LOGIN_MAPS = """smtpd_sender_login_maps = unionmap:{
    sqlite:$account_directory/login-accounts.cf,
    sqlite:$account_directory/login-aliases.cf,
    sqlite:$account_directory/login-grants.cf,
    sqlite:$account_directory/login-domains.cf }
account_backend = sqlite
"""


def example_config(d, ports, relay_port, dns, backend):
    """examples/ as scripts/run.sh lays it out, on the given ports."""
    os.makedirs(d)
    for name in os.listdir(os.path.join(ROOT, "examples")):
        src = os.path.join(ROOT, "examples", name)
        if os.path.isfile(src) and name not in ("main.cf", "master.cf"):
            shutil.copy(src, d)
    main = open(os.path.join(ROOT, "examples", "main.cf")).read()
    subst = {
        "queue_directory": os.path.join(d, "queue"),
        "mail_owner": subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
        "virtual_uid_maps": f"static:{os.getuid()}",
        "virtual_gid_maps": f"static:{os.getgid()}",
        "virtual_minimum_uid": str(min(100, os.getuid())),
        "maillog_file": os.path.join(d, "maillog"),
    }
    for k, v in subst.items():
        main, n = re.subn(rf"(?m)^{k} = .*$", f"{k} = {v}", main)
        assert n == 1, k
    # the outside world: external.example resolves (reject_unknown_recipient_domain
    # stays on) and every remote domain goes to the test's relay
    if backend == "sqlite":
        for k, v in SQLITE_TABLES.items():
            main, n = re.subn(rf"(?m)^{k} = .*$", f"{k} = {v}", main)
            assert n == 1, k
        main, n = re.subn(r"(?ms)^smtpd_sender_login_maps = .*?\}\n", SQLITE_LOGIN_MAPS, main)
        assert n == 1
    main += (f"\nrelayhost = [127.0.0.1]:{relay_port}\nsmtpd_peername_lookup = no\n"
             f"dns_servers = {dns}\n")
    open(os.path.join(d, "main.cf"), "w").write(main)
    master = open(os.path.join(ROOT, "examples", "master.cf")).read()
    for svc, port in (("2525", ports["smtp"]), ("2587", ports["submission"]), ("2465", ports["smtps"])):
        master = master.replace(f"127.0.0.1:{svc}", f"127.0.0.1:{port}")
    open(os.path.join(d, "master.cf"), "w").write(master)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=mx.example.test", "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")], check=True, capture_output=True)


def cli(d, *args, stdin=None):
    p = subprocess.run([OUTPOST, args[0], "-c", d, *args[1:]], input=stdin, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout


class Server:
    def __init__(self, tmp_path, backend):
        self.sink = Sink()
        self.controller = aiosmtpd.Controller(self.sink, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.dns, dns = start_dnsmasq("--address=/external.example/127.0.0.1")
        self.ports = {n: free_port() for n in ("smtp", "submission", "smtps")}
        self.dir = str(tmp_path / "run")
        example_config(self.dir, self.ports, self.controller.port, dns, backend)
        cli(self.dir, "account", "rebuild")
        for user in ("alice", "bob", "admin"):
            cli(self.dir, "account", "add", f"{user}@example.test", stdin=f"pw-{user}\n")
        self.proc = subprocess.Popen([OUTPOST, "start", "-f", "-c", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_port(self.ports["submission"])

    def log(self):
        try:
            return open(os.path.join(self.dir, "maillog"), errors="replace").read()
        except FileNotFoundError:
            return ""

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.controller.stop()
        self.dns.terminate()
        self.dns.wait()

    def submit(self, login, sender, rcpt, subject="test"):
        """Send over submission (STARTTLS + AUTH); return (code, text) of the
        first refusal, or (250, b"") when accepted."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = smtplib.SMTP("127.0.0.1", self.ports["submission"], timeout=20)
        try:
            s.ehlo("client.example")
            s.starttls(context=ctx)
            s.ehlo("client.example")
            s.login(login, f"pw-{login.split('@')[0]}")
            msg = f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n\r\nhello\r\n"
            s.sendmail(sender, [rcpt], msg)
            return 250, b""
        except smtplib.SMTPRecipientsRefused as e:
            return list(e.recipients.values())[0]
        except smtplib.SMTPSenderRefused as e:
            return e.smtp_code, e.smtp_error
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                pass

    def maildir(self, user):
        return os.path.join(self.dir, "mail", "example.test", user, "new")

    def wait_mail(self, user, subject, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            d = self.maildir(user)
            if os.path.isdir(d):
                for f in os.listdir(d):
                    if f"Subject: {subject}" in open(os.path.join(d, f), errors="replace").read():
                        return True
            time.sleep(0.1)
        raise AssertionError(f"no mail '{subject}' for {user}; log:\n{self.log()[-3000:]}")

    def wait_sink(self, subject, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            with self.sink.lock:
                for m in self.sink.messages:
                    if f"Subject: {subject}".encode() in m[2]:
                        return m
            time.sleep(0.1)
        raise AssertionError(f"'{subject}' never reached the relay; log:\n{self.log()[-3000:]}")


@pytest.fixture(params=["files", "sqlite"])
def server(tmp_path, request):
    srv = Server(tmp_path, request.param)
    yield srv
    srv.stop()


def refused_553(result, login):
    code, text = result
    assert code == 553, result
    assert b"5.7.1" in text and b"not owned by user " + login.encode() in text, result


def test_postmortem_admin_and_users(server):
    cli(server.dir, "sender", "allow", "admin@example.test", "@example.test")
    time.sleep(1.1)  # tables notice a changed file within a second
    assert server.submit("alice@example.test", "alice@example.test", "bob@example.test", "a1") == (250, b"")
    server.wait_mail("bob", "a1")
    # the domain grant is unioned with alice's own entry, never shadowed by it
    assert server.submit("admin@example.test", "alice@example.test", "bob@example.test", "a2") == (250, b"")
    refused_553(server.submit("bob@example.test", "alice@example.test", "bob@example.test"), "bob@example.test")
    refused_553(server.submit("alice@example.test", "bob@example.test", "bob@example.test"), "alice@example.test")
    assert "not owned by user bob@example.test" in server.log()


def test_alias_target_sends_as_alias_and_keeps_own_address(server):
    cli(server.dir, "alias", "add", "sales@example.test", "alice@example.test")
    time.sleep(1.1)  # texthash reload granularity: a second
    assert server.submit("alice@example.test", "sales@example.test", "bob@example.test", "s1") == (250, b"")
    assert server.submit("alice@example.test", "alice@example.test", "bob@example.test", "s2") == (250, b"")
    refused_553(server.submit("bob@example.test", "sales@example.test", "bob@example.test"), "bob@example.test")
    # mail to the alias reaches its target
    assert server.submit("bob@example.test", "bob@example.test", "sales@example.test", "s3") == (250, b"")
    server.wait_mail("alice", "s3")


def test_plus_tag_sends_and_receives(server):
    assert server.submit("alice@example.test", "alice+news@example.test", "bob+inbox@example.test", "t1") == (250, b"")
    server.wait_mail("bob", "t1")
    refused_553(server.submit("bob@example.test", "alice+news@example.test", "bob@example.test"), "bob@example.test")


def test_catchall_does_not_swallow_mailboxes(server):
    cli(server.dir, "alias", "add", "@example.test", "admin@example.test")
    time.sleep(1.1)
    assert server.submit("bob@example.test", "bob@example.test", "alice@example.test", "c1") == (250, b"")
    assert server.submit("bob@example.test", "bob@example.test", "nobody@example.test", "c2") == (250, b"")
    server.wait_mail("alice", "c1")
    server.wait_mail("admin", "c2")
    # receiving the catch-all grants admin no right to send as unknown users
    refused_553(server.submit("admin@example.test", "nobody@example.test", "bob@example.test"),
                "admin@example.test")


def test_external_grant_stays_remote_and_revokes_live(server):
    cli(server.dir, "sender", "allow", "bob@example.test", "noreply@external.example")
    assert "external.example" not in cli(server.dir, "domain", "list")
    time.sleep(1.1)
    assert server.submit("bob@example.test", "noreply@external.example", "user@external.example", "x1") == (250, b"")
    sender, rcpts, _ = server.wait_sink("x1")  # relayed out, not delivered locally
    assert sender == "noreply@external.example" and rcpts == ["user@external.example"]
    refused_553(server.submit("alice@example.test", "noreply@external.example", "bob@example.test"),
                "alice@example.test")
    cli(server.dir, "sender", "deny", "bob@example.test", "noreply@external.example")
    end = time.time() + 5
    while True:  # no restart: the next lookups see the change within about a second
        r = server.submit("bob@example.test", "noreply@external.example", "user@external.example")
        if r[0] == 553 or time.time() > end:
            break
        time.sleep(0.3)
    assert r[0] == 553, r
    assert server.proc.poll() is None
