"""The queue manager end to end: a real master running qmgr, messages put
into incoming/ as queue files (the format is documented in
src/mail/qfile.h, so this test writes it independently), routed by
transport_maps to the built-in `discard` and `error` transports.

Covers: Postfix log lines, bounces as multipart/report that Python's email
parser reads, NOTIFY=NEVER/SUCCESS, null-sender bounces never bounced,
deferral with backoff then delivery after a flush, expiry, delay warnings,
crash recovery of active/, corrupt files, restarts, and `outpost queue`
(list, --json, show, hold, release, delete, requeue, flush, wrong IDs).
"""
import email
import email.policy
import json
import os
import random
import re
import subprocess
import time


from conftest import OUTPOST

QMGR_ONLY = "qmgr unix n - n 300 1 qmgr\n"
ALPHA = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"


def b52(v, radix, width):
    out = ""
    while True:
        out = ALPHA[v % radix] + out
        v //= radix
        if v == 0:
            break
    return out.rjust(width, "0")


def make_id(t=None):
    t = time.time() if t is None else t
    sec, usec = int(t), int((t % 1) * 1e6)
    return b52(sec, 52, 6) + b52(usec, 52, 4) + "z" + b52(random.randrange(1, 10**9), 51, 0)


def rec(kind, data):
    if isinstance(data, str):
        data = data.encode()
    return kind.encode() + b"%010d:" % len(data) + data + b"\n"


def queue_file(sender, rcpts, content, arrival=None, attrs=None):
    """The bytes of a committed queue file (format v1, qfile.h; in
    incoming/ it also needs mode u+x to count as complete).
    rcpts: list of address or (address, notify_bits, orcpt)."""
    if isinstance(content, str):
        content = content.encode()
    if not content.endswith(b"\n"):
        content += b"\n"
    arrival = time.time() if arrival is None else arrival
    env = rec("T", "%d.%06d" % (int(arrival), int((arrival % 1) * 1e6)))
    env += rec("S", sender)
    for k, v in (attrs or {}).items():
        env += rec("A", f"{k}={v}")
    env += rec("W", "0")
    for r in rcpts:
        addr, notify, orcpt = (r, 0, None) if isinstance(r, str) else (tuple(r) + (None,))[:3]
        env += rec("R", addr)
        if orcpt:
            env += rec("O", orcpt)
        env += rec("N", str(notify))
        env += rec("D", "P")
    env += rec("E", "")
    envoff = 61 + len(content) + 1
    head = rec("H", "v1 env=%012d len=%012d" % (envoff, len(content)))
    assert len(head) == 49
    return head + b"C%010d:" % len(content) + content + b"\n" + env


NOTIFY_NEVER, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_DELAY = 1, 2, 4, 8

MSG = ("From: Alice <alice@src.test>\nTo: someone\nSubject: queue test\n"
       "Message-ID: <m1@src.test>\n\nHello from the queue test.\n")

TRANSPORT = """\
discard.test    discard:
bounce.test     error:5.1.1 no such user here
defer.test      error:4.4.1 host is resting
src.test        error:4.7.0 hold notices here
null.test       error:5.1.2 nobody
"""


def main_cf(extra=""):
    return ("transport_maps = texthash:{dir}/transport\n"
            "minimal_backoff_time = 1s\nmaximal_backoff_time = 4s\n"
            "queue_run_delay = 1s\n" + extra)


def start(outpost, extra="", transport=TRANSPORT, files=None):
    f = {"transport": transport}
    f.update(files or {})
    return outpost(main=main_cf(extra), master=QMGR_ONLY, files=f,
                   wait_log=r"queue manager started")


def inject(srv, data, state="incoming", qid=None):
    qid = qid or make_id()
    qdir = os.path.join(srv.dir, "queue", state)
    os.makedirs(qdir, exist_ok=True)
    tmp = os.path.join(qdir, "tmp.test")
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o700)  # u+x: complete (qfile.h)
    os.rename(tmp, os.path.join(qdir, qid))
    subprocess.run([OUTPOST, "queue", "-c", srv.dir, "flush"], capture_output=True)
    return qid


def queue_cmd(srv, *args):
    return subprocess.run([OUTPOST, "queue", "-c", srv.dir] + list(args),
                          capture_output=True, text=True)


