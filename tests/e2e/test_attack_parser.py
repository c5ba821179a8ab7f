"""Parser abuse: overlong lines and parameters, SIZE/xtext/DSN garbage,
odd verb case and whitespace, empty lines, random junk. Every line gets a
reply (never a crash or a hang: the session still answers NOOP), and the
replies are Postfix's.
"""
import random

import pytest

M = "MAIL FROM:<s@remote.example>"


def replies(srv, *lines, main=None):
    out = []
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        for line in lines:
            c.send((line if isinstance(line, bytes) else line.encode("utf-8")) + b"\r\n")
            code, text = c.recv_reply()
            assert code, f"connection closed after {line!r}"
            out.append(text[-1])
        c.send("NOOP\r\n")
        assert c.recv_reply()[0] == 250
    return out


CASES = [
    ("EHLO " + "a" * 3000, "500 5.5.0 Error: line too long"),
    (M + " X=" + "y" * 2100, "500 5.5.0 Error: line too long"),
    (M + " SIZE=99999999999999999999999", "552 5.3.4 Message size exceeds fixed limit"),
    (M + " SIZE=18446744073709551616", "552 5.3.4 Message size exceeds fixed limit"),
    (M + " SIZE=-1", "501 5.5.4 Bad message size syntax"),
    (M + " SIZE=", "501 5.5.4 Bad message size syntax"),
    (M + " SIZE=0x10", "501 5.5.4 Bad message size syntax"),
    (M + " SIZE=1e9", "501 5.5.4 Bad message size syntax"),
    (M + " AUTH=+zz", "501 5.5.4 Bad AUTH syntax: +zz"),
    (M + " AUTH=a+", "501 5.5.4 Bad AUTH syntax: a+"),
    (M + " RET=FOO", "501 5.5.4 Bad RET parameter syntax"),
    (M + " ENVID=+", "501 5.5.4 Bad ENVID parameter syntax"),
    (M + " ENVID=" + "x" * 101, "501 5.5.4 Bad ENVID parameter syntax"),
    (M + " BODY=BINARYMIME", "555 5.5.4 Unsupported option: BODY=BINARYMIME"),
    (M + " " + " ".join(f"X{i}=1" for i in range(300)), "555 5.5.4 Unsupported option: X0=1"),
    ("MAIL FROM:<\"a\x01b\"@remote.example>",
     "501 5.1.7 Bad sender address syntax: control character in address"),
    ("mail from:<s@remote.example>", "250 2.1.0 Ok"),
    ("MaIl FrOm: <s@remote.example>", "250 2.1.0 Ok"),
    (M + "   \t", "250 2.1.0 Ok"),
    # recorded from Postfix 3.7.11 (tests/fixtures/smtpd/replies.json)
    ("", "500 5.5.2 Error: bad syntax"),
    ("\t ", "500 5.5.2 Error: bad syntax"),
    ("XCLIENT ADDR=192.0.2.1", "550 5.7.0 Error: insufficient authorization"),
    ("XFORWARD ADDR=192.0.2.1", "550 5.7.0 Error: insufficient authorization"),
    ("RSET x", "501 5.5.4 Syntax: RSET"),
    ("DATA x", "501 5.5.4 Syntax: DATA"),
]


@pytest.mark.parametrize("line,reply", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_parser_abuse_replies(outpost, line, reply):
    srv = outpost()
    assert replies(srv, line) == [reply]


@pytest.mark.parametrize("params,reply", [
    ("NOTIFY=FOO", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=NEVER,SUCCESS", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("NOTIFY=", "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    ("ORCPT=rfc822;+zz", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=foo", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=;a", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("ORCPT=rfc822;", "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    ("FOO=bar", "555 5.5.4 Unsupported option: FOO=bar"),
], ids=["notify-foo", "notify-never-mixed", "notify-empty", "orcpt-bad-escape", "orcpt-no-type",
        "orcpt-empty-type", "orcpt-empty", "unknown"])
def test_rcpt_parameter_garbage(outpost, params, reply):
    srv = outpost()
    assert replies(srv, M, "RCPT TO:<postmaster@example.test> " + params)[1] == reply


def test_random_junk_gets_replies(outpost):
    # 400 random command lines in one session: each gets a reply, the session
    # survives (error limits raised so the junk is parsed, not cut short)
    srv = outpost(main={"smtpd_error_sleep_time": "0", "smtpd_hard_error_limit": "1000",
                        "smtpd_junk_command_limit": "1000"})
    rnd = random.Random(4)
    alphabet = b"<>@\"\\:;,.[]+=% \tAZaz09\x01\x7f\xff"
    lines = []
    for _ in range(400):
        head = rnd.choice([b"MAIL FROM:", b"RCPT TO:", b"EHLO ", b"VRFY ", b"NOOP ", b""])
        lines.append(head + bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 300))))
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        for line in lines:
            c.send(line + b"\r\n")
            code, _ = c.recv_reply()
            assert code, f"connection closed after {line!r}"
            if code == 354:
                c.send(".\r\n")
                c.recv_reply()
        c.send("NOOP\r\n")
        assert c.recv_reply()[0] == 250
