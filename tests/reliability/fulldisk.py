#!/usr/bin/python3
"""Full disk: an SR on a small tmpfs that this test mounts (as root; a
visible SKIP if mounting is not permitted).

For each operation and each amount of free space left (a filler file takes
the rest; the amounts sweep from nothing to more than the operation
needs), on a fresh copy of one SR:
  - the operation either succeeds, with its full effect (checked against
    the model), or fails with fault 44 (vhdsm-util: ENOSPC) and changes
    nothing: the same files with the same sizes, every guest view the same
    (libvhdi), `check -p` clean;
  - after the filler is removed, the operation (retried if it failed)
    succeeds, every VDI reads as its model, and after a gc nothing is
    orphaned.
Operations: vdi_create, vdi_snapshot, vdi_clone, vdi_resize, sr_gc (whose
coalesce needs room for the merged blocks), a vhdsm-util write into an
unallocated block, and image_create (its snapshot needs room; the task
fails with NO_SPACE, or image_create faults 44).

  fulldisk.py [--short] [--workdir DIR]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, UTIL, Daemon, Model, Results, Swift,  # noqa: E402
                    check_files, check_views, make_data, object_view,
                    orphans, rng_for, sm, sr_state, write, part_arguments)

KIB = 1 << 10
LEVELS_FULL = [0, 4 * KIB, 64 * KIB, 256 * KIB, 768 * KIB, 1 * MIB, 1 * MIB + 64 * KIB,
               1 * MIB + 512 * KIB, 2 * MIB, 2 * MIB + 512 * KIB, 3 * MIB, 4 * MIB,
               5 * MIB, 7 * MIB, 12 * MIB]
LEVELS_SHORT = [0, 256 * KIB, 1 * MIB + 64 * KIB, 2 * MIB + 512 * KIB, 5 * MIB, 12 * MIB]
TMPFS_SIZE = 40 * MIB


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class FullDisk:
    def __init__(self, args):
        self.args = args
        self.workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-fulldisk-")
        self.mnt = os.path.join(self.workdir, "mnt")
        self.res = Results("fulldisk")
        self.swift = None
        self.mounted = False

    def mount(self):
        os.makedirs(self.mnt, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=%d,mode=0700" % TMPFS_SIZE, "vhdsm-fulldisk", self.mnt],
                           capture_output=True, text=True, check=False)
        if p.returncode != 0:
            return "mount -t tmpfs not permitted: %s" % (p.stderr.strip() or p.returncode)
        self.mounted = True
        return None

    def umount(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], check=False)
            self.mounted = False

    def build_template(self):
        """On the normal disk: A (data in a base and its leaf, a snapshot
        S), and B; the model of the visible VDIs."""
        self.tdir = os.path.join(self.workdir, "template")
        sr = os.path.join(self.tdir, "sr")
        os.makedirs(sr)
        rng = rng_for("fulldisk")
        m = Model()
        assert sm(sr, "sr_create", ["0"]) is None
        a = sm(sr, "vdi_create", [str(16 * MIB)])["uuid"]
        m.create(a, 16 * MIB)
        for off in (0, 6 * MIB):
            d = make_data(rng, 2 * MIB)
            write(os.path.join(sr, a + ".vhd"), off, d)
            m.write(a, off, d)
        s = sm(sr, "vdi_snapshot", vdi_uuid=a, vdi_location=a)["uuid"]
        m.copy(a, s)
        # Leaf data in blocks the base also holds and in new ones: the GC's
        # coalesce of A needs fresh blocks in its parent.
        for off in (MIB, 10 * MIB):
            d = make_data(rng, 2 * MIB)
            write(os.path.join(sr, a + ".vhd"), off, d)
            m.write(a, off, d)
        assert sm(sr, "vdi_delete", vdi_uuid=s, vdi_location=s) is None
        del m.images[s]
        b = sm(sr, "vdi_create", [str(8 * MIB)])["uuid"]
        m.create(b, 8 * MIB)
        self.a, self.b, self.model = a, b, m
        self.tsr = sr
        assert not check_views(sr, m) and not check_files(sr)

    def fresh(self):
        for n in os.listdir(self.mnt):
            p = os.path.join(self.mnt, n)
            if os.path.isdir(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        subprocess.run(["cp", "-a", self.tsr, self.mnt], check=True)
        m = Model()
        m.images = {u: bytearray(v) for u, v in self.model.images.items()}
        return os.path.join(self.mnt, "sr"), m

    def fill(self, leave):
        """A filler file takes all free space but `leave` bytes."""
        path = os.path.join(self.mnt, "filler")
        n = free_bytes(self.mnt) - leave
        if n > 0:
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            try:
                os.posix_fallocate(fd, 0, n)
            finally:
                os.close(fd)
        return free_bytes(self.mnt)

    def unfill(self):
        p = os.path.join(self.mnt, "filler")
        if os.path.exists(p):
            os.unlink(p)

    # -- the operations: run(sr) -> ("ok", effect) | ("nospace", detail) |
    #    ("error", detail); apply(model, sr, effect) -----------------------
    def ops(self):
        a, b = self.a, self.b

        def smapi(command, args=(), new=False, **m):
            def run(sr):
                r = sm(sr, command, args, **m)
                if isinstance(r, xmlrpc.client.Fault):
                    if r.faultCode == 44:
                        return "nospace", r.faultString
                    return "error", "fault %d %s" % (r.faultCode, r.faultString)
                return "ok", r
            return run

        def apply_new(src, size=None):
            def apply(model, sr, r):
                u = r["uuid"]
                if src:
                    model.copy(src, u)
                else:
                    model.create(u, size)
            return apply

        def apply_resize(model, sr, r):
            img = model.images[a]
            img += bytearray(32 * MIB - len(img))

        data = make_data(rng_for("fulldisk-write"), 2 * MIB)

        def run_write(sr):
            with tempfile.NamedTemporaryFile(dir=self.workdir) as f:
                f.write(data)
                f.flush()
                p = subprocess.run([UTIL, "write", "-n", os.path.join(sr, b + ".vhd"),
                                    "-i", f.name, "-o", str(4 * MIB)],
                                   capture_output=True, text=True, check=False)
            if p.returncode == 0:
                return "ok", None
            if p.returncode == 28:  # ENOSPC
                return "nospace", p.stderr.strip()
            return "error", "exit %d %s" % (p.returncode, p.stderr.strip())

        def apply_write(model, sr, r):
            model.write(b, 4 * MIB, data)

        return [
            ("vdi_create", smapi("vdi_create", [str(64 * MIB)]), apply_new(None, 64 * MIB)),
            ("vdi_snapshot", smapi("vdi_snapshot", vdi_uuid=a, vdi_location=a),
             apply_new(a)),
            ("vdi_clone", smapi("vdi_clone", vdi_uuid=a, vdi_location=a), apply_new(a)),
            ("vdi_resize", smapi("vdi_resize", [str(32 * MIB)], vdi_uuid=a,
                                 vdi_location=a), apply_resize),
            ("sr_gc", smapi("sr_gc"), lambda model, sr, r: None),
            ("write (vhdsm-util)", run_write, apply_write),
            ("image_create", self.run_image, lambda model, sr, r: None),
        ]

    def run_image(self, sr):
        """image_create through vhdsmd on the full SR: the call faults 44, or
        the task fails with NO_SPACE, or it is done (and the object reads
        as the VDI)."""
        d = Daemon(self.workdir, env={"VHDSM_STATE_DIR": os.path.join(self.workdir, "state")})
        d.start()
        try:
            px = d.unix_proxy()
            obj = "img-%d" % time.monotonic_ns()
            try:
                tid = px.image_create({
                    "command": "image_create", "args": [],
                    "device_config": {"location": sr}, "sr_uuid": SR_UUID,
                    "vdi_uuid": self.a, "vdi_location": self.a,
                    "image": {"auth_url": self.swift.auth, "user": self.swift.user,
                              "allow_insecure": "true",
                              "key": self.swift.key, "container": "fulldisk",
                              "object": obj, "segment_size": str(MIB)}})
            except xmlrpc.client.Fault as f:
                if f.faultCode == 44:
                    return "nospace", f.faultString
                return "error", "fault %d %s" % (f.faultCode, f.faultString)
            deadline = time.time() + 120
            while True:
                st = px.task_status({"command": "task_status", "args": [], "task_id": tid})
                if st["state"] in ("done", "failed", "cancelled"):
                    break
                if time.time() > deadline:
                    return "error", "task did not end: %s" % st
                time.sleep(0.05)
        finally:
            d.stop()
        if st["state"] == "failed" and st["error_code"] == "NO_SPACE":
            # The task record itself is in the SR: it is the one change
            # allowed (a failed task's record).
            return "nospace-task", st["error_message"]
        if st["state"] != "done":
            return "error", "task %s: %s %s" % (st["state"], st["error_code"],
                                                st["error_message"])
        view = object_view(self.swift.conn(), "fulldisk", obj, self.workdir)
        if view != self.model_sha_a:
            return "error", "the uploaded image differs from the VDI"
        return "ok", None

    def case(self, name, run, apply, leave):
        sr, model = self.fresh()
        self.model_sha_a = model.sha(self.a)
        free = self.fill(leave)
        before = sr_state(sr)
        outcome, detail = run(sr)
        row = self.res.row(name)
        row["tried"] += 1
        problems = []
        if outcome == "ok":
            row["detail"]["succeeded"] = row["detail"].get("succeeded", 0) + 1
            apply(model, sr, detail)
            problems += check_views(sr, model) + check_files(sr)
        elif outcome in ("nospace", "nospace-task"):
            row["detail"]["no_space"] = row["detail"].get("no_space", 0) + 1
            after = sr_state(sr)
            if outcome == "nospace-task":
                # The failed task's record is the one new file allowed.
                after["files"] = {k: v for k, v in after["files"].items()
                                  if not k.startswith(".vhdsm/tasks/")}
                before["files"] = {k: v for k, v in before["files"].items()
                                   if not k.startswith(".vhdsm/tasks/")}
            if after["files"] != before["files"]:
                changed = sorted(set(after["files"].items()) ^ set(before["files"].items()))
                problems.append("failed for lack of space but changed files: %s"
                                % changed[:6])
            if after["views"] != before["views"]:
                problems.append("failed for lack of space but guest views changed")
            problems += check_files(sr)
        else:
            problems.append("with %d bytes free: %s" % (free, detail))
        # Space back: the operation succeeds (again, if it did).
        self.unfill()
        if outcome != "ok" and not problems:
            outcome2, detail2 = run(sr)
            if outcome2 != "ok":
                problems.append("after freeing space: %s %s" % (outcome2, detail2))
            else:
                apply(model, sr, detail2)
                row["detail"]["succeeded_after_freeing"] = \
                    row["detail"].get("succeeded_after_freeing", 0) + 1
        if not problems:
            r = sm(sr, "sr_gc")
            if r is not None:
                problems.append("sr_gc with space: %s" % r)
            problems += check_views(sr, model) + check_files(sr)
            problems += ["orphan after gc: %s" % o for o in orphans(sr)]
        if problems:
            self.res.fail(name, "free %d bytes: %s" % (free, "; ".join(problems)[:1500]),
                          "tests/reliability/fulldisk.py --op %s --leave %d" % (name, leave))
        else:
            row["recovered"] += 1
        return outcome

    def run(self):
        if os.geteuid() != 0:
            self.res.skip("not root: cannot mount a tmpfs")
            return self.res
        why = self.mount()
        if why:
            self.res.skip(why)
            return self.res
        try:
            self.build_template()
            self.swift = Swift()
            levels = LEVELS_SHORT if self.args.short else LEVELS_FULL
            if self.args.leave is not None:
                levels = [self.args.leave]
            for name, run, apply in self.ops():
                if self.args.op and name != self.args.op:
                    continue
                t0 = time.time()
                outcomes = [self.case(name, run, apply, leave) for leave in levels]
                r = self.res.row(name)
                print("%-20s %2d levels: %s  %d recovered %d lost  %.0fs" % (
                    name, r["tried"], " ".join(o.replace("nospace-task", "task-44")
                                               .replace("nospace", "44")
                                               for o in outcomes),
                    r["recovered"], r["lost"], time.time() - t0), flush=True)
        finally:
            self.umount()
            if self.swift:
                self.swift.stop()
        return self.res


def main():
    ap = part_arguments(__doc__, seed=False)
    ap.add_argument("--op")
    ap.add_argument("--leave", type=int)
    args = ap.parse_args()
    fd = FullDisk(args)
    try:
        res = fd.run()
    finally:
        fd.umount()
        if not args.workdir:
            shutil.rmtree(fd.workdir, ignore_errors=True)
    res.save()
    sys.exit(1 if res.lost() else 0)


if __name__ == "__main__":
    main()
