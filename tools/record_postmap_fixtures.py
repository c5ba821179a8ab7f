#!/usr/bin/python3
"""Record what Debian's postmap/postalias answer for the table fixtures.

The sources live in tests/fixtures/tables/src/. Every case runs in one
scratch copy of that directory, in order (builds come before the queries
that need them), with relative paths, so the same argument lists work for
`outpost map` / `outpost alias` in tests/e2e/test_map_fixtures.py.

Writes tests/fixtures/tables/cases.json: for each case its name, tool
(map|alias), args, stdin, and what Postfix did: stdout, stderr (program
name replaced by "PROG"), exit status. A case may carry:
  stderr_re  - where Outpost deliberately words a message differently, a
               regular expression its (normalised) stderr must match instead
  unordered  - compare stdout lines as a set (hash order is not key order)
  outpost_only - no Postfix equivalent: the expectations are ours, written
               by hand below (stdout, exit) or copied from another case
               (same_stdout_as)

Needs postmap and postalias (postfix, postfix-pcre, postfix-lmdb,
postfix-cdb, postfix-sqlite); run it with `make fixtures` or directly.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "tables")

CASES = []


def case(name, args, tool="map", stdin=None, **extra):
    c = {"name": name, "tool": tool, "args": args}
    if stdin is not None:
        c["stdin"] = stdin
    c.update(extra)
    CASES.append(c)


def q(name, key, *tables, **extra):
    case(name, ["-q", key] + list(tables), **extra)


# Outpost words some messages its own way; what it must say instead.
DUP = r'duplicate entry: "foo"'
ALIASLIKE = r'line 12: record is in "key: value" format; is this an alias file\?'

# --- fixed-string tables: build, then query --------------------------------
BASIC_KEYS = [
    ("folded source key", "alice@example.com"),
    ("upper-case query folded", "ALICE@EXAMPLE.COM"),
    ("mixed-case query folded", "Alice@Example.COM"),
    ("comma list value", "bob@example.com"),
    ("first duplicate wins", "foo"),
    ("upper-case duplicate key", "FOO"),
    ("continuation lines joined", "multi"),
    ("bare domain", "example.com"),
    ("dot domain", ".sub.example.com"),
    ("no parent-domain search", "sub.sub.example.com"),
    ("alias-looking key keeps colon", "key:"),
    ("alias-looking key without colon", "key"),
    ("tab separator", "tab"),
    ("trailing spaces trimmed", "trailing"),
    ("at-domain key is literal", "@example.com"),
    ("user-at key is literal", "user@"),
    ("no partial key search", "someone@example.com"),
    ("indented comment is continuation", "mixedcase"),
    ("absent key", "nobody@example.com"),
]

case("texthash: build is refused", ["texthash:basic"])
for label, key in BASIC_KEYS:
    q("texthash: " + label, key, "texthash:basic")

for typ in ("lmdb", "hash", "btree", "cdb"):
    case(typ + ": build with warnings", [typ + ":basic"],
         stderr_re=DUP + r"[\s\S]*" + ALIASLIKE)
    for label, key in BASIC_KEYS:
        q(typ + ": " + label, key, typ + ":basic")

# postmap -f: no folding at build and query time
case("lmdb -f: build without folding", ["-f", "lmdb:basicf"], stderr_re=DUP)
case("lmdb -f: folded query misses", ["-f", "-q", "alice@example.com", "lmdb:basicf"])
case("lmdb -f: exact query found", ["-f", "-q", "Alice@Example.COM", "lmdb:basicf"])
case("texthash -f: exact query found", ["-f", "-q", "MixedCase", "texthash:basic"])
case("texthash -f: folded query misses", ["-f", "-q", "mixedcase", "texthash:basic"])
case("lmdb -r: replace duplicates", ["-r", "lmdb:basicr"])
q("lmdb -r: last duplicate wins", "foo", "lmdb:basicr")
case("lmdb -w: no duplicate warnings", ["-w", "lmdb:basicw"], stderr_re=ALIASLIKE)
case("lmdb -N: build with NULs", ["-N", "lmdb:basicn1"], stderr_re=DUP)
q("lmdb -N: lookup", "foo", "lmdb:basicn1")
case("lmdb -n: build without NULs", ["-n", "lmdb:basicn0"], stderr_re=DUP)
q("lmdb -n: lookup", "foo", "lmdb:basicn0")
case("cdb -N: build with NULs", ["-N", "cdb:basicn1"], stderr_re=DUP)
q("cdb -N: lookup", "multi", "cdb:basicn1")

# batch queries
BATCH = "foo\nnobody\nALICE@EXAMPLE.COM\nmulti\n\nexample.com\n"
for typ in ("texthash", "lmdb", "cdb"):
    case(typ + ": batch -q -", ["-q", "-", typ + ":basic"], stdin=BATCH)
case("lmdb: batch with nothing found", ["-q", "-", "lmdb:basic"], stdin="x\ny\n")
case("lmdb: dump -s", ["-s", "lmdb:basic"])
case("texthash: dump -s", ["-s", "texthash:basic"], unordered=True)

# several tables: first match wins, in the order given
q("list: first table answers", "foo", "lmdb:basic", "texthash:pipe1")
q("list: second table answers", "a", "lmdb:basic", "texthash:pipe1")
q("list: none answers", "zzz", "lmdb:basic", "texthash:pipe1")

# incremental updates and deletes
case("lmdb: build for updates", ["lmdb:upd"], stderr_re=DUP)
case("lmdb -i: add entries", ["-i", "lmdb:upd"], stdin="new1 one\nNew2 two\nfoo clash\n",
     stderr_re=r'duplicate entry: "foo"')
q("lmdb -i: added key", "new1", "lmdb:upd")
q("lmdb -i: added key folded", "new2", "lmdb:upd")
q("lmdb -i: existing key kept", "foo", "lmdb:upd")
case("lmdb -i -r: replace", ["-i", "-r", "lmdb:upd"], stdin="foo replaced\n")
q("lmdb -i -r: replaced", "foo", "lmdb:upd")
case("lmdb -d: delete key", ["-d", "new1", "lmdb:upd"])
case("lmdb -d: delete again", ["-d", "new1", "lmdb:upd"])
q("lmdb -d: gone", "new1", "lmdb:upd")
case("lmdb -d -: delete from stdin", ["-d", "-", "lmdb:upd"], stdin="new2\nabsent\n")
q("lmdb -d -: gone", "new2", "lmdb:upd")
case("lmdb -d -: nothing deleted", ["-d", "-", "lmdb:upd"], stdin="absent\n")

# --- regexp ------------------------------------------------------------------
REGEXP_KEYS = [
    ("substitution of optional group", "user@example.com"),
    ("substitution with extension", "user+tag@example.com"),
    ("dollar-one substitution (regexp file only)", "bob@old.example"),
    ("i flag makes it case-sensitive: match", "admin@x.example.com"),
    ("i flag makes it case-sensitive: miss", "ADMIN@x.example.com"),
    ("default case-insensitive", "CASE@example.com"),
    ("negation matches foreign address", "someone@elsewhere.org"),
    ("negation passes own address", "someone@example.net"),
    ("if block entered", "list-staff@example.com"),
    ("if block skipped", "nolist@example.com"),
    ("continuation line in result", "multi@example.com"),
    ("unmatched optional group is empty", "ac"),
    ("both groups", "abc"),
    ("double dollar", "dollar"),
]
for typ in ("regexp", "pcre"):
    for label, key in REGEXP_KEYS:
        q(typ + ": " + label, key, typ + ":basic." + typ)
    case(typ + ": batch -q -", ["-q", "-", typ + ":basic." + typ],
         stdin="user@example.com\nnobody@example.com\nx@y.org\nlist-a@example.com\n")
    q(typ + ": bad pattern warned, others work", "ok", typ + ":bad." + typ)
    q(typ + ": bad pattern, nothing matches", "zzz", typ + ":bad." + typ)
    q(typ + ": missing file", "x", typ + ":nonexistent." + typ)
    case(typ + ": build is refused", [typ + ":basic." + typ])
for label, key in [
    ("PCRE word swap", "john.smith@corp.example"),
    ("PCRE digits", "12345@digits.example"),
    ("PCRE digits too short", "12@digits.example"),
    ("PCRE lazy group", "a-b-c@lazy.example"),
    ("PCRE x flag", "xyz@spaced.example"),
]:
    q("pcre: " + label, key, "pcre:basic.pcre")

# --- cidr --------------------------------------------------------------------
for label, key in [
    ("inside /24", "192.168.1.5"),
    ("inside /16 only", "192.168.2.5"),
    ("single host", "10.0.0.1"),
    ("next to single host", "10.0.0.2"),
    ("IPv6 single host", "2001:db8:1::1"),
    ("IPv6 upper case", "2001:DB8:1::1"),
    ("IPv6 network", "2001:db8:ffff::5"),
    ("IPv6 loopback", "::1"),
    ("if block inner", "100.64.1.9"),
    ("if block, inner miss", "100.64.2.9"),
    ("negation: inside 172.16/12", "172.16.5.5"),
    ("negation: outside", "8.8.8.8"),
    ("negation: IPv6 outside", "2001:db9::1"),
    ("not an address", "not-an-address"),
]:
    q("cidr: " + label, key, "cidr:basic.cidr")
q("cidr: bad lines warned, others work", "10.1.2.3", "cidr:bad.cidr")
q("cidr: missing file", "1.2.3.4", "cidr:nonexistent.cidr")
case("cidr: batch -q -", ["-q", "-", "cidr:basic.cidr"], stdin="192.168.1.1\n1.1.1.1\n::1\n")

# --- inline, static, unionmap, pipemap ---------------------------------------
INLINE = "inline:{foo=bar, { key = value with spaces }, UPPER=x}"
q("inline: simple", "foo", INLINE)
q("inline: braced value with spaces", "key", INLINE)
q("inline: upper-case key folded", "upper", INLINE)
q("inline: absent", "nothing", INLINE)
q("static: any key", "anything", "static:fixed-value")
q("static: braced text", "k", "static:{ text with spaces }")
UNION = "unionmap:{static:one, inline:{foo=two}}"
q("unionmap: joined with comma", "foo", UNION)
q("unionmap: one member answers", "bar", UNION)
q("unionmap: none answers", "x", "unionmap:{inline:{a=1}, inline:{b=2}}")
q("unionmap: texthash and regexp", "user@example.com",
  "unionmap:{texthash:basic, regexp:basic.regexp}")
PIPE = "pipemap:{texthash:pipe1, texthash:pipe1, texthash:pipe2}"
q("pipemap: chain to the end", "a", PIPE)
q("pipemap: chain breaks", "b", PIPE)
q("pipemap: first stage misses", "z", PIPE)
q("pipemap: inline stages", "a", "pipemap:{inline:{a=b}, inline:{b=c}}")

# the sender-login postmortem: first match wins hides the pcre owner
q("postmortem: list, first table wins", "alice@example.com",
  "texthash:logins", "pcre:logins.pcre")
q("postmortem: list, other address goes to pcre", "carol@example.com",
  "texthash:logins", "pcre:logins.pcre")
q("postmortem: unionmap gives both owners", "alice@example.com",
  "unionmap:{texthash:logins, pcre:logins.pcre}")
case("postmortem: build lmdb logins", ["lmdb:logins"])
q("postmortem: lmdb list, first table wins", "alice@example.com",
  "lmdb:logins", "pcre:logins.pcre")
q("postmortem: lmdb unionmap gives both owners", "alice@example.com",
  "unionmap:{lmdb:logins, pcre:logins.pcre}")

# --- sqlite ------------------------------------------------------------------
for label, key, cf in [
    ("plain query", "alice@example.com", "sql-aliases.cf"),
    ("rows joined with commas", "team@example.com", "sql-aliases.cf"),
    ("inactive row", "gone@example.com", "sql-aliases.cf"),
    ("SQL quoting of the key", "o'brien@example.com", "sql-aliases.cf"),
    ("upper-case key folded", "ALICE@EXAMPLE.COM", "sql-aliases.cf"),
    ("absent", "nobody@example.com", "sql-aliases.cf"),
    ("domain restriction: listed", "alice@example.com", "sql-domain.cf"),
    ("domain restriction: other domain", "bob@other.example", "sql-domain.cf"),
    ("domain restriction: bare user", "alice", "sql-domain.cf"),
    ("%u and %d with result_format", "alice@example.com", "sql-parts.cf"),
    ("%d suppressed without domain", "alice", "sql-parts.cf"),
    ("result_format with %u %d %1", "alice@example.com", "sql-format.cf"),
    ("result_format, several rows", "team@example.com", "sql-format.cf"),
    ("expansion_limit within", "alice@example.com", "sql-limit.cf"),
    ("expansion_limit exceeded", "team@example.com", "sql-limit.cf"),
    ("%2 in query", "example.com", "sql-domaintable.cf"),
    ("%2 suppressed for one label", "localhost", "sql-domaintable.cf"),
    ("upper-case expansions", "alice@mail.example.com", "sql-upper.cf"),
    ("upper-case expansions, no domain", "alice", "sql-upper.cf"),
    ("result_format %1 %2", "alice@example.com", "sql-digits.cf"),
    ("result_format %2 missing", "alice@localhost", "sql-digits.cf"),
]:
    q("sqlite: " + label, key, "sqlite:./" + cf,
      stderr_re=(r"Expansion limit exceeded for key 'team@example.com'[\s\S]*"
                 r"fatal: table sqlite:\./sql-limit\.cf: query error")
      if "exceeded" in label else None)
q("sqlite: missing config file", "x", "sqlite:./nonexistent.cf")
case("sqlite: batch -q -", ["-q", "-", "sqlite:./sql-aliases.cf"],
     stdin="alice@example.com\nnobody@example.com\nteam@example.com\n")

# an empty result: postmap prints it, with two warnings
q("regexp: empty result printed with warnings", "y", "regexp:empty.regexp")
case("regexp: empty result in a batch", ["-q", "-", "regexp:empty.regexp"], stdin="y\nxy\nz\n")

# --- errors and usage --------------------------------------------------------
q("error: missing lmdb index", "x", "lmdb:nonexistent")
q("error: missing cdb index", "x", "cdb:nonexistent")
q("error: unknown table type", "x", "nosuchtype:foo")
case("error: build of missing source", ["lmdb:nonexistent"])
case("error: -s with -q", ["-s", "-q", "x", "lmdb:basic"])
case("error: no table given", ["-q", "x"], stderr_re=r"^PROG: fatal: usage: ")
case("outpost: cdb dump -s (postmap cannot)", ["-s", "cdb:basic"], outpost_only=True,
     same_stdout_as="lmdb: dump -s", unordered=True, exit=0)

# --- aliases (postalias) -----------------------------------------------------
case("alias: build lmdb", ["lmdb:aliases"], tool="alias",
     stderr_re=r"aliases, line 9: need name:value pair[\s\S]*duplicate entry: \"root\"")
for label, key in [
    ("simple", "root"),
    ("folded query", "ROOT"),
    ("folded name", "postmaster"),
    ("file and command, continuation", "bob"),
    ("include", "staff"),
    ("quoted name", "quoted name"),
    ("list normalised", "list"),
    ("absent", "nobody"),
]:
    q("alias: " + label, key, "lmdb:aliases", tool="alias")
case("alias: batch -q -", ["-q", "-", "lmdb:aliases"], tool="alias",
     stdin="root\nnobody\nbob\n")
case("alias: build cdb", ["cdb:aliases"], tool="alias",
     stderr_re=r"aliases, line 9: need name:value pair[\s\S]*duplicate entry: \"root\"")
q("alias: cdb query", "postmaster", "cdb:aliases", tool="alias")
case("alias: build hash", ["hash:aliases"], tool="alias",
     stderr_re=r"aliases, line 9: need name:value pair[\s\S]*duplicate entry: \"root\"")
q("alias: hash query", "root", "hash:aliases", tool="alias")

# --- Outpost-only: derived-key searches over a list (no postmap equivalent) --
case("outpost --as virtual: @domain catch-all", ["-q", "carol@example.com", "--as", "virtual",
     "lmdb:basic"], outpost_only=True, stdout="catchall@example.com\n", exit=0)
case("outpost --as access: parent domain", ["-q", "x@sub.example.com", "--as", "access",
     "lmdb:basic"], outpost_only=True, stdout="OK\n", exit=0)
case("outpost --trace: why the pcre owner is never asked",
     ["-q", "alice@example.com", "--trace", "--as", "virtual", "lmdb:logins", "pcre:logins.pcre"],
     outpost_only=True, exit=0,
     stdout="trace: alice@example.com\tlmdb:logins\tfound\talice@example.com\n"
            "trace: answer for alice@example.com: key alice@example.com\nalice@example.com\n")
case("outpost --trace: unionmap asks both", ["-q", "alice@example.com", "--trace", "--as",
     "virtual", "unionmap:{lmdb:logins, pcre:logins.pcre}"], outpost_only=True, exit=0,
     stdout="trace: alice@example.com\tunionmap:{lmdb:logins, pcre:logins.pcre}\tfound\t"
            "alice@example.com,admin@example.com\n"
            "trace: answer for alice@example.com: key alice@example.com\n"
            "alice@example.com,admin@example.com\n")
case("outpost --as virtual: postmortem list", ["-q", "alice@example.com", "--as", "virtual",
     "lmdb:logins", "pcre:logins.pcre"], outpost_only=True, stdout="alice@example.com\n", exit=0)


def normalise(text, scratch):
    text = text.replace(scratch + "/", "").replace(scratch, ".")
    return re.sub(r"^(postmap|postalias): ", "PROG: ", text, flags=re.M)


def prepare(scratch):
    src = os.path.join(FIX, "src")
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), scratch)
    for copy in ("basicf", "basicr", "basicw", "basicn1", "basicn0", "upd"):
        shutil.copy(os.path.join(scratch, "basic"), os.path.join(scratch, copy))
    db = sqlite3.connect(os.path.join(scratch, "users.sqlite"))
    with open(os.path.join(scratch, "users.sql")) as f:
        db.executescript(f.read())
    db.commit()
    db.close()


def main():
    if not shutil.which("postmap") and not os.path.exists("/usr/sbin/postmap"):
        print("postmap not installed; nothing recorded", file=sys.stderr)
        return 0
    conf = tempfile.mkdtemp(prefix="postmap-conf-")
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\n")
    scratch = tempfile.mkdtemp(prefix="postmap-fixtures-")
    prepare(scratch)
    out = []
    for c in CASES:
        c = {k: v for k, v in c.items() if v is not None}
        if c.get("outpost_only"):
            c.setdefault("stderr", "")
            if "same_stdout_as" in c:
                c["stdout"] = next(o["stdout"] for o in out if o["name"] == c["same_stdout_as"])
            out.append(c)
            continue
        prog = "/usr/sbin/postmap" if c["tool"] == "map" else "/usr/sbin/postalias"
        p = subprocess.run([prog, "-c", conf] + c["args"], cwd=scratch,
                           input=c.get("stdin", ""), capture_output=True, text=True)
        c["stdout"] = normalise(p.stdout, scratch)
        c["stderr"] = normalise(p.stderr, scratch)
        c["exit"] = p.returncode
        out.append(c)
    with open(os.path.join(FIX, "cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    shutil.rmtree(scratch)
    shutil.rmtree(conf)
    print(f"{len(out)} cases recorded in tests/fixtures/tables/cases.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
