"""`outpost start/stop/reload/status`: the master's life cycle.

Each test writes a configuration into a temporary directory (queue,
pid file and log inside it, services on a free loopback port), starts the
master and checks what a Postfix user expects of `postfix start/stop/
reload/status`.
"""
import getpass
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.test
queue_directory = {d}/queue
maillog_file = {d}/maillog
mail_owner = {user}
inet_interfaces = loopback-only
inet_protocols = ipv4
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""


class Conf:
    def __init__(self, path):
        self.dir = str(path)
        self.port = free_port()
        self.write()

    def write(self, extra=""):
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(d=self.dir, user=getpass.getuser()) + extra)
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))

    @property
    def pidfile(self):
        return os.path.join(self.dir, "queue", "pid", "master.pid")

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def run(self, *args):
        return subprocess.run([OUTPOST] + list(args) + ["-c", self.dir], capture_output=True,
                              text=True, timeout=30)


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def conf(tmp_path):
    return Conf(tmp_path)


@pytest.fixture
def master(conf):
    p = subprocess.Popen([OUTPOST, "start", "-f", "-c", conf.dir], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: os.path.exists(conf.pidfile) and "daemon started" in conf.log()), \
        conf.log()
    yield p
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_foreground_lifecycle(conf, master):
    with open(conf.pidfile) as f:
        assert int(f.read()) == master.pid
    st = conf.run("status")
    assert st.returncode == 0
    assert str(master.pid) in st.stdout
    assert "daemon started -- version" in conf.log()
    assert "outpost/master[%d]" % master.pid in conf.log()

    # An smtpd service listens once Outpost implements smtpd; the log says so.
    where = "listening on 127.0.0.1:%d" % conf.port
    if where in conf.log():
        socket.create_connection(("127.0.0.1", conf.port), timeout=5).close()

    master.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload -- version" in conf.log())
    assert master.poll() is None

    master.send_signal(signal.SIGTERM)
    assert master.wait(timeout=15) == 0
    assert "terminating on signal 15" in conf.log()
    assert not os.path.exists(conf.pidfile)
    assert conf.run("status").returncode == 1


def test_ctrl_c_stops_cleanly(conf, master):
    master.send_signal(signal.SIGINT)
    assert master.wait(timeout=15) == 0
    assert "terminating on signal 2" in conf.log()
    assert not os.path.exists(conf.pidfile)


def test_bad_reload_keeps_running(conf, master):
    conf.write("smtpd_tls_auth_only = maybe\n")
    assert conf.run("reload").returncode == 0
    assert wait_for(lambda: "keeping the running configuration" in conf.log())
    assert "bad boolean value \"maybe\"" in conf.log()
    assert master.poll() is None
    assert conf.run("status").returncode == 0
    conf.write()
    assert conf.run("stop").returncode == 0
    assert master.wait(timeout=15) == 0


def test_refuses_broken_config(conf):
    conf.write("smtpd_timeout = 10x\nno equals sign here\n")
    p = conf.run("start", "-f")
    assert p.returncode == 1
    assert "main.cf:8: parameter smtpd_timeout: bad time value \"10x\"" in p.stderr
    assert "main.cf:9: missing '='" in p.stderr
    assert "not started" in p.stderr
    assert not os.path.exists(conf.pidfile)


def test_refuses_unknown_service_type(conf):
    with open(os.path.join(conf.dir, "master.cf"), "a") as f:
        f.write("oops tcp n - n - - smtpd\n")
    p = conf.run("start", "-f")
    assert p.returncode == 1
    assert "master.cf:5: unknown service type \"tcp\"" in p.stderr


def test_second_start_refused(conf, master):
    p = conf.run("start", "-f")
    assert p.returncode == 1
    assert "already running (pid %d)" % master.pid in p.stderr
    assert master.poll() is None


def test_background_start_stop(conf):
    p = conf.run("start")
    assert p.returncode == 0, p.stderr
    # start returns once the daemon's pid file is there: no waiting needed
    assert conf.run("status").returncode == 0
    with open(conf.pidfile) as f:
        pid = int(f.read())
    s = conf.run("stop")
    assert s.returncode == 0, s.stderr
    assert "stopped" in s.stderr
    assert conf.run("status").returncode == 1
    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
    assert wait_for(gone, 5)


def test_unknown_parameter_warned_at_start(conf):
    conf.write("smtp_helo_restrictions = reject\n")
    p = subprocess.Popen([OUTPOST, "start", "-f", "-c", conf.dir], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: "daemon started" in conf.log())
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
        assert p.returncode == 0
        assert "unused parameter: smtp_helo_restrictions=reject; did you mean " \
               "smtpd_helo_restrictions?" in err
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=15)


def test_stock_debian_master_cf(conf):
    """Debian's master.cf (recorded in tests/fixtures/postconf/conf) starts
    as it is, apart from the listening addresses: the Postfix-internal
    services are skipped and noted, never errors."""
    with open(os.path.join(ROOT, "tests", "fixtures", "postconf", "conf", "master.cf")) as f:
        lines = f.read().splitlines(True)
    out, skip = [], False
    for line in lines:
        if line.startswith(("submission ", "submissions ", "127.0.0.1:10025 ")):
            skip = True
            continue
        if skip and line[:1] in (" ", "\t"):
            continue
        skip = False
        if line.startswith("smtp      inet"):
            line = line.replace("smtp      inet", "127.0.0.1:%d inet" % conf.port, 1)
        out.append(line)
    with open(os.path.join(conf.dir, "master.cf"), "w") as f:
        f.write("".join(out))
    p = subprocess.Popen([OUTPOST, "start", "-f", "-c", conf.dir], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: "daemon started" in conf.log()), p.stderr.read() if p.poll() else ""
        assert wait_for(lambda: "not run as separate processes" in conf.log())
        noted = [l for l in conf.log().splitlines() if "not run as separate processes" in l][0]
        for cmd in ("tlsmgr", "trivial-rewrite", "bounce", "proxymap", "anvil", "scache"):
            assert cmd in noted
        assert p.poll() is None
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=15)
        assert p.returncode == 0
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=15)


def test_bare_port_uses_inet_interfaces(conf):
    with open(os.path.join(conf.dir, "master.cf"), "w") as f:
        f.write("%d inet n - n - - smtpd\n" % conf.port)
    p = subprocess.Popen([OUTPOST, "start", "-f", "-c", conf.dir], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: "daemon started" in conf.log())
        # loopback-only with ipv4: exactly 127.0.0.1
        assert wait_for(lambda: "listening on 127.0.0.1:%d" % conf.port in conf.log())
        assert "0.0.0.0:%d" % conf.port not in conf.log()
        socket.create_connection(("127.0.0.1", conf.port), timeout=5).close()
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=15)
        assert p.returncode == 0
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=15)


def test_unknown_port_name_refused(conf):
    with open(os.path.join(conf.dir, "master.cf"), "w") as f:
        f.write("no-such-service-name inet n - n - - smtpd\n")
    p = conf.run("start", "-f")
    assert p.returncode == 1
    assert "master.cf:1: service no-such-service-name/inet: unknown port or service name" in p.stderr
    assert not os.path.exists(conf.pidfile)


def test_address_in_use_refused(conf):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", conf.port))
    s.listen(1)
    try:
        p = conf.run("start")
        assert p.returncode == 1
        assert "cannot listen on 127.0.0.1:%d" % conf.port in p.stderr
        assert conf.run("status").returncode == 1
    finally:
        s.close()
