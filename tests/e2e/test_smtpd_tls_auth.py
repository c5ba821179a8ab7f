"""smtpd TLS and AUTH end to end: STARTTLS, wrapper mode, encrypt level,
AUTH only after STARTTLS (Outpost's default smtpd_tls_auth_only = yes), the
internal crypt(3) backend and Dovecot's auth protocol against a real
dovecot started by the test, failure replies and the failure limit."""
import base64
import crypt
import ctypes
import ctypes.util
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import wait_port, free_port


def make_cert(d, kind="rsa", cn="mx.example.test"):
    key, cert = os.path.join(d, f"{kind}.key"), os.path.join(d, f"{kind}.crt")
    if kind == "rsa":
        alg = ["-newkey", "rsa:2048"]
    else:
        alg = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(["openssl", "req", "-x509", *alg, "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", f"/CN={cn}"], check=True, capture_output=True)
    return cert, key


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_main(tmp_path, **extra):
    cert, key = make_cert(str(tmp_path))
    main = {"smtpd_tls_security_level": "may", "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key}
    main.update(extra)
    return main


def plain_b64(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_starttls_then_auth_offered(outpost, tmp_path):
    pw = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512))
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd"),
                  files={"passwd": f"alice {pw}\n"})
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert s.has_extn("starttls")
        assert not s.has_extn("auth")
        assert s.docmd("AUTH PLAIN " + plain_b64("alice", "secret")) == \
            (503, b"5.5.1 Error: authentication not enabled")
        assert s.starttls(context=client_ctx())[0] == 220
        s.ehlo("client.example")
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert not s.has_extn("starttls")
        assert s.login("alice", "secret")[0] == 235
        s.mail("alice@example.test")
        s.rcpt("someone@elsewhere.example")      # authenticated clients may relay
        assert s.data(b"Subject: t\r\n\r\nx\r\n")[0] == 250
    srv.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                 r"TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)")
    srv.wait_log(r": client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice")


def test_internal_auth_failures_and_limit(outpost, tmp_path):
    pw = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512))
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd",
                                smtpd_sasl_failure_limit="3", smtpd_sasl_failure_delay="0s"),
                  files={"passwd": f"alice {pw}\n"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\nSTARTTLS\r\n")
    s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
    s.starttls(context=client_ctx())
    s.ehlo("client.example")
    assert s.docmd("AUTH PLAIN " + plain_b64("alice", "wrong")) == \
        (535, b"5.7.8 Error: authentication failed: authentication failure")
    assert s.docmd("AUTH PLAIN " + plain_b64("nobody", "secret")) == \
        (535, b"5.7.8 Error: authentication failed: authentication failure")
    assert s.docmd("AUTH LOGIN") == (334, b"VXNlcm5hbWU6")
    assert s.docmd(base64.b64encode(b"alice").decode()) == (334, b"UGFzc3dvcmQ6")
    assert s.docmd("*") == (501, b"5.7.0 Authentication aborted")
    code, text = s.docmd("AUTH PLAIN " + plain_b64("alice", "again-wrong"))
    assert code == 535
    code, text = s.getreply()
    assert code == 421 and b"too many failed authentications" in text
    srv.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL PLAIN authentication failed: "
                 r"authentication failure")


@pytest.mark.parametrize("scheme", ["sha512", "yescrypt", "bcrypt"])
def test_internal_hash_schemes(outpost, tmp_path, scheme):
    method = {"sha512": crypt.METHOD_SHA512, "bcrypt": crypt.METHOD_BLOWFISH}.get(scheme)
    if scheme == "yescrypt":
        lib = ctypes.CDLL(ctypes.util.find_library("crypt"))
        lib.crypt_gensalt.restype = ctypes.c_char_p
        lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
        salt = lib.crypt_gensalt(b"$y$", 0, None, 0)
        pw = crypt.crypt("pw-" + scheme, salt.decode()) if salt else None
        if not pw or not pw.startswith("$y$"):
            pytest.skip("no yescrypt in this libcrypt")
    else:
        pw = crypt.crypt("pw-" + scheme, crypt.mksalt(method))
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd"),
                  files={"passwd": f"user {pw}\n"})
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("c.example")
        assert s.login("user", "pw-" + scheme)[0] == 235


