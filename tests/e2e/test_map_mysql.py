"""mysql: tables against a real MariaDB server on loopback.

One server for the module: mariadb-install-db into a scratch directory,
mariadbd on 127.0.0.1 and a private socket (as the "mysql" user when the
tests run as root), stopped at the end. The data and the cases are shared
with the PostgreSQL tests (netmap_util.SQL_*); each case compares `outpost
map -q` with Postfix's postmap (tests/fixtures/netmaps/mysql.json). Also:
a UNIX socket, host failover, every host down, a wrong password, stored
procedures (require_result_set), option_file, and a server restart in the
middle of a `-q -` session.
"""
import os
import pwd
import subprocess

import pytest

from conftest import free_port, wait_port
from netmap_util import (Fixtures, SQL_CASES, SQL_CFS, check_down_then_back, check_restart,
                         compare, need_binary,
                         running, scratch_dir, sql_setup, stop_process)

PASSWORD = "s3cret'pw\\x"


class MariaDB:
    def __init__(self):
        self.dir = scratch_dir("outpost-mysql-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        self.user = "mysql" if os.geteuid() == 0 else None
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.proc = None

    def init(self):
        argv = [need_binary("mariadb-install-db"), "--no-defaults", f"--datadir={self.data}",
                "--auth-root-authentication-method=normal", "--skip-test-db"]
        if self.user:
            argv.append(f"--user={self.user}")
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300)
        self.start()
        pw = PASSWORD.replace("\\", "\\\\").replace("'", "''")
        self.sql(None, "CREATE DATABASE mail")
        self.sql(None, f"CREATE USER 'postfix'@'%' IDENTIFIED BY '{pw}'")
        self.sql(None, f"CREATE USER 'postfix'@'localhost' IDENTIFIED BY '{pw}'")
        self.sql(None, "GRANT ALL ON mail.* TO 'postfix'@'%', 'postfix'@'localhost'")
        for stmt in sql_setup(backslash_escapes=True):
            self.sql("mail", stmt)
        self.sql("mail", "CREATE PROCEDURE lookup(IN k VARCHAR(100)) READS SQL DATA "
                         "SELECT goto FROM alias WHERE address = k")
        self.sql("mail", "CREATE PROCEDURE noresult(IN k VARCHAR(100)) SET @x = k")

    def start(self):
        argv = [need_binary("/usr/sbin/mariadbd"), "--no-defaults", f"--datadir={self.data}",
                f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.sock}",
                f"--pid-file={self.dir}/mysqld.pid", f"--log-error={self.dir}/error.log",
                "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                "--character-set-server=utf8mb4"]
        if self.user:
            argv.append(f"--user={self.user}")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port, timeout=120)
        except Exception:
            with open(f"{self.dir}/error.log") as f:
                raise AssertionError("mariadbd did not start:\n" + f.read()[-3000:])

    def stop(self):
        stop_process(self.proc)
        self.proc = None

    def sql(self, db, stmt):
        argv = [need_binary("mariadb"), "--no-defaults", f"--socket={self.sock}", "-uroot",
                "-e", stmt] + ([db] if db else [])
        subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def db():
    yield from running(MariaDB())


@pytest.fixture(scope="module")
def fixtures():
    return Fixtures("mysql")


def write_cf(db, name, body, hosts=None, password=PASSWORD):
    path = os.path.join(db.dir, name + ".cf")
    with open(path, "w") as f:
        f.write(f"hosts = {hosts or f'inet:127.0.0.1:{db.port}'}\nuser = postfix\n"
                f"password = {password}\ndbname = mail\noption_group =\n{body}")
    return "mysql:" + path


@pytest.mark.parametrize("cf,key", SQL_CASES, ids=[f"{c}:{k}" for c, k in SQL_CASES])
def test_sql_case(db, fixtures, cf, key):
    compare(fixtures, f"{cf}: {key}", ["-q", key, write_cf(db, cf, SQL_CFS[cf])])


def test_batch(db, fixtures):
    compare(fixtures, "batch: -q -", ["-q", "-", write_cf(db, "basic", SQL_CFS["basic"])],
            stdin="alice@example.com\nnobody@example.com\nbob\n")


def test_unix_socket(db, fixtures):
    spec = write_cf(db, "unix", SQL_CFS["basic"], hosts=f"unix:{db.sock}")
    compare(fixtures, "unix socket", ["-q", "alice@example.com", spec])


def test_failover(db, fixtures):
    spec = write_cf(db, "failover", SQL_CFS["basic"],
                    hosts=f"inet:127.0.0.1:{free_port()} 127.0.0.1:{db.port}")
    compare(fixtures, "failover: first host down", ["-q", "alice@example.com", spec])


def test_all_down(db, fixtures):
    spec = write_cf(db, "down", SQL_CFS["basic"], hosts=f"127.0.0.1:{free_port()}")
    compare(fixtures, "all hosts down", ["-q", "alice@example.com", spec])


def test_bad_password(db, fixtures):
    spec = write_cf(db, "badpw", SQL_CFS["basic"], password="wrong")
    compare(fixtures, "wrong password", ["-q", "alice@example.com", spec])


def test_stored_procedure(db, fixtures):
    spec = write_cf(db, "call", "query = CALL lookup('%s')\n")
    compare(fixtures, "CALL: found", ["-q", "alice@example.com", spec])
    compare(fixtures, "CALL: not found", ["-q", "nobody@example.com", spec])
    spec = write_cf(db, "noresult", "query = CALL noresult('%s')\n")
    compare(fixtures, "CALL without a result set", ["-q", "alice@example.com", spec])
    spec = write_cf(db, "noresult_ok", "query = CALL noresult('%s')\nrequire_result_set = no\n")
    compare(fixtures, "CALL without a result set, require_result_set = no",
            ["-q", "alice@example.com", spec])


def test_option_file(db, fixtures):
    """Connection settings from an option file's group."""
    opts = os.path.join(db.dir, "my.cnf")
    with open(opts, "w") as f:
        f.write(f"[outpost]\nport = {db.port}\n")
    path = os.path.join(db.dir, "optfile.cf")
    with open(path, "w") as f:
        f.write(f"hosts = 127.0.0.1\nuser = postfix\npassword = {PASSWORD}\ndbname = mail\n"
                f"option_file = {opts}\noption_group = outpost\n{SQL_CFS['basic']}")
    compare(fixtures, "option_file and option_group", ["-q", "alice@example.com", "mysql:" + path])


def test_server_restart(db):
    check_restart(db, write_cf(db, "restart", SQL_CFS["basic"]), "alice@example.com",
                  "alice@mail.example.com")


def test_server_down_then_back(db):
    check_down_then_back(db, write_cf(db, "downback", SQL_CFS["basic"]), "alice@example.com",
                         "alice@mail.example.com")
