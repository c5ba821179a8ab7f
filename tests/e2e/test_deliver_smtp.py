"""The SMTP client (`outpost deliver-test deliver -t smtp`) against real peers
on loopback: aiosmtpd relays with STARTTLS and AUTH (certificates made here
with openssl), dnsmasq serving MX records, and hand-written servers that
drop the connection or stall.

The per-sender relay scenario: notify@app.test is routed by
sender_dependent_relayhost_maps to relay A and authenticates there with
its own credentials (smtp_sender_dependent_authentication); everyone else
goes through relayhost = relay B with the default credentials, which are
looked up by the nexthop as written ("[127.0.0.1]:PORT"). Without a
credential B answers 530 and the message is deferred with B's reply.
"""
import hmac
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

MESSAGE = ("From: App <notify@app.test>\n"
           "To: user@example.org\n"
           "Subject: relay test\n"
           "\n"
           ".a line that starts with a dot\n"
           "..two dots\n"
           "end\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Recorder:
    """aiosmtpd handler: remembers each message with the login and TLS state."""

    def __init__(self, reject=None):
        self.messages = []
        self.reject = reject or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        login = getattr(session, "outpost_login", None)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "data": envelope.original_content, "login": login,
                              "tls": session.ssl is not None, "helo": session.host_name})
        return "250 2.0.0 Ok: queued as SINK%d" % len(self.messages)


class Relay:
    def __init__(self, host="127.0.0.1", port=None, tls=None, users=None, require=False, reject=None,
                 implicit=False, recorder=None):
        self.port = port or free_port()
        self.rec = recorder or Recorder(reject)
        kw = {}
        if tls and implicit:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*tls)
            kw.update(ssl_context=ctx)
        elif tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*tls)
            kw.update(tls_context=ctx, require_starttls=require)
        if users is not None:
            def auth(server, session, envelope, mechanism, data):
                ok = users.get(data.login.decode()) == data.password.decode()
                if ok:
                    session.outpost_login = data.login.decode()
                return AuthResult(success=ok, handled=False)
            kw.update(authenticator=auth, auth_required=require, auth_require_tls=bool(tls))
        self.c = Controller(self.rec, hostname=host, port=self.port, **kw)
        self.c.start()

    @property
    def messages(self):
        return self.rec.messages

    def stop(self):
        self.c.stop()


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="outpost-pki-")
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    for name in ("relay-a.test", "relay-b.test"):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
        write(os.path.join(d, f"{name}.ext"), f"subjectAltName=DNS:{name}\n")
        run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def dns():
    """dnsmasq on loopback: two MX of different preference, relay names, a local zone."""
    port = free_port()
    p = subprocess.Popen([DNSMASQ, "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                          "--listen-address=127.0.0.1", f"--port={port}", "--bind-interfaces",
                          "--pid-file=", "--user=" + ("root" if os.geteuid() == 0 else ""),
                          "--mx-host=mx.test,mx1.mx.test,10", "--mx-host=mx.test,mx2.mx.test,20",
                          "--host-record=mx1.mx.test,127.0.0.2", "--host-record=mx2.mx.test,127.0.0.3",
                          "--host-record=relay-a.test,127.0.0.1", "--host-record=relay-b.test,127.0.0.1",
                          "--local=/local.test/"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert p.poll() is None, p.stdout.read()
    yield f"127.0.0.1:{port}"
    p.terminate()
    p.wait()


def conf_dir(tmp_path, extra=""):
    d = tmp_path / "conf"
    d.mkdir(exist_ok=True)
    write(d / "main.cf", "myhostname = client.example.net\n"
          "smtp_helo_name = client.example.net\n" + extra)
    return str(d)


def deliver(conf, nexthop, rcpts, sender="notify@app.test", msg=MESSAGE, extra=()):
    write(os.path.join(conf, "message"), msg)
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "deliver", "-t", "smtp", "-n", nexthop,
                        "-f", sender, "-q", "4ZqTest2z1", *extra, os.path.join(conf, "message"), *rcpts],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return {r["recipient"]: r for r in json.loads(p.stdout)}, p.stderr


def route(conf, sender, rcpt):
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "route", "-f", sender, rcpt],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def test_per_recipient_results_and_content(tmp_path):
    relay = Relay(reject={"bad@example.org": "550 5.1.1 <bad@example.org>: Recipient address rejected: User unknown",
                          "later@example.org": "451 4.3.0 <later@example.org>: try again later"})
    try:
        conf = conf_dir(tmp_path)
        res, log = deliver(conf, f"[127.0.0.1]:{relay.port}",
                           ["user@example.org", "bad@example.org", "later@example.org"])
    finally:
        relay.stop()
    ok, bad, later = res["user@example.org"], res["bad@example.org"], res["later@example.org"]
    assert (ok["status"], ok["dsn"], ok["reply"]) == ("sent", "2.0.0", "250 2.0.0 Ok: queued as SINK1")
    assert ok["relay"] == f"127.0.0.1[127.0.0.1]:{relay.port}"
    assert (bad["status"], bad["dsn"]) == ("bounced", "5.1.1")
    assert bad["reply"] == ("host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <bad@example.org>: Recipient "
                            "address rejected: User unknown (in reply to RCPT TO command)")
    assert (later["status"], later["dsn"]) == ("deferred", "4.3.0")
    m, = relay.messages
    assert m["from"] == "notify@app.test" and m["to"] == ["user@example.org"]
    assert m["helo"] == "client.example.net"
    assert m["data"] == crlf(MESSAGE)  # dot-stuffing undone by the server, CRLF on the wire
    assert (f"4ZqTest2z1: to=<user@example.org>, relay=127.0.0.1[127.0.0.1]:{relay.port}, delay="
            in log)
    assert "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as SINK1)" in log


