"""Resource-exhaustion attacks from one hostile client: recipient floods,
a slowloris that trickles a command one byte at a time, and message
content built to blow up buffers. In each case the attacker is stopped and
a fresh client is still greeted at once. Loopback only, bounded loops.
"""
import socket
import time

import pytest


def greeted_quickly(srv):
    """A fresh client gets 220 within a second."""
    t = time.time()
    with srv.raw(timeout=2) as c:
        code, _ = c.recv_reply()
        c.send("QUIT\r\n")
        c.recv_reply()
    return code == 220 and time.time() - t < 1


def open_transaction(c, rcpts):
    c.recv_reply()
    c.send("EHLO client.example\r\n")
    c.recv_reply()
    c.send("MAIL FROM:<s@remote.example>\r\n")
    assert c.recv_reply()[0] == 250
    c.send("".join(f"RCPT TO:<u{i}@example.test>\r\n" for i in range(rcpts)))
    return [c.recv_reply() for _ in range(rcpts)]


def test_recipient_overflow_is_not_an_error_until_overshoot_limit(outpost):
    # Postfix: RCPTs past smtpd_recipient_limit get 452 4.5.3 and count as
    # errors only after smtpd_recipient_overshoot_limit (1000) of them; the
    # client then sends DATA for the recipients that were accepted (RFC 5321
    # 4.5.3.1.10: retry the rest in a later transaction).
    srv = outpost(main={"smtpd_recipient_limit": "5", "smtpd_hard_error_limit": "5"})
    with srv.raw() as c:
        replies = open_transaction(c, 15)
        assert [r[0] for r in replies[:5]] == [250] * 5
        assert all(r[1] == ["452 4.5.3 Error: too many recipients"] for r in replies[5:]), replies
        c.send("DATA\r\n")
        assert c.recv_reply()[0] == 354
        c.send("Subject: overflow\r\n\r\nbody\r\n.\r\n")
        assert c.recv_reply()[0] == 250


def test_recipient_flood_bounded_and_server_responsive(outpost):
    # 3000 pipelined RCPTs against the default limit and error limits: the
    # flood ends (accepted, refused or cut off) without stalling anyone else
    srv = outpost(main={"smtpd_recipient_limit": "100", "smtpd_error_sleep_time": "0"})
    with srv.raw(timeout=15) as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<s@remote.example>\r\n")
        c.recv_reply()
        c.sock.sendall(b"".join(b"RCPT TO:<u%d@example.test>\r\n" % i for i in range(3000)))
        assert greeted_quickly(srv)
        ok = 0
        while True:
            code, _ = c.recv_reply()
            if code == 0 or code == 421:
                break
            ok += code == 250
            if ok + 1 >= 3000:
                break
        assert ok == 100
    assert greeted_quickly(srv)


def test_command_slowloris_dropped_by_request_deadline(outpost):
    # each byte comes well within smtpd_timeout, so only the per-request
    # deadline can end a command that never finishes
    srv = outpost(main={"smtpd_per_request_deadline": "yes", "smtpd_timeout": "3s"})
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=1)
    try:
        assert s.recv(200).startswith(b"220")
        t = time.time()
        closed = False
        data = b""
        while time.time() - t < 12:
            try:
                s.sendall(b"N")
                chunk = s.recv(200)
                if not chunk:
                    closed = True
                    break
                data += chunk
                if b"421" in data:
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
            assert greeted_quickly(srv)
        assert closed, data
        assert time.time() - t < 8
    finally:
        s.close()
    srv.wait_log(r"timeout after CONNECT from unknown\[127\.0\.0\.1\]")


@pytest.mark.parametrize("content", [
    b"X-Huge: " + b"b" * 300000 + b"\r\n\r\nbody\r\n",            # one giant header line
    b"X-Fold: a\r\n" + b" b\r\n" * 20000 + b"\r\nbody\r\n",         # one header, 20,000 folds
    b"".join(b"X-%d: y\r\n" % i for i in range(20000)) + b"\r\n",   # 20,000 headers
    b"Subject: x\r\n\r\n" + b"c" * 500000 + b"\r\n",               # body line without breaks
], ids=["giant-header-line", "many-folds", "many-headers", "giant-body-line"])
def test_content_bombs_are_bounded(outpost, content):
    srv = outpost(main={"message_size_limit": "200000", "header_size_limit": "10240"})
    with srv.raw(timeout=15) as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<s@remote.example>\r\nRCPT TO:<postmaster@example.test>\r\nDATA\r\n")
        assert [c.recv_reply()[0] for _ in range(3)] == [250, 250, 354]
        c.sock.sendall(content + b".\r\n")
        code, lines = c.recv_reply()
        # too big for message_size_limit -> 552; otherwise queued (header_size_limit
        # truncates headers, as Postfix does)
        assert code in (250, 552), lines
        if len(content) > 200000:
            assert code == 552, lines
        c.send("NOOP\r\n")
        assert c.recv_reply()[0] == 250
    assert greeted_quickly(srv)


def greeted_from(srv, source):
    t = time.time()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=2,
                                  source_address=(source, 0)) as s:
        return s.recv(100).startswith(b"220") and time.time() - t < 1


def test_error_sleep_and_connection_flood_stall_nobody(outpost):
    # one process holds every session: a client in smtpd_error_sleep_time and
    # 300 connections from one address (50 past the concurrency limit get
    # 421) must not delay another client
    srv = outpost(main={"smtpd_soft_error_limit": "1", "smtpd_error_sleep_time": "5s",
                        "smtpd_hard_error_limit": "100"})
    with socket.create_connection(("127.0.0.1", srv.port)) as a:
        a.recv(100)
        a.sendall(b"EHLO client.example\r\n" + b"BOGUS\r\n" * 50)
        time.sleep(0.5)
        assert greeted_from(srv, "127.0.0.2")
        assert greeted_from(srv, "127.0.0.1")
        flood = []
        try:
            for _ in range(300):
                flood.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            time.sleep(0.5)
            assert greeted_from(srv, "127.0.0.2")
        finally:
            for s in flood:
                s.close()
    srv.wait_log(r"warning: Connection concurrency limit exceeded: \d+ from unknown\[127\.0\.0\.1\]")
