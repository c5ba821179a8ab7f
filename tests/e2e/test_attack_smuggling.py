"""SMTP smuggling from an untrusted client: every non-CRLF end-of-data
variant, each followed by a smuggled transaction in the same packet. At most
the first message may be queued, never the smuggled one, and its recipient
(victim@elsewhere.example) is never accepted. Commands pipelined after a
proper CRLF.CRLF are ordinary commands. NUL bytes in commands are refused.
The instance runs smtpd only, so queued messages stay in queue/incoming/.
"""
import glob
import re
import os
import time

import pytest

SMUGGLED = (b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@elsewhere.example>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")


def incoming(srv, settle=0.5):
    time.sleep(settle)
    return [open(f, "rb").read() for f in glob.glob(os.path.join(srv.dir, "queue", "incoming", "*"))
            if not os.path.basename(f).startswith("tmp.")]


def start_data(c):
    c.recv_reply()
    c.send("EHLO client.example\r\n")
    c.recv_reply()
    c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n")
    assert [c.recv_reply()[0] for _ in range(3)] == [250, 250, 354]


def drain(c, timeout=3):
    """Replies until the server closes or goes quiet."""
    out = []
    c.sock.settimeout(timeout)
    try:
        while True:
            code, lines = c.recv_reply()
            if code == 0:
                break
            out.append(lines[-1])
    except OSError:
        pass
    return out


@pytest.mark.parametrize("end", [b"\n.\n", b"\r.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r",
                                 b"\n..\n", b"\r\n.\x00\r\n"],
                         ids=["lf.lf", "cr.lf", "lf.crlf", "crlf.lf", "cr.cr", "crlf.cr",
                              "lf..lf", "crlf.nul"])
def test_no_smuggling(outpost, end):
    srv = outpost()
    with srv.raw() as c:
        start_data(c)
        c.send(b"Subject: first\r\n\r\nhello" + end + SMUGGLED)
        replies = drain(c)
    assert not any("2.1.5" in r for r in replies), replies
    queued = incoming(srv)
    assert len(queued) <= 1
    # content may carry the text; the envelope records must not
    for q in queued:
        assert not re.search(rb"\n[RS]\d{10}:(victim@elsewhere|evil@x)\.example\n", q), q


def test_pipelined_commands_after_proper_end_are_commands(outpost):
    srv = outpost()
    with srv.raw() as c:
        start_data(c)
        c.send(b"Subject: one\r\n\r\nbody\r\n.\r\nMAIL FROM:<s2@remote.example>\r\n"
               b"RCPT TO:<postmaster@example.test>\r\nDATA\r\n")
        assert [c.recv_reply()[0] for _ in range(4)] == [250, 250, 250, 354]
        c.send(b"Subject: two\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        assert c.recv_reply()[0] == 250
        assert c.recv_reply()[0] == 221
    queued = incoming(srv)
    assert len(queued) == 2
    assert sorted(b"Subject: one" in q for q in queued) == [False, True]


@pytest.mark.parametrize("cmd", [b"MAIL FROM:<s@remote.example>\x00\r\n",
                                 b"MAIL FROM:<s@remote\x00.example>\r\n",
                                 b"RCPT\x00 TO:<postmaster@example.test>\r\n",
                                 b"EHLO a\x00b\r\n"], ids=["mail-tail", "mail-addr", "verb", "ehlo"])
def test_nul_in_commands_refused(outpost, cmd):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send(cmd)
        code, lines = c.recv_reply()
        assert code >= 500, lines
        c.send("NOOP\r\n")
        assert c.recv_reply()[0] == 250


def test_bdat_not_accepted_when_not_advertised(outpost):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        code, lines = c.recv_reply()
        assert not any("CHUNKING" in l for l in lines)
        c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<postmaster@example.test>\r\n")
        c.recv_reply()
        c.recv_reply()
        c.send("BDAT 20 LAST\r\n")
        code, lines = c.recv_reply()
        assert code >= 500, lines
        # the 20 bytes that follow are commands, never message content
        c.send("Subject: x\r\n\r\nQUIT\r\n")
        replies = drain(c)
        assert replies and replies[-1].startswith("221"), replies
    assert incoming(srv, settle=0.2) == []
