"""socketmap: and tcp: tables against real peers on loopback.

The peers are small servers in this module (threads): a socketmap server on
127.0.0.1 and on a UNIX-domain socket, and a tcp_table(5) server. Their
answers are keyed by the lookup key (see SOCKETMAP and TCP below). Each case
runs `outpost map -q` and compares with what Postfix's postmap answered for
the same request (tests/fixtures/netmaps/socketmap.json; see netmap_util).
Also checked: requests on the wire (no case folding, %XX encoding, no
partial keys under --as), and that a restarted server is reconnected to.
"""
import os
import re
import shutil
import socket
import socketserver
import subprocess
import threading

import pytest

from conftest import OUTPOST
from netmap_util import Fixtures, MapSession, compare, scratch_dir

SOCKETMAP = {
    "alice": b"OK alice@mail",
    "Mixed": b"OK mixed case kept",
    "spaces": b"OK a b  c",
    "temp": b"TEMP busy",
    "timeout": b"TIMEOUT slow",
    "perm": b"PERM broken",
    "empty": b"OK ",
    "okbare": b"OK",
    "nf": b"NOTFOUND ",
    "nfbare": b"NOTFOUND",
    "weird": b"WHAT is this",
    "big": b"OK " + b"x" * 5000,
}
TCP = {
    "alice": b"200 alice@mail\n",
    "Mixed": b"200 mixed%20case%20kept\n",
    "enc": b"200 a%20b%2Cc%41\n",
    "crlf": b"200 crlf\r\n",
    "temp": b"400 busy\n",
    "perm": b"500 nope\n",
    "bad": b"300 what\n",
    "empty": b"200 \n",
    "nospace": b"200\n",
    "badenc": b"200 a%zz\n",
    "pct": b"200 100%\n",
}
requests = []          # every request the peers received, decoded
conns = []             # open peer connections, closed on "restart"


def netstring(b):
    return str(len(b)).encode() + b":" + b + b","


class SocketmapHandler(socketserver.StreamRequestHandler):
    def handle(self):
        conns.append(self.connection)
        while True:
            n = b""
            while not n.endswith(b":"):
                c = self.rfile.read(1)
                if not c:
                    return
                n += c
            req = self.rfile.read(int(n[:-1]))
            self.rfile.read(1)
            requests.append(req.decode("utf-8", "replace"))
            name, _, key = req.decode("utf-8", "replace").partition(" ")
            if key == "hangup":
                return
            if key == "garbage":
                self.wfile.write(b"xyz:")
                return
            reply = SOCKETMAP.get(key, b"NOTFOUND ") if name == "mymap" else b"PERM no such map"
            self.wfile.write(netstring(reply))


class TcpHandler(socketserver.StreamRequestHandler):
    def handle(self):
        conns.append(self.connection)
        for line in self.rfile:
            req = line.decode("utf-8", "replace").rstrip("\n")
            requests.append(req)
            key = req[4:]
            if key == "hangup":
                return
            self.wfile.write(TCP.get(key, b"500 not found\n"))


class Threaded(socketserver.ThreadingMixIn):
    daemon_threads = True
    allow_reuse_address = True


class TcpServer(Threaded, socketserver.TCPServer):
    pass


class UnixServer(Threaded, socketserver.UnixStreamServer):
    pass


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server):
    server.shutdown()
    server.server_close()
    while conns:
        c = conns.pop()
        try:
            c.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@pytest.fixture(scope="module")
def peers():
    d = scratch_dir("outpost-sockmap-")
    sm = serve(TcpServer(("127.0.0.1", 0), SocketmapHandler))
    tcp = serve(TcpServer(("127.0.0.1", 0), TcpHandler))
    unix = serve(UnixServer(os.path.join(d, "sm.sock"), SocketmapHandler))
    p = {"sm": f"socketmap:inet:127.0.0.1:{sm.server_address[1]}:mymap",
         "smunix": f"socketmap:unix:{d}/sm.sock:mymap",
         "smother": f"socketmap:inet:127.0.0.1:{sm.server_address[1]}:othermap",
         "tcp": f"tcp:127.0.0.1:{tcp.server_address[1]}",
         "tcpport": tcp.server_address[1], "smport": sm.server_address[1], "dir": d,
         "servers": {"sm": sm, "tcp": tcp}}
    yield p
    for s in (sm, tcp, unix):
        stop(s)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def fixtures():
    f = Fixtures("socketmap")
    yield f


SM_KEYS = ["alice", "ALICE", "Mixed", "spaces", "temp", "timeout", "perm", "empty", "okbare",
           "nf", "nfbare", "weird", "big", "unknown@example.com", "hangup", "garbage"]
TCP_KEYS = ["alice", "ALICE", "Mixed", "enc", "crlf", "temp", "perm", "bad", "empty", "nospace",
            "badenc", "pct", "a b%c", "x,y@z", "hangup"]


