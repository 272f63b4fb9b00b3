#!/usr/bin/python3
"""Real kills: SR operations run as real processes and die by SIGKILL.

Every trial starts from a copy of one template SR (chains with data in
every layer, a leaf-coalesce candidate, a non-leaf-coalesce candidate, a
hidden node to prune), runs one operation as its real process (vhdsm-util,
VHDSR, vhdsmd, vhdsm) and kills it:
  - timed: after a delay drawn (seeded) uniformly from [0, T], T being the
    operation's measured duration (a kill may land after the end: then the
    operation completed and must have had its full effect);
  - crash point: strace delivers SIGKILL on entry to the n-th call of one
    file-mutating syscall (pwrite64, copy_file_range, ftruncate, fdatasync,
    fsync, rename, link, unlink, mkdir and their *at forms), (syscall, n)
    drawn uniformly from the calls a clean run makes.
Then the next attach, scan or gc (VHDSR; which one rotates with the trial)
must recover, and:
  - every VDI reads byte-exact as its model (libvhdi through the chain); an
    interrupted snapshot/clone may or may not have made its new VDI (whose
    view then equals the source's), a delete may or may not have happened,
    a resize may or may not have grown the disk (with zeros);
  - `vhdsm-util check -p` is clean for every VHD;
  - after a gc nothing is orphaned (only <uuid>.vhd and .vhdsm/, no
    journals, temporary files or unreachable hidden VDIs), views unchanged.
Image tasks (image_create through vhdsmd; `vhdsm image create` in-process)
are killed the same way, then resumed (vhdsmd restarts; `vhdsm task
resume`): the task must end done (the object in Swift reads as the VDI) or
failed cleanly (an error code, its segments and snapshot gone), the secret
gone, and the SR as above.

  kills.py [--short] [--seed N] [--op NAME] [--mode timed|point]
           [--trial N] [--workdir DIR]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, UTIL, VHDSM, VHDSR, Daemon, Model,  # noqa: E402
                    Results, Swift, check_files, check_views, disk_vdis, make_data,
                    object_view, orphans, rng_for, sm, visible, write, xapi_call, part_arguments, run_part)

MUTATING = ("pwrite64,pwritev,copy_file_range,ftruncate,fdatasync,fsync,rename,"
            "renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat")
SIZE = 16 * MIB
GROWN = 24 * MIB
RECOVER_BY = ("sr_attach", "sr_scan", "sr_gc")


class Template:
    """The SR every trial copies, and its model (visible VDIs)."""

    def __init__(self, workdir, seed):
        self.dir = os.path.join(workdir, "template")
        self.sr = os.path.join(self.dir, "sr")
        os.makedirs(self.sr)
        rng = rng_for("template", seed)
        m = Model()
        self.model = m
        sr = self.sr

        def create(size):
            u = sm(sr, "vdi_create", [str(size), "rel"])["uuid"]
            m.create(u, size)
            return u

        def fill(u, chunks):
            for _ in range(chunks):
                off = rng.randrange(0, SIZE // MIB - 1) * MIB + rng.randrange(0, 64) * 4096
                data = make_data(rng, MIB)
                write(os.path.join(sr, u + ".vhd"), off, data)
                m.write(u, off, data)

        def snap(u):
            s = sm(sr, "vdi_snapshot", vdi_uuid=u, vdi_location=u)["uuid"]
            m.copy(u, s)
            return s

        def delete(u):
            assert sm(sr, "vdi_delete", vdi_uuid=u, vdi_location=u) is None
            del m.images[u]

        assert sm(sr, "sr_create", ["0"]) is None
        # A: leaf over a hidden base with one child (leaf coalesce), whose
        # parent also serves S1.
        self.a = create(SIZE)
        fill(self.a, 4)
        self.s1 = snap(self.a)
        fill(self.a, 3)
        s2 = snap(self.a)
        fill(self.a, 2)
        delete(s2)
        # B: a hidden node whose parent has it as only child (non-leaf
        # coalesce), serving B and its snapshot SB2.
        self.b = create(SIZE)
        fill(self.b, 4)
        sb1 = snap(self.b)
        fill(self.b, 3)
        self.sb2 = snap(self.b)
        fill(self.b, 2)
        delete(sb1)
        # D: deleted with its snapshot: a hidden node nothing reads (prune).
        d = create(8 * MIB)
        fill(d, 1)
        sd = snap(d)
        delete(sd)
        delete(d)
        problems = check_views(sr, m) + check_files(sr)
        if problems:
            raise RuntimeError("template is wrong: %s" % problems)

    def copy(self, dst):
        # cp -a keeps the hard links of snapshots (a base copy is the old
        # leaf's inode).
        subprocess.run(["cp", "-a", self.sr, dst], check=True)
        m = Model()
        m.images = {u: bytearray(v) for u, v in self.model.images.items()}
        return os.path.join(dst, "sr"), m


class Op:
    """One operation: how to run it, what it may change."""

    def __init__(self, name, kind, effects=(), argv=None, env=None):
        self.name = name
        self.kind = kind  # exec | daemon | image-daemon | image-cli
        self.effects = effects
        self.argv = argv
        self.env = env or {}
        self.duration = None
        self.calls = None  # syscall -> count in a clean run


def ops_for(t):
    """The operations, against the template's VDIs."""
    def dc(cmd, *args, **m):
        return lambda sr: [VHDSR, xapi_call(cmd, {"location": sr}, args, sr_uuid=SR_UUID,
                                            **m)]
    return [
        Op("coalesce (vhdsm-util)", "exec",
           argv=lambda sr: [UTIL, "coalesce", "-n", os.path.join(sr, t.a + ".vhd")]),
        Op("snapshot (VHDSR)", "exec", effects=(("copy", t.a),),
           argv=dc("vdi_snapshot", vdi_uuid=t.a, vdi_location=t.a)),
        Op("clone (VHDSR)", "exec", effects=(("copy", t.sb2),),
           argv=dc("vdi_clone", vdi_uuid=t.sb2, vdi_location=t.sb2)),
        Op("delete (VHDSR)", "exec", effects=(("delete", t.s1),),
           argv=dc("vdi_delete", vdi_uuid=t.s1, vdi_location=t.s1)),
        Op("resize (VHDSR)", "exec", effects=(("resize", t.a, GROWN),),
           argv=dc("vdi_resize", str(GROWN), vdi_uuid=t.a, vdi_location=t.a)),
        Op("gc (VHDSR --gc)", "exec", argv=lambda sr: [VHDSR, "--gc", sr]),
        Op("gc (vhdsm sr gc)", "exec", argv=lambda sr: [VHDSM, "sr", "gc", sr]),
        Op("snapshot+delete+gc (vhdsmd)", "daemon",
           effects=(("copy", t.b), ("delete", t.s1))),
        Op("image task (vhdsmd)", "image-daemon"),
        Op("image task (vhdsm CLI)", "image-cli"),
    ]


