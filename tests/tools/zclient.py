#!/usr/bin/python3
"""tests/tools/zclient.py - a client that is not kairan (pyzmq, Debian python3-zmq)

  zclient.py hello EP SERVERKEY (none|random|HOME) [--count N]
      N DEALER connections, each sending one Hello (protobuf bytes written by
      hand); prints "answered" or "refused (EVENT)" per connection; exits 0
      when every one was answered, 1 when none was, 2 when mixed.
      none: no CURVE at all (plaintext); random: a fresh CURVE key; HOME: the
      X25519 key of that kairan home (keys/node.x25519, PKCS#8 PEM).
  zclient.py greeting tcp://HOST:PORT | ipc://PATH
      Connects a raw socket, sends a ZMTP 3.0 signature and prints the
      mechanism the server's greeting names (a capture of what it speaks).
  zclient.py capture PORT
      Listens on 127.0.0.1:PORT (raw TCP), answers the first connection's
      ZMTP signature and prints the mechanism the client's greeting names.
"""
import base64
import socket
import sys

import zmq
import zmq.utils.monitor
import zmq.utils.z85

HELLO = b"\x08\x01\x12\x02\x08\x01"  # Request{id: 1, hello: {version: 1}}
SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"


def home_key(home):
    pem = open(home + "/keys/node.x25519").read().split("\n")
    der = base64.b64decode("".join(l for l in pem if l and not l.startswith("-----")))
    secret = der[-32:]
    return zmq.utils.z85.encode(secret).decode()


def hello(ep, server, who, count):
    ctx = zmq.Context()
    answered = 0
    for _ in range(count):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        mon = s.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                                   zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        if who != "none":
            if who == "random":
                pub, sec = zmq.curve_keypair()
            else:
                sec = home_key(who).encode()
                pub = zmq.curve_public(sec)
            s.curve_serverkey = server.encode()
            s.curve_publickey = pub
            s.curve_secretkey = sec
        s.connect(ep)
        s.send(HELLO)
        event = "no handshake"
        got = s.poll(1500)
        while mon.poll(0):
            ev = zmq.utils.monitor.recv_monitor_message(mon)
            event = {zmq.EVENT_HANDSHAKE_SUCCEEDED: "handshake succeeded",
                     zmq.EVENT_HANDSHAKE_FAILED_AUTH: "refused by ZAP (%d)" % ev["value"],
                     zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "protocol error",
                     zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake failed"}.get(ev["event"], str(ev["event"]))
        if got:
            s.recv()
            answered += 1
            print("answered")
        else:
            print("refused (%s)" % event)
        s.disable_monitor()
        mon.close()
        s.close()
    ctx.term()
    return 0 if answered == count else 1 if answered == 0 else 2


def mechanism(greeting):
    if len(greeting) < 32 or greeting[:1] != b"\xff" or greeting[9:10] != b"\x7f":
        return "not ZMTP"
    return greeting[12:32].rstrip(b"\x00").decode("ascii", "replace")


def read_n(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def greeting(ep):
    if ep.startswith("ipc://"):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(ep[6:])
    else:
        host, port = ep[6:].rsplit(":", 1)
        conn = socket.create_connection((host, int(port)))
    conn.settimeout(3)
    conn.sendall(SIGNATURE + b"\x03")
    print(mechanism(read_n(conn, 64)))
    return 0


def capture(port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port)))
    srv.listen(4)
    srv.settimeout(20)
    conn, _ = srv.accept()
    conn.settimeout(5)
    conn.sendall(SIGNATURE + b"\x03")
    print(mechanism(read_n(conn, 64)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 4 and a[0] == "hello":
        n = int(a[5]) if len(a) > 5 and a[4] == "--count" else 1
        sys.exit(hello(a[1], a[2], a[3], n))
    if len(a) == 2 and a[0] == "greeting":
        sys.exit(greeting(a[1]))
    if len(a) == 2 and a[0] == "capture":
        sys.exit(capture(a[1]))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