def notice_id(srv, qid, kind="non-delivery", who="sender"):
    m = srv.wait_log(rf"{qid}: {who} {kind} notification: (\w+)")
    return m.group(1)


def read_queued(srv, qid, timeout=10):
    """The content of a queued message, via `outpost queue show`."""
    end = time.time() + timeout
    while time.time() < end:
        r = queue_cmd(srv, "show", qid)
        if r.returncode == 0:
            body = r.stdout.split(f"*** MESSAGE CONTENTS {qid} ***\n", 1)[1]
            return body.rsplit(f"*** END OF MESSAGE {qid} ***", 1)[0]
        time.sleep(0.1)
    raise AssertionError(f"{qid} not in the queue: {r.stderr}")


def report_parts(text):
    msg = email.message_from_string(text, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    # message/delivery-status: per-message fields, then one block per recipient
    blocks = [b for b in parts[1].get_payload()]
    return msg, parts, blocks


def test_discard_error_and_bounce_report(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test",
                                 ["u1@discard.test", ("u2@bounce.test", 0, "rfc822;u2@bounce.test"),
                                  "u3@discard.test"], MSG))
    srv.wait_log(rf"{qid}: from=<alice@src.test>, size=\d+, nrcpt=3 \(queue active\)")
    srv.wait_log(rf"{qid}: to=<u1@discard.test>, relay=none, delay=[\d.]+, "
                 rf"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2.0.0, status=sent \(discarded")
    srv.wait_log(rf"{qid}: to=<u2@bounce.test>, relay=none, .*dsn=5.1.1, "
                 rf"status=bounced \(no such user here\)")
    nid = notice_id(srv, qid)
    srv.wait_log(rf"{qid}: removed")
    srv.wait_log(rf"{nid}: from=<>, size=\d+, nrcpt=1 \(queue active\)")
    # the notice goes to alice@src.test, which defers: it stays readable in the queue
    srv.wait_log(rf"{nid}: to=<alice@src.test>, .*status=deferred")
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert msg["To"] == "alice@src.test"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["From"].startswith("MAILER-DAEMON@mx.example.test")
    assert blocks[0]["Reporting-MTA"] == "dns; mx.example.test"
    assert len(blocks) == 2, "one failed recipient only"
    assert blocks[1]["Final-Recipient"] == "rfc822; u2@bounce.test"
    assert blocks[1]["Original-Recipient"] == "rfc822; u2@bounce.test"
    assert blocks[1]["Action"] == "failed"
    assert blocks[1]["Status"] == "5.1.1"
    assert "no such user here" in blocks[1]["Diagnostic-Code"]
    assert parts[2].get_content_type() == "message/rfc822"
    returned = parts[2].get_payload()[0]
    assert returned["Subject"] == "queue test"
    assert "Hello from the queue test." in returned.get_content()


def test_ret_hdrs_returns_headers_only(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["x@bounce.test"], MSG,
                                 attrs={"ret": "HDRS", "envid": "ENV-42"}))
    nid = notice_id(srv, qid)
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert blocks[0]["Original-Envelope-Id"] == "ENV-42"
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert "Subject: queue test" in parts[2].get_content()
    assert "Hello from the queue test." not in parts[2].get_content()


def test_bounce_size_limit_cuts_returned_message(outpost):
    srv = start(outpost, extra="bounce_size_limit = 2000\n")
    big = MSG + "".join(f"line {i:05d} of a long body\n" for i in range(500))
    qid = inject(srv, queue_file("alice@src.test", ["x@bounce.test"], big))
    nid = notice_id(srv, qid)
    text = read_queued(srv, nid)
    msg, parts, blocks = report_parts(text)
    returned = parts[2].get_payload()[0]
    assert returned["Subject"] == "queue test"
    assert len(text) < 5000
    assert "line 00499" not in text


def test_notify_never_and_success(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test",
                                 [("a@bounce.test", NOTIFY_NEVER), ("b@discard.test", NOTIFY_SUCCESS)],
                                 MSG))
    nid = notice_id(srv, qid, kind="delivery status")
    srv.wait_log(rf"{qid}: removed")
    assert f"{qid}: sender non-delivery notification" not in srv.log()
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert msg["Subject"] == "Successful Mail Delivery Report"
    assert blocks[1]["Final-Recipient"] == "rfc822; b@discard.test"
    assert blocks[1]["Action"] == "delivered"
    assert blocks[1]["Status"] == "2.0.0"
    assert len(blocks) == 2


