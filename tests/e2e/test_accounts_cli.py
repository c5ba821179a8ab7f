"""outpost account / alias / sender / domain: the store and every error path.

Each refused command must print one clear line, exit non-zero and leave the
files exactly as they were; successful ones regenerate the tables the server
reads (checked through `outpost map`, i.e. the same table engine).
"""
import hashlib
import os
import pathlib
import sqlite3
import subprocess
import threading

import pytest

BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")

MAIN_CF = """\
myhostname = mail.example.test
mydomain = example.test
myorigin = $mydomain
mydestination = localhost
recipient_delimiter = +
account_directory = $config_directory/accounts
smtpd_sender_login_maps = unionmap:{
    texthash:$account_directory/login-accounts,
    texthash:$account_directory/login-aliases,
    texthash:$account_directory/login-grants,
    regexp:$account_directory/login-domains.regexp }
"""


class ConfDir(type(pathlib.Path())):
    """The configuration directory, knowing which account backend it uses."""
    backend = "files"


SQLITE_LOGIN_MAPS = """\
smtpd_sender_login_maps = unionmap:{
    sqlite:$account_directory/login-accounts.cf,
    sqlite:$account_directory/login-aliases.cf,
    sqlite:$account_directory/login-grants.cf,
    sqlite:$account_directory/login-domains.cf }
"""


@pytest.fixture(params=["files", "sqlite"])
def conf(tmp_path, request):
    text = MAIN_CF
    if request.param == "sqlite":
        text = text[:text.index("smtpd_sender_login_maps")] + SQLITE_LOGIN_MAPS
        text += "account_backend = sqlite\n"
    (tmp_path / "main.cf").write_text(text)
    (tmp_path / "master.cf").write_text("")
    conf = ConfDir(tmp_path)
    conf.backend = request.param
    return conf


def run(conf, *args, stdin=None):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    return subprocess.run([OUTPOST, *args[:1], "-c", str(conf), *args[1:]], input=stdin,
                          capture_output=True, text=True, env=env, timeout=60)


def snapshot(conf):
    """What the store holds: file contents, and a database's rows (its WAL
    files may change on a read; its rows may not)."""
    d = conf / "accounts"
    if not d.exists():
        return {}
    snap = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())
            if p.name != ".lock" and not p.name.startswith("accounts.sqlite")}
    if (d / "accounts.sqlite").exists():
        db = sqlite3.connect(d / "accounts.sqlite")
        for t in ("accounts", "alias_targets", "senders"):
            snap[t] = sorted(db.execute(f"SELECT * FROM {t}").fetchall())
        db.close()
    return snap


def source(conf, name):
    """A source of the store as "key value" lines, whatever the backend."""
    d = conf / "accounts"
    if conf.backend == "files":
        return (d / name).read_text()
    db = sqlite3.connect(d / "accounts.sqlite")
    if name == "accounts":
        rows = db.execute("SELECT address, hash FROM accounts ORDER BY address").fetchall()
    elif name == "aliases":
        rows = db.execute("SELECT alias, group_concat(target, ',') FROM "
                          "(SELECT * FROM alias_targets ORDER BY alias, rowid) GROUP BY alias").fetchall()
    else:
        rows = db.execute("SELECT login, address FROM senders ORDER BY 1, 2").fetchall()
    db.close()
    return "".join(f"{k} {v}\n" for k, v in rows)


def ok(conf, *args, stdin=None):
    p = run(conf, *args, stdin=stdin)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def refused(conf, *args, stdin=None, want="", status=None):
    before = snapshot(conf)
    p = run(conf, *args, stdin=stdin)
    assert p.returncode != 0, (args, p.stdout)
    if status is not None:
        assert p.returncode == status, (args, p.returncode, p.stderr)
    assert want in p.stderr, (want, p.stderr)
    assert snapshot(conf) == before, "files changed by a refused command"
    return p


