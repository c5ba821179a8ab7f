"""Relay attempts by an unauthenticated client outside mynetworks, in every
address form spammers use, against three configurations: the defaults,
examples/main.cf's relay settings, and the pre-2.10 layout (empty
smtpd_relay_restrictions, reject_unauth_destination in
smtpd_recipient_restrictions). None may accept a recipient that leaves the
machine. Forms that name this machine (trailing dot, IP literal of
inet_interfaces, bare local part) are local in Postfix too and stay accepted.
"""
import pytest

CONFIGS = {
    "defaults": {},
    "examples": {"smtpd_relay_restrictions":
                 "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
                 "smtpd_recipient_restrictions": "reject_unknown_recipient_domain",
                 "recipient_delimiter": "+",
                 "virtual_mailbox_domains": "inline:{virt.example=ok}",
                 "virtual_mailbox_maps": "inline:{u@virt.example=x}"},
    "pre-2.10": {"smtpd_relay_restrictions": "",
                 "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination"},
    "relay_domains": {"relay_domains": "relayed.example"},
}

REMOTE = [
    "victim%elsewhere.example@example.test",                  # %-hack
    "VICTIM%ELSEWHERE.EXAMPLE@EXAMPLE.TEST",
    "victim%elsewhere.example%example.test@example.test",
    "victim%25elsewhere.example@example.test",
    "elsewhere.example!victim@example.test",                  # !-path
    "elsewhere.example!victim",
    "victim%elsewhere.example",
    '"victim@elsewhere.example"@example.test',                # quoted local part
    '"victim%elsewhere.example"@example.test',
    '"@elsewhere.example:victim@x"@example.test',
    '"victim@elsewhere.example"',
    "@example.test:victim@elsewhere.example",                 # source routes
    "@mx.example.test,@example.test:victim@elsewhere.example",
    "victim@elsewhere.example.",                              # trailing dot
    "victim@elsewhere.example@example.test",
    "victim%elsewhere.example@[127.0.0.1]",                   # IP literals
    "victim@[192.0.2.1]",
    "victim@[IPv6:::1]",
    "victim@127.0.0.1",
    "victim@mx.example.test.elsewhere.example",
    "x" * 300 + "@elsewhere.example",                          # very long
    "victim%elsewhere.example@virt.example",
    '"victim@elsewhere.example"@virt.example',
    "victim%elsewhere.example@relayed.example",
    "elsewhere.example!victim@relayed.example",
    "@relayed.example:victim@elsewhere.example",
    "victim@relayed.example.elsewhere.example",
]

LOCAL = ["victim@example.test.", "victim@EXAMPLE.TEST", "victim@[127.0.0.1]", "victim",
         "victim@MX.EXAMPLE.TEST."]


def rcpt(srv, addr, smtputf8=False):
    with srv.raw() as c:
        c.recv_reply()
        c.send("EHLO client.example\r\n")
        c.recv_reply()
        c.send("MAIL FROM:<s@remote.example>%s\r\n" % (" SMTPUTF8" if smtputf8 else ""))
        assert c.recv_reply()[0] == 250
        c.send(("RCPT TO:<%s>\r\n" % addr).encode("utf-8"))
        return c.recv_reply()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_no_relay_in_any_address_form(outpost, config):
    srv = outpost(main=CONFIGS[config])
    accepted = [a for a in REMOTE if rcpt(srv, a)[0] < 400]
    assert accepted == []
    for a in LOCAL:
        code, lines = rcpt(srv, a)
        assert code == 250, (a, lines)


@pytest.mark.parametrize("config", ["defaults", "pre-2.10"])
def test_no_relay_for_utf8_domains(outpost, config):
    srv = outpost(main=CONFIGS[config])
    for a in ("victim@\u00e9lsewhere.example", "victim%\u00e9lsewhere.example@example.test",
              "\u00e9lsewhere.example!victim@example.test"):
        code, lines = rcpt(srv, a, smtputf8=True)
        assert code >= 400, (a, lines)
        code, lines = rcpt(srv, a)
        assert code >= 400, (a, lines)


def test_relay_domains_still_relay(outpost):
    srv = outpost(main=CONFIGS["relay_domains"])
    assert rcpt(srv, "victim@relayed.example")[0] == 250