def test_null_sender_is_never_bounced(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("", ["x@null.test"], MSG))
    srv.wait_log(rf"{qid}: to=<x@null.test>, .*status=bounced")
    srv.wait_log(rf"{qid}: undeliverable bounce discarded")
    srv.wait_log(rf"{qid}: removed")
    assert "notification" not in srv.log()


def test_double_bounce_goes_to_postmaster_when_asked(outpost):
    srv = start(outpost, extra="notify_classes = 2bounce\n"
                               "2bounce_notice_recipient = pm@defer.test\n")
    qid = inject(srv, queue_file("", ["x@null.test"], MSG))
    nid = notice_id(srv, qid, who="postmaster")
    srv.wait_log(rf"{nid}: from=<double-bounce>, size=\d+, nrcpt=1")
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert msg["To"] == "pm@defer.test"


def test_bounce_class_sends_the_postmaster_a_headers_only_copy(outpost):
    srv = start(outpost, extra="notify_classes = bounce\n"
                               "bounce_notice_recipient = pmb@defer.test\n")
    qid = inject(srv, queue_file("alice@src.test",
                                 ["x@bounce.test", ("quiet@bounce.test", NOTIFY_NEVER)], MSG))
    sid = notice_id(srv, qid)
    pid = notice_id(srv, qid, who="postmaster")
    srv.wait_log(rf"{pid}: from=<double-bounce>, size=\d+, nrcpt=1")
    msg, parts, blocks = report_parts(read_queued(srv, pid))
    assert msg["To"] == "pmb@defer.test"
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    # every failed recipient, NOTIFY=NEVER too: that was the sender's choice
    assert sorted(b["Final-Recipient"] for b in blocks[1:]) == [
        "rfc822; quiet@bounce.test", "rfc822; x@bounce.test"]
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert "Subject: queue test" in parts[2].get_content()
    assert "Hello from the queue test." not in parts[2].get_content()
    # the sender's report is unchanged: the whole message, its one recipient
    msg, parts, blocks = report_parts(read_queued(srv, sid))
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert [b["Final-Recipient"] for b in blocks[1:]] == ["rfc822; x@bounce.test"]
    assert parts[2].get_content_type() == "message/rfc822"


def test_bounce_class_implies_2bounce(outpost):
    srv = start(outpost, extra="notify_classes = bounce\n"
                               "2bounce_notice_recipient = pm2@defer.test\n")
    qid = inject(srv, queue_file("", ["x@null.test"], MSG))
    nid = notice_id(srv, qid, who="postmaster")
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert msg["To"] == "pm2@defer.test"
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    assert parts[2].get_content_type() == "message/rfc822"  # the whole bounce


def test_delay_class_sends_the_postmaster_a_copy(outpost):
    srv = start(outpost, extra="delay_warning_time = 1s\nnotify_classes = delay\n"
                               "delay_notice_recipient = pmd@defer.test\n")
    qid = inject(srv, queue_file("alice@src.test", ["slow@defer.test"], MSG,
                                 arrival=time.time() - 5))
    notice_id(srv, qid, kind="delay")
    pid = notice_id(srv, qid, kind="delay", who="postmaster")
    msg, parts, blocks = report_parts(read_queued(srv, pid))
    assert msg["To"] == "pmd@defer.test"
    assert msg["Subject"] == "Postmaster Warning: Delayed Mail"
    assert blocks[1]["Action"] == "delayed"
    assert parts[2].get_content_type() == "text/rfc822-headers"


def test_default_classes_send_no_bounce_copies(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["x@bounce.test"], MSG))
    notice_id(srv, qid)
    srv.wait_log(rf"{qid}: removed")
    assert "postmaster non-delivery" not in srv.log()


def test_unknown_notify_class_stops_qmgr_with_a_clear_error(outpost):
    srv = outpost(main=main_cf("notify_classes = bounce, sofware\n"), master=QMGR_ONLY,
                  files={"transport": TRANSPORT}, wait_log=r"daemon started")
    srv.wait_log(r'notify_classes: unknown class "sofware"')


