"""pgsql: tables against a real PostgreSQL server on loopback.

One server for the module: initdb into a scratch directory, listening on
127.0.0.1 and a private socket directory (run as the "postgres" user when
the tests run as root), stopped at the end. The data and the cases are
shared with the MySQL tests (netmap_util.SQL_*); each case compares
`outpost map -q` with Postfix's postmap (tests/fixtures/netmaps/pgsql.json).
Also: host failover, every host down, a wrong password, a UNIX socket, a
postgresql:// URI, select_function, and a server restart in the middle of
a `-q -` session.
"""
import glob
import os
import pwd
import subprocess
import urllib.parse

import pytest

from conftest import OUTPOST, free_port
from netmap_util import (Fixtures, SQL_CASES, SQL_CFS, check_down_then_back, check_restart,
                         compare, need_binary, running, scratch_dir, sql_setup)

PASSWORD = "s3cret'pw"
PW_URL = urllib.parse.quote(PASSWORD, safe="")


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return need_binary(found[-1] if found else name)


class Postgres:
    def __init__(self):
        self.dir = scratch_dir("outpost-pgsql-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        os.mkdir(self.sock)
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            for d in (self.dir, self.sock):
                os.chown(d, pw.pw_uid, pw.pw_gid)

    def run(self, argv, **kw):
        if self.user:
            argv = ["runuser", "-u", self.user, "--"] + argv
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120,
                              **kw)

    def init(self):
        self.run([pg_bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"])
        self.start()
        self.psql("postgres", f"CREATE ROLE postfix LOGIN PASSWORD '{PASSWORD.replace(chr(39), chr(39) * 2)}'")
        self.psql("postgres", "CREATE DATABASE mail OWNER postfix")
        for stmt in sql_setup(backslash_escapes=False):
            self.psql("mail", stmt, user="postfix")
        self.psql("mail", "CREATE FUNCTION lookup(text) RETURNS SETOF varchar "
                          "AS 'SELECT goto FROM alias WHERE address = $1' LANGUAGE sql",
                  user="postfix")

    def start(self):
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run([pg_bin("pg_ctl"), "-D", self.data, "-o", opts, "-l",
                  os.path.join(self.dir, "log"), "-w", "-t", "60", "start"])

    def stop(self):
        self.run([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])

    def psql(self, db, sql, user="postgres"):
        self.run([pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                  "-p", str(self.port), "-U", user, "-d", db, "-c", sql])


@pytest.fixture(scope="module")
def pg():
    yield from running(Postgres())


@pytest.fixture(scope="module")
def fixtures():
    return Fixtures("pgsql")


def write_cf(pg, name, body, hosts=None, extra=""):
    path = os.path.join(pg.dir, name + ".cf")
    with open(path, "w") as f:
        f.write(f"hosts = {hosts or f'inet:127.0.0.1:{pg.port}'}\nuser = postfix\n"
                f"password = {PASSWORD}\ndbname = mail\n{extra}{body}")
    return "pgsql:" + path


@pytest.mark.parametrize("cf,key", SQL_CASES, ids=[f"{c}:{k}" for c, k in SQL_CASES])
def test_sql_case(pg, fixtures, cf, key):
    compare(fixtures, f"{cf}: {key}", ["-q", key, write_cf(pg, cf, SQL_CFS[cf])])


def test_batch(pg, fixtures):
    compare(fixtures, "batch: -q -", ["-q", "-", write_cf(pg, "basic", SQL_CFS["basic"])],
            stdin="alice@example.com\nnobody@example.com\nbob\n")


def test_select_function(pg, fixtures):
    compare(fixtures, "select_function",
            ["-q", "alice@example.com", write_cf(pg, "func", "select_function = lookup\n")])


def test_failover(pg, fixtures):
    dead = free_port()
    spec = write_cf(pg, "failover", SQL_CFS["basic"],
                    hosts=f"inet:127.0.0.1:{dead} 127.0.0.1:{pg.port}")
    compare(fixtures, "failover: first host down", ["-q", "alice@example.com", spec])


def test_all_down(pg, fixtures):
    spec = write_cf(pg, "down", SQL_CFS["basic"], hosts=f"127.0.0.1:{free_port()}")
    compare(fixtures, "all hosts down", ["-q", "alice@example.com", spec])


def test_bad_password(pg, fixtures):
    path = os.path.join(pg.dir, "badpw.cf")
    with open(path, "w") as f:
        f.write(f"hosts = 127.0.0.1:{pg.port}\nuser = postfix\npassword = wrong\n"
                f"dbname = mail\n{SQL_CFS['basic']}")
    compare(fixtures, "wrong password", ["-q", "alice@example.com", "pgsql:" + path])


def test_unix_socket(pg, fixtures):
    """The private socket directory, with the server's port, through a URI
    (a bare unix:/dir would look for the default port's socket)."""
    spec = write_cf(pg, "unixuri", SQL_CFS["basic"],
                    hosts=f"postgresql://postfix:{PW_URL}@/mail?host={pg.sock}&port={pg.port}")
    compare(fixtures, "unix socket via URI", ["-q", "alice@example.com", spec])


def test_uri(pg, fixtures):
    spec = write_cf(pg, "uri", SQL_CFS["basic"],
                    hosts=f"postgresql://postfix:{PW_URL}@127.0.0.1:{pg.port}/mail")
    compare(fixtures, "postgresql:// URI", ["-q", "alice@example.com", spec])
    spec = write_cf(pg, "urinopw", SQL_CFS["basic"],
                    hosts=f"postgresql://postfix@127.0.0.1:{pg.port}/mail")
    compare(fixtures, "postgresql:// URI without its password: user/password not added",
            ["-q", "alice@example.com", spec])


def test_server_restart(pg):
    check_restart(pg, write_cf(pg, "restart", SQL_CFS["basic"]), "alice@example.com",
                  "alice@mail.example.com")


def test_server_down_then_back(pg):
    check_down_then_back(pg, write_cf(pg, "downback", SQL_CFS["basic"]), "alice@example.com",
                         "alice@mail.example.com")


def test_open_errors(pg):
    path = os.path.join(pg.dir, "broken.cf")
    with open(path, "w") as f:
        f.write("hosts = 127.0.0.1\nquery = SELECT %x\n")
    r = subprocess.run([OUTPOST, "map", "-q", "k", "pgsql:" + path], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1 and "invalid %-sequence" in r.stderr, r.stderr
    r = subprocess.run([OUTPOST, "map", "-q", "k", "pgsql:/nonexistent.cf"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "/nonexistent.cf" in r.stderr, r.stderr


def test_smtpd_access_table(pg, outpost):
    """Through the server: check_recipient_access on a pgsql: table rejects
    with the row's text; with the database down the same recipient gets
    451 4.3.5, never a permit."""
    spec = write_cf(pg, "access", "query = SELECT 'REJECT sql says no' FROM alias "
                                  "WHERE address = '%s'\n")
    srv = outpost(main={
        "smtpd_relay_restrictions": f"check_recipient_access {spec}, permit_mynetworks, reject",
        "mynetworks": "127.0.0.0/8"})
    with srv.smtp() as s:
        s.ehlo("client.example")
        s.mail("sender@remote.example")
        code, text = s.rcpt("alice@example.com")
        assert code == 554 and b"sql says no" in text, (code, text)
        assert s.rcpt("nobody@example.com")[0] == 250
        pg.stop()
        try:
            code, text = s.rcpt("alice@example.com")
            assert code == 451 and b"4.3.5" in text, (code, text)
        finally:
            pg.start()
