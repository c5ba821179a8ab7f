"""cleanup behind a real smtpd: what lands in the queue file for mail from
an SMTP client, and what the client hears when cleanup refuses a message.

The instance runs smtpd only (no qmgr), so committed messages stay in
queue/incoming/ where the test reads them (queue file format v1, qfile.h).
Expected texts are Postfix 3.7's (recorded with its smtpd + cleanup).
"""
import glob
import os
import smtplib
import time

import pytest

from conftest import fill_filesystem

MAIN = {
    "mynetworks": "127.0.0.0/8",
    "virtual_alias_maps": "texthash:{dir}/virtual",
    "canonical_maps": "texthash:{dir}/canonical",
    "header_checks": "regexp:{dir}/header_checks",
    "body_checks": "regexp:{dir}/body_checks",
    "hopcount_limit": "5",
    "recipient_delimiter": "+",
}
FILES = {
    "virtual": ("team@example.test  ann@remote.test, bob@remote.test\n"
                "joe@example.test   joe@remote.test\n"
                "loop1@example.test loop2@example.test\n"
                "loop2@example.test loop1@example.test\n"),
    "canonical": "@old.test  @new.test\n",
    "header_checks": ("/^Subject: reject-me/ REJECT custom reject text\n"
                      "/^X-Hold:/ HOLD held for review\n"),
    "body_checks": "/^badbody/ REJECT body says no\n",
}


def records(path):
    """Parse a queue file into (type, text) records."""
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        t = chr(data[i])
        n = int(data[i + 1:i + 11])
        assert data[i + 11:i + 12] == b":"
        out.append((t, data[i + 12:i + 12 + n].decode(errors="replace")))
        assert data[i + 12 + n:i + 13 + n] == b"\n"
        i += 13 + n
    return out


def queued(srv, state="incoming", timeout=5, qdir=None):
    """The one committed file in a queue directory (tmp files ignored)."""
    end = time.time() + timeout
    while time.time() < end:
        base = str(qdir) if qdir else os.path.join(srv.dir, "queue")
        files = [f for f in glob.glob(os.path.join(base, state, "*"))
                 if not os.path.basename(f).startswith("tmp.")]
        if files:
            assert len(files) == 1, files
            recs = records(files[0])
            os.unlink(files[0])
            return os.path.basename(files[0]), recs
        time.sleep(0.05)
    raise AssertionError(f"nothing in queue/{state}")


def nothing_queued(srv):
    """No message file (committed or temporary) in any message state."""
    return not [f for d in ("incoming", "active", "deferred", "hold", "corrupt")
                for f in glob.glob(os.path.join(srv.dir, "queue", d, "*"))]


@pytest.fixture
def srv(outpost):
    return outpost(main=MAIN, files=FILES)


def test_received_rewrite_and_expansion(srv):
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.sendmail("sender@old.test", ["team@example.test", "joe+tag@example.test"],
                   b"To: team@example.test, Someone <x@old.test>\r\nBcc: hidden@x.test\r\n"
                   b"Subject: hello\r\n\r\nbody line\r\n")
    qid, recs = queued(srv)
    content = dict(recs)["C"]
    assert content.startswith(
        "Received: from client.example (unknown [127.0.0.1])\n"
        f"\tby mx.example.test (Outpost) with ESMTP id {qid};\n\t")
    # 127.0.0.1 is a local_header_rewrite_clients client: canonical rewriting
    # of header addresses, Bcc removed, Message-Id/Date/From added
    assert "\nTo: team@example.test, Someone <x@new.test>\nSubject: hello\n" in content
    assert "Bcc:" not in content
    assert f"\nMessage-Id: <" in content and f".{qid}@mx.example.test>\n" in content
    assert "\nFrom: sender@new.test\n\nbody line\n" in content
    assert ("S", "sender@new.test") in recs
    rcpts = [v for t, v in recs if t == "R"]
    assert rcpts == ["ann@remote.test", "bob@remote.test", "joe+tag@remote.test"]
    originals = [v for t, v in recs if t == "G"]
    assert originals == ["team@example.test", "team@example.test", "joe+tag@example.test"]
    srv.wait_log(rf"{qid}: message-id=<\d+\.{qid}@mx.example.test>")


