"""Outpost's smtpd answers scripted sessions word for word as Postfix 3.7
did (tests/fixtures/smtpd/replies.json, recorded by record_replies.py
beside it, with the same main.cf settings).

Deliberate differences, and only these, are allowed:
  * EHLO does not list CHUNKING, and BDAT is not implemented;
  * an address syntax error may carry the parser's reason after Postfix's
    text ("501 5.1.7 Bad sender address syntax: missing closing '>'").
"""
import json
import os

import pytest

from conftest import ROOT

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "smtpd", "replies.json")
with open(FIXTURE) as f:
    RECORDED = json.load(f)


def play(srv, steps):
    got = []
    with srv.raw() as c:
        c.recv_reply()
        for step in steps:
            c.send(step["cmd"].encode() + b"\r\n")
            got.append(c.recv_reply()[1])
    return got


def same(ours, theirs):
    if theirs and theirs[0].startswith("250-"):
        theirs = [l for l in theirs if l[4:] != "CHUNKING"]
        theirs[-1] = "250 " + theirs[-1][4:]
    if len(ours) != len(theirs):
        return False
    for o, t in zip(ours, theirs):
        if o != t and not (t.startswith("501 5.1.") and o.startswith(t + ": ")):
            return False
    return True


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import Outpost
    srv = Outpost(tmp_path_factory.mktemp("replies") / "outpost").start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("name", sorted(RECORDED["sessions"]))
def test_reply_matches_postfix(server, name):
    steps = RECORDED["sessions"][name]
    got = play(server, steps)
    for step, ours in zip(steps, got):
        if step["cmd"].upper().startswith("BDAT"):
            assert ours == ["502 5.5.1 Error: command not implemented"]
            continue
        assert same(ours, step["reply"]), \
            f"{step['cmd']!r}: Outpost {ours!r}, Postfix {RECORDED['postfix']} {step['reply']!r}"
