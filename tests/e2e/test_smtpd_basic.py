"""smtpd end to end: greeting, EHLO keywords, a message accepted durably,
relay refusal, address syntax, size limits, pipelining, and Postfix's log
lines. Needs the master (outpost start) and cleanup."""
import re
import smtplib

import pytest


def test_ehlo_keywords_and_banner(outpost):
    srv = outpost()
    with srv.raw() as c:
        code, lines = c.recv_reply()
        assert code == 220
        assert lines[0] == "220 mx.example.test ESMTP Outpost"
        c.send("EHLO client.example\r\n")
        code, lines = c.recv_reply()
        assert code == 250
        kws = [l[4:] for l in lines[1:]]
        assert lines[0] == "250-mx.example.test"
        for kw in ("PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES",
                   "8BITMIME", "DSN", "SMTPUTF8"):
            assert kw in kws
        assert not any(k.startswith("AUTH") for k in kws)       # SASL is off
        assert "STARTTLS" not in kws                             # no TLS configured
        c.send("QUIT\r\n")
        assert c.recv_reply()[0] == 221


def test_discard_ehlo_keywords(outpost):
    srv = outpost(main={"smtpd_discard_ehlo_keywords": "pipelining, dsn, vrfy"})
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert not s.has_extn("pipelining")
        assert not s.has_extn("dsn")
        assert not s.has_extn("vrfy")
        assert s.has_extn("8bitmime")


def test_message_accepted_and_logged(outpost):
    srv = outpost()
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert s.mail("sender@remote.example") == (250, b"2.1.0 Ok")
        assert s.rcpt("postmaster@example.test") == (250, b"2.1.5 Ok")
        code, text = s.data(b"Subject: test\r\n\r\nhello\r\n..dot\r\n")
        assert code == 250
        m = re.match(rb"2\.0\.0 Ok: queued as (\S+)$", text)
        assert m, text
        qid = m.group(1).decode()
    srv.wait_log(r"connect from unknown\[127\.0\.0\.1\]")
    srv.wait_log(re.escape(qid) + r": client=unknown\[127\.0\.0\.1\]")
    srv.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5")


def test_relay_refused_outside_mynetworks(outpost):
    srv = outpost()
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.mail("sender@remote.example")
        code, text = s.rcpt("victim@elsewhere.example")
        assert code in (454, 554)
        assert b"Relay access denied" in text
    srv.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: \d{3} [45]\.7\.1 "
                 r"<victim@elsewhere\.example>: Relay access denied; "
                 r"from=<sender@remote\.example> to=<victim@elsewhere\.example> proto=ESMTP "
                 r"helo=<client\.example>")
    srv.wait_log(r"disconnect from .* rcpt=0/1 quit=1 commands=3/4")


@pytest.mark.parametrize("rcpt", [
    "<victim%elsewhere.example@example.test>",
    "<elsewhere.example!victim@example.test>",
    "<\"victim@elsewhere.example\"@example.test>",
    "<@example.test:victim@elsewhere.example>",
])
def test_no_relay_in_any_address_form(outpost, rcpt):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<sender@remote.example>\r\n")
        assert c.recv_reply()[0] == 250
        c.send(f"RCPT TO:{rcpt}\r\n")
        code, lines = c.recv_reply()
        assert code >= 400, lines