def test_header_check_reject(srv):
    with srv.smtp() as s:
        s.ehlo("client.example")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("s@example.test", ["r@remote.test"],
                       b"Subject: reject-me now\r\n\r\nx\r\n")
    assert e.value.smtp_code == 550
    assert e.value.smtp_error == b"5.7.1 custom reject text"
    srv.wait_log(r": reject: header Subject: reject-me now from unknown\[127\.0\.0\.1\]; "
                 r"from=<s@example.test> to=<r@remote.test> proto=ESMTP "
                 r"helo=<client.example>: 5.7.1 custom reject text")
    assert nothing_queued(srv)


def test_body_check_reject(srv):
    with srv.smtp() as s:
        s.ehlo("client.example")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("s@example.test", ["r@remote.test"],
                       b"Subject: x\r\n\r\nfine\r\nbadbody here\r\n")
    assert (e.value.smtp_code, e.value.smtp_error) == (550, b"5.7.1 body says no")
    srv.wait_log(r": reject: body badbody here from unknown\[127\.0\.0\.1\];")
    assert nothing_queued(srv)


def test_hops_and_alias_loop(srv):
    with srv.smtp() as s:
        s.ehlo("client.example")
        hops = b"".join(b"Received: from h%d by x; Sun, 1 Jan 2026 00:00:00 +0000\r\n" % i
                        for i in range(5))
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("s@example.test", ["r@remote.test"], hops + b"Subject: x\r\n\r\nx\r\n")
        assert (e.value.smtp_code, e.value.smtp_error) == (554, b"5.4.0 Error: too many hops")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("s@example.test", ["loop1@example.test"], b"Subject: x\r\n\r\nx\r\n")
        assert (e.value.smtp_code, e.value.smtp_error) == (451, b"4.6.0 Alias expansion error")
    srv.wait_log(r"warning: \S+: message rejected: hopcount exceeded")
    srv.wait_log(r"unreasonable virtual_alias_maps map nesting for loop1@example.test "
                 r"-- message not accepted, try again later")
    assert nothing_queued(srv)


def test_hold_goes_to_hold_queue(srv):
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.sendmail("s@example.test", ["r@remote.test"], b"X-Hold: 1\r\nSubject: x\r\n\r\nx\r\n")
    qid, recs = queued(srv, "hold")
    assert ("A", "hold_reason=held for review") in recs
    srv.wait_log(rf"{qid}: hold: header X-Hold: 1 from unknown\[127\.0\.0\.1\];")


def remote_instance(outpost, domain=""):
    main = dict(MAIN, local_header_rewrite_clients="")
    if domain:
        main["remote_header_rewrite_domain"] = domain
    return outpost(main=main, files=FILES)


def test_remote_client_headers_untouched(outpost):
    srv = remote_instance(outpost)
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.sendmail("s@old.test", ["r@remote.test"],
                   b"To: alice, bob@old.test\r\nSubject: remote\r\n\r\nhello\r\n")
    qid, recs = queued(srv)
    content = dict(recs)["C"]
    # Postfix 3.7: no header rewriting, nothing added, "message-id=<>"
    assert content.endswith("\nTo: alice, bob@old.test\nSubject: remote\n\nhello\n")
    assert ("S", "s@new.test") in recs          # the envelope is still rewritten
    srv.wait_log(rf"{qid}: message-id=<>")


def test_remote_header_rewrite_domain(outpost):
    srv = remote_instance(outpost, "domain.invalid")
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.sendmail("s@old.test", ["r@remote.test"],
                   b"To: alice, bob@old.test, c@host\r\nSubject: remote\r\n\r\nhello\r\n")
    qid, recs = queued(srv)
    content = dict(recs)["C"]
    # Postfix 3.7: incomplete addresses get the domain, canonical maps apply,
    # and the missing Message-Id/Date/From are added
    assert "\nTo: alice@domain.invalid, bob@new.test, c@host\nSubject: remote\n" in content
    assert "\nMessage-Id: <" in content and "\nFrom: s@new.test\n\nhello\n" in content


