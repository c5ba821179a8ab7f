"""The relay operator's scenario through the running server (master, qmgr and
the smtp agent), not just the test driver: mail from notify@app.test leaves
through relay A with its own credentials over TLS, everything else through
relay B (relayhost) with the default credentials. When B's credential is
missing, B answers 530: the message is deferred, and when its lifetime runs
out it bounces with B's reply in the DSN, as the operator sees it in the log.

Messages enter as queue files in incoming/ (test_queue_qmgr's writer), so
only qmgr and the delivery agents are involved.
"""
import pytest

from test_deliver_smtp import RawServer, Relay, dns, pki  # noqa: F401  (fixtures)
from conftest import free_port
from test_queue_qmgr import MSG, inject, notice_id, queue_file, read_queued, report_parts

MASTER = "qmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n"
QUICK = "minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\nqueue_run_delay = 1s\n"


def start(outpost, a, b, extra=""):
    return outpost(
        main=(f"relayhost = [127.0.0.1]:{b.port}\n"
              "sender_dependent_relayhost_maps = texthash:{dir}/sender_relay\n"
              "smtp_sasl_auth_enable = yes\n"
              "smtp_sasl_password_maps = texthash:{dir}/sasl_passwd\n"
              "smtp_sender_dependent_authentication = yes\n"
              "smtp_sasl_security_options = noanonymous\n"
              "smtp_tls_security_level = encrypt\n"
              "minimal_backoff_time = 1s\nmaximal_backoff_time = 1s\nqueue_run_delay = 1s\n"
              + extra),
        master=MASTER,
        files={"sender_relay": f"notify@app.test [127.0.0.1]:{a.port}\n",
               "sasl_passwd": "notify@app.test notifyuser:notify-secret\n"
                              + (f"[127.0.0.1]:{b.port} defaultuser:default-secret\n"
                                 if "no-default-credential" not in extra else "")},
        wait_log=r"queue manager started")


@pytest.fixture
def relays(pki):  # noqa: F811
    a = Relay(tls=(f"{pki}/relay-a.test.pem", f"{pki}/relay-a.test.key"),
              users={"notifyuser": "notify-secret"}, require=True)
    b = Relay(tls=(f"{pki}/relay-b.test.pem", f"{pki}/relay-b.test.key"),
              users={"defaultuser": "default-secret"}, require=True)
    yield a, b
    a.stop()
    b.stop()


def test_per_sender_relay_through_the_queue(outpost, relays):
    a, b = relays
    srv = start(outpost, a, b)
    q1 = inject(srv, queue_file("notify@app.test", ["user1@example.org"], MSG))
    q2 = inject(srv, queue_file("other@app.test", ["user2@example.org"], MSG))
    srv.wait_log(rf"{q1}: to=<user1@example.org>, relay=127.0.0.1\[127.0.0.1\]:{a.port}, .*status=sent")
    srv.wait_log(rf"{q2}: to=<user2@example.org>, relay=127.0.0.1\[127.0.0.1\]:{b.port}, .*status=sent")
    assert [(m["from"], m["to"], m["login"], m["tls"]) for m in a.messages] == \
        [("notify@app.test", ["user1@example.org"], "notifyuser", True)]
    assert [(m["from"], m["to"], m["login"], m["tls"]) for m in b.messages] == \
        [("other@app.test", ["user2@example.org"], "defaultuser", True)]
    srv.wait_log(rf"TLS connection established to 127.0.0.1\[127.0.0.1\]:{a.port}")


def test_missing_credential_defers_then_bounces_with_the_relays_reply(outpost, relays):
    a, b = relays
    srv = start(outpost, a, b, "# no-default-credential\n"
                "maximal_queue_lifetime = 3s\nbounce_queue_lifetime = 3s\n")
    qid = inject(srv, queue_file("other@app.test", ["user2@example.org"], MSG))
    srv.wait_log(rf"{qid}: to=<user2@example.org>, relay=127.0.0.1\[127.0.0.1\]:{b.port}, .*"
                 rf"dsn=4\.7\.0, status=deferred \(host 127.0.0.1\[127.0.0.1\] said: 530 5\.7\.0 ")
    srv.wait_log(rf"{qid}: from=<other@app.test>, status=expired, returned to sender", timeout=30)
    nid = notice_id(srv, qid)
    _, parts, blocks = report_parts(read_queued(srv, nid))
    assert blocks[1]["Diagnostic-Code"].startswith("smtp; 530 5.7.0")
    assert "said: 530 5.7.0" in parts[0].get_content()
    assert b.messages == []


def test_mx_fallback_and_unresolvable_domain_through_the_queue(outpost, dns):  # noqa: F811
    port = free_port()
    mx2 = Relay(host="127.0.0.3", port=port)  # mx1 at 127.0.0.2 is down
    try:
        srv = outpost(main=(f"dns_servers = {dns}\n" + QUICK +
                            "transport_maps = texthash:{dir}/transport\n"
                            "maximal_queue_lifetime = 3s\nbounce_queue_lifetime = 3s\n"),
                      master=MASTER,
                      files={"transport": f"mx.test smtp:mx.test:{port}\napp.test discard:\n"},
                      wait_log=r"queue manager started")
        q1 = inject(srv, queue_file("alice@app.test", ["user@mx.test"], MSG))
        q2 = inject(srv, queue_file("alice@app.test", ["user@nowhere.test"], MSG))
        srv.wait_log(rf"{q1}: to=<user@mx.test>, relay=mx2.mx.test\[127.0.0.3\]:{port}, .*status=sent")
        srv.wait_log(rf"{q2}: to=<user@nowhere.test>, relay=none, .*dsn=4\.4\.3, status=deferred "
                     rf"\(Host or domain name not found. Name service error for name=nowhere.test type=MX")
        srv.wait_log(rf"{q2}: from=<alice@app.test>, status=expired, returned to sender", timeout=30)
        assert len(mx2.messages) == 1
    finally:
        mx2.stop()


def test_dropped_connection_retries_without_loss_or_duplicate(outpost):
    srv_raw = RawServer("drop-once")
    try:
        srv = outpost(main=QUICK + "transport_maps = texthash:{dir}/transport\n",
                      master=MASTER,
                      files={"transport": f"flaky.test smtp:[127.0.0.1]:{srv_raw.port}\n"},
                      wait_log=r"queue manager started")
        qid = inject(srv, queue_file("alice@app.test", ["user@flaky.test"], MSG))
        srv.wait_log(rf"{qid}: to=<user@flaky.test>, .*dsn=4\.4\.2, status=deferred \(lost connection")
        srv.wait_log(rf"{qid}: to=<user@flaky.test>, .*status=sent \(250 2\.0\.0 Ok: queued as RAW1\)",
                     timeout=30)
        srv.wait_log(rf"{qid}: removed")
        assert srv_raw.connections == 2
        assert srv_raw.body.count(b"Hello from the queue test.") == 1
    finally:
        srv_raw.stop()
