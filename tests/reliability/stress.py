#!/usr/bin/python3
"""Stress: concurrent clients on one SR through one vhdsmd.

8 clients (threads, each with its own connection to the daemon's Unix
socket), each a seeded sequence of N mixed SMAPIv1 operations on VDIs of
its own: create, write (attach, vhdsm-util write, detach, as a VM would),
snapshot, clone, delete, resize, and on the whole SR scan, gc and sr_list;
a few image_create to the loopback Swift (the client waits for the task and
checks that the object reads as the VDI did), and a few requests that must
fault (a VDI that does not exist). The daemon's GC thread runs whenever a
delete or a scan kicks it. Bounded in time: clients stop starting
operations at the deadline.

At the end: every request was answered (a result or a fault; no timeout, no
dropped connection), faults only where expected (the bad requests; 109 when
a chain reaches 30), every surviving VDI reads as the model predicts
(libvhdi), no other VDI is visible, `check -p` is clean, and after a final
gc nothing is orphaned.

  stress.py [--short] [--clients 8] [--ops N] [--seconds S] [--seed N]
"""
import os
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, UTIL, Daemon, Model, Results, Swift, UnixTransport,  # noqa: E402
                    check_files, check_views, make_data, object_view, orphans,
                    rng_for, part_arguments, run_part)

REQUEST_TIMEOUT = 300  # seconds a request may take before it counts unanswered
WEIGHTS = [("create", 10), ("write", 22), ("snapshot", 12), ("clone", 7),
           ("delete", 12), ("resize", 6), ("scan", 8), ("gc", 4), ("list", 5),
           ("image_create", 2), ("bad_request", 2)]
MAX_VDIS = 5
SIZE = 8 * MIB
MAX_SIZE = 16 * MIB


