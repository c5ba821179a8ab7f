"""Mail that local delivery forwards goes back through cleanup, as with
Postfix's local(8): SMTP in, an alias sends it on, and the new recipient
is rewritten by virtual_alias_maps (and canonical_maps) before the smtp
agent takes it to a next hop that announces DSN (RawServer "record").

What Postfix 3.7 does, and these tests check (recorded with a scratch
Postfix relaying to the same kind of sink): the forwarded copy is a new
queue file ("forwarded as ID"), with "Received: by HOST (…) id ID" above
the Delivered-To header; the sender, ENVID, RET, BODY and ORCPT stay; NOTIFY
loses SUCCESS (the forward itself answers it); header_checks do not run
a second time; with an owner- alias the sender becomes owner-NAME and
the members are new recipients of a list.
"""
import re

from test_deliver_smtp import RawServer
from test_queue_smtp import wait_for

MASTER = ("127.0.0.1:{smtp} inet n - n - - smtpd\n"
          "qmgr unix n - n 300 1 qmgr\n"
          "local unix - n n - - local\n"
          "smtp unix - - n - - smtp\n")


def start(outpost, sink_port):
    return outpost(
        main=("alias_maps = texthash:{dir}/aliases\n"
              "alias_database = texthash:{dir}/aliases\n"
              "virtual_alias_maps = texthash:{dir}/virtual\n"
              "recipient_canonical_maps = texthash:{dir}/canonical\n"
              "header_checks = regexp:{dir}/header_checks\n"
              f"relayhost = [127.0.0.1]:{sink_port}\n"
              "queue_run_delay = 1s\nminimal_backoff_time = 1s\n"),
        master=MASTER,
        files={"aliases": "fwd target@old.example\n"
                          "list a@old.example, b@canon.example\n"
                          "owner-list postmaster\n",
               "virtual": "target@old.example final@new.example\n"
                          "a@old.example a-final@new.example\n",
               "canonical": "@canon.example @canonical.example\n",
               "header_checks": "/^Subject:/ PREPEND X-Checked: once\n"})


def rcpt_lines(sink):
    return [c for c in sink.commands if c.startswith("RCPT TO:")]


def test_alias_forward_goes_through_virtual_alias_maps(outpost):
    sink = RawServer("record")
    try:
        srv = start(outpost, sink.port)
        msg = ("From: s@sender.test\r\nTo: fwd@mx.example.test\r\nSubject: hi\r\n"
               "Message-ID: <fwd1@sender.test>\r\n\r\nbody\r\n")
        with srv.smtp() as c:
            c.ehlo("client.test")
            c.mail("s@sender.test", ["RET=HDRS", "ENVID=env123", "BODY=8BITMIME"])
            c.rcpt("fwd@mx.example.test", ["NOTIFY=SUCCESS,FAILURE",
                                           "ORCPT=rfc822;orig@example.test"])
            c.data(msg)
        m = srv.wait_log(r"(\w+): to=<fwd@mx.example.test>, relay=local, .*dsn=2\.0\.0, "
                         r"status=sent \(forwarded as (\w+)\)", timeout=20)
        first, second = m.group(1), m.group(2)
        assert first != second
        srv.wait_log(rf"{second}: to=<final@new.example>, orig_to=<fwd@mx.example.test>, "
                     rf"relay=127.0.0.1\[127.0.0.1\]:{sink.port}, .*status=sent", timeout=20)
        assert re.search(rf"{second}: from=<s@sender.test>, size=\d+, nrcpt=1 \(queue active\)",
                         srv.log())
        assert f"{second}: message-id=<fwd1@sender.test>" in srv.log()
        assert wait_for(lambda: any("final@new.example" in r for r in rcpt_lines(sink)))
    finally:
        sink.stop()
    mails = [c for c in sink.commands if c.startswith("MAIL FROM:<s@sender.test>")]
    assert mails and "RET=HDRS" in mails[0] and "ENVID=env123" in mails[0], sink.commands
    assert "BODY=8BITMIME" in mails[0], sink.commands
    fwd = [r for r in rcpt_lines(sink) if "final@new.example" in r][0]
    assert fwd == "RCPT TO:<final@new.example> NOTIFY=FAILURE ORCPT=rfc822;orig@example.test"
    body = sink.body.decode()
    assert re.search(r"(?:^|\r\n)Received: by mx\.example\.test \(Outpost\)\r\n\tid "
                     rf"{second}; [^\r]+\r\nDelivered-To: fwd@mx\.example\.test\r\n"
                     r"Received: from client\.test", body), body
    assert body.count("X-Checked: once") == 1, body


def test_owner_alias_list_members_are_rewritten_new_recipients(outpost):
    sink = RawServer("record")
    try:
        srv = start(outpost, sink.port)
        with srv.smtp() as c:
            c.sendmail("s@sender.test", ["list@mx.example.test"],
                       "From: s@sender.test\r\nSubject: list\r\n\r\nbody\r\n")
        m = srv.wait_log(r"to=<list@mx.example.test>, relay=local, .*status=sent "
                         r"\(forwarded as (\w+)\)", timeout=20)
        second = m.group(1)
        srv.wait_log(rf"{second}: to=<b@canonical.example>, orig_to=<b@canon.example>, "
                     r".*status=sent", timeout=20)
        srv.wait_log(rf"{second}: to=<a-final@new.example>, orig_to=<a@old.example>, "
                     r".*status=sent", timeout=20)
        assert re.search(rf"{second}: from=<owner-list@example.test>, size=\d+, nrcpt=2",
                         srv.log())
    finally:
        sink.stop()
    assert "MAIL FROM:<owner-list@example.test>" in " ".join(sink.commands)
    fwd = [r for r in rcpt_lines(sink) if "new.example" in r or "canonical.example" in r]
    assert all("NOTIFY=" not in r for r in fwd), fwd
