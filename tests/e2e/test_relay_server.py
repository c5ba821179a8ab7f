"""The running server never relays for a stranger: default restrictions, an
unauthenticated client outside mynetworks, and every address form that has
opened relays (%-hack, !-paths, quoted local parts, source routes, literals,
routing through relay_domains). Local recipients still get through, and
the blog's open relay (permit_mynetworks first, mynetworks covering the
client) is reproduced and closed by reordering.
"""
import pytest

REMOTE_FORMS = [
    "<victim@remote.example>",
    "<VICTIM@Remote.Example>",
    "<victim%remote.example@example.test>",
    "<victim%remote.example@mx.example.test>",
    "<remote.example!victim@example.test>",
    "<\"victim@remote.example\"@example.test>",
    "<\"victim%remote.example\"@example.test>",
    "<@example.test:victim@remote.example>",
    "<@example.test,@mx.example.test:victim@remote.example>",
    "<victim%remote.example@relay.example>",
    "<remote.example!victim@relay.example>",
    "<\"victim@remote.example\"@relay.example>",
    "<victim@[192.0.2.99]>",
    "<victim%remote.example@[127.0.0.1]>",
    "<victim%remote.example>",
    "<remote.example!victim>",
    "<victim%remote.example%example.test@example.test>",
]

LOCAL_FORMS = [
    "<postmaster@example.test>",
    "<user@mx.example.test>",
    "<user@[127.0.0.1]>",
    "<user@relay.example>",
    "<postmaster>",
]


def session(srv, rcpts, helo="client.example.net", sender="<someone@example.org>"):
    with srv.raw("smtp") as c:
        assert c.recv_reply()[0] == 220
        c.send(f"EHLO {helo}\r\n")
        assert c.recv_reply()[0] == 250
        c.send(f"MAIL FROM:{sender}\r\n")
        assert c.recv_reply()[0] == 250
        out = []
        for r in rcpts:
            c.send(f"RCPT TO:{r}\r\n")
            code, lines = c.recv_reply()
            out.append((r, code, lines[-1]))
        c.send("QUIT\r\n")
        return out


def test_defaults_never_relay(outpost):
    srv = outpost(main={"relay_domains": "relay.example"})
    for rcpt, code, text in session(srv, REMOTE_FORMS):
        assert code >= 400, f"{rcpt} was accepted: {text}"
        # refused as relaying (or as a bad address), never accepted
        assert "Relay access denied" in text or code == 501, f"{rcpt}: {text}"
    for rcpt, code, text in session(srv, LOCAL_FORMS):
        assert code == 250, f"{rcpt}: {text}"


def test_relay_denied_text_matches_postfix(outpost):
    srv = outpost()
    [(_, code, text)] = session(srv, ["<victim@remote.example>"])
    assert text == "454 4.7.1 <victim@remote.example>: Relay access denied"
    srv.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 454 4\.7\.1 "
                 r"<victim@remote\.example>: Relay access denied; from=<someone@example\.org> "
                 r"to=<victim@remote\.example> proto=ESMTP helo=<client\.example\.net>")


def test_blog_open_relay_and_fix(outpost):
    """permit_mynetworks first with a mynetworks covering the client relays."""
    open_cfg = {"mynetworks": "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
                "smtpd_relay_restrictions": "",
                "smtpd_recipient_restrictions":
                    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"}
    srv = outpost(main=open_cfg)
    [(_, code, text)] = session(srv, ["<victim@remote.example>"])
    assert code == 250, text


def test_blog_reordered_does_not_relay(outpost):
    srv = outpost(main={"mynetworks": "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
                        "smtpd_relay_restrictions": "",
                        "smtpd_recipient_restrictions":
                            "reject_unauth_destination, permit_mynetworks, permit_sasl_authenticated"})
    [(_, code, text)] = session(srv, ["<victim@remote.example>"])
    assert text == "554 5.7.1 <victim@remote.example>: Relay access denied"
    [(_, code, text)] = session(srv, ["<user@example.test>"])
    assert code == 250, text


def test_refuses_to_run_without_relay_control(outpost):
    """Postfix's rule: relay or recipient restrictions must be able to refuse;
    smtpd will not serve a single session with lists that cannot."""
    srv = outpost(main={"smtpd_relay_restrictions": "permit_mynetworks",
                        "smtpd_recipient_restrictions": "permit_sasl_authenticated"})
    srv.wait_log(r"smtpd_relay_restrictions and smtpd_recipient_restrictions: neither contains "
                 r"reject, reject_unauth_destination, defer, defer_if_permit or "
                 r"defer_unauth_destination")
    with srv.raw("smtp") as c:
        c.sock.settimeout(3)
        try:
            code, lines = c.recv_reply()
        except OSError:	# nobody answers: no smtpd is serving
            code, lines = 0, []
        assert code != 220, lines
