"""`outpost check` proves the configured restrictions refuse to relay.

The open-relay lint runs the real restriction engine for a stranger (outside
mynetworks, not logged in) trying every address trick; the relay-order lint
warns about permits placed before reject_unauth_destination.
"""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BASE = """compatibility_level = 3.6
myhostname = mail.example.com
mydomain = example.com
mydestination = $myhostname, localhost, example.com
local_recipient_maps =
"""


def outpost():
    build = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
    return os.path.join(build, "src", "cli", "outpost")


def check(tmp_path, main_extra, master="", files=None):
    (tmp_path / "main.cf").write_text(BASE + main_extra.replace("@DIR@", str(tmp_path)))
    (tmp_path / "master.cf").write_text(master)
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    p = subprocess.run([outpost(), "check", "-c", str(tmp_path)], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stderr


def test_defaults_do_not_relay(tmp_path):
    rc, err = check(tmp_path, "")
    assert rc == 0, err
    assert "OPEN RELAY" not in err


def test_blog_open_relay_found(tmp_path):
    """permit_mynetworks first is harmless only while mynetworks is ours."""
    rc, err = check(tmp_path, "mynetworks = 0.0.0.0/0\n"
                    "smtpd_relay_restrictions =\n"
                    "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    assert rc == 1
    assert "OPEN RELAY: mynetworks trusts addresses on the open Internet" in err
    assert "main.cf, line 8" in err


def test_reordered_is_clean(tmp_path):
    rc, err = check(tmp_path, "mynetworks = 127.0.0.0/8, 172.16.0.0/12\n"
                    "smtpd_relay_restrictions =\n"
                    "smtpd_recipient_restrictions = reject_unauth_destination, permit_mynetworks\n")
    assert rc == 0, err
    assert "OPEN RELAY" not in err and "comes before" not in err


def test_sender_ok_before_reject_unauth_destination(tmp_path):
    rc, err = check(tmp_path, "smtpd_relay_restrictions =\n"
                    "smtpd_recipient_restrictions = check_sender_access texthash:@DIR@/senders,"
                    " reject_unauth_destination\n",
                    files={"senders": "example.com OK\n"})
    assert rc == 1
    assert "OPEN RELAY: a client at 203.0.113.5" in err
    assert "MAIL FROM:<postmaster@example.com>" in err
    assert "comes before reject_unauth_destination" in err


def test_policy_service_before_reject_warns(tmp_path):
    """The SMTPD_POLICY_README rule, for pre-2.10 style lists."""
    rc, err = check(tmp_path, "smtpd_relay_restrictions =\n"
                    "smtpd_recipient_restrictions = permit_mynetworks,"
                    " check_policy_service inet:127.0.0.1:9, reject_unauth_destination\n")
    assert "check_policy_service inet:127.0.0.1:9\" comes before reject_unauth_destination" in err
    assert "OPEN RELAY" not in err


@pytest.mark.parametrize("rcpt_rule", [
    "check_recipient_access texthash:@DIR@/rcpts",
])
def test_percent_hack_through_local_domain(tmp_path, rcpt_rule):
    """An OK for the local domain must not open %-hack relaying through it."""
    rc, err = check(tmp_path, "smtpd_relay_restrictions =\n"
                    f"smtpd_recipient_restrictions = {rcpt_rule}, reject_unauth_destination\n",
                    files={"rcpts": "example.com OK\n"})
    # OK on a routed recipient is downgraded to DUNNO, so nothing relays
    assert "OPEN RELAY" not in err, err


def test_submission_service_permit(tmp_path):
    rc, err = check(tmp_path, "", master=(
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd\n"
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,permit\n"))
    assert rc == 1
    assert "service submission" in err and "any client could relay" in err
