"""DNS restrictions (c-ares on the event loop) against records served by a
dnsmasq started on loopback: reject_unknown_*_domain, reject_unknown_helo_hostname,
reject_rbl_client with and without a reply filter, reject_rhsbl_sender,
permit_dnswl_client, and a failing name server (temporary, never a permit).
"""
import os
import shutil
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

pytestmark = pytest.mark.skipif(not os.path.exists(DNSMASQ), reason="dnsmasq not installed")


def outpost():
    build = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
    return os.path.join(build, "src", "cli", "outpost")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_port_both():
    """A port free for UDP and TCP alike (dnsmasq binds both)."""
    for _ in range(20):
        port = free_port()
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def dns():
    err = ""
    for _ in range(5):	# another test may grab the port between probe and bind
        port = free_port_both()
        args = [DNSMASQ, "--no-daemon", f"--port={port}", "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root",
                "--local=/test/",
                "--address=/exists.test/192.0.2.10",
                "--mx-host=mxonly.test,mail.exists.test,10",
                "--address=/99.2.0.192.rbl.test/127.0.0.2",
                "--txt-record=99.2.0.192.rbl.test,Listed for testing",
                "--address=/spam.test.dbl.test/127.0.1.2",
                "--address=/98.2.0.192.wl.test/127.0.0.2",
                "--mx-host=bogon.test,mx.bogon.test,10",
                "--address=/mx.bogon.test/10.1.2.3",
                "--mx-host=badmx.test,mail.badmx.test,10",
                "--address=/mail.badmx.test/192.0.2.40",
                "--mx-host=okmx.test,mx.okmx.test,10",
                "--address=/mx.okmx.test/10.1.2.4",
                "--address=/abogon.test/10.9.9.9"]
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        if p.poll() is None:
            break
        err = p.stderr.read().decode()
    else:
        pytest.fail("dnsmasq did not start: " + err)
    yield f"127.0.0.1:{port}"
    p.terminate()
    p.wait()