class Client(threading.Thread):
    def __init__(self, h, index):
        super().__init__(name="client-%d" % index, daemon=True)
        self.h = h
        self.index = index
        self.rng = rng_for(h.seed, "stress", index)
        self.px = xmlrpc.client.ServerProxy(
            "http://localhost/", allow_none=True,
            transport=UnixTransport(h.daemon.sock, REQUEST_TIMEOUT))
        self.vdis = []  # uuids this client owns
        self.ops_done = 0
        self.error = None

    # One request: the result, or the Fault; unanswered requests raise.
    def call(self, method, **members):
        p = {"command": method, "args": members.pop("args", []),
             "device_config": {"location": self.h.sr}, "sr_uuid": SR_UUID}
        p.update(members)
        try:
            return getattr(self.px, method)(p)
        except xmlrpc.client.Fault as f:
            return f

    def vdi(self, method, uuid, **m):
        return self.call(method, vdi_uuid=uuid, vdi_location=uuid, **m)

    def outcome(self, op, r, expect_fault=()):
        """Counts r; a fault not expected is a failure."""
        if isinstance(r, xmlrpc.client.Fault):
            key = "fault %d" % r.faultCode
            self.h.count(op, key)
            if r.faultCode not in expect_fault:
                self.h.fail(op, "client %d: unexpected fault %d: %s"
                            % (self.index, r.faultCode, r.faultString[:300]))
            return False
        self.h.count(op, "ok")
        return True

    def pick(self):
        names = [n for n, _ in WEIGHTS]
        weights = [w for _, w in WEIGHTS]
        while True:
            op = self.rng.choices(names, weights)[0]
            if op in ("write", "snapshot", "clone", "delete", "resize",
                      "image_create") and not self.vdis:
                op = "create"
            if op in ("create", "snapshot", "clone") and len(self.vdis) >= MAX_VDIS:
                continue
            return op

    def run(self):
        try:
            for _ in range(self.h.ops):
                if time.time() > self.h.deadline:
                    self.h.timed_out = True
                    break
                self.step(self.pick())
                self.ops_done += 1
        except Exception as e:  # pylint: disable=broad-except
            # A request that got no answer (timeout, dropped connection) or a
            # harness error: the client stops; the run fails.
            self.error = e
            self.h.count("unanswered", "requests")
            self.h.fail("unanswered", "client %d: %r" % (self.index, e))

    def step(self, op):
        h, rng, model = self.h, self.rng, self.h.model
        if op == "create":
            r = self.call("vdi_create", args=[str(SIZE), "stress-%d" % self.index])
            if self.outcome(op, r):
                model.create(r["uuid"], SIZE)
                self.vdis.append(r["uuid"])
        elif op == "write":
            v = rng.choice(self.vdis)
            size = len(model.images[v])
            n = rng.randrange(1, 65) * 16384
            off = rng.randrange(0, (size - n) // 4096 + 1) * 4096
            data = make_data(rng, n)
            r = self.vdi("vdi_attach", v, args=["true"])
            if not self.outcome("attach", r):
                return
            path = r["params"]
            with tempfile.NamedTemporaryFile(dir=h.workdir) as f:
                f.write(data)
                f.flush()
                p = subprocess.run([UTIL, "write", "-n", path, "-i", f.name, "-o",
                                    str(off)], capture_output=True, text=True, check=False)
            if p.returncode == 0:
                model.write(v, off, data)
                h.count(op, "ok")
            else:
                h.count(op, "failed")
                h.fail(op, "client %d: write into %s failed: %s" % (self.index, v,
                                                                   p.stderr[-300:]))
            self.outcome("detach", self.vdi("vdi_detach", v))
        elif op in ("snapshot", "clone"):
            v = rng.choice(self.vdis)
            r = self.vdi("vdi_" + op, v)
            if self.outcome(op, r, expect_fault=(109,)):
                model.copy(v, r["uuid"])
                self.vdis.append(r["uuid"])
        elif op == "delete":
            v = rng.choice(self.vdis)
            if self.outcome(op, self.vdi("vdi_delete", v)):
                self.vdis.remove(v)
                del model.images[v]
        elif op == "resize":
            v = rng.choice(self.vdis)
            size = len(model.images[v])
            if size >= MAX_SIZE:
                return
            new = size + 2 * MIB * rng.randrange(1, 3)
            if self.outcome(op, self.vdi("vdi_resize", v, args=[str(new)])):
                model.images[v] += bytearray(new - size)
        elif op == "scan":
            self.outcome(op, self.call("sr_scan"))
        elif op == "gc":
            self.outcome(op, self.call("sr_gc"))
        elif op == "list":
            r = self.call("sr_list")
            if self.outcome(op, r):
                mine = {e["uuid"] for e in r}
                missing = [v for v in self.vdis if v not in mine]
                if missing:
                    h.fail(op, "client %d: sr_list misses %s" % (self.index, missing))
        elif op == "image_create":
            self.image(rng.choice(self.vdis))
        elif op == "bad_request":
            bogus = "00000000-0000-4000-8000-%012x" % rng.getrandbits(48)
            method = rng.choice(["vdi_snapshot", "vdi_delete", "vdi_resize",
                                 "vdi_attach"])
            r = self.vdi(method, bogus, args=[str(SIZE)])
            if isinstance(r, xmlrpc.client.Fault) and r.faultCode in (144, 46, 143):
                h.count(op, "fault %d (expected)" % r.faultCode)
            elif method == "vdi_delete" and r is None:
                h.count(op, "ok (idempotent delete)")
            else:
                h.fail(op, "client %d: %s of a missing VDI gave %r" % (self.index, method, r))

    def image(self, v):
        """image_create of v, waiting for the task (the VDI must not change
        while its snapshot is taken); the object must read as the VDI."""
        h = self.h
        expect = h.model.sha(v)
        obj = "stress-%d-%d" % (self.index, self.ops_done)
        r = self.vdi("image_create", v, image={
            "auth_url": h.swift.auth, "user": h.swift.user, "key": h.swift.key,
            "allow_insecure": "true",
            "container": "stress", "object": obj, "segment_size": str(MIB)})
        if not self.outcome("image_create", r):
            return
        while True:
            st = self.call("task_status", task_id=r)
            if isinstance(st, xmlrpc.client.Fault):
                h.fail("image_create", "task_status: %s" % st)
                return
            if st["state"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.05)
        h.count("image task", st["state"])
        if st["state"] != "done":
            h.fail("image task", "client %d: task %s %s: %s %s" % (
                self.index, r, st["state"], st["error_code"], st["error_message"]))
            return
        with h.lock:
            h.images.append((obj, expect))


class Stress:
    def __init__(self, args):
        self.seed = args.seed
        self.ops = args.ops
        self.workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-stress-")
        os.makedirs(self.workdir, exist_ok=True)
        self.sr = os.path.join(self.workdir, "sr")
        os.makedirs(self.sr, exist_ok=True)
        self.res = Results("stress")
        self.model = Model()
        self.lock = threading.Lock()
        self.images = []
        self.timed_out = False
        self.deadline = time.time() + args.seconds
        self.clients_n = args.clients
        self.daemon = None
        self.swift = None

    def count(self, op, key, n=1):
        with self.lock:
            row = self.res.row(op)
            row["detail"][key] = row["detail"].get(key, 0) + n
            row["tried"] += n

    def fail(self, op, what):
        with self.lock:
            self.res.fail(op, what, "tests/reliability/stress.py --seed %d --ops %d"
                          % (self.seed, self.ops))

    def run(self):
        self.swift = Swift()
        self.daemon = Daemon(self.workdir, env={"VHDSM_GC": "thread"}).start()
        t0 = time.time()
        try:
            px = self.daemon.unix_proxy()
            px.sr_create({"command": "sr_create", "args": ["0"],
                          "device_config": {"location": self.sr}, "sr_uuid": SR_UUID})
            clients = [Client(self, i) for i in range(self.clients_n)]
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            done = sum(c.ops_done for c in clients)
            elapsed = time.time() - t0
            self.res.row("all operations")["detail"].update(
                {"clients": self.clients_n, "per_client": self.ops, "done": done,
                 "seconds": round(elapsed, 1)})
            if self.timed_out:
                self.res.note("deadline reached: %d of %d operations done"
                              % (done, self.clients_n * self.ops))
            print("stress: %d operations by %d clients in %.0fs (%.0f/s)" % (
                done, self.clients_n, elapsed, done / max(elapsed, 1e-9)), flush=True)
            # The final state: a gc, then every check.
            r = px.sr_gc({"command": "sr_gc", "args": [],
                          "device_config": {"location": self.sr}, "sr_uuid": SR_UUID})
            if r is not None:
                self.fail("final", "sr_gc: %r" % r)
        finally:
            if not self.daemon.stop():
                self.fail("final", "vhdsmd did not stop on SIGTERM")
        problems = check_views(self.sr, self.model) + check_files(self.sr)
        problems += ["orphan after gc: %s" % o for o in orphans(self.sr)]
        for p in problems:
            self.fail("final", p)
        verified = 0
        conn = self.swift.conn()
        for obj, expect in self.images:
            if object_view(conn, "stress", obj, self.workdir) != expect:
                self.fail("image task", "object %s differs from its VDI" % obj)
            verified += 1
        row = self.res.row("final")
        row["detail"].update({"vdis": len(self.model.images), "images_verified": verified})
        print("stress: %d VDIs checked, %d images verified, %d problems" % (
            len(self.model.images), verified, len(self.res.failures)), flush=True)
        self.swift.stop()
        return self.res


def main():
    ap = part_arguments(__doc__)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--ops", type=int)
    ap.add_argument("--seconds", type=float)
    args = ap.parse_args()
    if args.ops is None:
        args.ops = 25 if args.short else 1000
    if args.seconds is None:
        args.seconds = 60 if args.short else 900
    s = Stress(args)
    run_part("stress", s, s.res, args)


if __name__ == "__main__":
    main()