def test_smtputf8_bounce_uses_global_types(outpost):
    srv = start(outpost)
    utf8 = ("From: Jörg <jörg@src.test>\nTo: ü@bounce.test\nSubject: grüße\n\n"
            "Grüße aus der Warteschlange.\n")
    qid = inject(srv, queue_file("jörg@src.test", ["ü@bounce.test"], utf8,
                                 attrs={"smtputf8": "1", "body_8bit": "1"}))
    nid = notice_id(srv, qid)
    show = queue_cmd(srv, "show", nid).stdout
    assert "smtputf8: 1" in show, "the notice is SMTPUTF8 mail itself"
    raw = read_queued(srv, nid).encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert not msg.defects
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/global-delivery-status", "message/global"]
    assert parts[0].get_content_charset() == "utf-8"
    # Python reads message/global* as one attached message: for the status
    # part, its headers are the per-message fields and its body the blocks
    (status,) = parts[1].get_payload()
    assert status["Reporting-MTA"] == "dns; mx.example.test"
    rcpt = email.message_from_string(status.get_payload(decode=True).decode().strip() + "\n")
    assert rcpt["Final-Recipient"] == "rfc822; ü@bounce.test"
    assert rcpt["Status"] == "5.1.1"
    (returned,) = parts[2].get_payload()
    assert returned["Subject"] == "grüße"
    assert "Grüße aus der Warteschlange." in returned.get_payload(decode=True).decode()


def test_defer_backoff_then_deliver_on_flush(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["d@defer.test", "ok@discard.test"], MSG))
    srv.wait_log(rf"{qid}: to=<d@defer.test>, .*dsn=4.4.1, status=deferred \(host is resting\)")
    srv.wait_log(rf"{qid}: to=<ok@discard.test>, .*status=sent")
    path = os.path.join(srv.dir, "queue", "deferred", qid)
    end = time.time() + 5
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)
    assert os.stat(path).st_mtime >= time.time() - 0.5, "next attempt is in the future"
    # listed with its reason; the delivered recipient is not listed any more
    r = queue_cmd(srv, "list")
    assert qid in r.stdout and "(host is resting)" in r.stdout
    assert "ok@discard.test" not in r.stdout
    j = [json.loads(line) for line in queue_cmd(srv, "list", "--json").stdout.splitlines()]
    (entry,) = [e for e in j if e["queue_id"] == qid]
    assert entry["queue_name"] in ("deferred", "active")
    st = {r["address"]: r for r in entry["recipients"]}
    assert st["d@defer.test"]["status"] == "deferred"
    assert st["d@defer.test"]["dsn"] == "4.4.1"
    assert st["d@defer.test"]["last_reply"] == "host is resting"
    assert st["ok@discard.test"]["status"] == "sent"
    # retried with backoff: a second attempt comes by itself
    m = srv.wait_log(rf"(?s)status=deferred \(host is resting\).*{qid}: to=<d@defer.test>, .*status=deferred",
                     timeout=15)
    assert m
    # the destination recovers; a flush retries now and only the pending recipient
    with open(srv.path("transport"), "w") as f:
        f.write(TRANSPORT.replace("error:4.4.1 host is resting", "discard:"))
    time.sleep(1.1)  # texthash notices changes by mtime
    assert queue_cmd(srv, "flush").returncode == 0
    srv.wait_log(rf"{qid}: to=<d@defer.test>, .*status=sent", timeout=15)
    srv.wait_log(rf"{qid}: removed")
    assert len(re.findall(rf"{qid}: to=<ok@discard.test>", srv.log())) == 1


def test_expired_message_bounces(outpost):
    srv = start(outpost, extra="maximal_queue_lifetime = 3s\nbounce_queue_lifetime = 3s\n")
    qid = inject(srv, queue_file("alice@src.test", ["late@defer.test"], MSG))
    srv.wait_log(rf"{qid}: from=<alice@src.test>, status=expired, returned to sender", timeout=20)
    nid = notice_id(srv, qid)
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert blocks[1]["Action"] == "failed"
    assert blocks[1]["Status"] == "4.4.1"
    assert "host is resting" in blocks[1]["Diagnostic-Code"]