def test_encrypt_level_requires_starttls(outpost, tmp_path):
    srv = outpost(main=tls_main(tmp_path, smtpd_tls_security_level="encrypt"))
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert s.docmd("MAIL FROM:<a@b.example>") == (530, b"5.7.0 Must issue a STARTTLS command first")
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        assert s.mail("a@b.example")[0] == 250


def test_wrapper_mode_ecdsa_chain_file(outpost, tmp_path):
    cert, key = make_cert(str(tmp_path), "ec")
    chain = os.path.join(str(tmp_path), "chain.pem")
    with open(chain, "w") as f:
        f.write(open(key).read() + open(cert).read())
    srv = outpost(main={"smtpd_tls_chain_files": chain},
                  master="127.0.0.1:{smtp} inet n - n - - smtpd\n"
                         "127.0.0.1:{smtps} inet n - n - - smtpd\n"
                         "  -o smtpd_tls_wrappermode=yes\n")
    s = smtplib.SMTP_SSL("127.0.0.1", srv.ports["smtps"], timeout=10, context=client_ctx())
    assert s.ehlo("client.example")[0] == 250
    cipher = s.sock.cipher()
    s.quit()
    assert cipher is not None
    srv.wait_log(r"TLS connection established from unknown\[127\.0\.0\.1\]")


def test_plaintext_after_starttls_is_refused(outpost, tmp_path):
    srv = outpost(main=tls_main(tmp_path))
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("STARTTLS\r\nMAIL FROM:<injected@b.example>\r\n")
        assert c.recv_reply()[1] == ["554 5.5.0 Error: SMTP protocol synchronization"]
        assert c.closed()