def test_per_sender_relay_with_tls_and_auth(tmp_path, pki):
    a = Relay(tls=(f"{pki}/relay-a.test.pem", f"{pki}/relay-a.test.key"),
              users={"notifyuser": "notify-secret"}, require=True)
    b = Relay(tls=(f"{pki}/relay-b.test.pem", f"{pki}/relay-b.test.key"),
              users={"defaultuser": "default-secret"}, require=True)
    try:
        conf = conf_dir(tmp_path,
                        f"relayhost = [127.0.0.1]:{b.port}\n"
                        f"sender_dependent_relayhost_maps = texthash:{tmp_path}/conf/sender_relay\n"
                        "smtp_sasl_auth_enable = yes\n"
                        f"smtp_sasl_password_maps = texthash:{tmp_path}/conf/sasl_passwd\n"
                        "smtp_sender_dependent_authentication = yes\n"
                        "smtp_sasl_security_options = noanonymous\n"
                        "smtp_tls_security_level = encrypt\n")
        write(f"{conf}/sender_relay", f"notify@app.test [127.0.0.1]:{a.port}\n")
        write(f"{conf}/sasl_passwd", "notify@app.test notifyuser:notify-secret\n"
              f"[127.0.0.1]:{b.port} defaultuser:default-secret\n")
        ra = route(conf, "notify@app.test", "user@example.org")
        rb = route(conf, "other@app.test", "user@example.org")
        assert (ra["transport"], ra["nexthop"]) == ("smtp", f"[127.0.0.1]:{a.port}")
        assert (rb["transport"], rb["nexthop"]) == ("smtp", f"[127.0.0.1]:{b.port}")
        res_a, log_a = deliver(conf, ra["nexthop"], ["user@example.org"], sender="notify@app.test")
        res_b, log_b = deliver(conf, rb["nexthop"], ["user@example.org"], sender="other@app.test")
        assert res_a["user@example.org"]["status"] == "sent", res_a
        assert res_b["user@example.org"]["status"] == "sent", res_b
        assert [(m["from"], m["login"], m["tls"]) for m in a.messages] == \
            [("notify@app.test", "notifyuser", True)]
        assert [(m["from"], m["login"], m["tls"]) for m in b.messages] == \
            [("other@app.test", "defaultuser", True)]
        assert f"Untrusted TLS connection established to 127.0.0.1[127.0.0.1]:{a.port}: TLSv1" in log_a

        # the default credential goes missing: B refuses with 530 and the mail defers
        write(f"{conf}/sasl_passwd", "notify@app.test notifyuser:notify-secret\n")
        res, log = deliver(conf, rb["nexthop"], ["user@example.org"], sender="other@app.test")
        r = res["user@example.org"]
        assert (r["status"], r["dsn"]) == ("deferred", "4.7.0"), r
        assert r["reply"].startswith("host 127.0.0.1[127.0.0.1] said: 530 5.7.0 ")
        assert r["reply"].endswith("(in reply to MAIL FROM command)")
        assert "status=deferred (host 127.0.0.1[127.0.0.1] said: 530" in log
        assert len(b.messages) == 1
    finally:
        a.stop()
        b.stop()