def run(tmp_path, dns_servers, restrictions, steps):
    script = tmp_path / "t.script"
    script.write_text(f"""config
  compatibility_level = 3.6
  myhostname = mail.example.com
  mydomain = example.com
  mydestination = $myhostname, localhost, example.com
  local_recipient_maps =
  dns_servers = {dns_servers}
  {restrictions}
end
""" + "\n".join(steps) + "\n")
    p = subprocess.run([outpost(), "explain", "--script", str(script)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = [l.strip() for l in p.stdout.splitlines() if l.startswith("  ")]
    return lines


def test_unknown_sender_domain(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_sender_restrictions = reject_unknown_sender_domain",
            ["client 192.0.2.1", "ehlo x.test", "mail <a@exists.test>", "rcpt <u@example.com>",
             "rset", "mail <a@mxonly.test>", "rcpt <u@example.com>",
             "rset", "mail <a@nowhere.test>", "rcpt <u@example.com>",
             "rset", "mail <>", "rcpt <u@example.com>"])
    assert r[3] == "250 2.1.5 Ok"
    assert r[6] == "250 2.1.5 Ok"
    assert r[9] == "450 4.1.8 <a@nowhere.test>: Sender address rejected: Domain not found"
    assert r[12] == "250 2.1.5 Ok"


def test_unknown_recipient_domain_skips_local(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_relay_restrictions =\n"
            "  smtpd_recipient_restrictions = reject_unknown_recipient_domain,"
            " permit_auth_destination, reject",
            ["client 192.0.2.1", "ehlo x.test", "mail <a@exists.test>",
             "rcpt <u@example.com>", "rcpt <u@nowhere.test>"])
    assert r[3] == "250 2.1.5 Ok"
    assert r[4] == "450 4.1.2 <u@nowhere.test>: Recipient address rejected: Domain not found"


def test_unknown_helo(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_helo_restrictions = reject_unknown_helo_hostname",
            ["client 192.0.2.1", "ehlo exists.test", "mail <a@b.example>", "rcpt <u@example.com>",
             "ehlo nowhere.test", "mail <a@b.example>", "rcpt <u@example.com>"])
    assert r[3] == "250 2.1.5 Ok"
    assert r[6] == "450 4.7.1 <nowhere.test>: Helo command rejected: Host not found"


def test_rbl_client(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_client_restrictions = reject_rbl_client rbl.test",
            ["client 192.0.2.99", "ehlo x.test", "mail <a@b.example>", "rcpt <u@example.com>",
             "session", "client 192.0.2.98", "ehlo x.test", "mail <a@b.example>",
             "rcpt <u@example.com>"])
    assert r[3] == ("554 5.7.1 Service unavailable; Client host [192.0.2.99] blocked using "
                    "rbl.test; Listed for testing")
    assert r[7] == "250 2.1.5 Ok"


def test_rbl_filter(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_client_restrictions = reject_rbl_client rbl.test=127.0.0.[3..5],"
            " reject_rbl_client rbl.test=127.0.0.2",
            ["client 192.0.2.99", "ehlo x.test", "mail <a@b.example>", "rcpt <u@example.com>"])
    assert r[3].startswith("554 5.7.1 Service unavailable; Client host [192.0.2.99] blocked using rbl.test")


def test_rhsbl_sender_and_dnswl(tmp_path, dns):
    r = run(tmp_path, dns, "smtpd_client_restrictions = permit_dnswl_client wl.test,"
            " reject_rhsbl_sender dbl.test",
            ["client 192.0.2.1", "ehlo x.test", "mail <x@spam.test>", "rcpt <u@example.com>",
             "session", "client 192.0.2.98", "ehlo x.test", "mail <x@spam.test>",
             "rcpt <u@example.com>"])
    assert r[3] == ("554 5.7.1 Service unavailable; Sender address [x@spam.test] blocked using "
                    "dbl.test")
    assert r[7] == "250 2.1.5 Ok"


def test_dead_name_server_is_temporary(tmp_path):
    port = free_port()
    r = run(tmp_path, f"127.0.0.1:{port}", "smtpd_sender_restrictions = reject_unknown_sender_domain",
            ["client 192.0.2.1", "ehlo x.test", "mail <a@exists.test>", "rcpt <u@example.com>"])
    assert r[3] == "450 4.1.8 <a@exists.test>: Sender address rejected: Domain not found"


def test_client_gone_while_dns_waits(outpost):
    """A name server that never answers; the client leaves during the lookup.
    The run is cancelled; when c-ares gives up later nothing is touched."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        srv = outpost(main={"dns_servers": f"127.0.0.1:{port}",
                            "smtpd_sender_restrictions": "reject_unknown_sender_domain"})
        with srv.raw("smtp") as c:
            assert c.recv_reply()[0] == 220
            c.send("EHLO c.example\r\n")
            assert c.recv_reply()[0] == 250
            c.send("MAIL FROM:<a@somewhere.test>\r\n")
            assert c.recv_reply()[0] == 250
            c.send("RCPT TO:<u@example.test>\r\n")
            time.sleep(0.5)
        time.sleep(11)	# c-ares: 2 tries of 5 s, then the (dropped) answer
        with srv.raw("smtp") as c:
            assert c.recv_reply()[0] == 220
            c.send("EHLO c.example\r\n")
            assert c.recv_reply()[0] == 250
        log = srv.log()
        assert "AddressSanitizer" not in log and "panic" not in log, log
    finally:
        silent.close()


def test_mx_and_a_access(tmp_path, dns):
    """check_sender_mx_access / check_sender_a_access: MX host names and
    addresses, the domain's own addresses; OK from such a table is ignored."""
    (tmp_path / "bogons").write_text("10.1.2 REJECT MX in a private network\n"
                                     "mail.badmx.test REJECT bad MX host\n"
                                     "mx.okmx.test OK\n"
                                     "10.9.9.9 REJECT address in a private network\n")
    r = run(tmp_path, dns, f"smtpd_sender_restrictions = check_sender_mx_access "
            f"texthash:{tmp_path}/bogons, check_sender_a_access texthash:{tmp_path}/bogons",
            ["client 192.0.2.1", "ehlo x.test", "mail <a@bogon.test>", "rcpt <u@example.com>",
             "rset", "mail <a@badmx.test>", "rcpt <u@example.com>",
             "rset", "mail <a@okmx.test>", "rcpt <u@example.com>",
             "rset", "mail <a@abogon.test>", "rcpt <u@example.com>",
             "rset", "mail <a@exists.test>", "rcpt <u@example.com>"])
    assert r[3] == "554 5.7.1 <a@bogon.test>: Sender address rejected: MX in a private network"
    assert r[6] == "554 5.7.1 <a@badmx.test>: Sender address rejected: bad MX host"
    # OK is not allowed: the MX host's address 10.1.2.4 still matches "10.1.2"
    assert r[9] == "554 5.7.1 <a@okmx.test>: Sender address rejected: MX in a private network"
    assert r[12] == "554 5.7.1 <a@abogon.test>: Sender address rejected: address in a private network"
    assert r[15] == "250 2.1.5 Ok"
