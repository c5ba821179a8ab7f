"""check_policy_service: the SMTPD_POLICY_README protocol against a small
policy server written here (exact attributes, persistent connection,
timeouts and retries, default_action) and against Debian's postgrey.
"""
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POSTGREY = shutil.which("postgrey") or "/usr/sbin/postgrey"


def outpost():
    build = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
    return os.path.join(build, "src", "cli", "outpost")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PolicyServer:
    """Answers by the recipient's local part; records every request."""

    def __init__(self):
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        while True:
            attrs = {}
            order = []
            while True:
                line = f.readline()
                if not line:
                    c.close()
                    return
                line = line.decode().rstrip("\n")
                if line == "":
                    break
                name, _, value = line.partition("=")
                attrs[name] = value
                order.append(name)
            self.requests.append(attrs)
            rcpt = attrs.get("recipient", "")
            local = rcpt.split("@")[0]
            if local == "hangup":
                c.close()
                return
            if local == "slow":
                time.sleep(2.5)
            action = {
                "blocked": "REJECT blocked by policy",
                "greylist": "DEFER_IF_PERMIT Service temporarily unavailable",
                "held": "HOLD policy hold",
                "noaction": None,
            }.get(local, "DUNNO")
            if action is None:
                c.sendall(b"result=nothing\n\n")
            else:
                c.sendall(f"action={action}\n\n".encode())


