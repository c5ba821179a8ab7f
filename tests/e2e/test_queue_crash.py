"""Crash safety: 500 messages from 10 concurrent SMTP clients, every Outpost
process killed with SIGKILL midway (all stopped first, so the kill is one
instant for the whole system), a restart, and then every message that got
a 250 must reach the next hop (an aiosmtpd sink). Clients retry what did
not get its 250, as real clients do.

Duplicates are counted and reported: a message can arrive twice when the
client resent it because the 250 was lost in the crash (ordinary SMTP), or
when a delivery was in flight at the kill (the queue file did not yet say
"done"). Only the second kind is the queue's doing; it is bounded by the
number of deliveries that can run at once.
"""
import glob
import os
import re
import signal
import smtplib
import threading
import time

import pytest

from conftest import ROOT, free_port

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

HAVE_CLEANUP = bool(glob.glob(os.path.join(ROOT, "src", "cleanup", "*.c")))
CLIENTS, PER_CLIENT = 10, 50


class CountingSink:
    def __init__(self):
        self.seen = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        m = re.search(rb"^Message-ID: <([^>]+)>", envelope.original_content or envelope.content,
                      re.M | re.I)
        key = m.group(1).decode() if m else "?"
        with self.lock:
            self.seen[key] = self.seen.get(key, 0) + 1
        return "250 2.0.0 Ok"


def descendants(pid):
    """pid and every process below it, from /proc."""
    children = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def kill_everything(master_pid):
    pids = descendants(master_pid)
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
    return len(pids)


class Client(threading.Thread):
    def __init__(self, n, port_of, deadline):
        super().__init__(daemon=True)
        self.n, self.port_of, self.deadline = n, port_of, deadline
        self.acked, self.sent = set(), {}

    def run(self):
        i = 0
        while i < PER_CLIENT and time.time() < self.deadline:
            mid = f"crash-{self.n}-{i}@client.test"
            body = (f"From: c{self.n}@client.test\r\nTo: sink@sink.test\r\n"
                    f"Message-ID: <{mid}>\r\nSubject: crash {self.n}/{i}\r\n\r\n" + ("x" * 70 + "\r\n") * 30)
            self.sent[mid] = self.sent.get(mid, 0) + 1
            try:
                with smtplib.SMTP("127.0.0.1", self.port_of(), timeout=20) as s:
                    s.sendmail(f"c{self.n}@client.test", ["sink@sink.test"], body)
                self.acked.add(mid)
                i += 1
            except (OSError, smtplib.SMTPException):
                time.sleep(0.2)  # server down or mid-crash: try this one again


@pytest.mark.skipif(not HAVE_CLEANUP, reason="needs smtpd + cleanup (not built yet)")
def test_kill9_everything_midway(outpost):
    sink = CountingSink()
    sink_port = free_port()
    ctl = aiosmtpd.Controller(sink, hostname="127.0.0.1", port=sink_port)
    ctl.start()
    try:
        srv = outpost(main=("mynetworks = 127.0.0.0/8\n"
                            "transport_maps = texthash:{dir}/transport\n"
                            "minimal_backoff_time = 1s\nmaximal_backoff_time = 2s\n"
                            "queue_run_delay = 1s\n"),
                      master=("127.0.0.1:{smtp} inet n - n - - smtpd\n"
                              "qmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n"),
                      files={"transport": f"sink.test smtp:[127.0.0.1]:{sink_port}\n"})
        clients = [Client(n, lambda: srv.port, time.time() + 240) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        while sum(len(c.acked) for c in clients) < (CLIENTS * PER_CLIENT) // 3:
            time.sleep(0.01)
        acked_at_kill = sum(len(c.acked) for c in clients)
        killed = kill_everything(srv.proc.pid)
        srv.proc.wait()
        time.sleep(0.5)
        srv.start()
        for c in clients:
            c.join(timeout=240)
        acked = set().union(*(c.acked for c in clients))
        assert len(acked) == CLIENTS * PER_CLIENT, "clients could not finish after the restart"
        end = time.time() + 120
        while time.time() < end and not acked.issubset(sink.seen):
            time.sleep(0.2)
        missing = sorted(acked - set(sink.seen))
        resent = {m for c in clients for m, n in c.sent.items() if n > 1}
        dups = {m: n for m, n in sink.seen.items() if n > 1}
        queue_dups = {m for m in dups if m not in resent}
        print(f"\ncrash test: {acked_at_kill} acknowledged before the kill of {killed} processes; "
              f"{len(acked)} acknowledged in all; {len(missing)} missing; "
              f"{len(dups)} duplicates ({len(dups) - len(queue_dups)} after a client resend, "
              f"{len(queue_dups)} from deliveries in flight at the kill)")
        if missing:
            print("\n".join(srv.log().splitlines()[-60:]))
        assert not missing, f"acknowledged but never delivered: {missing[:10]}"
        assert len(queue_dups) <= 100, "more duplicates than deliveries that can be in flight"
    finally:
        ctl.stop()