def strace_prefix(point, log):
    sysc, n = point
    return ["strace", "-f", "-qq", "-o", log, "-e", "trace=" + sysc,
            "-e", "inject=%s:signal=KILL:when=%d" % (sysc, n)]


def count_calls(log):
    """syscall -> calls, from `strace -c` output."""
    calls = {}
    with open(log) as f:
        for line in f:
            tok = line.split()
            if len(tok) >= 5 and tok[-1] != "total" and re.match(r"^[0-9.]+$", tok[0]):
                try:
                    calls[tok[-1]] = int(tok[3])
                except ValueError:
                    pass
    return calls


class Trial:
    """One run of one operation on a fresh copy of the template, killed (or
    not: kill=None) as asked, then recovered and checked."""

    def __init__(self, h, op, mode, index, kill):
        self.h = h
        self.op = op
        self.mode = mode
        self.index = index
        self.kill = kill  # ("timed", delay) | ("point", (syscall, n)) | None
        self.dir = tempfile.mkdtemp(prefix="trial-", dir=h.workdir)
        self.sr, self.model = h.template.copy(self.dir)
        self.killed = False
        self.tasks = []
        self.container = "kill-%d-%s-%d" % (h.seed, re.sub(r"\W", "", op.name), index)

    def repro(self):
        return ("tests/reliability/kills.py --seed %d --op '%s' --mode %s --trial %d"
                % (self.h.seed, self.op.name, self.mode, self.index))

    def env(self):
        # A short uploader backoff: [image] retry_delay_scale.
        conf = os.path.join(self.dir, "vhdsm.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write("[image]\nretry_delay_scale = 0.05\n")
        e = dict(os.environ, VHDSM_GC="off", VHDSM_CONFIG=conf,
                 VHDSM_STATE_DIR=os.path.join(self.dir, "state"), **self.op.env)
        if self.kill and self.kill[0] in ("point", "count"):
            # Under strace, LeakSanitizer (ASan builds) cannot stop the
            # world at exit, and would fail the process.
            e["ASAN_OPTIONS"] = e.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        return e

    def wrap(self):
        if self.kill and self.kill[0] == "point":
            return strace_prefix(self.kill[1], os.path.join(self.dir, "strace.log"))
        if self.kill and self.kill[0] == "count":
            return ["strace", "-f", "-qq", "-c", "-o", os.path.join(self.dir, "strace.log"),
                    "-e", "trace=" + MUTATING]
        return []

    def strace_killed(self):
        try:
            with open(os.path.join(self.dir, "strace.log")) as f:
                return "killed by SIGKILL" in f.read()
        except OSError:
            return False

    # -- running the operation ------------------------------------------------
    def run(self):
        t0 = time.monotonic()
        kind = self.op.kind
        if kind == "exec":
            self.run_exec(self.op.argv(self.sr))
        elif kind == "daemon":
            self.run_daemon()
        elif kind == "image-daemon":
            self.run_image_daemon()
        else:
            self.run_image_cli()
        return time.monotonic() - t0

    def wait_or_kill(self, proc, deadline_s=120):
        """Waits for proc (a session leader); kills its group at the timed
        delay. At a crash point, once strace has killed a process, what is
        left of the operation (a CLI following a task whose worker died)
        gets a second to end, then is killed too. Sets self.killed."""
        timed = bool(self.kill and self.kill[0] == "timed")
        point = bool(self.kill and self.kill[0] == "point")
        deadline = time.monotonic() + (self.kill[1] if timed else deadline_s)
        grace = None
        while proc.poll() is None:
            now = time.monotonic()
            if point and grace is None and self.strace_killed():
                grace = now + 1.0
            if now >= deadline or (grace is not None and now >= grace):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                if not timed and grace is None:
                    raise RuntimeError("%s hung" % self.op.name)
                break
            time.sleep(0.002 if timed else 0.02)
        self.killed = (timed and proc.returncode == -signal.SIGKILL) or \
            (point and self.strace_killed())

    def run_exec(self, argv):
        proc = subprocess.Popen(self.wrap() + argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self.env(),
                                start_new_session=True)
        self.wait_or_kill(proc)
        if not self.killed and self.kill is None and proc.returncode != 0:
            raise RuntimeError("%s failed: exit %d" % (self.op.name, proc.returncode))

    def daemon(self, wrap=()):
        env = {k: v for k, v in self.env().items() if k != "VHDSM_GC"}
        return Daemon(self.dir, env=dict(env, VHDSM_GC="thread"), wrap=wrap)

    def start_daemon(self, d):
        """Starts d; False if a crash point killed it before it listened."""
        try:
            d.start()
            return True
        except RuntimeError:
            d.kill()
            if self.kill and self.kill[0] == "point" and self.strace_killed():
                self.killed = True
                return False
            raise

    def end_daemon(self, d, client_done):
        """Once the client is done (or the daemon died): a live daemon stops
        cleanly (SIGTERM); for crash points, whether strace killed it."""
        if self.kill and self.kill[0] == "timed":
            self.killed = not client_done
            d.kill()
            return
        if d.proc.poll() is None:
            d.stop()
        else:
            d.kill()
        if self.kill and self.kill[0] == "point":
            self.killed = self.strace_killed()

    def run_daemon(self):
        """vhdsmd serving a snapshot, a delete, a scan (which kicks its GC
        thread) and a gc; killed at a moment of that whole sequence."""
        d = self.daemon(self.wrap())
        t0 = time.monotonic()
        if not self.start_daemon(d):
            return
        t = self.h.template
        errors = []
        done = threading.Event()

        def client():
            try:
                px = d.unix_proxy()
                base = {"args": [], "device_config": {"location": self.sr},
                        "sr_uuid": SR_UUID}
                px.vdi_snapshot(dict(base, command="vdi_snapshot", vdi_uuid=t.b,
                                     vdi_location=t.b))
                px.vdi_delete(dict(base, command="vdi_delete", vdi_uuid=t.s1,
                                   vdi_location=t.s1))
                px.sr_scan(dict(base, command="sr_scan"))
                px.sr_gc(dict(base, command="sr_gc"))
            except Exception as e:  # pylint: disable=broad-except
                errors.append(e)
            done.set()
        th = threading.Thread(target=client, daemon=True)
        th.start()
        if self.kill and self.kill[0] == "timed":
            done.wait(max(0.0, self.kill[1] - (time.monotonic() - t0)))
        else:
            done.wait(120)
        self.end_daemon(d, done.is_set())
        th.join(10)
        if not self.killed and errors:
            raise RuntimeError("vhdsmd sequence failed: %s" % errors)

    def image_params(self):
        sw = self.h.swift
        return {"auth_url": sw.auth, "user": sw.user, "key": sw.key,
                "allow_insecure": "true",
                "container": self.container, "object": "img.vhd.gz",
                "segment_size": str(MIB), "parallel_segments": "1"}

    def run_image_daemon(self):
        d = self.daemon(self.wrap())
        t0 = time.monotonic()
        a = self.h.template.a
        result = {}
        if self.start_daemon(d):
            px = d.unix_proxy()

            def client():
                try:
                    result["task"] = px.image_create({
                        "command": "image_create", "args": [],
                        "device_config": {"location": self.sr}, "sr_uuid": SR_UUID,
                        "vdi_uuid": a, "vdi_location": a, "image": self.image_params()})
                    while True:
                        st = px.task_status({"command": "task_status", "args": [],
                                             "task_id": result["task"]})
                        if st["state"] in ("done", "failed", "cancelled"):
                            result["state"] = st
                            return
                        time.sleep(0.02)
                except Exception as e:  # pylint: disable=broad-except
                    result["error"] = e
            th = threading.Thread(target=client, daemon=True)
            th.start()
            if self.kill and self.kill[0] == "timed":
                th.join(max(0.0, self.kill[1] - (time.monotonic() - t0)))
            else:
                th.join(180)
            self.end_daemon(d, not th.is_alive())
            th.join(10)
        # Resume: a daemon started again picks up unfinished tasks.
        d2 = self.daemon()
        d2.start()
        try:
            px2 = d2.unix_proxy()
            ids = px2.task_list({"command": "task_list", "args": []})
            deadline = time.time() + 180
            for tid in ids:
                while True:
                    st = px2.task_status({"command": "task_status", "args": [],
                                          "task_id": tid})
                    if st["state"] in ("done", "failed", "cancelled"):
                        self.tasks.append(st)
                        break
                    if time.time() > deadline:
                        raise RuntimeError("task %s did not end after resume: %s"
                                           % (tid, st))
                    time.sleep(0.05)
        finally:
            d2.stop()
        if not self.killed and self.kill is None and not self.tasks:
            raise RuntimeError("image task made no task: %s" % result)

    def workers(self):
        """pids of this trial's detached image-task workers ("vhdsm --run-task
        ID" in their own session, started by the CLI), found by their state
        directory."""
        state = ("VHDSM_STATE_DIR=" + os.path.join(self.dir, "state")).encode()
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
                with open("/proc/%s/environ" % pid, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if (b"--run-task" in argv or b"--task" in argv) and state in env:
                pids.append(int(pid))
        return pids

    def kill_workers(self):
        for pid in self.workers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def run_image_cli(self):
        """`vhdsm image create` in-process: it records the task, starts its
        detached worker ("vhdsm --run-task ID") and follows it. A timed kill
        takes the follower and the worker; strace's crash points count the
        calls of both."""
        a = self.h.template.a
        keyfile = os.path.join(self.dir, "key")
        with open(keyfile, "w") as f:
            f.write(self.h.swift.key)
        p = self.image_params()
        argv = [VHDSM, "image", "create", self.sr, a, "--container", p["container"],
                "--object", p["object"], "--auth-url", p["auth_url"], "--user", p["user"],
                "--allow-insecure",
                "--key-file", keyfile, "--segment-size", "1M"]
        env = {k: v for k, v in self.env().items() if k != "VHDSM_GC"}
        proc = subprocess.Popen(self.wrap() + argv, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            self.wait_or_kill(proc, 180)
        finally:
            if self.killed:
                self.kill_workers()
        if not self.killed:
            # A worker may still be finishing (the follower returns when the
            # record says done): let it end before resuming anything.
            deadline = time.time() + 60
            while self.workers() and time.time() < deadline:
                time.sleep(0.05)
        # Resume what is unfinished, in this process (inline).
        env_off = self.env()
        out = subprocess.run([VHDSM, "--json", "task", "list"], capture_output=True,
                             text=True, env=env_off, check=False)
        ids = [] if out.returncode != 0 else xmlrpc_json(out.stdout)
        for tid in ids:
            st = task_status_cli(tid, env_off)
            if st["state"] not in ("done", "failed", "cancelled"):
                subprocess.run([VHDSM, "task", "resume", tid], capture_output=True,
                               env=env_off, timeout=180, check=False)
                st = task_status_cli(tid, env_off)
            self.tasks.append(st)
        if not self.killed and self.kill is None and not self.tasks:
            raise RuntimeError("vhdsm image create made no task")

    # -- checking ---------------------------------------------------------------
    def reconcile(self):
        """Applies the operation's possible effects to the model, from what
        is on disk; the problems found (an effect half done, or missing
        although the operation completed)."""
        problems = []
        vis = set(visible(self.sr))
        expected = set(self.model.images)
        completed = not self.killed
        for eff in self.op.effects:
            if eff[0] == "copy":
                new = sorted(vis - expected)
                if len(new) > 1:
                    problems.append("%d new VDIs after one snapshot/clone: %s"
                                    % (len(new), new))
                elif new:
                    self.model.copy(eff[1], new[0])
                    expected.add(new[0])
                elif completed:
                    problems.append("the completed snapshot/clone made no VDI")
            elif eff[0] == "delete":
                if eff[1] not in vis:
                    del self.model.images[eff[1]]
                    expected.discard(eff[1])
                elif completed:
                    problems.append("the completed delete left %s" % eff[1])
            elif eff[0] == "resize":
                cap = disk_vdis(self.sr).get(eff[1], {}).get("capacity")
                if cap == eff[2]:
                    img = self.model.images[eff[1]]
                    img += bytearray(eff[2] - len(img))
                elif cap != len(self.model.images[eff[1]]):
                    problems.append("%s has size %s, neither before nor after"
                                    % (eff[1], cap))
                elif completed:
                    problems.append("the completed resize did not grow %s" % eff[1])
        return problems

    def check_tasks(self):
        problems = []
        for st in self.tasks:
            tid = st["task_id"]
            if st["state"] == "done":
                view = self.h.object_view(self.container, st["object"], self.dir)
                if view != self.model.sha(self.h.template.a):
                    problems.append("task %s: the uploaded image differs from the VDI" % tid)
            elif st["state"] == "failed":
                if not st.get("error_code"):
                    problems.append("task %s failed without an error code" % tid)
                segs = self.h.segments(self.container)
                if segs:
                    problems.append("task %s failed but left %d segments" % (tid, len(segs)))
            else:
                problems.append("task %s ended %s" % (tid, st["state"]))
            if os.path.exists(os.path.join(self.dir, "state", "secrets", tid)):
                problems.append("task %s: its key outlived it" % tid)
        if self.op.kind.startswith("image") and not self.killed and self.kill is None:
            if [s["state"] for s in self.tasks] != ["done"]:
                problems.append("unkilled image task: %s" % [s["state"] for s in self.tasks])
        return problems

    def verify(self):
        """Recovery, then the checks; the problems found."""
        how = RECOVER_BY[self.index % len(RECOVER_BY)]
        r = sm(self.sr, how)
        if r is not None:
            return ["recovery by %s failed: %s" % (how, r)]
        # Every journal is finished or undone; what may remain until the
        # GC sweeps it is a journal's temporary (".tmp.<pid>.<n>", never
        # renamed into place: the step it announced never started).
        journals = [n for n in os.listdir(os.path.join(self.sr, ".vhdsm", "journal"))
                    if ".tmp." not in n]
        problems = ["journal left after %s: %s" % (how, journals)] if journals else []
        problems += self.reconcile()
        problems += self.check_tasks()
        problems += check_views(self.sr, self.model)
        problems += check_files(self.sr)
        r = sm(self.sr, "sr_gc")
        if r is not None:
            return problems + ["sr_gc after recovery failed: %s" % r]
        problems += ["orphan after gc: %s" % o for o in orphans(self.sr)]
        problems += ["after gc: " + p for p in check_views(self.sr, self.model)]
        problems += ["after gc: " + p for p in check_files(self.sr)]
        return problems

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def xmlrpc_json(text):
    import json  # pylint: disable=import-outside-toplevel
    return json.loads(text)


def task_status_cli(tid, env):
    import json  # pylint: disable=import-outside-toplevel
    p = subprocess.run([VHDSM, "--json", "task", "status", tid], capture_output=True,
                       text=True, env=env, check=True)
    return json.loads(p.stdout)


class Context:
    """What a trial needs of the run (picklable: trials run in a pool of
    worker processes, one per core)."""

    def __init__(self, seed, workdir, template, swift):
        self.seed = seed
        self.workdir = workdir
        self.template = template
        self.swift = swift

    def object_view(self, container, obj, workdir):
        return object_view(self.swift.conn(), container, obj, workdir)

    def segments(self, container):
        import swiftclient  # pylint: disable=import-outside-toplevel
        try:
            _, objs = self.swift.conn().get_container(container + "_segments",
                                                      full_listing=True)
            return objs
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return []
            raise


_CTX = None


def _init_worker(ctx):
    global _CTX  # pylint: disable=global-statement
    _CTX = ctx
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_trial(spec):
    """One trial in a worker: (op index, mode, index, kill) -> outcome."""
    op_index, mode, index, kill = spec
    op = ops_for(_CTX.template)[op_index]
    t = Trial(_CTX, op, mode, index, kill)
    try:
        t.run()
        problems = t.verify()
    except Exception as e:  # pylint: disable=broad-except
        problems = ["harness error: %r" % e]
    kept = None
    if problems:
        kept = os.path.join(_CTX.workdir, "failed-%s-%s-%d" % (
            re.sub(r"\W", "", op.name), mode, index))
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(t.dir, kept)
    else:
        t.cleanup()
    return {"op": op.name, "mode": mode, "index": index, "killed": t.killed,
            "problems": problems, "repro": t.repro(), "kept": kept}


class Harness:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-kills-")
        os.makedirs(self.workdir, exist_ok=True)
        self.results = Results("kills")
        self.ctx = None

    def record(self, out):
        row = self.results.row(out["op"])
        det = row["detail"]
        mode = out["mode"]
        row["tried"] += 1
        det[mode + "_tried"] = det.get(mode + "_tried", 0) + 1
        if out["killed"]:
            row["killed"] += 1
            det[mode + "_killed"] = det.get(mode + "_killed", 0) + 1
        if out["problems"]:
            self.results.fail(out["op"], "; ".join(out["problems"])[:2000],
                              out["repro"] + "  (kept: %s)" % out["kept"])
        else:
            row["recovered"] += 1

    def calibrate(self, op):
        """A clean run (which must succeed and check clean), timed; and one
        under strace -c for the syscall counts."""
        t = Trial(self.ctx, op, "clean", 0, None)
        try:
            op.duration = t.run()
            problems = t.verify()
        except Exception as e:  # pylint: disable=broad-except
            problems = ["harness error: %r" % e]
        finally:
            t.cleanup()
        if problems:
            self.results.fail(op.name, "clean run: " + "; ".join(problems),
                              "tests/reliability/kills.py --op '%s' --trial 0" % op.name)
        t = Trial(self.ctx, op, "count", 0, ("count", None))
        try:
            t.run()
            op.calls = count_calls(os.path.join(t.dir, "strace.log"))
        finally:
            t.cleanup()

    def specs(self, op_index, op):
        """The trials of one operation: (op index, mode, index, kill)."""
        args = self.args
        timed_n, point_n = (3, 2) if args.short else (args.timed, args.points)
        total = sum(op.calls.values()) if op.calls else 0
        points = sorted(op.calls.items()) if op.calls else []
        out = []
        for mode, n in (("timed", timed_n), ("point", point_n)):
            if args.mode and mode != args.mode:
                continue
            for i in range(n):
                if args.trial is not None and i != args.trial:
                    continue
                rng = rng_for(self.seed, op.name, mode, i)
                if mode == "timed":
                    # Two trials run at once: operations take longer than
                    # in the (alone) clean run.
                    kill = ("timed", rng.uniform(0, op.duration * 1.3))
                else:
                    if not total:
                        continue
                    k = rng.randrange(total)
                    for sysc, c in points:
                        if k < c:
                            kill = ("point", (sysc, k + 1))
                            break
                        k -= c
                out.append((op_index, mode, i, kill))
        return out

    def run(self):
        import multiprocessing  # pylint: disable=import-outside-toplevel
        args = self.args
        template = Template(self.workdir, self.seed)
        ops = ops_for(template)
        chosen = [i for i, o in enumerate(ops) if not args.op or o.name == args.op]
        if not chosen:
            raise SystemExit("no op %r" % args.op)
        swift = Swift() if any(ops[i].kind.startswith("image") for i in chosen) else None
        self.ctx = Context(self.seed, self.workdir, template, swift)
        _init_worker(self.ctx)
        jobs = max(1, min(args.jobs, os.cpu_count() or 1))
        pool = multiprocessing.get_context("fork").Pool(jobs, _init_worker, (self.ctx,))
        try:
            for i in chosen:
                op = ops[i]
                t0 = time.time()
                self.calibrate(op)
                for out in pool.imap_unordered(run_trial, self.specs(i, op)):
                    self.record(out)
                r = self.results.row(op.name)
                r["detail"]["clean_seconds"] = round(op.duration or 0, 3)
                r["detail"]["mutating_calls"] = sum(op.calls.values()) if op.calls else 0
                print("%-30s %3d tried %3d killed %3d recovered %d lost  (clean run %.2fs, "
                      "%d mutating calls) %.0fs" % (
                          op.name, r["tried"], r["killed"], r["recovered"], r["lost"],
                          op.duration or 0, r["detail"]["mutating_calls"],
                          time.time() - t0), flush=True)
        finally:
            pool.close()
            pool.join()
            if swift:
                swift.stop()
        return self.results


def main():
    ap = part_arguments(__doc__)
    ap.add_argument("--timed", type=int, default=16, help="timed kills per op (full)")
    ap.add_argument("--points", type=int, default=8, help="crash points per op (full)")
    ap.add_argument("--jobs", type=int, default=2, help="trials at once")
    ap.add_argument("--op")
    ap.add_argument("--mode", choices=("timed", "point"))
    ap.add_argument("--trial", type=int)
    args = ap.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("strace is missing: run make deps")
    h = Harness(args)
    run_part("kills", h, h.results, args, failed=Results.lost)


if __name__ == "__main__":
    main()
