#!/usr/bin/env python3
"""tests/tools/slowclients.py - clients that hold a web server's connections

  slowclients.py HOST PORT N SECONDS [idle|trickle]
opens N connections; "trickle" sends a request line and then one header
byte every half second without ever finishing the headers (slowloris),
"idle" sends nothing. Runs for SECONDS, then prints one JSON line:
{"opened": N, "refused": N, "closed_by_server": N, "first_close_s": S}
where closed_by_server counts connections the server ended (EOF or reset)
and first_close_s is when the first of them was ended.
"""
import json
import select
import socket
import sys
import time

host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
mode = sys.argv[5] if len(sys.argv) > 5 else "trickle"
socks, refused = [], 0
t0 = time.monotonic()
for _ in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        s.setblocking(False)
        if mode == "trickle":
            s.send(b"GET /search?q=a HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        refused += 1
closed, first_close = set(), None
last_send = time.monotonic()
while time.monotonic() - t0 < secs:
    live = [s for s in socks if s not in closed]
    if not live:
        break
    r, _, _ = select.select(live, [], [], 0.1)
    for s in r:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            closed.add(s)
            if first_close is None:
                first_close = time.monotonic() - t0
    if mode == "trickle" and time.monotonic() - last_send > 0.5:
        for s in live:
            if s in closed:
                continue
            try:
                s.send(b"X")
            except OSError:
                closed.add(s)
                if first_close is None:
                    first_close = time.monotonic() - t0
        last_send = time.monotonic()
print(json.dumps({"opened": len(socks), "refused": refused, "closed_by_server": len(closed),
                  "first_close_s": round(first_close, 2) if first_close is not None else None}))
for s in socks:
    s.close()
