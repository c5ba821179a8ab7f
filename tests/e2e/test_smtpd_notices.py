"""Postmaster notices about SMTP sessions (notify_classes), as Postfix's
smtpd sends them: a session with an error of a listed class ends with its
transcript queued to error_notice_recipient (bounce_notice_recipient for
"bounce" errors only), from double_bounce_sender. Checked against what
Debian's Postfix 3.7 does with the same sessions: protocol errors (unknown
command, bad sequence, syntax), policy rejects (relay denied, and a
restriction that fails with 451 4.3.5), a message
over message_size_limit under "bounce", a full disk (452 4.3.1) under the
default classes (resource, software), which stay quiet about the others.
"""
import json
import os
import subprocess

import pytest

from conftest import OUTPOST, fill_filesystem, free_port

PM = {"error_notice_recipient": "pmerror@example.test",
      "bounce_notice_recipient": "pmbounce@example.test"}


def server(outpost, classes, **extra):
    main = dict(PM, notify_classes=classes,
                smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination")
    main.update(extra)
    return outpost(main=main)


def session(srv, *commands):
    """Commands (an item may be several lines), one reply each."""
    replies = []
    with srv.raw() as c:
        c.recv_reply()
        for cmd in commands:
            c.send(cmd + "\r\n")
            replies.append(c.recv_reply())
    return replies


def notices(srv):
    """(recipient, content) of each queued notice, after the session ended."""
    srv.wait_log(r"disconnect from")
    r = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "list", "--json"],
                       capture_output=True, text=True)
    out = []
    for m in (json.loads(x) for x in r.stdout.splitlines()):
        if not m["sender"].startswith("double-bounce@"):
            continue
        show = subprocess.run([OUTPOST, "queue", "-c", srv.dir, "show", m["queue_id"]],
                              capture_output=True, text=True).stdout
        body = show.split("*** MESSAGE CONTENTS", 1)[1]
        out.append((m["recipients"][0]["address"], body))
    return out


def wait_notice(srv):
    srv.wait_log(r"postmaster notice to=<")
    return notices(srv)


def test_protocol_errors_send_the_transcript(outpost):
    srv = server(outpost, "protocol")
    session(srv, "EHLO client.test", "FOO bar", "RCPT TO:<a@example.test>",
            "MAIL FROM:<bad", "AUTH PLAIN c2VjcmV0AHNlY3JldABzZWNyZXQ=", "QUIT")
    m = srv.wait_log(r"(\w+): postmaster notice to=<pmerror@example.test> "
                     r"client=unknown\[127\.0\.0\.1\]")
    ((to, body),) = notices(srv)
    assert to == "pmerror@example.test"
    assert "Subject: Outpost SMTP server: errors from unknown[127.0.0.1]" in body
    assert "To: Postmaster <pmerror@example.test>" in body
    lines = body.split("\n")
    for want in (" Out: 220 mx.example.test ESMTP Outpost", " In:  EHLO client.test",
                 " In:  FOO bar", " Out: 500 5.5.2 Error: command not recognized",
                 " In:  RCPT TO:<a@example.test>", " Out: 503 5.5.1 Error: need MAIL command",
                 " In:  AUTH PLAIN", " In:  QUIT", " Out: 221 2.0.0 Bye"):
        assert want in lines, (want, body)
    assert "c2VjcmV0" not in body, "AUTH credentials stay out of the transcript"
    assert m.group(1)


def test_policy_reject_needs_the_policy_class(outpost):
    for classes, want in (("protocol", []), ("policy", ["pmerror@example.test"])):
        srv = server(outpost, classes)
        (_, _, rcpt, _) = session(srv, "HELO client.test", "MAIL FROM:<s@remote.test>",
                                  "RCPT TO:<x@elsewhere.test>", "QUIT")
        assert rcpt[0] == 554
        got = wait_notice(srv) if want else notices(srv)
        assert [to for to, _ in got] == want
        if want:
            assert " Out: 554 5.7.1 <x@elsewhere.test>: Relay access denied" in got[0][1]
        srv.stop()


def test_broken_restriction_is_policy_not_software(outpost):
    """Postfix 3.7 reports "451 4.3.5 Server configuration error" from a
    restriction whose table is missing under policy; a policy service that
    is down gives Outpost the same reply."""
    down = f"check_policy_service {{ inet:127.0.0.1:{free_port()}, timeout=1s, try_limit=1 }}"
    for classes, want in (("software", []), ("policy", ["pmerror@example.test"])):
        srv = server(outpost, classes, smtpd_recipient_restrictions=down)
        replies = session(srv, "HELO client.test", "MAIL FROM:<s@remote.test>",
                          "RCPT TO:<postmaster@example.test>", "QUIT")
        assert replies[2][1][0].startswith("451 4.3.5 ")
        got = wait_notice(srv) if want else notices(srv)
        assert [to for to, _ in got] == want
        srv.stop()


def test_too_big_message_is_a_bounce_class_error(outpost):
    srv = server(outpost, "bounce", message_size_limit="1000")
    body = "Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 40 + "."
    replies = session(srv, "HELO client.test", "MAIL FROM:<s@remote.test>",
                      "RCPT TO:<postmaster@example.test>", "DATA", body, "QUIT")
    assert replies[4][0] == 552
    ((to, text),) = wait_notice(srv)
    assert to == "pmbounce@example.test"
    assert " Out: 354 End data with <CR><LF>.<CR><LF>" in text
    assert "xxxxxxxx" not in text, "message content is not part of a transcript"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_full_disk_is_a_resource_error_reported_by_default(outpost, tmp_path):
    qdir = tmp_path / "smallqueue"
    qdir.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(qdir)]).returncode:
        pytest.skip("cannot mount tmpfs")
    try:
        srv = outpost(main=dict(PM, queue_directory=str(qdir)))
        filler = qdir / "filler"
        fill_filesystem(filler)
        big = "Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 400 + "."
        with srv.raw() as c:
            c.recv_reply()
            for cmd in ("HELO client.test", "MAIL FROM:<s@remote.test>",
                        "RCPT TO:<postmaster@example.test>", "DATA"):
                c.send(cmd + "\r\n")
                c.recv_reply()
            c.send(big + "\r\n")
            assert c.recv_reply()[1][0] == "452 4.3.1 Insufficient system storage"
            os.unlink(filler)   # room for the notice
            c.send("QUIT\r\n")
            c.recv_reply()
        ((to, text),) = wait_notice(srv)
        assert to == "pmerror@example.test"
        assert " Out: 452 4.3.1 Insufficient system storage" in text
    finally:
        subprocess.run(["umount", "-l", str(qdir)])


@pytest.mark.parametrize("commands", [
    ("HELO client.test", "FOO", "QUIT"),
    ("HELO client.test", "MAIL FROM:<s@remote.test>", "RCPT TO:<x@elsewhere.test>", "QUIT"),
])
def test_default_classes_stay_quiet_on_client_errors(outpost, commands):
    srv = outpost()
    session(srv, *commands)
    assert notices(srv) == []
    assert "postmaster notice" not in srv.log()


def test_unknown_class_keeps_smtpd_from_starting(outpost):
    srv = outpost(main={"notify_classes": "policy, protocoll"}, wait_log=r"daemon started")
    srv.wait_log(r'notify_classes: unknown class "protocoll"')