def test_delay_warning(outpost):
    srv = start(outpost, extra="delay_warning_time = 1s\n")
    qid = inject(srv, queue_file("alice@src.test", ["slow@defer.test"], MSG, arrival=time.time() - 5))
    nid = notice_id(srv, qid, kind="delay")
    msg, parts, blocks = report_parts(read_queued(srv, nid))
    assert msg["Subject"].startswith("Delayed Mail")
    assert blocks[1]["Action"] == "delayed"
    assert "Will-Retry-Until" in blocks[1]
    # only once
    time.sleep(3)
    assert len(re.findall(rf"{qid}: sender delay notification", srv.log())) == 1


def test_recovery_of_active_and_corrupt_files(outpost):
    srv = start(outpost)
    srv.stop()
    good = inject(srv, queue_file("alice@src.test", ["a@discard.test"], MSG), state="active")
    data = bytearray(queue_file("alice@src.test", ["b@discard.test"], MSG))
    data[-5] ^= 0x20  # a torn end record
    bad = inject(srv, bytes(data), state="incoming")
    srv.start()
    srv.wait_log(r"recovered 1 message from the active queue")
    srv.wait_log(rf"{good}: to=<a@discard.test>, .*status=sent")
    srv.wait_log(rf"warning: {bad}: corrupt queue file in (incoming|active), moved to corrupt/")
    assert os.path.exists(os.path.join(srv.dir, "queue", "corrupt", bad))
    assert "b@discard.test" not in srv.log()


def test_done_recipients_are_not_tried_again(outpost):
    """A crash after a recipient was delivered: its status byte says so."""
    srv = start(outpost)
    srv.stop()
    data = bytearray(queue_file("alice@src.test", ["one@discard.test", "two@discard.test"], MSG))
    first = data.index(b"D0000000001:P")
    data[first + 12] = ord("S")
    qid = inject(srv, bytes(data), state="active")
    srv.start()
    srv.wait_log(rf"{qid}: removed")
    assert "one@discard.test" not in srv.log()
    assert f"{qid}: to=<two@discard.test>" in srv.log()


def test_deferred_message_survives_restart(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["r@defer.test"], MSG))
    srv.wait_log(rf"{qid}: to=<r@defer.test>, .*status=deferred")
    srv.stop()
    with open(srv.path("transport"), "w") as f:
        f.write(TRANSPORT.replace("error:4.4.1 host is resting", "discard:"))
    srv.start()
    assert queue_cmd(srv, "flush").returncode == 0
    srv.wait_log(rf"{qid}: to=<r@defer.test>, .*status=sent", timeout=15)


def test_unknown_transport_defers(outpost):
    srv = start(outpost, transport=TRANSPORT + "nowhere.test  nosuchagent:\n")
    qid = inject(srv, queue_file("alice@src.test", ["x@nowhere.test"], MSG))
    srv.wait_log(rf"{qid}: to=<x@nowhere.test>, relay=none, .*dsn=4.3.0, "
                 rf"status=deferred \(mail transport unavailable\)")


def test_queue_tools(outpost):
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["h@defer.test"], MSG))
    srv.wait_log(rf"{qid}: to=<h@defer.test>, .*status=deferred")
    time.sleep(0.3)
    r = queue_cmd(srv, "show", qid)
    assert r.returncode == 0
    assert "sender: alice@src.test" in r.stdout
    assert "recipient: h@defer.test (deferred)" in r.stdout
    assert "Hello from the queue test." in r.stdout

    assert queue_cmd(srv, "hold", qid).returncode == 0
    assert os.path.exists(os.path.join(srv.dir, "queue", "hold", qid))
    r = queue_cmd(srv, "list")
    assert re.search(rf"^{qid}!", r.stdout, re.M), r.stdout
    assert queue_cmd(srv, "hold", qid).returncode == 1  # already on hold
    assert queue_cmd(srv, "release", qid).returncode == 0
    assert os.path.exists(os.path.join(srv.dir, "queue", "deferred", qid))
    r = queue_cmd(srv, "requeue", qid)
    assert r.returncode == 0 and "Requeued: 1 message" in r.stderr
    end = time.time() + 10
    while len(re.findall(rf"{qid}: to=<h@defer.test>", srv.log())) < 2 and time.time() < end:
        time.sleep(0.1)
    assert len(re.findall(rf"{qid}: to=<h@defer.test>", srv.log())) >= 2

    for bad in ("4XXXXXXXXXz999", "nonsense", "../../etc/passwd"):
        r = queue_cmd(srv, "show", bad)
        assert r.returncode == 1
        assert ("no such message" in r.stderr) or ("not a queue ID" in r.stderr)
    r = queue_cmd(srv, "delete", "4jXCmt0jp3z1bgSZ")
    assert r.returncode == 1 and "no such message" in r.stderr

    end = time.time() + 10
    while time.time() < end:
        r = queue_cmd(srv, "delete", qid)
        if r.returncode == 0:
            break
        time.sleep(0.2)
    assert r.returncode == 0 and "Deleted: 1 message" in r.stderr
    assert "Mail queue is empty" in queue_cmd(srv, "list").stdout
    assert queue_cmd(srv, "list", "--json").stdout == ""


