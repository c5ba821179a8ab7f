"""ldap: tables against a real OpenLDAP slapd on loopback.

One slapd for the module (mdb database in a scratch directory, loaded with
slapadd, listening on 127.0.0.1), stopped at the end. Each case writes a
.cf file and compares `outpost map -q` with Postfix's postmap
(tests/fixtures/netmaps/ldap.json): filters and bases with quoting,
scopes, multi-valued and several result attributes, result_format,
special (DN and URL), leaf and terminal attributes, recursion, size and
expansion limits, binds, failover, and a server restart in the middle of
a `-q -` session.
"""
import os
import subprocess

import pytest

from conftest import free_port, wait_port
from netmap_util import (Fixtures, check_down_then_back, check_restart, compare, need_binary,
                         running, scratch_dir, stop_process)

SUFFIX = "dc=example,dc=com"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: cn=reader,{SUFFIX}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: readerpw

dn: uid=alice,{PEOPLE}
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: alice
cn: Alice
sn: Smith
mail: alice@example.com
mailLocalAddress: alice@example.com
mailLocalAddress: a.smith@example.com
mailRoutingAddress: alice@mail.example.com
mailHost: mx1.example.com

dn: uid=bob,{PEOPLE}
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: bob
cn: Bob
sn: Jones
mail: bob@example.com
mail: robert@example.com
mailLocalAddress: bob@example.com
mailRoutingAddress: bob@mail.example.com

dn: uid=paren,{PEOPLE}
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: paren
cn: Paren
sn: P
mailLocalAddress: paren(x)@example.com
mailRoutingAddress: paren@mail.example.com

dn: uid=urlholder,{PEOPLE}
objectClass: inetOrgPerson
objectClass: inetLocalMailRecipient
uid: urlholder
cn: Url
sn: U
mailLocalAddress: url@example.com
labeledURI: ldap:///{PEOPLE}?mailRoutingAddress?one?(uid=bob)

dn: cn=team,{GROUPS}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: team
mailLocalAddress: team@example.com
mailRoutingAddress: team-owner@example.com
member: uid=alice,{PEOPLE}
member: uid=bob,{PEOPLE}

dn: cn=nested,{GROUPS}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: nested
mailLocalAddress: nested@example.com
member: cn=team,{GROUPS}

dn: cn=lists,{GROUPS}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: lists
mailLocalAddress: list@example.com
mailHost: lists.example.com
member: uid=alice,{PEOPLE}

dn: cn=loop1,{GROUPS}
objectClass: groupOfNames
objectClass: inetLocalMailRecipient
cn: loop1
mailLocalAddress: loop@example.com
member: cn=loop2,{GROUPS}

