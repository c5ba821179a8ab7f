"""AUTH and sender-spoofing attacks on the examples/ configuration (what
`make run` starts: submission with STARTTLS, internal SASL over the account
tables, reject_sender_login_mismatch over unionmap'd smtpd_sender_login_maps).

AUTH: garbage is refused with Postfix's texts, an authorization identity
other than the authenticated one is refused (no impersonation through
PLAIN's authzid), AUTH is not available before TLS, nor twice, nor inside a
transaction. Spoofing: bob, logged in, cannot get alice's address past the
envelope check in any spelling; RSET and a second MAIL change nothing.
"""
import base64
import ssl

import pytest

from conftest import RawClient
from test_accounts_server import Server

pytest.importorskip("aiosmtpd.controller")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("attack-auth"), "files")
    yield srv
    srv.stop()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def session(srv, lines, login=None, tls=True, service="submission"):
    """Send lines one by one; return [(line, last reply line)]."""
    c = RawClient(srv.ports[service])
    try:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        ehlo = c.recv_reply()[1]
        if tls:
            c.send("STARTTLS\r\n")
            assert c.recv_reply()[0] == 220
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c.sock = ctx.wrap_socket(c.sock, server_hostname="mx.example.test")
            c.buf = b""
            c.send("EHLO client.example\r\n")
            ehlo = c.recv_reply()[1]
        out = [("EHLO", ehlo)]
        if login:
            c.send(f"AUTH PLAIN {b64(login)}\r\n")
            out.append(("AUTH", c.recv_reply()[1][-1]))
        for line in lines:
            c.send(line + "\r\n")
            code, text = c.recv_reply()
            out.append((line, text[-1] if text else ""))
            if code == 0:
                break
        return out
    finally:
        c.close()


BOB = "\0bob@example.test\0pw-bob"
RCPT = "RCPT TO:<alice@example.test>"


def test_no_auth_before_starttls(server):
    out = session(server, ["AUTH PLAIN " + b64("\0alice@example.test\0pw-alice")], tls=False)
    assert not any(l.startswith("250-AUTH") or l.startswith("250 AUTH") for l in out[0][1])
    assert out[1][1] == "503 5.5.1 Error: authentication not enabled"


def test_auth_garbage(server):
    out = session(server, ["AUTH PLAIN !!!!", "AUTH PLAIN", "*", "AUTH PLAIN", "=",
                           "AUTH PLAIN " + "A" * 3000, "AUTH", "NOOP"])
    assert [r for _, r in out[1:]] == [
        "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response",
        "334 ",
        "501 5.7.0 Authentication aborted",
        "334 ",
        "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response",
        "500 5.5.0 Error: line too long",
        "501 5.5.4 Syntax: AUTH mechanism",
        "250 2.0.0 Ok",
    ]


def test_authzid_cannot_impersonate(server):
    # bob's own password, asking to act as alice
    out = session(server, ["MAIL FROM:<alice@example.test>", RCPT],
                  login="alice@example.test\0bob@example.test\0pw-bob")
    assert out[1][1].startswith("535 5.7.8 Error: authentication failed")
    assert out[3][1].startswith("554 5.7.1")   # mua_client_restrictions: not logged in


def test_authzid_equal_to_login_is_fine(server):
    out = session(server, [], login="alice@example.test\0alice@example.test\0pw-alice")
    assert out[1][1] == "235 2.7.0 Authentication successful"


def test_auth_twice_and_inside_transaction(server):
    out = session(server, ["AUTH PLAIN " + b64("\0alice@example.test\0pw-alice"),
                           "MAIL FROM:<alice@example.test>", RCPT], login=BOB)
    assert out[2][1] == "503 5.5.1 Error: already authenticated"
    assert out[4][1] == ("553 5.7.1 <alice@example.test>: Sender address rejected: "
                         "not owned by user bob@example.test")
    out = session(server, ["MAIL FROM:<bob@example.test>",
                           "AUTH PLAIN " + b64("\0alice@example.test\0pw-alice")])
    assert out[2][1] == "503 5.5.1 Error: MAIL transaction in progress"


@pytest.mark.parametrize("sender", [
    "<ALICE@EXAMPLE.TEST>", "<alice@EXAMPLE.test>", "<alice+tag@example.test>",
    "<\"alice\"@example.test>", "<\"al\\ice\"@example.test>", "<alice@example.test.>",
    "<@example.test:alice@example.test>", "<@a.example,@b.example:alice@example.test>",
    "alice@example.test", "<alice@example.test> SMTPUTF8", "<alice@example.test> BODY=8BITMIME",
    "<alice@example.test> AUTH=bob@example.test",
])
def test_sender_spoof_variants_refused(server, sender):
    out = session(server, ["MAIL FROM:" + sender, RCPT], login=BOB)
    assert out[1][1] == "235 2.7.0 Authentication successful"
    assert out[3][1].startswith("553 5.7.1 <"), out
    assert out[3][1].endswith(">: Sender address rejected: not owned by user bob@example.test"), out


def test_rset_and_second_mail_do_not_bypass(server):
    out = session(server, ["MAIL FROM:<bob@example.test>", "RCPT TO:<bob@example.test>", "RSET",
                           "MAIL FROM:<alice@example.test>", RCPT], login=BOB)
    assert out[3][1] == "250 2.1.5 Ok"
    assert out[6][1].startswith("553 5.7.1 <alice@example.test>")
    out = session(server, ["MAIL FROM:<bob@example.test>", "MAIL FROM:<alice@example.test>",
                           RCPT, "DATA"], login=BOB)
    assert out[3][1] == "503 5.5.1 Error: nested MAIL command"
    assert out[4][1] == "250 2.1.5 Ok"     # bob's transaction, not alice's
    assert out[5][1].startswith("354")


def test_null_sender_is_not_checked(server):
    # Postfix: the sender login check skips <> (the header From is content)
    out = session(server, ["MAIL FROM:<>", RCPT], login=BOB)
    assert out[3][1] == "250 2.1.5 Ok"