def test_sasl_defaults_refuse_plaintext_and_535_defers(tmp_path, pki):
    b = Relay(tls=(f"{pki}/relay-b.test.pem", f"{pki}/relay-b.test.key"),
              users={"defaultuser": "default-secret"}, require=True)
    try:
        conf = conf_dir(tmp_path, "smtp_sasl_auth_enable = yes\n"
                        f"smtp_sasl_password_maps = texthash:{tmp_path}/conf/sasl_passwd\n"
                        "smtp_tls_security_level = encrypt\n")
        write(f"{conf}/sasl_passwd", f"[127.0.0.1]:{b.port} defaultuser:wrong\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{b.port}", ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["dsn"]) == ("deferred", "4.7.0")
        assert "no mechanism available" in r["reply"]  # Postfix's default: noplaintext
        with open(f"{conf}/main.cf", "a") as f:
            f.write("smtp_sasl_security_options = noanonymous\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{b.port}", ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["dsn"][0]) == ("deferred", "4"), r  # 535 soft-bounces
        assert "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535" in r["reply"]
        assert b.messages == []
    finally:
        b.stop()


def test_tls_verify_and_secure_levels(tmp_path, pki, dns):
    a = Relay(tls=(f"{pki}/relay-a.test.pem", f"{pki}/relay-a.test.key"), require=True)
    try:
        conf = conf_dir(tmp_path, f"dns_servers = {dns}\n"
                        f"smtp_tls_CAfile = {pki}/ca.pem\n"
                        "smtp_tls_security_level = verify\n"
                        "smtp_tls_servername = hostname\n"
                        f"smtp_tls_policy_maps = texthash:{tmp_path}/conf/tls_policy\n")
        write(f"{conf}/tls_policy", f"[relay-b.test]:{a.port} secure\n")
        res, log = deliver(conf, f"[relay-a.test]:{a.port}", ["user@example.org"])
        assert res["user@example.org"]["status"] == "sent", res
        assert f"Verified TLS connection established to relay-a.test[127.0.0.1]:{a.port}" in log
        # relay-b.test reaches the same server, whose certificate names relay-a.test
        res, log = deliver(conf, f"[relay-b.test]:{a.port}", ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["dsn"]) == ("deferred", "4.7.5"), r
        assert "Trusted TLS connection established" in log
        assert len(a.messages) == 1
    finally:
        a.stop()


def test_mx_preference_and_fallback(tmp_path, dns):
    port = free_port()
    mx2 = Relay(host="127.0.0.3", port=port)  # mx1 (127.0.0.2, preferred) is down
    try:
        conf = conf_dir(tmp_path, f"dns_servers = {dns}\n")
        res, log = deliver(conf, f"mx.test:{port}", ["user@mx.test"])
    finally:
        mx2.stop()
    r = res["user@mx.test"]
    assert (r["status"], r["relay"]) == ("sent", f"mx2.mx.test[127.0.0.3]:{port}")
    assert f"connect to mx1.mx.test[127.0.0.2]:{port}: Connection refused" in log
    assert len(mx2.messages) == 1


