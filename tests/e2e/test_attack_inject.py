"""Hostile clients trying to put line breaks or control characters from the
envelope into the queue file: the HELO name (Received: header), ENVID and
ORCPT (xtext-decoded, later written into DSNs and queue records).

Postfix neuters a HELO name (non-printable and " <>()\\\";@" become '?') and
refuses an ENVID/ORCPT whose decoded value is not printable ASCII with
501 5.5.4 (allprint()).  The instance runs smtpd only (no qmgr), so the
accepted message stays in queue/incoming/ where the test reads it.
"""
import glob
import os
import time


def queue_files(srv, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        files = [f for f in glob.glob(os.path.join(srv.dir, "queue", "incoming", "*"))
                 if not os.path.basename(f).startswith("tmp.")]
        if files:
            return [open(f, "rb").read() for f in files]
        time.sleep(0.05)
    return []


def session(srv, helo, mail, rcpt):
    """EHLO/MAIL/RCPT (raw bytes); DATA when all were accepted. Replies."""
    replies = []
    with srv.raw() as c:
        c.recv_reply()
        for line in (b"EHLO " + helo, b"MAIL FROM:" + mail, b"RCPT TO:" + rcpt):
            c.send(line + b"\r\n")
            replies.append(c.recv_reply())
            if replies[-1][0] >= 400:
                return replies
        c.send(b"DATA\r\n")
        assert c.recv_reply()[0] == 354
        c.send(b"Subject: t\r\n\r\nbody\r\n.\r\n")
        replies.append(c.recv_reply())
        assert replies[-1][0] == 250, replies
        c.send(b"QUIT\r\n")
        c.recv_reply()
    return replies


def test_helo_bare_cr_cannot_start_a_header(outpost):
    srv = outpost()
    session(srv, b"evil\rX-Injected:", b"<s@remote.example>", b"<victim@example.test>")
    [q] = queue_files(srv)
    assert b"\rX-Injected" not in q
    assert b"Received: from evil?X-Injected: (" in q


def test_helo_control_and_comment_characters_neutered(outpost):
    srv = outpost()
    session(srv, b"evil\x01\x1b[31m(trusted.example)", b"<s@remote.example>",
            b"<victim@example.test>")
    [q] = queue_files(srv)
    assert b"Received: from evil??[31m?trusted.example? (" in q
    assert b"\x1b" not in q and b"\x01" not in q


def test_envid_with_decoded_crlf_refused(outpost):
    srv = outpost()
    r = session(srv, b"c.example", b"<s@remote.example> ENVID=x+0D+0AX-Inj:+20envid",
                b"<victim@example.test>")
    assert r[1][1] == ["501 5.5.4 Bad ENVID parameter syntax"]
    assert queue_files(srv, timeout=0.5) == []


def test_orcpt_with_decoded_crlf_refused(outpost):
    srv = outpost()
    r = session(srv, b"c.example", b"<s@remote.example>",
                b"<victim@example.test> ORCPT=rfc822;x+0D+0AX-Inj:+20orcpt")
    assert r[2][1] == ["501 5.5.4 Error: Bad ORCPT parameter syntax"]
    assert queue_files(srv, timeout=0.5) == []


def test_orcpt_with_nul_or_del_refused(outpost):
    srv = outpost()
    for orcpt in (b"rfc822;a+00b@example.test", b"rfc822;a+7Fb@example.test",
                  b"rfc822;a+09b@example.test"):
        r = session(srv, b"c.example", b"<s@remote.example>",
                    b"<victim@example.test> ORCPT=" + orcpt)
        assert r[2][1] == ["501 5.5.4 Error: Bad ORCPT parameter syntax"], orcpt


def test_printable_xtext_still_decoded(outpost):
    srv = outpost()
    session(srv, b"c.example", b"<s@remote.example> ENVID=id+2Bone",
            b"<victim@example.test> ORCPT=rfc822;v+2Btag@example.test")
    [q] = queue_files(srv)
    assert b"envid=id+one\n" in q
    assert b":rfc822;v+tag@example.test\n" in q


def test_no_control_characters_reach_the_log(outpost):
    # a bare CR or an escape sequence in the log lets a client fake lines
    # or drive the terminal of whoever reads it; Postfix's logger writes '?'
    srv = outpost(main={"smtpd_error_sleep_time": "0"})
    with srv.raw() as c:
        c.recv_reply()
        for line in (b"EHLO e\rvil\x1b[2J", b"MAIL FROM:<a@b.example> X=\rNov 22 fake:\x01",
                     b"XYZ\r\x01abc", b"GET / HTTP/1.0\r\x1b[2J"):
            c.send(line + b"\r\n")
            c.recv_reply()
    srv.wait_log(r"warning: non-SMTP command from unknown\[127\.0\.0\.1\]: GET / HTTP/1\.0\?\?\[2J\n")
    srv.wait_log(r"disconnect from unknown\[127\.0\.0\.1\]")
    for line in srv.log().split("\n"):
        assert not any(ch < " " and ch != "\t" or ch == "\x7f" for ch in line), repr(line)


def test_helo_8bit_kept_only_as_valid_utf8(outpost):
    srv = outpost()
    session(srv, b"caf\xc3\xa9.\xff\xfe.\xe2\x82.example", b"<s@remote.example>",
            b"<victim@example.test>")
    [q] = queue_files(srv)
    assert b"Received: from caf\xc3\xa9.??.??.example (" in q


def test_helo_8bit_neutered_without_smtputf8(outpost):
    srv = outpost(main={"smtputf8_enable": "no"})
    session(srv, b"caf\xc3\xa9.example", b"<s@remote.example>", b"<victim@example.test>")
    [q] = queue_files(srv)
    assert b"Received: from caf??.example (" in q