def lookup(conf, table, key):
    """Ask a generated table through the table engine, as the server does."""
    d = conf / "accounts"
    if conf.backend == "sqlite":
        spec = f"sqlite:{d}/{table}.cf"
    elif table == "login-domains":
        spec = f"regexp:{d}/login-domains.regexp"
    else:
        spec = f"texthash:{d}/{table}"
    p = subprocess.run([OUTPOST, "map", "-q", key, spec], capture_output=True, text=True)
    assert p.returncode in (0, 1), (spec, key, p.stderr)
    return p.stdout.strip() if p.returncode == 0 else None


def owners(conf, table, key):
    v = lookup(conf, table, key)
    return None if v is None else sorted(v.split(","))


def populate(conf):
    ok(conf, "account", "add", "alice@example.test", stdin="pw-alice\n")
    ok(conf, "account", "add", "bob@example.test", stdin="pw-bob\n")
    ok(conf, "account", "add", "admin@example.test", stdin="pw-admin\n")


def test_account_add_hashes_with_yescrypt(conf):
    populate(conf)
    text = source(conf, "accounts")
    line = [l for l in text.splitlines() if l.startswith("alice@example.test ")][0]
    assert line.split()[1].startswith("$y$")
    assert "pw-alice" not in text
    store = "accounts" if conf.backend == "files" else "accounts.sqlite"
    assert oct((conf / "accounts" / store).stat().st_mode & 0o777) == "0o600"
    assert lookup(conf, "passwords" if conf.backend == "sqlite" else "accounts",
                  "alice@example.test").startswith("$y$")
    assert ok(conf, "account", "list").split() == ["admin@example.test", "alice@example.test", "bob@example.test"]
    assert lookup(conf, "vmailbox", "alice@example.test") == "example.test/alice/"
    assert lookup(conf, "vmailbox", "carol@example.test") is None
    assert lookup(conf, "domains", "example.test") is not None
    assert lookup(conf, "domains", "external.example") is None
    assert ok(conf, "domain", "list").split() == ["example.test"]


def test_password_on_command_line_warns(conf):
    p = run(conf, "account", "add", "carol@example.test", "--password", "secret")
    assert p.returncode == 0
    assert "visible to other users" in p.stderr


@pytest.mark.parametrize("args,want", [
    (("account", "add", "not-an-address"), "missing '@domain'"),
    (("account", "add", "a b@example.test"), "not allowed in the local part"),
    (("account", "add", "x@bad_domain.test"), "bad domain"),
    (("account", "add", "x@localhost"), "not fully qualified"),
    (("account", "add"), "usage: outpost account"),
    (("account", "frobnicate", "x@example.test"), "unknown account command"),
    (("alias", "add", "sales@example.test"), "usage: outpost alias"),
    (("alias", "add", "sales@example.test", "not-an-address"), "missing '@domain'"),
    (("alias", "del", "nobody@example.test"), "no such alias"),
    (("sender", "allow", "alice@example.test"), "usage: outpost sender"),
    (("sender", "allow", "ghost@example.test", "noreply@external.example"), "no such account"),
    (("sender", "deny", "alice@example.test", "noreply@external.example"), "has no grant"),
    (("sender", "can", "ghost@example.test"), "no such account"),
    (("sender", "allow", "alice@example.test", "@@x"), "invalid address"),
])
def test_cli_errors_write_nothing(conf, args, want):
    populate(conf)
    p = refused(conf, *args, stdin="pw\n", want=want)
    assert len(p.stderr.strip().splitlines()) <= 2, p.stderr


def test_existing_account_and_alias_collisions(conf):
    populate(conf)
    refused(conf, "account", "add", "alice@example.test", stdin="x\n", want="already exists")
    refused(conf, "alias", "add", "alice@example.test", "bob@example.test", want="is an account")
    ok(conf, "alias", "add", "sales@example.test", "alice@example.test")
    refused(conf, "account", "add", "sales@example.test", stdin="x\n", want="is an alias")
    refused(conf, "alias", "add", "sales@example.test", "alice@example.test", want="already points")
    refused(conf, "alias", "add", "loop@example.test", "loop@example.test", want="itself")
    refused(conf, "account", "passwd", "ghost@example.test", stdin="x\n", want="no such account")
    refused(conf, "account", "del", "ghost@example.test", want="no such account")
    refused(conf, "account", "add", "dave@example.test", stdin="", want="no password")