@pytest.mark.parametrize("key", SM_KEYS)
def test_socketmap_inet(peers, fixtures, key):
    compare(fixtures, f"socketmap inet: {key}", ["-q", key, peers["sm"]])


@pytest.mark.parametrize("key", ["alice", "Mixed", "temp", "nf"])
def test_socketmap_unix(peers, fixtures, key):
    compare(fixtures, f"socketmap unix: {key}", ["-q", key, peers["smunix"]])


def test_socketmap_other_name(peers, fixtures):
    compare(fixtures, "socketmap: the map name is sent", ["-q", "alice", peers["smother"]])


def test_socketmap_batch(peers, fixtures):
    compare(fixtures, "socketmap: -q - on one connection", ["-q", "-", peers["sm"]],
            stdin="alice\nnf\nMixed\n")


@pytest.mark.parametrize("key", TCP_KEYS)
def test_tcp(peers, fixtures, key):
    compare(fixtures, f"tcp: {key}", ["-q", key, peers["tcp"]])


def test_tcp_batch(peers, fixtures):
    compare(fixtures, "tcp: -q - on one connection", ["-q", "-", peers["tcp"]],
            stdin="alice\nperm\nenc\n")


def test_refused(fixtures):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()      # nothing listens there now
    compare(fixtures, "socketmap: connection refused",
            ["-q", "x", f"socketmap:inet:127.0.0.1:{port}:m"])
    compare(fixtures, "socketmap: no socket file",
            ["-q", "x", "socketmap:unix:/nonexistent/sm.sock:m"])


def test_wire_format(peers):
    """Keys go out unfolded, tcp: keys %XX-encoded, socketmap: as netstrings."""
    del requests[:]
    subprocess.run([OUTPOST, "map", "-q", "Jo Ann%@Example.COM", peers["tcp"]],
                   capture_output=True, timeout=30)
    subprocess.run([OUTPOST, "map", "-q", "Jo Ann@Example.COM", peers["sm"]],
                   capture_output=True, timeout=30)
    assert requests == ["get Jo%20Ann%25@Example.COM", "mymap Jo Ann@Example.COM"]


@pytest.mark.parametrize("table", ["sm", "tcp"])
def test_no_partial_keys(peers, table):
    """Pattern tables see the full address only, never @domain or user."""
    del requests[:]
    p = subprocess.run([OUTPOST, "map", "--as", "virtual", "-q", "nobody+ext@example.com",
                        peers[table]], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stderr
    keys = [r.split(" ", 1)[1] for r in requests]
    assert keys == ["nobody+ext@example.com"], keys


@pytest.mark.parametrize("table", ["sm", "tcp"])
def test_server_restart(peers, table):
    """The connection is kept between lookups; after the server restarts,
    the next lookup reconnects instead of failing."""
    server = peers["servers"][table]
    handler = SocketmapHandler if table == "sm" else TcpHandler
    with MapSession(peers[table]) as m:
        assert m.ask("alice") == "alice\talice@mail\n"
        stop(server)
        peers["servers"][table] = server = serve(TcpServer(server.server_address, handler))
        code, out, err = m.last("alice", timeout=30)
        assert (code, out) == (0, "alice\talice@mail\n"), err
    # the refreshed server keeps serving the other tests
    if table == "sm":
        peers["sm"] = f"socketmap:inet:127.0.0.1:{server.server_address[1]}:mymap"


def test_bad_names():
    for spec, want in [("socketmap:inet:127.0.0.1:9", r"bad endpoint"),
                       ("socketmap:nonsense", r"expected socketmap:inet:host:port:name"),
                       ("tcp:nonsense", r"bad endpoint")]:
        p = subprocess.run([OUTPOST, "map", "-q", "x", spec], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 1 and re.search(want, p.stderr), (spec, p.stderr)


def test_smtpd_access_table(peers, outpost):
    """Through the server: check_recipient_access on a socketmap: table
    rejects with the table's text, a TEMP answer becomes 451 4.3.5 (never
    a permit), and the table sees full addresses only."""
    SOCKETMAP["blocked@example.test"] = b"OK REJECT no thanks"
    SOCKETMAP["flaky@example.test"] = b"TEMP busy"
    srv = outpost(main={
        "smtpd_recipient_restrictions":
            f"check_recipient_access {peers['sm']}, permit_auth_destination, reject",
        "local_recipient_maps": ""})
    del requests[:]
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.mail("sender@remote.example")
        code, text = s.rcpt("blocked@example.test")
        assert code == 554 and b"no thanks" in text, (code, text)
        code, text = s.rcpt("flaky@example.test")
        assert code == 451 and b"4.3.5" in text, (code, text)
        code, text = s.rcpt("someone@example.test")
        assert code == 250, (code, text)
    keys = [r.split(" ", 1)[1] for r in requests]
    assert keys == ["blocked@example.test", "flaky@example.test", "someone@example.test"], keys
