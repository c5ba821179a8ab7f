"""Shared fixtures for Outpost's end-to-end tests.

Every test that needs a running server uses the `outpost` fixture, a factory:

    def test_x(outpost):
        srv = outpost(main={"smtpd_recipient_limit": "2"})
        with srv.smtp() as s:          # smtplib.SMTP to the "smtp" service
            s.ehlo("client.example")
        srv.wait_log(r"disconnect from")

What it does:
  * makes a private configuration directory (main.cf + master.cf) under
    pytest's tmp_path, with queue_directory, data_directory and
    maillog_file inside it, mail_owner = the user running the tests, and
    loopback-only listeners;
  * picks free TCP ports on 127.0.0.1 for the named services
    ("smtp", "submission", "smtps" by default; ask for more with
    ports=[...]); master.cf text may use "{smtp}", "{submission}", … and
    "{dir}" placeholders;
  * runs `$OUTPOST_BUILD/src/cli/outpost start -f -c DIR`, waits until the
    smtp port (or `wait_port`) accepts connections, and stops the master
    with SIGTERM at the end of the test (SIGKILL after 10 s).

main= takes a dict (merged over the defaults below) or a string appended to
main.cf. files= writes extra files into the config directory
({"passwd": "alice $6$..."}); srv.path("passwd") gives their path.
wait_log=REGEX waits for a log line instead of a port (for instances
without smtpd). Helpers: free_port(), wait_port(), fill_filesystem(), Outpost.log(), Outpost.wait_log(regex),
Outpost.smtp(service), Outpost.raw(service) (a plain socket with
recv_reply()/send()), which other helpers' tests may reuse.
"""
import getpass
import os
import re
import resource
import signal
import socket
import smtplib
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")

# Many-session tests need descriptors; children inherit this limit.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft < min(_hard, 65536):
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(_hard, 65536), _hard))

DEFAULT_MAIN = {
    "myhostname": "mx.example.test",
    "mydomain": "example.test",
    "myorigin": "$mydomain",
    "mydestination": "$myhostname, localhost, example.test",
    "inet_interfaces": "127.0.0.1",
    # The test client (127.0.0.1) is NOT a trusted network unless a test says so.
    "mynetworks": "192.0.2.0/24",
    "smtpd_peername_lookup": "no",
    "local_recipient_maps": "",
    "alias_maps": "",
    "alias_database": "",
}


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, host="127.0.0.1"):
    """Wait until host:port accepts a connection; raise on timeout."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def fill_filesystem(path, leave=100 * 1024):
    """Fill the file system of path with the file path, then free leave
    bytes of it again: writes larger than that fail with ENOSPC."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"x" * 65536) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
    os.truncate(path, max(os.path.getsize(path) - leave, 0))


DNSMASQ = "/usr/sbin/dnsmasq"


def start_dnsmasq(*records):
    """dnsmasq on a free loopback port serving only the given records
    (dnsmasq options such as "--address=/x.test/127.0.0.1",
    "--mx-host=x.test,mx.x.test,10"). Returns (process, "127.0.0.1:PORT")
    for dns_servers; the caller terminates the process."""
    err = ""
    for _ in range(5):  # another test may take the port between probe and bind
        port = free_port()
        p = subprocess.Popen([DNSMASQ, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
                              "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root",
                              *records], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        if p.poll() is None:
            return p, f"127.0.0.1:{port}"
        err = p.stderr.read().decode()
    raise RuntimeError("dnsmasq did not start: " + err)


class RawClient:
    """A plain socket speaking SMTP by hand (for what smtplib will not send)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def recv_line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line.decode(errors="replace")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def recv_reply(self):
        """One (possibly multi-line) reply as (code, [lines]); code 0 at EOF."""
        lines = []
        while True:
            line = self.recv_line()
            if not line:
                return (0, lines)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), lines)

    def closed(self, timeout=5):
        """True once the server has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class Outpost:
    """One Outpost instance with its own configuration directory."""

    def __init__(self, root, main=None, master=None, files=None, ports=None,
                 wait_port=None, wait_log=None):
        self.dir = str(root)
        os.makedirs(self.dir, exist_ok=True)
        self.ports = {name: free_port() for name in (ports or ["smtp", "submission", "smtps"])}
        self.port = self.ports.get("smtp")
        self.logfile = os.path.join(self.dir, "maillog")
        self.proc = None
        self._wait = wait_port
        self._wait_log = wait_log   # a log regex instead of a port (no smtpd)
        for name, text in (files or {}).items():
            with open(self.path(name), "w") as f:
                f.write(text)
        conf = dict(DEFAULT_MAIN)
        conf.update({
            "queue_directory": os.path.join(self.dir, "queue"),
            "data_directory": os.path.join(self.dir, "data"),
            "maillog_file": self.logfile,
            "mail_owner": getpass.getuser(),
        })
        extra = ""
        if isinstance(main, dict):
            conf.update(main)
        elif main:
            extra = main
        with open(self.path("main.cf"), "w") as f:
            for k, v in conf.items():
                f.write(f"{k} = {self.fmt(str(v))}\n")
            f.write(self.fmt(extra) + "\n")
        if master is None:
            master = "127.0.0.1:{smtp} inet n - n - - smtpd\n"
        with open(self.path("master.cf"), "w") as f:
            f.write(self.fmt(master))

    def fmt(self, text):
        """Replace {dir} and {PORTNAME}; leave every other brace alone
        (Postfix values such as ${name?{x}} or inline:{...})."""
        if not text:
            return ""
        subst = dict(self.ports, dir=self.dir)
        return re.sub(r"\{(\w+)\}", lambda m: str(subst.get(m.group(1), m.group(0))), text)

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self):
        seen = len(self.log())
        self.proc = subprocess.Popen([OUTPOST, "start", "-f", "-c", self.dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            if self._wait_log:   # a new line: not one from an earlier run
                self.wait_log(self._wait_log, timeout=15, since=seen)
            else:
                wait_port(self._wait or self.port, timeout=15)
        except (TimeoutError, AssertionError):
            self.stop()
            out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
            raise RuntimeError(f"outpost did not start:\n{out}\n{self.log()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, since=0):
        """Wait for a log line matching the regex (in the log after byte
        offset `since`); return the match."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while time.time() < end:
            m = rx.search(self.log()[since:])
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"no log line matches {pattern!r}; log:\n{self.log()}")

    def smtp(self, service="smtp", timeout=10):
        return smtplib.SMTP("127.0.0.1", self.ports[service], timeout=timeout)

    def raw(self, service="smtp", timeout=10):
        return RawClient(self.ports[service], timeout=timeout)


@pytest.fixture
def outpost(tmp_path):
    """Factory: outpost(main=..., master=..., files=...) -> a started Outpost."""
    started = []

    def make(**kw):
        srv = Outpost(tmp_path / f"outpost{len(started)}", **kw)
        started.append(srv)
        return srv.start()

    yield make
    for srv in started:
        srv.stop()