dn: cn=loop2,{GROUPS}
objectClass: groupOfNames
cn: loop2
member: cn=loop1,{GROUPS}
"""


class Slapd:
    def __init__(self):
        self.dir = scratch_dir("outpost-ldap-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.proc = None

    def init(self):
        os.mkdir(os.path.join(self.dir, "data"))
        with open(self.conf, "w") as f:
            f.write("".join(f"include /etc/ldap/schema/{s}.schema\n"
                            for s in ("core", "cosine", "inetorgperson", "misc")))
            f.write(f"modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
                    f"pidfile {self.dir}/slapd.pid\n"
                    f"access to attrs=userPassword by anonymous auth by * none\n"
                    f"access to * by * read\n"
                    f"database mdb\nmaxsize 10485760\nsuffix \"{SUFFIX}\"\n"
                    f"rootdn \"cn=admin,{SUFFIX}\"\nrootpw adminpw\n"
                    f"directory {self.dir}/data\n")
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(LDIF)
        subprocess.run([need_binary("/usr/sbin/slapadd"), "-f", self.conf, "-l", ldif],
                       check=True, capture_output=True, text=True, timeout=120)
        self.start()

    def start(self):
        self.proc = subprocess.Popen([need_binary("/usr/sbin/slapd"), "-f", self.conf, "-h",
                                      f"ldap://127.0.0.1:{self.port}/", "-d", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, timeout=60)

    def stop(self):
        stop_process(self.proc)
        self.proc = None


@pytest.fixture(scope="module")
def ldap():
    yield from running(Slapd())


@pytest.fixture(scope="module")
def fixtures():
    return Fixtures("ldap")


BASIC = (f"search_base = {SUFFIX}\nquery_filter = (mailLocalAddress=%s)\n"
         "result_attribute = mailRoutingAddress\nbind = no\n")
CFS = {
    "basic": BASIC,
    "multi": BASIC.replace("result_attribute = mailRoutingAddress", "result_attribute = mail"),
    "two_attrs": BASIC.replace("result_attribute = mailRoutingAddress",
                               "result_attribute = mailRoutingAddress, mailHost"),
    "format": BASIC.replace("result_attribute = mailRoutingAddress",
                            "result_attribute = mailHost\nresult_format = smtp:[%s]:25 for %U"),
    "special": BASIC + "special_result_attribute = member\n",
    "leaf": BASIC.replace("result_attribute = mailRoutingAddress", "result_attribute =") +
    "special_result_attribute = member\nleaf_result_attribute = mailRoutingAddress\n",
    "terminal": BASIC + "special_result_attribute = member\nterminal_result_attribute = mailHost\n",
    "url": BASIC + "special_result_attribute = labeledURI\n",
    "loop": BASIC + "special_result_attribute = member\nrecursion_limit = 3\n",
    "one": BASIC.replace(f"search_base = {SUFFIX}", f"search_base = {PEOPLE}") + "scope = one\n",
    "one_miss": BASIC + "scope = one\n",
    "base_dn": (f"search_base = uid=%u,{PEOPLE}\nquery_filter = (objectClass=*)\n"
                "result_attribute = mail\nscope = base\nbind = no\n"),
    "domain": BASIC + "domain = example.com\n",
    "limit": BASIC.replace("result_attribute = mailRoutingAddress", "result_attribute = mail") +
    "expansion_limit = 1\n",
    "size": (f"search_base = {SUFFIX}\nquery_filter = (&(objectClass=inetOrgPerson)(mail=*%d))\n"
             "result_attribute = uid\nbind = no\nsize_limit = 1\n"),
    "nobase": BASIC.replace(f"search_base = {SUFFIX}", f"search_base = ou=nowhere,{SUFFIX}"),
    "bind": BASIC.replace("bind = no", f"bind = yes\nbind_dn = cn=reader,{SUFFIX}\nbind_pw = readerpw"),
    "bind_bad": BASIC.replace("bind = no", f"bind = yes\nbind_dn = cn=reader,{SUFFIX}\nbind_pw = wrong"),
    "filter_parts": BASIC.replace("(mailLocalAddress=%s)", "(&(uid=%u)(mail=*@%d))").replace(
        "result_attribute = mailRoutingAddress", "result_attribute = cn"),
    "default_filter": f"search_base = {SUFFIX}\nresult_attribute = mail\nbind = no\n",
}
CASES = [
    ("basic", "alice@example.com"), ("basic", "A.Smith@Example.COM"), ("basic", "nobody@example.com"),
    ("basic", "*@example.com"), ("basic", "paren(x)@example.com"), ("basic", "bob"),
    ("basic", "team@example.com"),
    ("multi", "bob@example.com"), ("two_attrs", "alice@example.com"),
    ("format", "alice@example.com"),
    ("special", "team@example.com"), ("special", "nested@example.com"),
    ("leaf", "team@example.com"), ("leaf", "alice@example.com"), ("leaf", "nested@example.com"),
    ("terminal", "list@example.com"), ("terminal", "team@example.com"),
    ("url", "url@example.com"), ("loop", "loop@example.com"),
    ("one", "alice@example.com"), ("one_miss", "alice@example.com"),
    ("base_dn", "alice@example.com"), ("base_dn", "bob"), ("base_dn", "a,b=c@example.com"),
    ("base_dn", "nobody@example.com"),
    ("domain", "alice@example.com"), ("domain", "alice"), ("domain", "alice@other.example"),
    ("limit", "bob@example.com"), ("limit", "alice@example.com"),
    ("size", "x@example.com"),
    ("nobase", "alice@example.com"),
    ("bind", "alice@example.com"), ("bind_bad", "alice@example.com"),
    ("filter_parts", "alice@example.com"), ("filter_parts", "alice"),
    ("default_filter", "alice@example.com"),
]


def write_cf(ldap, name, body, server=None):
    path = os.path.join(ldap.dir, name + ".cf")
    with open(path, "w") as f:
        f.write(f"server_host = {server or f'ldap://127.0.0.1:{ldap.port}'}\n{body}")
    return "ldap:" + path


@pytest.mark.parametrize("cf,key", CASES, ids=[f"{c}:{k}" for c, k in CASES])
def test_case(ldap, fixtures, cf, key):
    compare(fixtures, f"{cf}: {key}", ["-q", key, write_cf(ldap, cf, CFS[cf])])


def test_batch(ldap, fixtures):
    compare(fixtures, "batch: -q -", ["-q", "-", write_cf(ldap, "basic", BASIC)],
            stdin="alice@example.com\nnobody@example.com\nbob@example.com\n")


def test_host_and_port(ldap, fixtures):
    spec = write_cf(ldap, "hostport", BASIC + f"server_port = {ldap.port}\n", server="127.0.0.1")
    compare(fixtures, "server_host and server_port", ["-q", "alice@example.com", spec])


def test_failover(ldap, fixtures):
    spec = write_cf(ldap, "failover", BASIC,
                    server=f"ldap://127.0.0.1:{free_port()} ldap://127.0.0.1:{ldap.port}")
    compare(fixtures, "failover: first server down", ["-q", "alice@example.com", spec])


def test_all_down(ldap, fixtures):
    spec = write_cf(ldap, "down", BASIC, server=f"ldap://127.0.0.1:{free_port()}")
    compare(fixtures, "all servers down", ["-q", "alice@example.com", spec])
    spec = write_cf(ldap, "downbind", CFS["bind"], server=f"ldap://127.0.0.1:{free_port()}")
    compare(fixtures, "all servers down, with bind", ["-q", "alice@example.com", spec])


def test_server_restart(ldap):
    check_restart(ldap, write_cf(ldap, "restart", BASIC), "alice@example.com",
                  "alice@mail.example.com")


def test_server_down_then_back(ldap):
    check_down_then_back(ldap, write_cf(ldap, "downback", BASIC), "alice@example.com",
                         "alice@mail.example.com")
