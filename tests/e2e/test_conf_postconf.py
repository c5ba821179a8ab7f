"""`outpost conf` against output recorded from Debian's postconf 3.7.

Each case of tests/fixtures/postconf/cases runs `outpost conf -c DIR ARGS`
on a copy of tests/fixtures/postconf/conf and compares stdout (show cases)
or the edited main.cf/master.cf (edit cases) with expected/NAME.out, which
tests/fixtures/postconf/record.py recorded from postconf itself.
"""
import json
import os
import shlex
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "postconf")
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")


def load_cases():
    cases = []
    with open(os.path.join(FIX, "cases")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, kind, args = (x.strip() for x in line.split("|", 2))
            cases.append(pytest.param(name, kind, shlex.split(args), id=name))
    return cases


@pytest.fixture
def conf(tmp_path):
    d = tmp_path / "conf"
    shutil.copytree(os.path.join(FIX, "conf"), d)
    return str(d)


def outpost(*args, check=False):
    return subprocess.run([OUTPOST] + list(args), capture_output=True, text=True, check=check,
                          timeout=30)


@pytest.mark.parametrize("name,kind,args", load_cases())
def test_postconf_case(conf, name, kind, args):
    with open(os.path.join(FIX, "expected", name + ".out")) as f:
        want = f.read()
    p = outpost("conf", "-c", conf, *args)
    assert p.returncode == 0, p.stderr
    if kind == "show":
        got = p.stdout
    else:
        got = ""
        for fn in ("main.cf", "master.cf"):
            with open(os.path.join(conf, fn)) as fh:
                got += "==> %s <==\n" % fn + fh.read()
    assert got.replace(conf, "@DIR@") == want


def test_unknown_parameter_warning(conf):
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("smtp_sender_restrictions = reject_unknown_sender_domain\n")
    p = outpost("conf", "-c", conf, "-n")
    assert p.returncode == 0
    assert "unused parameter: smtp_sender_restrictions=reject_unknown_sender_domain" in p.stderr
    assert "did you mean smtpd_sender_restrictions?" in p.stderr
    assert "main.cf, line 32:" in p.stderr
    c = outpost("check", "-c", conf)
    assert c.returncode == 1
    assert "did you mean smtpd_sender_restrictions?" in c.stderr


def test_check_clean(tmp_path):
    (tmp_path / "main.cf").write_text("myhostname = mx.example.com\n"
                                      "local_recipient_maps =\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    p = outpost("check", "-c", str(tmp_path))
    assert p.returncode == 0, p.stderr


def test_error_names_file_and_line(conf):
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("smtpd_tls_auth_only = perhaps\nthis line has no equals sign\n")
    p = outpost("conf", "-c", conf, "-n")
    assert p.returncode == 1
    assert "main.cf:32: parameter smtpd_tls_auth_only: bad boolean value \"perhaps\"" in p.stderr
    assert "main.cf:33: missing '='" in p.stderr
    assert p.stdout == ""


def test_bad_service_type(conf):
    with open(os.path.join(conf, "master.cf"), "a") as f:
        f.write("oops tcp n - n - - smtpd\n")
    p = outpost("check", "-c", conf)
    assert p.returncode == 1
    assert 'unknown service type "tcp"' in p.stderr
    assert "master.cf:" in p.stderr


def test_json(conf):
    p = outpost("conf", "-c", conf, "--json", "-n")
    data = json.loads(p.stdout)
    assert data["myhostname"] == "mx.example.com"
    p = outpost("conf", "-c", conf, "--json", "-x", "mydestination")
    assert json.loads(p.stdout) == {"mydestination": "mx.example.com, localhost.example.com, localhost"}
    p = outpost("conf", "-c", conf, "--json", "-M", "submission/inet")
    svc = json.loads(p.stdout)
    assert svc[0]["command"] == "smtpd"
    assert svc[0]["overrides"]["smtpd_client_restrictions"] == "$mua_client_restrictions"


def test_edit_is_atomic_and_keeps_mode(conf):
    path = os.path.join(conf, "main.cf")
    os.chmod(path, 0o640)
    outpost("conf", "-c", conf, "-e", "myhostname=new.example.com", check=True)
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    assert [f for f in os.listdir(conf) if ".tmp." in f] == []
    p = outpost("conf", "-c", conf, "-h", "myhostname")
    assert p.stdout == "new.example.com\n"


def test_defaults_without_config(tmp_path):
    p = outpost("conf", "-c", str(tmp_path), "-d", "smtpd_tls_auth_only", "queue_directory")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "smtpd_tls_auth_only = yes\nqueue_directory = /var/spool/outpost\n"
