"""smtpd limits end to end: timeouts, error limits, early talkers,
per-client connection limits, recipient limits, and many idle sessions in
one process while a fresh client is still greeted at once."""
import socket
import time

import pytest


def test_timeout(outpost):
    srv = outpost(main={"smtpd_timeout": "2s"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        t = time.time()
        code, lines = c.recv_reply()
        assert lines == ["421 4.4.2 mx.example.test Error: timeout exceeded"]
        assert 1.5 < time.time() - t < 6
        assert c.closed()
    srv.wait_log(r"timeout after EHLO from unknown\[127\.0\.0\.1\]")


def test_hard_error_limit(outpost):
    srv = outpost(main={"smtpd_hard_error_limit": "3", "smtpd_soft_error_limit": "10"})
    with srv.raw() as c:
        c.recv_reply()
        for _ in range(2):
            c.send("BOGUS\r\n")
            assert c.recv_reply()[0] == 500
        c.send("BOGUS\r\n")
        assert c.recv_reply()[0] == 500
        assert c.recv_reply()[1] == ["421 4.7.0 mx.example.test Error: too many errors"]
        assert c.closed()


def test_early_talker(outpost):
    srv = outpost(main={"smtpd_greet_pause": "2s"})
    with srv.raw() as c:
        c.send("EHLO early.example\r\n")
        code, lines = c.recv_reply()
        assert lines == ["554 5.5.0 Error: SMTP protocol synchronization"]
        assert c.closed()
    srv.wait_log(r"improper command pipelining after CONNECT from unknown\[127\.0\.0\.1\]: "
                 r"EHLO early\.example")
    with srv.raw() as c:
        t = time.time()
        assert c.recv_reply()[0] == 220
        assert time.time() - t > 1.5


def test_connection_count_limit(outpost):
    srv = outpost(main={"smtpd_client_connection_count_limit": "2"})
    srv.wait_log(r"disconnect from")     # the start-up probe has left
    a, b = srv.raw(), srv.raw()
    assert a.recv_reply()[0] == 220 and b.recv_reply()[0] == 220
    with srv.raw() as c:
        assert c.recv_reply()[1] == \
            ["421 4.7.0 mx.example.test Error: too many connections from 127.0.0.1"]
    a.close()
    b.close()
    srv.wait_log(r"warning: Connection concurrency limit exceeded: 3 from unknown\[127\.0\.0\.1\] "
                 r"for service 127\.0\.0\.1:\d+")


def test_recipient_limit(outpost):
    srv = outpost(main={"smtpd_recipient_limit": "2"})
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.mail("a@b.example")
        assert s.rcpt("a@example.test")[0] == 250
        assert s.rcpt("b@example.test")[0] == 250
        assert s.rcpt("c@example.test") == (452, b"4.5.3 Error: too many recipients")
        assert s.data(b"Subject: t\r\n\r\nx\r\n")[0] == 250


def test_message_rate_limit(outpost):
    srv = outpost(main={"smtpd_client_message_rate_limit": "1",
                        "smtpd_client_event_limit_exceptions": ""})
    with srv.smtp() as s:
        s.ehlo("client.example")
        assert s.mail("a@b.example")[0] == 250
        s.rset()
        assert s.mail("a@b.example") == (450, b"4.7.1 Error: too much mail from 127.0.0.1")


def test_many_idle_sessions(outpost):
    n = 1000
    srv = outpost(main={"smtpd_client_connection_count_limit": "0"})
    socks = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            socks.append(s)
        for s in socks:
            s.recv(1024)
            s.sendall(b"EHLO idle.example\r\n")
        for s in socks:
            data = b""
            while b"250 " not in data:
                data += s.recv(4096)
        t = time.time()
        with srv.raw() as c:
            assert c.recv_reply()[0] == 220
            assert time.time() - t < 1.0
            c.send("EHLO fresh.example\r\n")
            assert c.recv_reply()[0] == 250
    finally:
        for s in socks:
            s.close()


def test_slow_data_is_dropped(outpost):
    # 3 s for the request, plus 1 s per 100 bytes received
    srv = outpost(main={"smtpd_per_request_deadline": "yes", "smtpd_timeout": "3s",
                        "smtpd_min_data_rate": "100"})
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<a@b.example>\r\n")
        c.recv_reply()
        c.send("RCPT TO:<postmaster@example.test>\r\n")
        c.recv_reply()
        c.send("DATA\r\n")
        assert c.recv_reply()[0] == 354
        t = time.time()
        c.sock.settimeout(1)
        code = None
        # one short line per second never earns enough time; each read alone
        # is far below smtpd_timeout, so only the deadline can stop this
        while time.time() - t < 15:
            try:
                c.send("x\r\n")
            except OSError:
                break
            try:
                code, lines = c.recv_reply()
                break
            except OSError:
                pass
        assert code == 421, code
        assert time.time() - t < 10
    srv.wait_log(r"timeout after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")


def test_limit_exceptions_cover_mynetworks(outpost):
    srv = outpost(main={"smtpd_client_connection_count_limit": "1",
                        "mynetworks": "127.0.0.0/8"})
    a, b = srv.raw(), srv.raw()
    assert a.recv_reply()[0] == 220 and b.recv_reply()[0] == 220
    a.close()
    b.close()