def test_flush_when_down_and_usage(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "main.cf").write_text(f"queue_directory = {tmp_path}/queue\n")
    (conf / "master.cf").write_text("")
    r = subprocess.run([OUTPOST, "queue", "-c", str(conf), "flush"], capture_output=True, text=True)
    assert r.returncode == 75
    assert "mail system is down" in r.stderr
    r = subprocess.run([OUTPOST, "queue", "-c", str(conf), "frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage:" in r.stderr
    r = subprocess.run([OUTPOST, "queue", "-c", str(conf)], capture_output=True, text=True)
    assert r.returncode == 0 and "Mail queue is empty" in r.stdout


def test_hold_attribute_from_cleanup_is_honoured(outpost):
    """cleanup marks HOLD in the envelope; qmgr never delivers such new mail,
    and a release delivers it without holding it again."""
    srv = start(outpost)
    qid = inject(srv, queue_file("alice@src.test", ["h@discard.test"], MSG,
                                 attrs={"hold_reason": "header X-Hold: yes"}))
    srv.wait_log(rf"{qid}: placed on hold: header X-Hold: yes")
    assert os.path.exists(os.path.join(srv.dir, "queue", "hold", qid))
    assert "h@discard.test" not in srv.log()
    assert queue_cmd(srv, "release", qid).returncode == 0
    assert queue_cmd(srv, "flush").returncode == 0
    srv.wait_log(rf"{qid}: to=<h@discard.test>, .*status=sent")


def test_incomplete_files_are_invisible_and_stale_ones_purged(outpost):
    """A file without u+x is still being written: qmgr and the tools leave it
    alone; one older than an hour was left by a crash and is removed."""
    srv = start(outpost)
    srv.stop()
    inc = os.path.join(srv.dir, "queue", "incoming")
    writing, stale = make_id(), make_id(time.time() - 7200)
    for qid in (writing, stale):
        with open(os.path.join(inc, qid), "wb") as f:
            f.write(queue_file("alice@src.test", ["w@discard.test"], MSG))
        os.chmod(os.path.join(inc, qid), 0o600)
    old = time.time() - 7200
    os.utime(os.path.join(inc, stale), (old, old))
    srv.start()
    srv.wait_log(rf"warning: {stale}: removed an unfinished queue file from incoming")
    time.sleep(1.5)
    assert os.path.exists(os.path.join(inc, writing))
    assert "w@discard.test" not in srv.log() and "corrupt" not in srv.log()
    assert "Mail queue is empty" in queue_cmd(srv, "list").stdout
    os.chmod(os.path.join(inc, writing), 0o700)  # now complete
    srv.wait_log(rf"{writing}: to=<w@discard.test>, .*status=sent")


def test_log_lines_quote_addresses_as_postfix(outpost):
    """Queue files keep addresses in internal form (quotes removed);
    qmgr logs them in external form, as Postfix 3.5+ does by default
    (info_log_address_format = external)."""
    srv = start(outpost)
    qid = inject(srv, queue_file("a b@src.test", ['odd user@discard.test', "plain@discard.test"],
                                 MSG))
    srv.wait_log(rf'{qid}: from=<"a b"@src.test>, size=\d+, nrcpt=2 \(queue active\)')
    srv.wait_log(rf'{qid}: to=<"odd user"@discard.test>, relay=none, .*status=sent')
    srv.wait_log(rf'{qid}: to=<plain@discard.test>, relay=none, .*status=sent')
