#!/usr/bin/python3
"""The object store's own faults: an object server of the loopback Swift
SIGKILLed while vhdsmd uploads an image, then restarted.

The Swift runs as production does (scripts/reliability.sh starts it with
SAIO_REPLICAS=3): three nodes, each with its own object server and device,
and rings of 3 replicas. Each trial (seeded): a VDI with data in a parent
and in a child; image_create through vhdsmd (256 KiB segments, one PUT at a
time, each held 0.1 s by the proxy so that the upload lasts a few seconds);
after a random delay one object server, picked at random, gets SIGKILL,
and after another it is started again. Then:
  - the task must end done: Swift stores each PUT once 2 of 3 servers have
    it (its write quorum), so the upload goes on without a failure;
  - the object, downloaded with python-swiftclient and read by libvhdi,
    must equal the VDI's guest view;
  - after one object replication pass (`saio.sh replicate object`), the
    restarted server alone, the other two stopped, must serve the same
    bytes.
A trial whose kill landed after the upload had ended is counted apart.

  replicas.py [--short] [--trials N] [--seed N] [--workdir DIR]
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, Daemon, Results, Swift, guest_view, make_data,  # noqa: E402
                    object_view, rng_for, write, part_arguments, run_part)

ROW = "object server SIGKILLed mid image_create"
DELAY_FAULT = json.dumps({"delay": 0.1, "methods": ["PUT"],
                          "path_contains": "_segments/"})


class Replicas:
    def __init__(self, args):
        self.seed = args.seed
        self.trials = args.trials
        self.workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-rel-replicas-")
        self.res = Results("replicas")
        self.swift = None

    def repro(self, i):
        return "tests/reliability/replicas.py --seed %d --trials %d  (trial %d)" % (
            self.seed, i + 1, i)

    def trial(self, i):
        rng = rng_for(self.seed, "replicas", i)
        row = self.res.row(ROW)
        row["tried"] += 1
        sw = self.swift
        work = os.path.join(self.workdir, "t%d" % i)
        sr = os.path.join(work, "sr")
        os.makedirs(sr)
        victim = "object%d" % rng.randint(1, 3)
        kill_after = rng.uniform(0.3, 1.5)
        down_for = rng.uniform(0.3, 1.5)
        d = Daemon(work).start()
        try:
            px = d.unix_proxy()

            def call(command, **m):
                req = {"command": command, "args": [], "sr_uuid": SR_UUID,
                       "device_config": {"location": sr}}
                req.update(m)
                return getattr(px, command)(req)
            call("sr_create", args=["0"])
            v = call("vdi_create", args=[str(16 * MIB)])["uuid"]
            path = os.path.join(sr, v + ".vhd")
            write(path, 0, make_data(rng, 3 * MIB))
            call("vdi_snapshot", vdi_uuid=v, vdi_location=v)
            write(path, 8 * MIB, make_data(rng, 3 * MIB))
            expect = guest_view(path)
            obj = "t%d.vhd.gz" % i
            sw.saio("fault", DELAY_FAULT)
            t0 = time.monotonic()
            task = call("image_create", vdi_uuid=v, vdi_location=v, image={
                "auth_url": sw.auth, "user": sw.user, "key": sw.key,
                "allow_insecure": "true",
                "container": "replicas", "object": obj,
                "segment_size": str(256 << 10), "parallel_segments": "1"})
            killed_at = restarted = None
            st = None
            deadline = t0 + 300
            while time.monotonic() < deadline:
                st = px.task_status({"command": "task_status", "args": [],
                                     "task_id": task})
                now = time.monotonic() - t0
                if killed_at is None and now >= kill_after:
                    before = st["state"]
                    sw.saio("kill-daemon", victim)
                    after = px.task_status({"command": "task_status", "args": [],
                                            "task_id": task})["state"]
                    # Mid-upload: uploading before the kill and after it.
                    killed_at = "uploading" if before == after == "uploading" \
                        else "%s/%s" % (before, after)
                elif killed_at is not None and restarted is None \
                        and now >= kill_after + down_for:
                    sw.saio("start-daemon", victim)
                    restarted = st["state"]
                if st["state"] in ("done", "failed", "cancelled") and restarted:
                    break
                time.sleep(0.05)
        finally:
            sw.saio("fault", "clear")
            sw.saio("start-daemon", "object")
            d.stop()
        what = "%s killed %.2fs into the task (state %s), restarted %.2fs later" % (
            victim, kill_after, killed_at, down_for)
        if killed_at == "uploading":
            row["killed"] += 1
        else:
            row["detail"]["kill not while uploading"] = \
                row["detail"].get("kill not while uploading", 0) + 1
        if st is None or st["state"] != "done":
            self.res.fail(ROW, "%s: task %s" % (what, st), self.repro(i))
            return
        row["detail"]["done"] = row["detail"].get("done", 0) + 1
        conn = sw.conn()
        if object_view(conn, "replicas", obj, work) != expect:
            self.res.fail(ROW, "%s: the object differs from the VDI" % what, self.repro(i))
            return
        row["detail"]["read back identical"] = row["detail"].get("read back identical", 0) + 1
        # The third replica, then the restarted server alone.
        sw.saio("replicate", "object")
        others = [o for o in ("object1", "object2", "object3") if o != victim]
        for o in others:
            sw.saio("stop-daemon", o)
        try:
            alone = object_view(sw.conn(), "replicas", obj, work)
        except Exception as e:  # pylint: disable=broad-except
            alone = "error: %r" % e
        finally:
            sw.saio("start-daemon", "object")
        if alone != expect:
            self.res.fail(ROW, "%s: after replication, %s alone serves %s" % (
                what, victim, alone[:80]), self.repro(i))
            return
        row["detail"]["served by the restarted server alone"] = \
            row["detail"].get("served by the restarted server alone", 0) + 1
        row["recovered"] += 1
        print("replicas: trial %d: %s: done, read back identical, served by %s alone "
              "after replication (%.1fs)" % (i, what, victim, time.monotonic() - t0),
              flush=True)
        shutil.rmtree(work, ignore_errors=True)

    def run(self):
        self.swift = Swift(replicas=3)
        try:
            if self.swift.replicas < 3:
                self.res.skip("the loopback Swift has %d replica(s); this part needs 3"
                              % self.swift.replicas)
                return self.res
            for i in range(self.trials):
                self.trial(i)
        finally:
            self.swift.stop()
        r = self.res.row(ROW)
        print("replicas: %d trials, %d killed mid-upload, %d recovered, %d lost" % (
            r["tried"], r["killed"], r["recovered"], r["lost"]), flush=True)
        return self.res


def main():
    ap = part_arguments(__doc__)
    ap.add_argument("--trials", type=int)
    args = ap.parse_args()
    if args.trials is None:
        args.trials = 2 if args.short else 12
    s = Replicas(args)
    run_part("replicas", s, s.res, args)


if __name__ == "__main__":
    main()