DOVECOT_CONF = """
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=CRYPT {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/tmp
}}
service auth {{
  unix_listener auth-client {{
    path = {d}/auth
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def dovecot():
    if not shutil.which("dovecot"):
        pytest.skip("dovecot-core not installed")
    # Dovecot's auth process runs as the dovecot user: it needs a path it can
    # traverse, which pytest's private tmp_path is not.
    d = tempfile.mkdtemp(prefix="outpost-dovecot-")
    os.chmod(d, 0o755)
    os.makedirs(d + "/run")
    os.makedirs(d + "/state")
    with open(d + "/users", "w") as f:
        f.write("bob:" + crypt.crypt("hunter2", crypt.mksalt(crypt.METHOD_SHA512)) + "::::::\n")
    with open(d + "/dovecot.conf", "w") as f:
        f.write(DOVECOT_CONF.format(d=d))
    p = subprocess.Popen(["dovecot", "-F", "-c", d + "/dovecot.conf"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + 10
    while not os.path.exists(d + "/auth") and time.time() < end:
        time.sleep(0.05)
    assert os.path.exists(d + "/auth"), "dovecot did not create its auth socket"
    yield d
    p.terminate()
    p.wait(timeout=10)
    shutil.rmtree(d, ignore_errors=True)


def test_dovecot_auth(outpost, tmp_path, dovecot):
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                                smtpd_sasl_path=dovecot + "/auth"))
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        assert "PLAIN" in s.esmtp_features["auth"].split()
        code, text = s.docmd("AUTH PLAIN " + plain_b64("bob", "wrong"))
        assert code == 535 and text.startswith(b"5.7.8 Error: authentication failed:")
        # LOGIN goes through Dovecot's CONT exchange
        assert s.login("bob", "hunter2")[0] == 235
        assert s.docmd("AUTH PLAIN " + plain_b64("bob", "hunter2")) == \
            (503, b"5.5.1 Error: already authenticated")
    srv.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL PLAIN authentication failed")


def test_dovecot_down_is_temporary(outpost, tmp_path):
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                                smtpd_tls_auth_only="no",
                                smtpd_sasl_path=str(tmp_path / "no-such-socket")))
    with srv.smtp() as s:
        s.ehlo("client.example")
        # no mechanisms known: AUTH is not advertised, and AUTH fails temporarily
        assert not s.has_extn("auth")


def test_tls_received_header(outpost, tmp_path):
    from conftest import OUTPOST
    srv = outpost(main=tls_main(tmp_path, smtpd_tls_received_header="yes"))
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        s.mail("a@b.example")
        s.rcpt("postmaster@example.test")
        code, text = s.data(b"Subject: tls\r\n\r\nbody\r\n")
        assert code == 250
        qid = text.decode().rsplit(" ", 1)[1]
    shown = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "show", qid],
                           capture_output=True, text=True).stdout
    assert re.search(r"\(using TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)\)", shown), shown
    assert "(No client certificate requested)" in shown
    assert "with ESMTPS id " + qid in shown


def test_client_certificate_fingerprint_logged(outpost, tmp_path):
    ccert, ckey = make_cert(str(tmp_path), "ec", cn="client.example")
    srv = outpost(main=tls_main(tmp_path, smtpd_tls_ask_ccert="yes",
                                smtpd_tls_fingerprint_digest="sha256"))
    ctx = client_ctx()
    ctx.load_cert_chain(ccert, ckey)
    with srv.smtp() as s:
        s.starttls(context=ctx)
        s.ehlo("client.example")
        assert s.noop()[0] == 250
    srv.wait_log(r"Untrusted TLS connection established from unknown\[127\.0\.0\.1\]: TLSv1\.3")


def test_sasl_options_and_broken_clients(outpost, tmp_path):
    pw = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512))
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd",
                                broken_sasl_auth_clients="yes", smtpd_tls_auth_only="no",
                                smtpd_sasl_security_options="noanonymous, noplaintext",
                                smtpd_sasl_tls_security_options="noanonymous"),
                  files={"passwd": f"alice {pw}\n"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        code, lines = c.recv_reply()
        # plaintext mechanisms are withheld without TLS (noplaintext)
        assert not any("AUTH" in l for l in lines), lines
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        code, text = s.ehlo("client.example")
        assert b"AUTH PLAIN LOGIN" in text and b"AUTH=PLAIN LOGIN" in text


def test_auth_rate_limit(outpost, tmp_path):
    pw = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512))
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd",
                                smtpd_client_auth_rate_limit="1",
                                smtpd_client_event_limit_exceptions=""),
                  files={"passwd": f"alice {pw}\n"})
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        assert s.docmd("AUTH PLAIN " + plain_b64("alice", "wrong"))[0] == 535
        assert s.docmd("AUTH PLAIN " + plain_b64("alice", "secret")) == \
            (450, b"4.7.1 Error: too many AUTH commands from 127.0.0.1")


def test_tls_session_resumption(outpost, tmp_path):
    import socket
    srv = outpost(main=tls_main(tmp_path))
    ctx = client_ctx()

    def starttls_session(session=None):
        raw = srv.raw()
        raw.recv_reply()
        raw.send("EHLO client.example\r\n")
        raw.recv_reply()
        raw.send("STARTTLS\r\n")
        assert raw.recv_reply()[0] == 220
        tls = ctx.wrap_socket(raw.sock, session=session)
        tls.sendall(b"EHLO client.example\r\n")
        data = b""
        while b"250 " not in data:
            data += tls.recv(4096)      # TLS 1.3 tickets arrive with the first reply
        reused, sess = tls.session_reused, tls.session
        tls.sendall(b"QUIT\r\n")
        tls.recv(1024)
        tls.close()
        return reused, sess

    reused, sess = starttls_session()
    assert not reused
    reused, _ = starttls_session(sess)
    assert reused
    srv.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                 r"TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\) \(resumed\)")


def test_dovecot_failure_limit(outpost, tmp_path, dovecot):
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                                smtpd_sasl_path=dovecot + "/auth", smtpd_sasl_failure_limit="2",
                                smtpd_sasl_failure_delay="1s"))
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        t = time.time()
        assert s.docmd("AUTH PLAIN " + plain_b64("bob", "bad1"))[0] == 535
        assert time.time() - t >= 0.9          # failures are answered slowly
        assert s.docmd("AUTH PLAIN " + plain_b64("bob", "bad2"))[0] == 535
        code, text = s.getreply()
        assert code == 421 and b"too many failed authentications" in text


class FakeDovecot:
    """A scripted Dovecot auth server on inet:127.0.0.1:PORT: answers each
    AUTH with the next reply template ("OK\\t{id}\\tuser=x", "FAIL\\t{id}\\t…",
    None = close the connection)."""

    def __init__(self, replies, handshake=None):
        import threading
        self.replies = list(replies)
        self.requests = []
        self.handshake = handshake or ("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
                                       "MECH\tLOGIN\tplaintext\nMECH\tSECRET\tprivate\n"
                                       "SPID\t1\nCUID\t1\nCOOKIE\t" + "0" * 32 + "\nDONE\n")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            f = conn.makefile("rb")
            conn.sendall(self.handshake.encode())
            for line in f:
                line = line.decode().rstrip("\n")
                if not line.startswith("AUTH\t"):
                    continue
                self.requests.append(line)
                rid = line.split("\t")[1]
                reply = self.replies.pop(0) if self.replies else None
                if reply is None:
                    conn.shutdown(socket.SHUT_RDWR)
                    f.close()
                    conn.close()
                    break
                conn.sendall((reply.format(id=rid) + "\n").encode())


import socket  # noqa: E402


def test_dovecot_protocol_details(outpost, tmp_path):
    fake = FakeDovecot(["FAIL\t{id}\treason=Password expired\tcode=temp_fail",
                        "FAIL\t{id}\treason=nope",
                        "OK\t{id}",
                        None,
                        "OK\t{id}\tuser=Carol@Example.Test"])
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                                smtpd_sasl_path=f"inet:127.0.0.1:{fake.port}",
                                smtpd_sasl_failure_limit="0", smtpd_sasl_failure_delay="0s"))
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        # private mechanisms are never offered
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        ir = plain_b64("carol", "pw")
        assert s.docmd("AUTH PLAIN " + ir) == \
            (454, b"4.7.0 Temporary authentication failure: Password expired")
        assert s.docmd("AUTH PLAIN " + ir) == (535, b"5.7.8 Error: authentication failed: nope")
        # OK without user= is not a login
        assert s.docmd("AUTH PLAIN " + ir)[0] == 535
        # the server goes away: temporary failure, then a fresh connection
        assert s.docmd("AUTH PLAIN " + ir)[0] == 454
        assert s.docmd("AUTH PLAIN " + ir) == (235, b"2.7.0 Authentication successful")
        s.mail("carol@example.test")
        s.rcpt("x@elsewhere.example")
        assert s.data(b"Subject: t\r\n\r\nx\r\n")[0] == 250
    req = fake.requests[0].split("\t")
    assert req[0] == "AUTH" and req[2] == "PLAIN"
    assert "service=smtp" in req and "nologin" in req and "secured" in req
    assert "rip=127.0.0.1" in req and req[-1] == "resp=" + ir
    srv.wait_log(r"sasl_method=PLAIN, sasl_username=Carol@Example\.Test")


def test_dovecot_wrong_socket(outpost, tmp_path):
    # an auth-master socket greets with SPID and no MECH lines
    fake = FakeDovecot([], handshake="VERSION\t1\t2\nSPID\t1\nDONE\n")
    srv = outpost(main=tls_main(tmp_path, smtpd_sasl_auth_enable="yes", smtpd_sasl_type="dovecot",
                                smtpd_sasl_path=f"inet:127.0.0.1:{fake.port}"))
    with srv.smtp() as s:
        s.starttls(context=client_ctx())
        s.ehlo("client.example")
        assert not s.has_extn("auth")
    srv.wait_log(r"warning: SASL: Connected to wrong auth socket \(auth-master instead of auth-client\)")
