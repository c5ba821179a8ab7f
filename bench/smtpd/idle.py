#!/usr/bin/python3
"""Open N SMTP sessions to 127.0.0.1:PORT, send EHLO on each, keep them
idle, then measure the memory of the given processes (RSS and PSS, from
/proc) and how long a fresh client waits for its 220 greeting.

Usage: idle.py PORT N PIDFINDER...   (PIDFINDER: a shell command printing pids)
Prints one JSON object.
"""
import json
import resource
import socket
import subprocess
import sys
import time


def pids(finders):
    out = set()
    for f in finders:
        r = subprocess.run(f, shell=True, capture_output=True, text=True)
        out.update(int(p) for p in r.stdout.split())
    return sorted(out)


def mem(pidlist):
    rss = pss = 0
    for p in pidlist:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def main():
    port, n, finders = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    before = mem(pids(finders))
    socks, t0, failed = [], time.time(), 0
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=120)
            socks.append(s)
        except OSError:
            failed += 1
    ok = 0
    for s in socks:
        try:
            if s.recv(1024).startswith(b"220"):
                s.sendall(b"EHLO idle.example\r\n")
                ok += 1
        except OSError:
            pass
    for s in socks:
        try:
            d = b""
            while b"\n250 " not in d and not d.startswith(b"250 "):
                chunk = s.recv(4096)
                if not chunk:
                    break
                d += chunk
        except OSError:
            pass
    setup = time.time() - t0
    time.sleep(1)
    live = 0
    for s in socks:     # a session that timed out during a slow setup is not idle
        s.setblocking(False)
        try:
            s.recv(1024)        # EOF or a 421: the server gave up on it
        except BlockingIOError:
            live += 1           # nothing to read: still open and idle
        except OSError:
            pass
    plist = pids(finders)
    after = mem(plist)
    t = time.time()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        greet = c.recv(1024)
    greet_s = time.time() - t
    for s in socks:
        s.close()
    print(json.dumps({
        "sessions": live, "failed": failed + (len(socks) - live), "processes": len(plist),
        "rss_kib": after[0], "pss_kib": after[1],
        "rss_per_session_kib": round((after[0] - before[0]) / max(live, 1), 1),
        "pss_per_session_kib": round((after[1] - before[1]) / max(live, 1), 1),
        "fresh_greeting_s": round(greet_s, 4), "greeting_ok": greet.startswith(b"220"),
        "setup_s": round(setup, 1)}))


main()