def test_no_mx_no_address_defers_unknown_domain_bounces(tmp_path, dns):
    conf = conf_dir(tmp_path, f"dns_servers = {dns}\n")
    res, _ = deliver(conf, "nowhere.test", ["user@nowhere.test"])
    r = res["user@nowhere.test"]
    assert (r["status"], r["dsn"], r["relay"]) == ("deferred", "4.4.3", "none")
    assert r["reply"].startswith("Host or domain name not found. Name service error for "
                                 "name=nowhere.test type=MX")
    res, _ = deliver(conf, "nothing.local.test", ["user@nothing.local.test"])
    assert (res["user@nothing.local.test"]["status"], res["user@nothing.local.test"]["dsn"]) == \
        ("bounced", "5.4.4")


class RawServer(threading.Thread):
    """A scripted SMTP server: mode "drop" closes the connection in the middle of
    the message body; mode "stall" never answers the final dot."""

    def __init__(self, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.commands = []
        self.body = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.mode == "drop-once" and self.connections > 1:
                self.mode = "record"
            f = c.makefile("rb")
            if self.mode == "refuse":
                c.sendall(b"554 5.7.1 raw.test does not talk to you\r\n")
            else:
                c.sendall(b"220 raw.test ESMTP\r\n")
            try:
                while True:
                    line = f.readline()
                    if not line:
                        break
                    cmd = line[:4].upper()
                    self.commands.append(line.decode().rstrip("\r\n"))
                    if cmd == b"LHLO":
                        c.sendall(b"250-raw.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                    elif cmd == b"DATA" and self.mode == "lmtp":
                        c.sendall(b"354 go\r\n")
                        while f.readline() not in (b".\r\n", b""):
                            pass
                        c.sendall(b"250 2.0.0 <a@example.org> Saved\r\n"
                                  b"452 4.2.2 <b@example.org> Quota exceeded (mailbox for user is full)\r\n"
                                  b"552 5.2.2 <c@example.org> Quota exceeded permanently\r\n")
                    elif cmd == b"EHLO" and self.mode == "notls":
                        c.sendall(b"250-raw.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
                    elif cmd == b"STAR":
                        c.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
                    elif cmd == b"EHLO" and self.mode == "record":
                        c.sendall(b"250-raw.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                                  b"250-DSN\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n")
                    elif cmd == b"EHLO":
                        c.sendall(b"250-raw.test\r\n250 8BITMIME\r\n")
                    elif cmd == b"RCPT" and b"<refused@" in line:
                        c.sendall(b"550 5.1.1 no such user\r\n")
                    elif cmd in (b"MAIL", b"RCPT"):
                        c.sendall(b"250 ok\r\n")
                    elif cmd == b"DATA" and self.mode in ("record", "notls"):
                        c.sendall(b"354 go\r\n")
                        while True:
                            l = f.readline()
                            if l in (b".\r\n", b""):
                                break
                            self.body += l
                        c.sendall(b"250 2.0.0 Ok: queued as RAW1\r\n")
                    elif cmd == b"DATA":
                        c.sendall(b"354 go\r\n")
                        f.readline()  # first body line
                        if self.mode in ("drop", "drop-once"):
                            break
                        while f.readline() not in (b".\r\n", b""):
                            pass
                        time.sleep(4)
                        break
                    elif cmd == b"RSET":
                        c.sendall(b"250 2.0.0 Ok\r\n")
                        if getattr(self, "close_after_rset", False):
                            break
                    elif cmd == b"QUIT":
                        c.sendall(b"221 bye\r\n")
                        break
            finally:
                f.close()
                c.close()

    def stop(self):
        self.sock.close()


def test_connection_dropped_mid_data_defers(tmp_path):
    srv = RawServer("drop")
    try:
        conf = conf_dir(tmp_path)
        res, log = deliver(conf, f"[127.0.0.1]:{srv.port}", ["user@example.org"],
                           msg=MESSAGE + ("x" * 70 + "\n") * 20000)
    finally:
        srv.stop()
    r = res["user@example.org"]
    assert (r["status"], r["dsn"]) == ("deferred", "4.4.2"), r
    assert r["reply"].startswith("lost connection with 127.0.0.1[127.0.0.1] while sending")


def test_stalled_end_of_data_times_out_and_defers(tmp_path):
    srv = RawServer("stall")
    try:
        conf = conf_dir(tmp_path, "smtp_data_done_timeout = 1s\n")
        start = time.monotonic()
        res, _ = deliver(conf, f"[127.0.0.1]:{srv.port}", ["user@example.org"])
        took = time.monotonic() - start
    finally:
        srv.stop()
    r = res["user@example.org"]
    assert (r["status"], r["dsn"]) == ("deferred", "4.4.2"), r
    assert r["reply"] == ("conversation with 127.0.0.1[127.0.0.1] timed out while sending end of "
                          "data -- message may be sent more than once")
    assert took < 3.5


def test_connect_refused_defers(tmp_path):
    conf = conf_dir(tmp_path)
    port = free_port()
    res, _ = deliver(conf, f"[127.0.0.1]:{port}", ["user@example.org"])
    r = res["user@example.org"]
    assert (r["status"], r["dsn"]) == ("deferred", "4.4.1")
    assert r["reply"] == f"connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused"


def test_pipelining_dsn_and_size_parameters(tmp_path):
    srv = RawServer("record")
    try:
        conf = conf_dir(tmp_path)
        res, _ = deliver(conf, f"[127.0.0.1]:{srv.port}", ["u1@example.org", "refused@example.org"],
                         extra=["--envid", "env+id=1", "--ret", "HDRS",
                                "--notify", "u1@example.org=SUCCESS,FAILURE"])
    finally:
        srv.stop()
    assert res["u1@example.org"]["reply"] == "250 2.0.0 Ok: queued as RAW1"
    assert res["refused@example.org"]["status"] == "bounced"
    size = len(MESSAGE.encode())
    assert srv.commands[:5] == [
        "EHLO client.example.net",
        f"MAIL FROM:<notify@app.test> SIZE={size} RET=HDRS ENVID=env+2Bid+3D1",
        "RCPT TO:<u1@example.org> NOTIFY=SUCCESS,FAILURE",
        "RCPT TO:<refused@example.org>",
        "DATA",
    ]
    assert srv.body == crlf(MESSAGE.replace("\n.", "\n.."))  # dot-stuffed on the wire
    assert srv.commands[-1] == "RSET"  # kept open for the process's next delivery


def test_master_cf_service_overrides(tmp_path):
    srv = RawServer("record")
    try:
        conf = conf_dir(tmp_path)
        write(os.path.join(conf, "master.cf"),
              "notify    unix  -       -       n       -       -       smtp\n"
              "  -o smtp_helo_name=notify-gw.example.net\n")
        p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "deliver", "-t", "notify", "-n",
                            f"[127.0.0.1]:{srv.port}", "-f", "notify@app.test", "/dev/null",
                            "u1@example.org"], capture_output=True, text=True, timeout=60)
    finally:
        srv.stop()
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["status"] == "sent"
    assert srv.commands[0] == "EHLO notify-gw.example.net"


def test_generic_maps_rewrite_the_envelope(tmp_path):
    srv = RawServer("record")
    try:
        conf = conf_dir(tmp_path, f"smtp_generic_maps = texthash:{tmp_path}/conf/generic\n")
        write(f"{conf}/generic", "notify@app.test noreply@public.example\n"
              "@internal.example @public.example\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{srv.port}", ["someone@internal.example"])
    finally:
        srv.stop()
    assert res["someone@internal.example"]["status"] == "sent"
    assert srv.commands[1].startswith("MAIL FROM:<noreply@public.example>")
    assert srv.commands[2] == "RCPT TO:<someone@public.example>"


def test_generic_maps_rewrite_the_top_level_headers(tmp_path):
    """Postfix's smtp(8) maps header addresses too (tests/fixtures/generic/
    has the recorded cases); the body and an attached message stay as they were."""
    relay = Relay()
    msg = ("From: \"App Notifier\" <notify@app.test>\n"
           "To: someone@internal.example, other@elsewhere.example\n"
           "Cc: team: a@internal.example,\n  b@internal.example;\n"
           "Subject: notify@app.test stays\n"
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/mixed; boundary=\"b\"\n"
           "\n"
           "--b\n"
           "Content-Type: message/rfc822\n"
           "\n"
           "From: notify@app.test\n"
           "\n"
           "inner\n"
           "--b--\n")
    try:
        conf = conf_dir(tmp_path, f"smtp_generic_maps = texthash:{tmp_path}/conf/generic\n")
        write(f"{conf}/generic", "notify@app.test noreply@public.example\n"
              "@internal.example @public.example\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{relay.port}", ["someone@internal.example"], msg=msg)
    finally:
        relay.stop()
    assert res["someone@internal.example"]["status"] == "sent", res
    got = relay.messages[0]
    assert got["from"] == "noreply@public.example"
    assert got["to"] == ["someone@public.example"]
    want = msg.replace("<notify@app.test>", "<noreply@public.example>", 1) \
              .replace("someone@internal.example", "someone@public.example") \
              .replace("Cc: team: a@internal.example,\n  b@internal.example;",
                       "Cc: team: a@public.example, b@public.example;")
    assert got["data"] == crlf(want)


def test_starttls_refused_may_goes_plain_encrypt_defers(tmp_path):
    srv = RawServer("notls")
    try:
        conf = conf_dir(tmp_path, "smtp_tls_security_level = may\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{srv.port}", ["user@example.org"])
        assert res["user@example.org"]["status"] == "sent", res
        assert "STARTTLS" in srv.commands
        with open(os.path.join(conf, "main.cf"), "a") as f:
            f.write("smtp_tls_security_level = encrypt\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{srv.port}", ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["dsn"]) == ("deferred", "4.7.5"), r
        assert r["reply"].endswith("454 4.7.0 TLS not available due to local problem "
                                   "(in reply to STARTTLS command)")
    finally:
        srv.stop()


def test_wrapper_mode_and_native_host_lookup(tmp_path, pki):
    a = Relay(tls=(f"{pki}/relay-a.test.pem", f"{pki}/relay-a.test.key"), implicit=True)
    try:
        conf = conf_dir(tmp_path, "smtp_tls_wrappermode = yes\nsmtp_host_lookup = native\n")
        res, log = deliver(conf, f"[localhost]:{a.port}", ["user@example.org"])
    finally:
        a.stop()
    r = res["user@example.org"]
    assert (r["status"], r["relay"]) == ("sent", f"localhost[127.0.0.1]:{a.port}"), r
    assert f"TLS connection established to localhost[127.0.0.1]:{a.port}" in log
    assert a.messages[0]["data"] == crlf(MESSAGE)


class CramRecorder(Recorder):
    """Also offers CRAM-MD5 (RFC 2195), checked against one secret."""
    users = {"crammer": "cram-secret"}

    async def auth_CRAM__MD5(self, server, args):
        challenge = b"<12345.67890@relay.test>"
        resp = await server.challenge_auth(challenge)
        user, _, digest = resp.decode().partition(" ")
        want = hmac.new(self.users.get(user, "").encode(), challenge, "md5").hexdigest()
        ok = user in self.users and hmac.compare_digest(digest, want)
        if ok:
            server.session.outpost_login = user
        return AuthResult(success=ok, handled=False)


def test_cram_md5_passes_postfix_default_security_options(tmp_path, pki):
    a = Relay(tls=(f"{pki}/relay-a.test.pem", f"{pki}/relay-a.test.key"), users={}, require=True,
              recorder=CramRecorder())
    try:
        conf = conf_dir(tmp_path, "smtp_sasl_auth_enable = yes\n"
                        f"smtp_sasl_password_maps = texthash:{tmp_path}/conf/sasl_passwd\n"
                        "smtp_tls_security_level = encrypt\n")
        write(f"{conf}/sasl_passwd", f"[127.0.0.1]:{a.port} crammer:cram-secret\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{a.port}", ["user@example.org"])
        assert res["user@example.org"]["status"] == "sent", res
        assert a.messages[0]["login"] == "crammer"
        write(f"{conf}/sasl_passwd", f"[127.0.0.1]:{a.port} crammer:wrong\n")
        res, _ = deliver(conf, f"[127.0.0.1]:{a.port}", ["user@example.org"])
        assert res["user@example.org"]["status"] == "deferred"
        assert "SASL authentication failed" in res["user@example.org"]["reply"]
    finally:
        a.stop()



def test_5xx_greeting_skipped_or_final_with_a_nexthop_list(tmp_path):
    bad = RawServer("refuse")
    good = RawServer("record")
    nexthop = f"[127.0.0.1]:{bad.port}, [127.0.0.1]:{good.port}"
    try:
        conf = conf_dir(tmp_path)
        res, _ = deliver(conf, nexthop, ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["relay"]) == ("sent", f"127.0.0.1[127.0.0.1]:{good.port}"), r
        with open(os.path.join(conf, "main.cf"), "a") as f:
            f.write("smtp_skip_5xx_greeting = no\n")
        res, _ = deliver(conf, nexthop, ["user@example.org"])
        r = res["user@example.org"]
        assert (r["status"], r["dsn"]) == ("bounced", "5.7.1"), r
        assert r["reply"] == ("host 127.0.0.1[127.0.0.1] refused to talk to me: "
                              "554 5.7.1 raw.test does not talk to you")
        assert good.connections == 1
    finally:
        bad.stop()
        good.stop()


def test_lmtp_replies_per_recipient_after_data(tmp_path):
    srv = RawServer("lmtp")
    try:
        conf = conf_dir(tmp_path)
        write(os.path.join(conf, "message"), MESSAGE)
        p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "deliver", "-t", "lmtp", "-n",
                            f"inet:127.0.0.1:{srv.port}", "-f", "s@example.org",
                            os.path.join(conf, "message"), "a@example.org", "b@example.org",
                            "c@example.org"], capture_output=True, text=True, timeout=60)
    finally:
        srv.stop()
    assert p.returncode == 0, p.stderr
    res = {r["recipient"]: r for r in json.loads(p.stdout)}
    assert [(res[a]["status"], res[a]["dsn"]) for a in ("a@example.org", "b@example.org", "c@example.org")] == \
        [("sent", "2.0.0"), ("deferred", "4.2.2"), ("bounced", "5.2.2")]
    assert res["b@example.org"]["reply"].endswith("(in reply to end of DATA command)")
    assert srv.commands[0] == "LHLO client.example.net"