def test_alias_targets_own_the_alias_and_catchall_grants_nothing(conf):
    populate(conf)
    ok(conf, "alias", "add", "sales@example.test", "alice@example.test,bob@example.test")
    ok(conf, "alias", "add", "team@example.test", "sales@example.test")
    ok(conf, "alias", "add", "@example.test", "admin@example.test")
    both = ["alice@example.test", "bob@example.test"]
    assert owners(conf, "login-aliases", "sales@example.test") == both
    assert owners(conf, "login-aliases", "team@example.test") == both  # through the chain
    # receiving a catch-all grants no sending
    assert lookup(conf, "login-aliases", "@example.test") is None
    # a catch-all must not swallow existing mailboxes: identity entries
    assert lookup(conf, "virtual", "alice@example.test") == "alice@example.test"
    assert lookup(conf, "virtual", "@example.test") == "admin@example.test"
    assert owners(conf, "virtual", "sales@example.test") == both
    out = ok(conf, "sender", "can", "alice@example.test")
    assert "sales@example.test" in out and "team@example.test" in out
    ok(conf, "alias", "del", "sales@example.test", "bob@example.test")
    assert "sales@example.test alice@example.test\n" in source(conf, "aliases")
    ok(conf, "alias", "del", "sales@example.test")
    assert not any(l.startswith("sales@") for l in source(conf, "aliases").splitlines())
    assert lookup(conf, "virtual", "sales@example.test") is None


def test_grants_external_address_and_domain(conf):
    populate(conf)
    ok(conf, "sender", "allow", "bob@example.test", "noreply@external.example")
    ok(conf, "sender", "allow", "admin@example.test", "@example.test")
    refused(conf, "sender", "allow", "bob@example.test", "noreply@external.example", want="already")
    assert ok(conf, "sender", "list").splitlines() == [
        "admin@example.test @example.test", "bob@example.test noreply@external.example"]
    # external.example stays remote: not a managed domain
    assert ok(conf, "domain", "list").split() == ["example.test"]
    who = ok(conf, "sender", "who", "alice@example.test")
    assert "alice@example.test,admin@example.test" in who, who
    assert "own account" in who and "granted @example.test" in who
    who = ok(conf, "sender", "who", "alice+tag@example.test")
    assert "alice@example.test,admin@example.test" in who, who
    who = ok(conf, "sender", "who", "noreply@external.example")
    assert "bob@example.test" in who and "admin" not in who.split("(key")[0]
    assert lookup(conf, "login-domains", "carol@example.test") == "admin@example.test"
    assert lookup(conf, "login-domains", "carol+x@example.test") is None
    assert lookup(conf, "login-domains", "@example.test") is None
    ok(conf, "sender", "deny", "bob@example.test", "noreply@external.example")
    who = ok(conf, "sender", "who", "noreply@external.example")
    assert "no owner" in who


def test_account_del_drops_its_grants(conf):
    populate(conf)
    ok(conf, "sender", "allow", "bob@example.test", "noreply@external.example")
    ok(conf, "account", "del", "bob@example.test")
    assert "bob@" not in ok(conf, "sender", "list")
    assert lookup(conf, "login-accounts", "bob@example.test") is None
    assert lookup(conf, "login-grants", "noreply@external.example") is None


def test_concurrent_invocations_lose_nothing(conf):
    ok(conf, "account", "add", "admin@example.test", stdin="x\n")
    errors = []

    def add(i):
        p = run(conf, "alias", "add", f"list{i}@example.test", "admin@example.test")
        if p.returncode != 0:
            errors.append(p.stderr)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    text = source(conf, "aliases")
    assert all(f"list{i}@example.test admin@example.test" in text for i in range(12))
