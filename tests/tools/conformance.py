#!/usr/bin/env python3
"""tests/tools/conformance.py - a kairan client that is not kairan.

Written from proto/kairan.proto and docs/protocol.md alone, with Debian's
python3-zmq, python3-protobuf and python3-cryptography; the message classes
are generated from proto/kairan.proto by protoc at run time (--proto DIR is
where protoc writes them). Each step prints "PASS name: detail" or
"FAIL name: detail"; the exit status is the number of failures.

  conformance.py --endpoint tcp://127.0.0.1:P --publisher FPR --proto-out DIR \
      [--server-key KEY] [--transport auto|plain|curve] STEP...

STEP is one of:
  hello        Hello: version 1, the node's key, its PUB endpoint
  snapshot     Snapshot: every manifest's Ed25519 signature over
               "kairan/1 manifest\\0" || body, key = manifest publisher,
               FPR among them; the reply digest recomputed
  beacon       a beacon on the PUB socket whose digest is the snapshot's
  fetch=DIR    a chunked Fetch of FPR's "cases" head with no haves (chunks
               of 512 bytes, three in flight), indexed by
               `git index-pack` into the bare repository DIR, main set
  update=DIR   a Fetch of the new head with haves = DIR's main and length 0
               (= the default chunk size): a thin pack,
               completed by `git index-pack --fix-thin`
  search=Q     Search Q with limit 0 (= the default): hits and a total
  errors       malformed and unknown requests: error replies carry the
               request id and the documented codes
  req          a REQ socket is answered (with an error) instead of hanging
--server-key is the node's transport public key (kairan id --json
transport_key, z85 or hex); with it, --transport auto tries the plain
transport first and uses CURVE when the node does not answer in 2 s.
"""
import argparse
import hashlib
import importlib
import os
import subprocess
import sys
import time

import zmq
import zmq.utils.z85
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

FAILS = 0


def report(ok, name, detail=""):
    global FAILS
    if not ok:
        FAILS += 1
    print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail), flush=True)
    return ok