def explain(tmp_path, config, steps):
    script = tmp_path / "t.script"
    script.write_text("config\n  compatibility_level = 3.6\n  myhostname = mail.example.com\n"
                      "  mydomain = example.com\n  mydestination = $myhostname, localhost, example.com\n"
                      "  local_recipient_maps =\n" + "".join(f"  {c}\n" for c in config) +
                      "end\n" + "\n".join(steps) + "\n")
    p = subprocess.run([outpost(), "explain", "--script", str(script)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def replies(out):
    return [l.strip() for l in out.splitlines() if l.startswith("  ") and not l.startswith("  +")]


@pytest.fixture
def server():
    return PolicyServer()


def test_attributes_and_persistence(tmp_path, server):
    out = explain(tmp_path, [
        "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:%d, "
        "policy_context=submission }, permit_mynetworks, reject_unauth_destination" % server.port],
        ["client 192.0.2.7 client.example.net", "sasl alice", "ehlo client.example.net",
         "mail <alice@example.com>", "rcpt <bob@example.com>", "rcpt <carol@example.com>",
         "rcpt <blocked@example.com>"])
    r = replies(out)
    assert r[-1] == "554 5.7.1 <blocked@example.com>: Recipient address rejected: blocked by policy"
    assert r[-2] == "250 2.1.5 Ok" and r[-3] == "250 2.1.5 Ok"
    assert server.connections == 1, "one persistent connection for the whole session"
    req = server.requests[0]
    assert req["request"] == "smtpd_access_policy"
    assert req["protocol_state"] == "RCPT"
    assert req["protocol_name"] == "ESMTP"
    assert req["helo_name"] == "client.example.net"
    assert req["sender"] == "alice@example.com"
    assert req["recipient"] == "bob@example.com"
    assert req["recipient_count"] == "0"
    assert req["client_address"] == "192.0.2.7"
    assert req["client_name"] == "client.example.net"
    assert req["reverse_client_name"] == "client.example.net"
    assert req["sasl_method"] == "PLAIN" and req["sasl_username"] == "alice"
    assert req["policy_context"] == "submission"
    assert req["compatibility_level"] == "3.6"
    for name in ("queue_id", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
                 "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher",
                 "encryption_keysize", "etrn_domain", "stress", "client_port", "server_address",
                 "server_port", "mail_version", "instance", "sasl_sender"):
        assert name in req, name
    # one instance per message
    assert len({q["instance"] for q in server.requests}) == 1


def test_defer_if_permit_and_hold(tmp_path, server):
    out = explain(tmp_path, [
        f"smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:{server.port},"
        " permit_mynetworks, reject_unauth_destination"],
        ["client 192.0.2.7", "ehlo c.example", "mail <a@remote.example>",
         "rcpt <greylist@example.com>", "rcpt <held@example.com>"])
    r = replies(out)
    assert r[-2] == ("450 4.7.1 <greylist@example.com>: Recipient address rejected: "
                     "Service temporarily unavailable")
    assert r[-1] == "250 2.1.5 Ok"
    assert "+ hold: policy hold" in out


def test_timeout_retry_then_default_action(tmp_path, server):
    out = explain(tmp_path, [
        "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:%d, timeout=1s,"
        " try_limit=2, retry_delay=0s, { default_action = 451 4.3.5 Policy service down } },"
        " reject_unauth_destination" % server.port],
        ["client 192.0.2.7", "ehlo c.example", "mail <a@remote.example>",
         "rcpt <slow@example.com>", "rcpt <hangup@example.com>", "rcpt <noaction@example.com>",
         "rcpt <fine@example.com>"])
    r = replies(out)
    assert r[3] == "451 4.3.5 <slow@example.com>: Recipient address rejected: Policy service down"
    assert r[4] == "451 4.3.5 <hangup@example.com>: Recipient address rejected: Policy service down"
    assert r[5] == "451 4.3.5 <noaction@example.com>: Recipient address rejected: Policy service down"
    assert r[6] == "250 2.1.5 Ok"
    # each failing request was tried twice
    assert sum(1 for q in server.requests if q.get("recipient") == "hangup@example.com") == 2


def test_dead_server_default_is_tempfail(tmp_path):
    port = free_port()
    out = explain(tmp_path, [
        f"smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:{port},"
        " reject_unauth_destination", "smtpd_policy_service_retry_delay = 0s"],
        ["client 192.0.2.7", "ehlo c.example", "mail <a@remote.example>", "rcpt <u@example.com>"])
    assert replies(out)[-1] == ("451 4.3.5 <u@example.com>: Recipient address rejected: "
                                "Server configuration problem")


def test_bad_option_is_a_config_error(tmp_path):
    script = tmp_path / "t.script"
    script.write_text("config\n  smtpd_recipient_restrictions = check_policy_service "
                      "{ inet:127.0.0.1:1, timeout=soon }, reject\nend\nclient 192.0.2.1\n")
    p = subprocess.run([outpost(), "explain", "--script", str(script)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2
    assert "smtpd_recipient_restrictions: check_policy_service" in p.stderr
    assert "timeout: bad time \"soon\"" in p.stderr


@pytest.mark.skipif(not os.path.exists(POSTGREY), reason="postgrey not installed")
def test_postgrey(tmp_path):
    port = free_port()
    db = tmp_path / "db"
    db.mkdir()
    pg = subprocess.Popen([POSTGREY, f"--inet=127.0.0.1:{port}", f"--dbdir={db}", "--delay=1",
                           "--user=root", "--group=root", "--max-age=1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        cfg = [f"smtpd_recipient_restrictions = reject_unauth_destination,"
               f" check_policy_service inet:127.0.0.1:{port}"]
        steps = ["client 192.0.2.50 sender.example.net", "ehlo sender.example.net",
                 "mail <news@sender.example.net>", "rcpt <user@example.com>"]
        first = replies(explain(tmp_path, cfg, steps))[-1]
        assert first.startswith("450 4.2.0 <user@example.com>: Recipient address rejected: "
                                "Greylisted") or first.startswith(
            "450 4.7.1 <user@example.com>: Recipient address rejected: Greylisted"), first
        time.sleep(2.2)
        out = explain(tmp_path, cfg, steps)
        assert replies(out)[-1] == "250 2.1.5 Ok"
        assert "+ prepend: X-Greylist: delayed" in out
    finally:
        pg.terminate()
        pg.wait()


def test_request_limit_reconnects(tmp_path, server):
    """request_limit=1: a fresh connection for every request."""
    explain(tmp_path, [
        "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:%d, "
        "request_limit=1 }, permit_mynetworks, reject_unauth_destination" % server.port],
        ["client 192.0.2.7", "ehlo c.example", "mail <a@remote.example>",
         "rcpt <one@example.com>", "rcpt <two@example.com>", "rcpt <three@example.com>"])
    assert len(server.requests) == 3
    assert server.connections == 3


def test_policy_in_client_list_at_rcpt(tmp_path, server):
    """With smtpd_delay_reject (default) a client-list policy call happens
    at RCPT, names the recipient, and refuses as "Client host"."""
    out = explain(tmp_path, [
        f"smtpd_client_restrictions = check_policy_service inet:127.0.0.1:{server.port}"],
        ["client 192.0.2.7", "ehlo c.example", "mail <a@remote.example>",
         "rcpt <blocked@example.com>"])
    assert replies(out)[-1] == ("554 5.7.1 <unknown[192.0.2.7]>: Client host rejected: "
                                "blocked by policy")
    assert server.requests[0]["protocol_state"] == "RCPT"


def postfix_requests():
    path = os.path.join(ROOT, "tests", "fixtures", "restrictions", "policy_requests.postfix")
    reqs, cur = [], {}
    with open(path) as fp:
        for line in fp:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line:
                if cur:
                    reqs.append(cur)
                cur = {}
                continue
            name, _, value = line.partition("=")
            cur[name] = value
    return reqs


def test_requests_match_postfix(tmp_path, server):
    """The same transaction Postfix 3.7 was recorded on: every attribute it
    sent is sent, with the same value where the value is not per-process."""
    explain(tmp_path, [
        "smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:%d, "
        "policy_context=ctx }, reject_unauth_destination" % server.port,
        f"smtpd_data_restrictions = check_policy_service inet:127.0.0.1:{server.port}"],
        ["client 192.0.2.7 client.example.net", "sasl alice", "ehlo client.example.net",
         "mail <alice@example.com>", "rcpt <bob@example.com>", "data", "eod"])
    theirs = postfix_requests()
    assert len(server.requests) == len(theirs) == 2
    varying = {"client_port", "server_port", "queue_id", "instance", "sasl_method"}
    for ours, pf in zip(server.requests, theirs):
        missing = set(pf) - set(ours)
        assert not missing, f"attributes Postfix sends and we do not: {missing}"
        for name in set(pf) - varying:
            assert ours[name] == pf[name], (name, ours[name], pf[name])
    assert server.requests[0]["instance"] == server.requests[1]["instance"]


def test_client_gone_while_policy_thinks(outpost, server):
    """The session ends while its policy request is on the wire: the run is
    cancelled, the late answer is dropped, and the server goes on serving."""
    srv = outpost(main={"smtpd_recipient_restrictions":
                        f"check_policy_service {{ inet:127.0.0.1:{server.port}, timeout=5s }},"
                        " reject_unauth_destination"})
    with srv.raw("smtp") as c:
        assert c.recv_reply()[0] == 220
        c.send("EHLO c.example\r\n")
        assert c.recv_reply()[0] == 250
        c.send("MAIL FROM:<a@remote.example>\r\n")
        assert c.recv_reply()[0] == 250
        c.send("RCPT TO:<slow@example.test>\r\n")
        time.sleep(0.3)
    time.sleep(3)	# the slow answer arrives after the client left
    with srv.raw("smtp") as c:
        assert c.recv_reply()[0] == 220
        c.send("EHLO c.example\r\n")
        assert c.recv_reply()[0] == 250
        c.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<u@example.test>\r\n")
        assert c.recv_reply()[0] == 250
        code, lines = c.recv_reply()
        assert code == 250, lines
    assert any(q.get("recipient") == "slow@example.test" for q in server.requests)
    assert "AddressSanitizer" not in srv.log() and "panic" not in srv.log()
