"""The postmortem, end to end: alice, bob and admin log in over SMTP AUTH
(internal crypt(3) backend) and send with various MAIL FROM addresses.

smtpd_sender_login_maps = texthash:owners, pcre:admin — the first table
that knows a sender wins, so admin cannot send as alice; with
unionmap:{texthash:owners, pcre:admin} both can; bob never can. Replies
are Postfix's, word for word.
"""
import crypt
import smtplib

import pytest

USERS = {"alice": "alice-pw", "bob": "bob-pw", "admin": "admin-pw"}


def start(outpost, login_maps):
    passwd = "".join(f"{u} {crypt.crypt(p, crypt.mksalt(crypt.METHOD_SHA512))}\n"
                     for u, p in USERS.items())
    return outpost(main={
        "smtpd_sasl_auth_enable": "yes",
        "smtpd_sasl_type": "internal",
        "smtpd_sasl_password_maps": "texthash:{dir}/passwd",
        "smtpd_tls_auth_only": "no",
        "smtpd_sender_login_maps": login_maps,
        "smtpd_sender_restrictions": "reject_sender_login_mismatch",
        "recipient_delimiter": "+",
    }, files={
        "passwd": passwd,
        "owners": "alice@example.test alice\nbob@example.test bob\n",
        "admin": "/^(.*)@example\\.test$/ admin\n",
    })


def send_as(srv, user, sender, rcpt="friend@remote.example"):
    """(code, text) of the RCPT, after AUTH as user (None: no AUTH)."""
    with srv.smtp() as s:
        s.ehlo("laptop.example")
        if user:
            s.login(user, USERS[user])
        code, _ = s.mail(sender)
        assert code == 250
        code, text = s.rcpt(rcpt)
        return code, text.decode()


FIRST_MATCH = "texthash:{dir}/owners, pcre:{dir}/admin"
UNION = "unionmap:{texthash:{dir}/owners, pcre:{dir}/admin}"


@pytest.mark.parametrize("maps,user,sender,want", [
    (FIRST_MATCH, "alice", "alice@example.test", 250),
    (FIRST_MATCH, "admin", "alice@example.test",
     "5.7.1 <alice@example.test>: Sender address rejected: not owned by user admin"),
    (FIRST_MATCH, "admin", "carol@example.test", 250),
    (FIRST_MATCH, "bob", "alice@example.test",
     "5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob"),
    (FIRST_MATCH, "alice", "alice+lists@example.test",
     "5.7.1 <alice+lists@example.test>: Sender address rejected: not owned by user alice"),
    (FIRST_MATCH, None, "alice@example.test",
     "5.7.1 <alice@example.test>: Sender address rejected: not logged in"),
    (FIRST_MATCH, "bob", "", 250),
    (UNION, "alice", "alice@example.test", 250),
    (UNION, "admin", "alice@example.test", 250),
    (UNION, "bob", "alice@example.test",
     "5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob"),
    (UNION, "bob", "carol@example.test",
     "5.7.1 <carol@example.test>: Sender address rejected: not owned by user bob"),
], ids=["alice-self", "admin-as-alice", "admin-pattern-only", "bob-as-alice",
        "extension-owned-by-pattern", "not-logged-in", "null-sender",
        "union-alice", "union-admin-as-alice", "union-bob-as-alice", "union-bob-as-carol"])
def test_postmortem(outpost, maps, user, sender, want):
    srv = start(outpost, maps)
    code, text = send_as(srv, user, sender,
                         rcpt="friend@remote.example" if user else "alice@example.test")
    if want == 250:
        assert code == 250, text
    else:
        assert code == 553 and text == want, (code, text)