def test_cleanup_service_name_selects_checks(outpost):
    """docker-mailserver's submission privacy setup: a second cleanup
    service with its own header_checks, chosen by cleanup_service_name."""
    master = ("127.0.0.1:{smtp} inet n - n - - smtpd\n"
              "127.0.0.1:{submission} inet n - n - - smtpd\n"
              "  -o cleanup_service_name=sender-cleanup\n"
              "sender-cleanup unix n - n - 0 cleanup\n"
              "  -o header_checks=regexp:{dir}/privacy\n")
    files = dict(FILES, privacy="/^Received:/ IGNORE\n/^X-Mailer:/ IGNORE\n")
    srv = outpost(main=MAIN, master=master, files=files)
    msg = b"X-Mailer: Secret 1.0\r\nSubject: hi\r\n\r\nbody\r\n"
    with srv.smtp("submission") as s:
        s.ehlo("client.example")
        s.sendmail("s@example.test", ["r@remote.test"], msg)
    _, recs = queued(srv)
    content = dict(recs)["C"]
    assert "X-Mailer" not in content and "Received:" not in content
    with srv.smtp("smtp") as s:
        s.ehlo("client.example")
        s.sendmail("s@example.test", ["r@remote.test"], msg)
    _, recs = queued(srv)
    content = dict(recs)["C"]
    assert content.startswith("Received: ") and "\nX-Mailer: Secret 1.0\n" in content


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_disk_full_452_and_nothing_left(outpost, tmp_path):
    """A full disk while the message is written: 452 4.3.1, no file left,
    and the next message goes through once there is room again."""
    import subprocess
    qdir = tmp_path / "smallqueue"
    qdir.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(qdir)]).returncode:
        pytest.skip("cannot mount tmpfs")
    try:
        # no postmaster notice about the 452 (notify_classes "resource"):
        # test_smtpd_notices.py covers that; here one file is expected
        srv = outpost(main=dict(MAIN, queue_directory=str(qdir), notify_classes=""),
                      files=FILES)
        filler = qdir / "filler"
        fill_filesystem(filler)
        big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 400
        with srv.smtp() as s:
            s.ehlo("client.example")
            with pytest.raises(smtplib.SMTPDataError) as e:
                s.sendmail("s@example.test", ["r@remote.test"], big)
            assert (e.value.smtp_code, e.value.smtp_error) == (
                452, b"4.3.1 Insufficient system storage")
            assert not [f for d in ("incoming", "active", "deferred", "hold")
                        for f in glob.glob(str(qdir / d / "*"))]
            os.unlink(filler)
            s.sendmail("s@example.test", ["r@remote.test"], big)
        qid, recs = queued(srv, qdir=qdir)
        assert dict(recs)["C"].endswith("y" * 998 + "\n")
    finally:
        subprocess.run(["umount", "-l", str(qdir)])


def test_receive_override_options(outpost):
    """A content filter's reinjection port (amavis style): no alias
    expansion, canonical mapping or header/body checks a second time."""
    master = ("127.0.0.1:{smtp} inet n - n - - smtpd\n"
              "127.0.0.1:{submission} inet n - n - - smtpd\n"
              "  -o receive_override_options=no_header_body_checks,no_address_mappings\n")
    srv = outpost(main=MAIN, master=master, files=FILES)
    with srv.smtp("submission") as s:
        s.ehlo("filter.example")
        s.sendmail("sender@old.test", ["team@example.test"],
                   b"To: x@old.test\r\nSubject: reject-me now\r\n\r\nbadbody\r\n")
    _, recs = queued(srv)
    assert [v for t, v in recs if t == "R"] == ["team@example.test"]
    assert ("S", "sender@old.test") in recs
    content = dict(recs)["C"]
    assert "\nTo: x@old.test\nSubject: reject-me now\n" in content
    with srv.smtp("smtp") as s:
        s.ehlo("client.example")
        with pytest.raises(smtplib.SMTPDataError):
            s.sendmail("sender@old.test", ["team@example.test"],
                       b"Subject: reject-me now\r\n\r\nx\r\n")