def load_proto(out):
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    proto_dir = os.path.join(here, "..", "..", "proto")
    subprocess.run(["protoc", "--proto_path=" + proto_dir, "--python_out=" + out,
                    os.path.join(proto_dir, "kairan.proto")], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("kairan_pb2")


def server_key(text):
    if text is None:
        return None
    if len(text) == 40:
        return text.encode()                      # z85 as libzmq takes it
    return zmq.utils.z85.encode(bytes.fromhex(text))


class Client:
    def __init__(self, pb, endpoint, key, transport):
        self.pb, self.endpoint, self.key = pb, endpoint, key
        self.ctx = zmq.Context()
        self.next_id = 1000
        self.curve = transport == "curve"
        self.sock = self._connect()
        if transport == "auto" and key is not None:
            # plain first; a node that requires CURVE never answers a plain handshake
            try:
                self.call(self.request(hello=pb.Hello(version=1)), timeout=2000)
            except TimeoutError:
                self.sock.close(linger=0)
                self.curve = True
                self.sock = self._connect()
        print("# transport: %s" % ("CURVE" if self.curve else "plain"), flush=True)

    def _connect(self, kind=zmq.DEALER):
        s = self.ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        if self.curve:
            pub, sec = zmq.curve_keypair()
            s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, self.key
        s.connect(self.endpoint)
        return s

    def request(self, **body):
        self.next_id += 1
        return self.pb.Request(id=self.next_id, **body)

    def send(self, req):
        self.sock.send(req.SerializeToString())

    def recv(self, timeout=5000):
        if not self.sock.poll(timeout):
            raise TimeoutError("no reply within %d ms" % timeout)
        frames = self.sock.recv_multipart()
        assert len(frames) == 1, "a reply is one frame, got %d" % len(frames)
        rep = self.pb.Reply()
        rep.ParseFromString(frames[0])
        return rep

    def call(self, req, timeout=5000):
        self.send(req)
        # replies to one connection come back in order; skip late answers to earlier requests
        while True:
            rep = self.recv(timeout)
            if rep.id == req.id:
                return rep


def verify_signed(pb, raw):
    """Signed(Manifest) bytes -> Manifest, or raises with the reason."""
    s = pb.Signed()
    s.ParseFromString(raw)
    assert len(s.key) == 32 and len(s.sig) == 64, "key 32 and sig 64 bytes"
    m = pb.Manifest()
    m.ParseFromString(s.body)
    assert m.publisher == s.key, "Signed.key must be the manifest's publisher"
    try:
        Ed25519PublicKey.from_public_bytes(s.key).verify(s.sig, b"kairan/1 manifest\0" + s.body)
    except InvalidSignature:
        raise AssertionError("bad signature by %s" % s.key.hex())
    return m


def digest(manifests):
    """16 bytes: SHA-256 of the (publisher, seq) set sorted by publisher, seq big-endian."""
    data = b"".join(m.publisher + m.seq.to_bytes(8, "big") for m in sorted(manifests, key=lambda m: m.publisher))
    return hashlib.sha256(data).digest()[:16]


def step_hello(c, a, st):
    rep = c.call(c.request(hello=c.pb.Hello(version=1)))
    ok = rep.WhichOneof("body") == "hello" and rep.hello.version == 1 and len(rep.hello.node) == 32
    st["announce"] = rep.hello.announce
    report(ok, "hello", "version %d, node %s…, %s (%s), announce %s" % (
        rep.hello.version, rep.hello.node.hex()[:16], rep.hello.name, rep.hello.lg_code, rep.hello.announce))


def snapshot(c):
    rep = c.call(c.request(snapshot=c.pb.SnapshotRequest()))
    assert rep.WhichOneof("body") == "snapshot", rep
    return rep.snapshot


def step_snapshot(c, a, st):
    snap = snapshot(c)
    ms = []
    try:
        for raw in snap.manifests:
            ms.append(verify_signed(c.pb, raw))
    except AssertionError as e:
        return report(False, "snapshot", str(e))
    mine = [m for m in ms if m.publisher.hex() == a.publisher]
    st["manifests"] = ms
    ok = len(mine) == 1 and digest(ms) == snap.digest
    if mine:
        heads = ", ".join("%s=%s" % (h.collection, h.commit.hex()[:12]) for h in mine[0].heads)
        detail = "%d manifest(s), signatures good; %s seq %d: %s; digest %s" % (
            len(ms), mine[0].name, mine[0].seq, heads, "matches" if digest(ms) == snap.digest else "DIFFERS")
    else:
        detail = "publisher %s not in the snapshot" % a.publisher
    report(ok, "snapshot", detail)


def step_beacon(c, a, st):
    snap = snapshot(c)
    sub = c.ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    if c.curve:
        pub, sec = zmq.curve_keypair()
        sub.curve_publickey, sub.curve_secretkey, sub.curve_serverkey = pub, sec, c.key
    sub.setsockopt(zmq.SUBSCRIBE, b"b")
    sub.connect(st.get("announce") or a.announce)
    deadline = time.time() + 10
    while time.time() < deadline:
        if sub.poll(1000):
            topic, body = sub.recv_multipart()
            b = c.pb.Beacon()
            b.ParseFromString(body)
            ms = [verify_signed(c.pb, raw) for raw in snap.manifests]
            sub.close()
            return report(topic == b"b" and b.digest == digest(ms) == snap.digest, "beacon",
                          "digest %s = SHA-256 of the sorted (publisher, seq) set, first 16 bytes" % b.digest.hex())
    sub.close()
    report(False, "beacon", "no beacon within 10 s")


def head_of(c, a, coll="cases"):
    for raw in snapshot(c).manifests:
        m = verify_signed(c.pb, raw)
        if m.publisher.hex() == a.publisher:
            for h in m.heads:
                if h.collection == coll:
                    return m, h
    raise AssertionError("no %s head for %s" % (coll, a.publisher))


def fetch(c, a, want, haves, length, inflight=3):
    """Chunks by offset, `inflight` requests outstanding; length 0 asks for the default size (256 KiB)."""
    pub = bytes.fromhex(a.publisher)
    chunks, asked, size, nxt = {}, {}, None, 0

    def ask(off):
        r = c.request(fetch=c.pb.FetchRequest(publisher=pub, collection="cases", want=want, haves=haves,
                                              offset=off, length=length))
        asked[r.id] = off
        c.send(r)
    ask(0)
    while True:
        rep = c.recv(10000)
        if rep.id not in asked:
            continue
        kind = rep.WhichOneof("body")
        if kind == "error" and rep.error.code == 3:        # busy: ask again shortly
            time.sleep(0.05)
            ask(asked.pop(rep.id))
            continue
        assert kind == "chunk", "fetch: %s %s" % (kind, rep.error.text if kind == "error" else "")
        off = asked.pop(rep.id)
        assert rep.chunk.offset == off, "chunk offset %d for a request at %d" % (rep.chunk.offset, off)
        total = rep.chunk.total
        chunks[off] = rep.chunk.data
        if size is None:                                  # the first chunk tells the chunk size
            size = max(len(rep.chunk.data), 1)
            nxt = size
        while len(asked) < inflight and nxt < total:
            ask(nxt)
            nxt += size
        if sum(len(d) for d in chunks.values()) >= total:
            return b"".join(chunks[o] for o in sorted(chunks)), len(chunks)
        if not asked:                                     # a gap: ask for the first missing byte
            have = 0
            while have in chunks:
                have += len(chunks[have])
            ask(have)


def git(*args, **kw):
    return subprocess.run(["git"] + list(args), check=True, capture_output=True, **kw)


def step_fetch(c, a, st, repo):
    m, h = head_of(c, a)
    pack, n = fetch(c, a, h.commit, [], 512)     # small chunks: several, three in flight
    assert pack[:4] == b"PACK", "a pack starts with PACK"
    assert len(pack) <= h.size, "pack of %d bytes over the signed size %d" % (len(pack), h.size)
    git("init", "-q", "--bare", repo)
    git("-C", repo, "index-pack", "--stdin", input=pack)
    git("-C", repo, "update-ref", "refs/heads/main", h.commit.hex())
    count = git("-C", repo, "rev-list", "--count", "main").stdout.decode().strip()
    git("-C", repo, "fsck", "--no-dangling")
    report(n > 1, "fetch", "%d bytes in %d chunk(s) of 512 bytes, three in flight, indexed by git index-pack; main = %s, %s commit(s), fsck clean"
           % (len(pack), n, h.commit.hex()[:12], count))


def step_update(c, a, st, repo):
    old = git("-C", repo, "rev-parse", "main").stdout.decode().strip()
    m, h = head_of(c, a)
    if h.commit.hex() == old:
        return report(False, "update", "the head did not move")
    pack, n = fetch(c, a, h.commit, [bytes.fromhex(old)], 0)
    thin = subprocess.run(["git", "-C", repo, "index-pack", "--stdin"], input=pack, capture_output=True)
    fixed = subprocess.run(["git", "-C", repo, "index-pack", "--stdin", "--fix-thin"], input=pack, capture_output=True)
    if fixed.returncode != 0:
        return report(False, "update", fixed.stderr.decode())
    git("-C", repo, "update-ref", "refs/heads/main", h.commit.hex(), old)
    git("-C", repo, "fsck", "--no-dangling")
    report(True, "update", "%d bytes, %s; completed with --fix-thin; main %s -> %s" % (
        len(pack), "thin (plain index-pack refuses it)" if thin.returncode else "self-contained",
        old[:12], h.commit.hex()[:12]))


def step_search(c, a, st, q):
    rep = c.call(c.request(search=c.pb.SearchRequest(query=q, limit=0)))
    if rep.WhichOneof("body") != "search":
        return report(False, "search", "%s" % rep)
    hits = rep.search.hits
    ok = len(hits) > 0 and len(hits) <= 10 and all(h.id and len(h.publisher) == 32 for h in hits)
    report(ok, "search", "%r: %d hit(s) of %d (limit 0 = default 10): %s" % (
        q, len(hits), rep.search.total, ", ".join(h.id for h in hits[:3])))


def step_errors(c, a, st):
    pb = c.pb
    cases = []
    # unknown publisher: not found, id echoed
    r = c.request(fetch=pb.FetchRequest(publisher=b"\1" * 32, collection="cases", want=b"\2" * 20, offset=0))
    rep = c.call(r)
    cases.append(("unknown publisher", rep, r.id, 1))
    # a chunk length over the maximum: bad request, id echoed although the request does not decode
    r = c.request(fetch=pb.FetchRequest(publisher=bytes.fromhex(a.publisher), collection="cases",
                                        want=b"\2" * 20, offset=0, length=(1 << 20) + 1))
    rep = c.call(r)
    cases.append(("length over 1 MiB", rep, r.id, 2))
    # a search without a query
    r = c.request(search=pb.SearchRequest(query=""))
    rep = c.call(r)
    cases.append(("search without a query", rep, r.id, 2))
    # a request with no body
    r = c.request()
    rep = c.call(r)
    cases.append(("no body", rep, r.id, 2))
    for name, rep, rid, code in cases:
        ok = rep.WhichOneof("body") == "error" and rep.id == rid and rep.error.code == code
        report(ok, "error " + name, "id %d echoed as %d, code %d (want %d): %s" % (
            rid, rep.id, rep.error.code, code, rep.error.text))


def step_req(c, a, st):
    s = c._connect(zmq.REQ)
    r = c.request(hello=c.pb.Hello(version=1))
    s.send(r.SerializeToString())
    if not s.poll(3000):
        s.close()
        return report(False, "req", "a REQ socket got no answer in 3 s (it would hang)")
    rep = c.pb.Reply()
    rep.ParseFromString(s.recv())
    s.close()
    report(rep.WhichOneof("body") == "error" and rep.id == r.id and rep.error.code == 2, "req",
           "answered with error %d, id echoed: %s" % (rep.error.code, rep.error.text))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--announce")
    p.add_argument("--publisher", required=True)
    p.add_argument("--proto-out", required=True)
    p.add_argument("--server-key")
    p.add_argument("--transport", choices=["auto", "plain", "curve"], default="auto")
    p.add_argument("steps", nargs="+")
    a = p.parse_args()
    pb = load_proto(a.proto_out)
    c = Client(pb, a.endpoint, server_key(a.server_key), a.transport)
    st = {}
    for step in a.steps:
        name, _, arg = step.partition("=")
        fn = globals().get("step_" + name)
        if not fn:
            report(False, step, "unknown step")
            continue
        try:
            fn(c, a, st, arg) if arg else fn(c, a, st)
        except (AssertionError, TimeoutError, subprocess.CalledProcessError) as e:
            detail = e.stderr.decode() if isinstance(e, subprocess.CalledProcessError) and e.stderr else str(e)
            report(False, name, detail)
    c.sock.close(linger=0)
    c.ctx.term()
    sys.exit(min(FAILS, 100))


if __name__ == "__main__":
    main()
