"""Transport and nexthop selection (`outpost deliver-test route`) against what
Debian's Postfix 3.7 trivial-rewrite answered for the same main.cf and
tables (tests/fixtures/transport/*/expected, recorded by record.py there).
Postfix is not needed here.

Each scenario's cases are resolved in one batch; every line (sender,
recipient, transport, nexthop, address class) must match the recording.
"""
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "transport")
BUILD = os.environ.get("OUTPOST_BUILD", os.path.join(ROOT, "build"))
OUTPOST = os.path.join(BUILD, "src", "cli", "outpost")

SCENARIOS = sorted(d for d in os.listdir(FIX) if os.path.isfile(os.path.join(FIX, d, "expected")))


def expected_lines(scenario):
    with open(os.path.join(FIX, scenario, "expected")) as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]


def scratch_copy(tmp_path, scenario):
    d = tmp_path / scenario
    shutil.copytree(os.path.join(FIX, scenario), d)
    return str(d)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_route_matches_postfix(tmp_path, scenario):
    conf = scratch_copy(tmp_path, scenario)
    with open(os.path.join(conf, "cases")) as f:
        cases = f.read()
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "route", "--batch"],
                       input=cases, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    got = [l.split("\t") for l in p.stdout.splitlines()]
    want = expected_lines(scenario)
    assert len(got) == len(want), p.stdout
    for g, w in zip(got, want):
        assert g == w, f"{w[0]} -> {w[1]}: got {g[2:]}, Postfix said {w[2:]}"


def test_route_json_and_source(tmp_path):
    conf = scratch_copy(tmp_path, "basic")
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "route", "-f", "notify@app.example",
                        "u@remote.example", "u@relayed.example"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    a, b = [json.loads(l) for l in p.stdout.splitlines()]
    assert (a["transport"], a["nexthop"], a["source"]) == \
        ("smtp", "[gw-a.example]:2525", "sender_dependent_relayhost_maps")
    assert (b["transport"], b["nexthop"], b["class"], b["source"]) == \
        ("relay", "[relay-gw.example]", "relay", "transport_maps")


def test_route_table_error_is_temporary(tmp_path):
    conf = scratch_copy(tmp_path, "basic")
    with open(os.path.join(conf, "main.cf"), "a") as f:
        f.write("transport_maps = fail:broken\n")
    p = subprocess.run([OUTPOST, "deliver-test", "-c", conf, "route", "u@remote.example"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "transport_maps" in p.stderr and p.stdout == ""