@pytest.mark.parametrize("cmd,reply", [
    ("MAIL FROM:<a@b.example", "501 5.1.7 Bad sender address syntax: missing closing '>'"),
    ("MAIL FROM:<a b@b.example>", "501 5.1.7 Bad sender address syntax: bad character in local part"),
    ("MAIL FROM:<a@exa..mple>", "501 5.1.7 Bad sender address syntax: bad domain syntax"),
    ("MAIL <a@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("MAIL FROM:<a@b.example> SIZE=abc", "501 5.5.4 Bad message size syntax"),
    ("MAIL FROM:<a@b.example> FOO=1", "555 5.5.4 Unsupported option: FOO=1"),
    ("RCPT TO:<u@example.test>", "503 5.5.1 Error: need MAIL command"),
    ("DATA", "503 5.5.1 Error: need RCPT command"),
    ("XYZZY", "500 5.5.2 Error: command not recognized"),
    ("HELO", "501 Syntax: HELO hostname"),
])
def test_syntax_replies(outpost, cmd, reply):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send(cmd.encode("utf-8") + b"\r\n")
        code, lines = c.recv_reply()
        assert lines[-1] == reply


def test_transaction_order_replies(outpost):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<a@b.example>\r\n")
        assert c.recv_reply()[0] == 250
        c.send("MAIL FROM:<a@b.example>\r\n")
        assert c.recv_reply()[1] == ["503 5.5.1 Error: nested MAIL command"]
        c.send("DATA\r\n")
        assert c.recv_reply()[1] == ["554 5.5.1 Error: no valid recipients"]
        c.send("RCPT TO:<x@elsewhere.example>\r\n")
        assert c.recv_reply()[0] >= 400
        c.send("DATA\r\n")
        assert c.recv_reply()[1] == ["554 5.5.1 Error: no valid recipients"]
        c.send("RSET\r\n")
        assert c.recv_reply()[1] == ["250 2.0.0 Ok"]
        c.send("NOOP\r\n")
        assert c.recv_reply()[1] == ["250 2.0.0 Ok"]


def test_size_limits(outpost):
    srv = outpost(main={"message_size_limit": "2000"})
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert s.has_extn("size") and s.esmtp_features["size"] == "2000"
        code, text = s.docmd("MAIL FROM:<a@b.example> SIZE=5000")
        assert (code, text) == (552, b"5.3.4 Message size exceeds fixed limit")
        s.mail("a@b.example")
        s.rcpt("postmaster@example.test")
        code, text = s.data(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 1 + (b"y" * 70 + b"\r\n") * 60)
        assert (code, text) == (552, b"5.3.4 Message size exceeds fixed limit")
        # the session goes on
        assert s.noop()[0] == 250


def test_pipelining_group(outpost):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<postmaster@example.test>\r\n"
               "RCPT TO:<nobody@elsewhere.example>\r\nDATA\r\n")
        assert c.recv_reply()[0] == 250
        assert c.recv_reply()[0] == 250
        assert c.recv_reply()[0] >= 400
        assert c.recv_reply()[0] == 354
        c.send("Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        code, lines = c.recv_reply()
        assert code == 250 and "queued as" in lines[0]
        assert c.recv_reply()[0] == 221


def test_improper_pipelining_disconnects(outpost):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n")
        assert c.recv_reply()[0] == 250
        assert c.recv_reply()[1] == ["554 5.5.0 Error: SMTP protocol synchronization"]
        assert c.closed()
    srv.wait_log(r"improper command pipelining after EHLO from unknown\[127\.0\.0\.1\]: "
                 r"MAIL FROM:<a@b\.example>")


def test_vrfy_disabled_and_http(outpost):
    srv = outpost(main={"disable_vrfy_command": "yes"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("VRFY postmaster\r\n")
        assert c.recv_reply()[1] == ["502 5.5.1 VRFY command is disabled"]
    with srv.raw() as c:
        c.recv_reply()
        c.send("GET / HTTP/1.0\r\n")
        assert c.recv_reply()[0] == 500
        assert c.closed()


def test_swaks_session(outpost):
    import shutil
    import subprocess
    if not shutil.which("swaks"):
        pytest.skip("swaks not installed")
    srv = outpost()
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(srv.port),
                        "--from", "a@remote.example", "--to", "postmaster@example.test",
                        "--helo", "swaks.example", "--pipeline"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"<-  250 2\.0\.0 Ok: queued as \S+", p.stdout)


def test_peername_lookup(outpost):
    # c-ares answers 127.0.0.1 from /etc/hosts, forward-confirmed
    srv = outpost(main={"smtpd_peername_lookup": "yes"})
    with srv.smtp() as s:
        s.ehlo("client.example")
    m = srv.wait_log(r"connect from (\S+)\[127\.0\.0\.1\]")
    assert m.group(1) in ("localhost", "localhost.localdomain") or m.group(1) != "unknown"


def test_strict_smtputf8(outpost):
    srv = outpost(main={"strict_smtputf8": "yes"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<j\u00f6rg@b.example>\r\n".encode("utf-8"))
        assert c.recv_reply()[1] == ["553 5.6.7 Must declare SMTPUTF8 to send unicode address"]
        c.send("MAIL FROM:<j\u00f6rg@b.example> SMTPUTF8\r\n".encode("utf-8"))
        assert c.recv_reply()[0] == 250
