"""Golden files for the restriction engine, held against Postfix.

Each tests/fixtures/restrictions/NAME.script (settings, tables, then client,
helo, mail, rcpt steps) is replayed by `outpost explain --script` and
diffed against NAME.out; OUTPOST_REGEN=1 rewrites the .out files instead.
Where NAME.postfix exists (recorded from Postfix 3.7 by record_postfix.py),
every reply must also match Postfix's: the same text for a refusal, and
some 2xx/3xx reply where Postfix accepted. A step whose difference is
deliberate is named in the script by a line
"# differs: STEP -- reason".
"""
import glob
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "restrictions")
SCRIPTS = sorted(glob.glob(os.path.join(FIXTURES, "*.script")))


def outpost():
    build = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
    return os.path.join(build, "src", "cli", "outpost")


def explain(script, verbose=False):
    args = [outpost(), "explain", "--script", script] + (["-v"] if verbose else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"explain failed ({p.returncode}): {p.stderr}"
    return p.stdout


def steps(text):
    """[(step, reply)] from explain output or a Postfix recording."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith("-- "):
            continue
        if line.startswith("  | ") or line.startswith("  + "):
            continue
        if line.startswith("  "):
            if out and out[-1][1] is None:
                out[-1] = (out[-1][0], line.strip())
            continue
        out.append((line, None))
    return out


def differs(script):
    known = {}
    with open(script) as fp:
        for line in fp:
            if line.startswith("# differs: "):
                step, _, why = line[len("# differs: "):].partition(" -- ")
                known[step.strip()] = why.strip()
    return known


@pytest.mark.parametrize("script", SCRIPTS, ids=[os.path.basename(s)[:-7] for s in SCRIPTS])
def test_golden(script):
    got = explain(script)
    gold = script[:-len(".script")] + ".out"
    if os.environ.get("OUTPOST_REGEN") == "1":
        with open(gold, "w") as fp:
            fp.write(got)
        pytest.skip("regenerated " + os.path.basename(gold))
    with open(gold) as fp:
        want = fp.read()
    assert got == want, "output differs from " + os.path.basename(gold)


@pytest.mark.parametrize("script", [s for s in SCRIPTS
                                    if os.path.exists(s[:-len(".script")] + ".postfix")],
                         ids=lambda s: os.path.basename(s)[:-7])
def test_matches_postfix(script):
    with open(script[:-len(".script")] + ".postfix") as fp:
        pf = steps(fp.read())
    ours = steps(explain(script))
    known = differs(script)
    assert [s for s, _ in ours] == [s for s, _ in pf], "step lists differ"
    bad = []
    for (step, mine), (_, theirs) in zip(ours, pf):
        if step in known or theirs is None:
            continue
        if theirs[0] in "23":
            ok = mine is not None and mine[0] in "23"
        else:
            ok = mine == theirs
        if not ok:
            bad.append(f"{step}: outpost {mine!r}, postfix {theirs!r}")
    assert not bad, "\n".join(bad)


def log_lines(text):
    """{step: [logged events]} ("  + log: …" lines under each step)."""
    out, step, n = {}, None, 0
    for line in text.splitlines():
        if line and not line.startswith(" ") and not line.startswith("#"):
            n += 1
            step = (n, line)
        elif line.startswith("  + log: ") and step:
            out.setdefault(step, []).append(line[len("  + log: "):])
    return out


@pytest.mark.parametrize("script", [s for s in SCRIPTS
                                    if os.path.exists(s[:-len(".script")] + ".postfix")],
                         ids=lambda s: os.path.basename(s)[:-7])
def test_log_events_match_postfix(script):
    """warn, hold, discard, filter, redirect and reject_warning log lines read
    as Postfix's (smtpd adds the queue ID where Postfix has one)."""
    with open(script[:-len(".script")] + ".postfix") as fp:
        theirs = log_lines(fp.read())
    ours = log_lines(explain(script))
    assert ours == theirs


def test_explain_shows_why():
    """-v shows the restriction and table keys behind a refusal."""
    out = explain(os.path.join(FIXTURES, "login_first_match.script"), verbose=True)
    assert "reject_sender_login_mismatch" in out
    assert "not owned by user admin" in out
    assert "smtpd_sender_login_maps" in out