def deliver_repeat(conf, nexthop, n, sender="notify@app.test"):
    write(os.path.join(conf, "message"), MESSAGE)
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "deliver", "-t", "smtp", "-n", nexthop,
                        "-f", sender, "--repeat", str(n), os.path.join(conf, "message"),
                        "user@example.org"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    runs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("[")]
    return [r[0] for r in runs], p.stderr


def test_connection_reused_by_later_deliveries_of_one_process(tmp_path):
    srv = RawServer("record")
    try:
        conf = conf_dir(tmp_path)
        res, log = deliver_repeat(conf, f"[127.0.0.1]:{srv.port}", 3)
        assert [r["status"] for r in res] == ["sent"] * 3
        assert srv.connections == 1
        assert [c.split()[0] for c in srv.commands] == \
            ["EHLO"] + ["MAIL", "RCPT", "DATA", "RSET"] * 3
        assert log.count("reusing the connection to 127.0.0.1[127.0.0.1]") == 2
        # per-sender credentials turn the cache off, as in Postfix
        with open(os.path.join(conf, "main.cf"), "a") as f:
            f.write("smtp_sender_dependent_authentication = yes\n")
        res, _ = deliver_repeat(conf, f"[127.0.0.1]:{srv.port}", 2)
        assert [r["status"] for r in res] == ["sent"] * 2
        assert srv.connections == 3
        assert srv.commands[-1] == "QUIT"
    finally:
        srv.stop()


def test_cached_connection_closed_by_the_server_is_replaced(tmp_path):
    srv = RawServer("record")
    try:
        conf = conf_dir(tmp_path, "smtp_connection_cache_time_limit = 10s\n")
        srv.close_after_rset = True
        res, log = deliver_repeat(conf, f"[127.0.0.1]:{srv.port}", 2)
        assert [r["status"] for r in res] == ["sent", "sent"], (res, log)
        assert srv.connections == 2
    finally:
        srv.stop()
