"""No SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA, and a bare LF
anywhere is refused (smtpd_forbid_bare_newline = yes, Outpost's default)."""
import re
import subprocess
import time


def session(srv):
    c = srv.raw()
    c.recv_reply()
    c.send("EHLO client.example\r\n")
    c.recv_reply()
    c.send("MAIL FROM:<a@b.example>\r\n")
    assert c.recv_reply()[0] == 250
    c.send("RCPT TO:<postmaster@example.test>\r\n")
    assert c.recv_reply()[0] == 250
    c.send("DATA\r\n")
    assert c.recv_reply()[0] == 354
    return c


def test_bare_lf_in_command(outpost):
    srv = outpost()
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\n")
        assert c.recv_reply()[1] == ["521 5.5.2 mx.example.test Error: bare <LF> received"]
        assert c.closed()
    srv.wait_log(r"bare <LF> received from unknown\[127\.0\.0\.1\]")


def test_lf_dot_lf_does_not_end_data(outpost):
    srv = outpost()
    with session(srv) as c:
        # the classic smuggling payload: <LF>.<LF> then a second transaction
        c.send("Subject: x\r\n\r\nfirst\n.\nMAIL FROM:<evil@b.example>\r\n"
               "RCPT TO:<postmaster@example.test>\r\nDATA\r\nsmuggled\r\n.\r\n")
        code, lines = c.recv_reply()
        assert code == 521, lines
        assert c.closed()
    assert "queued as" not in srv.log()
    assert "evil@b.example" not in srv.log()


def test_cr_dot_cr_is_content(outpost):
    srv = outpost(main={"smtpd_forbid_bare_newline": "no"})
    with session(srv) as c:
        c.send("Subject: x\r\n\r\nfirst\r.\rMAIL FROM:<evil@b.example>\r\n.\r\n")
        code, lines = c.recv_reply()
        assert code == 250 and "queued as" in lines[0]
        c.send("QUIT\r\n")
        assert c.recv_reply()[0] == 221
    # exactly one message, one client= line
    assert len(re.findall(r": client=", srv.log())) == 1


def test_dot_stuffing_and_long_line(outpost):
    srv = outpost(main={"line_length_limit": "1000"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO " + "a" * 1200 + "\r\n")
        assert c.recv_reply()[1] == ["500 5.5.0 Error: line too long"]
    with session(srv) as c:
        # An over-long content line is passed on in pieces; the "." left over
        # after a piece is the end of that line, never an end of data.
        c.send("Subject: x\r\n\r\n" + "b" * 1000 + ".")
        time.sleep(0.5)
        c.send("\r\nmore\r\n.\r\nQUIT\r\n")
        code, lines = c.recv_reply()
        assert code == 250 and "queued as" in lines[0], lines
        assert c.recv_reply()[0] == 221
    # ... and the pieces are one line again in the queue file
    from conftest import OUTPOST
    qid = lines[0].rsplit(" ", 1)[1]
    shown = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "show", qid],
                           capture_output=True, text=True).stdout
    assert "\n" + "b" * 1000 + ".\nmore\n" in shown, shown[-2000:]


def test_bare_lf_exclusions_cover_mynetworks(outpost):
    srv = outpost(main={"mynetworks": "127.0.0.0/8"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO trusted.example\n")
        assert c.recv_reply()[0] == 250
