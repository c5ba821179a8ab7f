"""A hostile TLS client chooses its own certificate (smtpd_tls_ask_ccert
does not require a trusted one), so its CommonName is attacker data: a CN
with CR LF must not add a header line to Received:, and a certificate
without a CN must not put stray memory there. Like Postfix, such a name
becomes "" (with a warning for the invalid one).
"""
import datetime
import glob
import os
import socket
import time

import pytest

from test_smtpd_tls_auth import client_ctx, tls_main

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def self_signed(d, stem, attrs):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(attrs)
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    crt, pem = os.path.join(d, stem + ".crt"), os.path.join(d, stem + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pem, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt, pem


def received_header(outpost, tmp_path, attrs):
    crt, key = self_signed(str(tmp_path), "client", attrs)
    srv = outpost(main=tls_main(tmp_path, smtpd_tls_ask_ccert="yes",
                                smtpd_tls_received_header="yes"))
    ctx = client_ctx()
    ctx.load_cert_chain(crt, key)
    with srv.smtp() as s:
        s.starttls(context=ctx)
        s.ehlo("client.example")
        s.mail("a@b.example")
        s.rcpt("postmaster@example.test")
        assert s.data(b"Subject: ccert\r\n\r\nbody\r\n")[0] == 250
    end = time.time() + 5
    while time.time() < end:
        files = glob.glob(os.path.join(srv.dir, "queue", "incoming", "*"))
        if files:
            data = open(files[0], "rb").read()
            start = data.index(b"Received: ")
            return srv, data[start:data.index(b"\nSubject: ccert")]
        time.sleep(0.05)
    raise AssertionError("nothing queued")


def test_ccert_cn_with_crlf_cannot_inject_a_header(outpost, tmp_path):
    srv, hdr = received_header(outpost, tmp_path,
                               [x509.NameAttribute(NameOID.COMMON_NAME, "evil\r\nX-Injected: yes")])
    assert b"\r" not in hdr and b"\nX-Injected" not in hdr, hdr
    assert b'(Client CN "", Issuer "" (not verified))' in hdr, hdr
    srv.wait_log(r"warning: unknown\[127\.0\.0\.1\]: peer certificate CommonName contains "
                 r"invalid characters")


def test_ccert_without_cn_shows_empty_name(outpost, tmp_path):
    _, hdr = received_header(outpost, tmp_path,
                             [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "No CN Org")])
    assert b'(Client CN "", Issuer "" (not verified))' in hdr, hdr


def test_ccert_utf8_cn_kept(outpost, tmp_path):
    _, hdr = received_header(outpost, tmp_path,
                             [x509.NameAttribute(NameOID.COMMON_NAME, "cli\u00e9nt.example")])
    assert '(Client CN "cli\u00e9nt.example", Issuer "cli\u00e9nt.example"'.encode() in hdr, hdr


def test_plaintext_auth_is_forgotten_after_starttls(outpost, tmp_path):
    # RFC 3207 4.2: after the handshake the server discards what it learned
    # before TLS. A login made in plaintext (smtpd_tls_auth_only = no), for
    # example by a man in the middle with an account of his own, must not
    # carry over into the encrypted session.
    import crypt
    from test_smtpd_tls_auth import plain_b64
    pw = crypt.crypt("secret", crypt.mksalt(crypt.METHOD_SHA512))
    srv = outpost(main=tls_main(tmp_path, smtpd_tls_auth_only="no", smtpd_sasl_auth_enable="yes",
                                smtpd_sasl_type="internal",
                                smtpd_sasl_password_maps="texthash:{dir}/passwd"),
                  files={"passwd": f"alice {pw}\n"})
    c = srv.raw()
    try:
        def say(line):
            c.send(line + "\r\n")
            return c.recv_reply()[1][-1]
        c.recv_reply()
        say("EHLO client.example")
        assert say("AUTH PLAIN " + plain_b64("alice", "secret")) == "235 2.7.0 Authentication successful"
        assert say("STARTTLS").startswith("220")
        c.sock = client_ctx().wrap_socket(c.sock, server_hostname="mx.example.test")
        c.buf = b""
        say("EHLO client.example")
        assert say("MAIL FROM:<alice@example.test>") == "250 2.1.0 Ok"
        assert say("RCPT TO:<someone@elsewhere.example>").startswith("454 4.7.1 ")
        assert say("RSET") == "250 2.0.0 Ok"
        assert say("AUTH PLAIN " + plain_b64("alice", "secret")) == "235 2.7.0 Authentication successful"
    finally:
        c.close()


def closed_within(sock, seconds):
    sock.settimeout(0.5)
    end = time.time() + seconds
    while time.time() < end:
        try:
            if not sock.recv(100):
                return True
        except socket.timeout:
            pass
        except OSError:
            return True
    return False


def test_silent_tls_handshakes_time_out_and_free_their_slot(outpost, tmp_path):
    # A client that says STARTTLS (or connects to the wrapper-mode port) and
    # then sends nothing: the timeout must end the session. It used to log
    # "timeout after STARTTLS" and queue a 421 that could never be sent
    # through the unfinished handshake, so the session, its descriptor and its
    # smtpd_client_connection_count_limit slot stayed forever.
    srv = outpost(main=tls_main(tmp_path, smtpd_timeout="2s",
                                smtpd_client_connection_count_limit="2"),
                  master="127.0.0.1:{smtp} inet n - n - - smtpd\n"
                         "127.0.0.1:{smtps} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n")
    a = socket.create_connection(("127.0.0.1", srv.port))
    b = socket.create_connection(("127.0.0.1", srv.ports["smtps"]))
    try:
        a.recv(100)
        a.sendall(b"EHLO client.example\r\n")
        time.sleep(0.2)
        a.recv(1000)
        a.sendall(b"STARTTLS\r\n")
        assert a.recv(100).startswith(b"220")
        assert closed_within(a, 6)
        assert closed_within(b, 6)
    finally:
        a.close()
        b.close()
    srv.wait_log(r"timeout after STARTTLS from unknown\[127\.0\.0\.1\]\n.*disconnect from "
                 r"unknown\[127\.0\.0\.1\] ehlo=1 starttls=1 commands=2")
    srv.wait_log(r"timeout after CONNECT from unknown\[127\.0\.0\.1\]\n.*disconnect from "
                 r"unknown\[127\.0\.0\.1\] commands=0/0")
    for _ in range(2):   # both slots of the connection count limit are free again
        with srv.raw() as c:
            assert c.recv_reply()[0] == 220
