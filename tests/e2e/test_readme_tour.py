"""The README's tour, run as written: `make run`, then the lines between the
tour markers, in a bash shell at the top of a checkout-like directory.

`make run` is pointed at a private run/ (OUTPOST_RUN_DIR) so a developer's
own run/ is left alone; the tour's relative paths (build/, run/) resolve in
a scratch directory whose build/ is the repository's build.
"""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import ROOT, wait_port

README = os.path.join(ROOT, "README.md")


def tour_lines():
    text = open(README).read()
    block = re.search(r"<!-- tour:begin.*?-->\s*```sh\n(.*?)```\s*<!-- tour:end -->", text, re.S)
    assert block, "README.md lost its tour markers"
    return block.group(1)


def port_free(port):
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.mark.skipif(not shutil.which("swaks"), reason="swaks not installed")
def test_readme_tour(tmp_path):
    for port in (2525, 2587, 2465):
        if not port_free(port):
            pytest.skip(f"port {port} is in use (a `make run` already running?)")
    work = tmp_path / "checkout"
    work.mkdir()
    os.symlink(os.path.join(ROOT, "build"), work / "build")
    env = dict(os.environ, OUTPOST_RUN_DIR=str(work / "run"))
    server = subprocess.Popen(["make", "-s", "-C", ROOT, "run"], env=env, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_port(2587, timeout=120)
        p = subprocess.run(["bash", "-c", tour_lines()], cwd=work, capture_output=True, text=True,
                           timeout=120)
        out = p.stdout + p.stderr
        # the message reached Bob's Maildir
        new = work / "run" / "mail" / "example.test" / "bob" / "new"
        files = [f for f in os.listdir(new)] if new.is_dir() else []
        assert any("hello from the tour" in open(new / f, errors="replace").read() for f in files), out
        # the spoofing attempt got Postfix's 553 reply
        assert re.search(r"<~\*?\s+553 5\.7\.1 <bob@example\.test>: Sender address rejected: "
                         r"not owned by user alice@example\.test", out), out
        # who/allow: before the grant only bob, after it alice too
        who = re.findall(r"bob@example\.test: may be sent as by (\S+)", out)
        assert who == ["bob@example.test", "bob@example.test,alice@example.test"], out
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
