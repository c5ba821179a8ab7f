"""The scheduler against a real next hop: an aiosmtpd sink on loopback that
answers 451 for a while, then 250. Messages enter through incoming/ (queue
files written by test_queue_qmgr's writer), so only qmgr and the smtp agent
are involved.

Covers: a deferred destination backs off and delivers when it recovers,
without duplicating recipients already delivered; a dead destination does
not hold up mail to a live one; a 5xx from the next hop bounces with the
server's reply in the DSN.
"""
import os
import re
import signal
import threading
import time

import pytest

from conftest import free_port
from test_queue_qmgr import MSG, inject, notice_id, queue_cmd, queue_file, read_queued, report_parts

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Sink:
    """Counts messages by recipient; fails with `code` until told otherwise."""

    def __init__(self, fail_first=0, code="451 4.3.0 not now, try later"):
        self.fail_left = fail_first
        self.code = code
        self.got = []            # (rcpts, data)
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            if self.fail_left != 0:
                self.fail_left -= 1
                return self.code
            self.got.append((list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 Ok: queued"

    def delivered(self):
        with self.lock:
            return [r for rcpts, _ in self.got for r in rcpts]


def run_sink(handler):
    port = free_port()
    ctl = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, port


MASTER = "qmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n"


def start(outpost, transport, extra=""):
    return outpost(main=("transport_maps = texthash:{dir}/transport\n"
                         "minimal_backoff_time = 1s\nmaximal_backoff_time = 2s\n"
                         "queue_run_delay = 1s\nsmtp_connect_timeout = 2s\n" + extra),
                   master=MASTER, files={"transport": transport},
                   wait_log=r"queue manager started")


def wait_for(cond, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_451_backs_off_then_delivers(outpost):
    sink = Sink(fail_first=2)
    ctl, port = run_sink(sink)
    try:
        srv = start(outpost, f"sink.test smtp:[127.0.0.1]:{port}\nlocal.test discard:\n")
        qid = inject(srv, queue_file("alice@src.test", ["r1@sink.test", "r2@local.test"], MSG))
        srv.wait_log(rf"{qid}: to=<r1@sink.test>, relay=127.0.0.1\[127.0.0.1\]:{port}, .*"
                     rf"status=deferred \(.*451")
        srv.wait_log(rf"{qid}: to=<r2@local.test>, .*status=sent")
        srv.wait_log(rf"{qid}: to=<r1@sink.test>, relay=127.0.0.1\[127.0.0.1\]:{port}, "
                         rf"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.\d\.\d, "
                         rf"status=sent \(250", timeout=30)
        srv.wait_log(rf"{qid}: removed")
        assert sink.attempts == 3, "two deferrals, then the delivery"
        assert sink.delivered() == ["r1@sink.test"]
        assert len(re.findall(rf"{qid}: to=<r2@local.test>", srv.log())) == 1
    finally:
        ctl.stop()


def test_5xx_bounces_with_the_servers_reply(outpost):
    sink = Sink(fail_first=-1, code="550 5.7.1 we do not want this")
    ctl, port = run_sink(sink)
    try:
        srv = start(outpost, f"sink.test smtp:[127.0.0.1]:{port}\nsrc.test error:4.0.0 keep\n")
        qid = inject(srv, queue_file("alice@src.test", ["no@sink.test"], MSG))
        srv.wait_log(rf"{qid}: to=<no@sink.test>, .*dsn=5.7.1, status=bounced")
        nid = notice_id(srv, qid)
        msg, parts, blocks = report_parts(read_queued(srv, nid))
        assert blocks[1]["Status"] == "5.7.1"
        assert blocks[1]["Remote-MTA"] == "dns; 127.0.0.1"
        assert blocks[1]["Diagnostic-Code"] == "smtp; 550 5.7.1 we do not want this"
        assert "said: 550 5.7.1 we do not want this" in parts[0].get_content()
    finally:
        ctl.stop()


def test_dead_destination_does_not_block_others(outpost):
    good = Sink()
    ctl, port = run_sink(good)
    dead_port = free_port()      # nobody listens: connection refused
    try:
        srv = start(outpost, f"good.test smtp:[127.0.0.1]:{port}\n"
                             f"dead.test smtp:[127.0.0.1]:{dead_port}\n")
        ids = [inject(srv, queue_file("alice@src.test", [f"d{i}@dead.test"], MSG))
               for i in range(10)]
        ids += [inject(srv, queue_file("alice@src.test", [f"g{i}@good.test"], MSG))
                for i in range(10)]
        assert wait_for(lambda: len(good.delivered()) == 10, timeout=30), srv.log()
        # every dead-destination message is deferred, none lost or bounced
        assert wait_for(lambda: all(re.search(rf"{i}: to=<d\d@dead.test>, .*status=deferred",
                                              srv.log()) for i in ids[:10]), timeout=30)
        assert "status=bounced" not in srv.log()
        r = queue_cmd(srv, "list")
        assert r.stdout.count("@dead.test") == 10
    finally:
        ctl.stop()


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def qmgr_pid(srv):
    m = re.findall(r"outpost/qmgr\[(\d+)\]", srv.log())
    return int(m[-1])


def one_at_a_time(srv, n, domain="raw.test"):
    ids = []
    for i in range(n):
        qid = inject(srv, queue_file("alice@src.test", [f"r{i}@{domain}"], MSG))
        srv.wait_log(rf"{qid}: removed")
        ids.append(qid)
    return ids


def test_agent_processes_serve_many_deliveries(outpost):
    """qmgr keeps its smtp agent processes between deliveries (as Postfix's
    master does, up to max_use): messages sent one after another, each after
    the last was delivered, share one process and so one cached connection;
    with max_use = 2 each process serves two and a new one takes over."""
    from test_deliver_smtp import RawServer
    raw = RawServer("record")
    try:
        srv = start(outpost, f"raw.test smtp:[127.0.0.1]:{raw.port}\n",
                    "smtp_connection_cache_time_limit = 30s\n")
        one_at_a_time(srv, 4)
        assert raw.connections == 1, srv.log()
        assert [c.split()[0] for c in raw.commands].count("EHLO") == 1
        assert len(re.findall(r"reusing the connection to 127\.0\.0\.1", srv.log())) == 3
    finally:
        raw.stop()
    raw = RawServer("record")
    try:
        srv = start(outpost, f"raw.test smtp:[127.0.0.1]:{raw.port}\n",
                    "smtp_connection_cache_time_limit = 30s\nmax_use = 2\n")
        one_at_a_time(srv, 6)
        assert raw.connections == 3, srv.log()
        smtp_pids = set(re.findall(r"outpost/smtp\[(\d+)\]", srv.log()))
        assert len(smtp_pids) == 3, srv.log()
    finally:
        raw.stop()


def test_idle_agent_drops_its_cached_connection_then_exits(outpost):
    """An idle smtp process closes its cached connection after
    smtp_connection_cache_time_limit, and qmgr lets the process go after
    max_idle; the next message starts afresh."""
    from test_deliver_smtp import RawServer
    raw = RawServer("record")
    try:
        srv = start(outpost, f"raw.test smtp:[127.0.0.1]:{raw.port}\n",
                    "smtp_connection_cache_time_limit = 1s\nmax_idle = 3s\n")
        one_at_a_time(srv, 1)
        qmgr = qmgr_pid(srv)
        assert len(children(qmgr)) == 1
        # the server sees the connection end once the cache time is up
        assert wait_for(lambda: raw.commands and raw.commands[-1] == "RSET", timeout=5)
        time.sleep(2.5)
        assert len(children(qmgr)) == 1, "the process stays until max_idle"
        assert wait_for(lambda: children(qmgr) == [], timeout=10), "max_idle ends the process"
        one_at_a_time(srv, 1)
        assert raw.connections == 2
        assert "killed by signal" not in srv.log() and "status=deferred" not in srv.log()
    finally:
        raw.stop()


def test_agent_killed_mid_delivery_defers_then_delivers(outpost):
    """kill -9 of the smtp process during a delivery: its recipients are
    deferred (4.3.0, naming the signal), nothing is lost, and the next
    attempt, by a fresh process, delivers the message once."""
    from test_deliver_smtp import RawServer
    raw = RawServer("stall")
    try:
        srv = start(outpost, f"raw.test smtp:[127.0.0.1]:{raw.port}\n",
                    "smtp_data_done_timeout = 60s\n")
        qid = inject(srv, queue_file("alice@src.test", ["k@raw.test"], MSG))
        qmgr = qmgr_pid(srv)
        assert wait_for(lambda: raw.commands.count("DATA") == 1, timeout=10)
        (worker,) = children(qmgr)
        raw.mode = "record"
        os.kill(worker, signal.SIGKILL)
        srv.wait_log(rf"{qid}: to=<k@raw.test>, .*dsn=4\.3\.0, status=deferred "
                     rf"\(delivery agent smtp was killed by signal 9\)")
        srv.wait_log(rf"{qid}: to=<k@raw.test>, .*status=sent", timeout=30)
        srv.wait_log(rf"{qid}: removed")
        assert len(re.findall(rf"{qid}: to=<k@raw.test>, .*status=sent", srv.log())) == 1
    finally:
        raw.stop()
