"""Shared pieces of the reliability harness (scripts/reliability.sh).

Reused from the integration tests: the expected-image Model, guest_view
(libvhdi reads a VDI's chain), write (vhdsm-util write), xapi_call (a
request as xapi writes it), disk_vdis (the SR as vhd-util scan sees it) and
UnixTransport (xmlrpc.client over vhdsmd's socket).

Added here: running VHDSR and vhdsmd, an SR's full state (files, sizes,
guest views), the checks every part of the harness makes after a fault
(views byte-exact against the model, `check -p` clean, no orphaned files
after gc), the loopback Swift, and Results: counters per part, written as
JSON for the final table (tests/reliability/report.py) and failures with
what reproduces them.
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

SRC = os.environ.get("VHDSM_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(SRC, "build")
os.environ["VHDSM_BUILD"] = BUILD
os.environ["VHDSM_SRC"] = SRC
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

# pylint: disable=wrong-import-position
from plugin_hosts_test import Model, guest_view, write, xapi_call  # noqa: E402
from unix_xmlrpc import UnixTransport  # noqa: E402
from xapi_helpers import disk_vdis  # noqa: E402

__all__ = ["BUILD", "SRC", "MIB", "UTIL", "VHDSR", "VHDSMD", "VHDSM", "Model",
           "guest_view", "write", "xapi_call", "disk_vdis", "UnixTransport",
           "Results", "Daemon", "Swift", "vhdsr", "sm", "visible", "check_files",
           "check_views", "orphans", "sr_state", "make_data", "SR_UUID",
           "object_view", "is_asan_build", "part_arguments", "run_part"]

UTIL = os.path.join(BUILD, "bin", "vhdsm-util")
VHDSR = os.path.join(BUILD, "bin", "VHDSR")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
VHDSM = os.path.join(BUILD, "bin", "vhdsm")
SAIO = os.path.join(SRC, "scripts", "saio.sh")
MIB = 1 << 20
SR_UUID = "7e1a0b1e-0000-4000-8000-00000000beef"


def is_asan_build():
    """True when BUILD's binaries carry AddressSanitizer (make check-asan)."""
    try:
        with open(VHDSR, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def make_data(rng, n):
    """n bytes (a multiple of 4 KiB, as libvhdi needs) that do not compress:
    random 4 KiB pages, some repeated, some zero."""
    out = bytearray()
    pages = n // 4096
    page = rng.randbytes(4096)
    for _ in range(pages):
        k = rng.randrange(8)
        if k == 0:
            out += bytes(4096)
        elif k < 3:
            out += page
        else:
            page = rng.randbytes(4096)
            out += page
    return bytes(out)


def vhdsr(request, env=None, timeout=120):
    """Runs VHDSR as xapi does: the result, or the Fault. GC is off unless
    the caller's environment says otherwise."""
    e = dict(os.environ, VHDSM_GC="off")
    if env:
        e.update(env)
    p = subprocess.run([VHDSR, request], capture_output=True, env=e, timeout=timeout,
                       check=False)
    if p.returncode != 0:
        raise RuntimeError("VHDSR exited %d: %s" % (p.returncode, p.stderr[-500:]))
    out = p.stdout.decode(errors="replace")
    if out.count("<methodResponse>") != 1:
        raise RuntimeError("VHDSR printed no single response: %r" % out[-500:])
    try:
        (result,), _ = xmlrpc.client.loads(out)
        return result
    except xmlrpc.client.Fault as f:
        return f


def sm(sr, command, args=(), env=None, **members):
    """One SMAPIv1 call through VHDSR on the SR at `sr`."""
    members.setdefault("sr_uuid", SR_UUID)
    return vhdsr(xapi_call(command, {"location": sr}, args, **members), env=env)


def visible(sr):
    """uuids of the VDIs a user sees (not hidden)."""
    return sorted(u for u, v in disk_vdis(sr).items() if not v["hidden"])


def check_files(sr):
    """`vhdsm-util check -p` of every VDI file: the problems found."""
    problems = []
    for name in sorted(os.listdir(sr)):
        if not (name.endswith(".vhd") and len(name) == 40):
            continue
        p = subprocess.run([UTIL, "check", "-n", os.path.join(sr, name), "-p"],
                           capture_output=True, text=True, check=False)
        if p.returncode != 0:
            problems.append("check -p %s: exit %d %s" % (name, p.returncode,
                                                        (p.stdout + p.stderr)[-300:]))
    return problems


def check_views(sr, model):
    """Every VDI of the model is there and reads byte-exact (libvhdi), and
    no other VDI is visible. The problems found."""
    problems = []
    vis = visible(sr)
    for u in sorted(set(vis) - set(model.images)):
        problems.append("VDI %s is visible but not expected (leaked)" % u)
    for u in sorted(model.images):
        path = os.path.join(sr, u + ".vhd")
        if u not in vis:
            problems.append("VDI %s is lost" % u)
            continue
        try:
            view = guest_view(path)
        except Exception as e:  # pylint: disable=broad-except
            problems.append("VDI %s cannot be read: %s" % (u, e))
            continue
        if view != model.sha(u):
            problems.append("VDI %s reads differently from its model" % u)
    return problems


def orphans(sr, finished_tasks=True):
    """What must not be in an SR after a gc: any file but <uuid>.vhd and
    .vhdsm/, journals, temporary files, metadata of VDIs that are gone,
    hidden VDIs nothing reads, (with finished_tasks) task spool files."""
    found = []
    vdis = disk_vdis(sr)
    for name in sorted(os.listdir(sr)):
        if name == ".vhdsm":
            continue
        if not (name.endswith(".vhd") and len(name) == 40 and name[:-4] in vdis):
            found.append(name)
    meta = os.path.join(sr, ".vhdsm")
    for sub in ("journal",):
        d = os.path.join(meta, sub)
        if os.path.isdir(d):
            found += [sub + "/" + n for n in sorted(os.listdir(d))]
    d = os.path.join(meta, "vdi")
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if not (n.endswith(".json") and n[:-5] in vdis):
                found.append("vdi/" + n)
    d = os.path.join(meta, "attached")
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if n.split(".")[0] not in vdis:
                found.append("attached/" + n)
    d = os.path.join(meta, "tasks")
    if finished_tasks and os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            if not n.endswith(".json"):
                found.append("tasks/" + n)
    for u, v in vdis.items():
        if v["hidden"] and not v["children"]:
            found.append(u + ".vhd (hidden, no children: unreachable)")
    for n in sorted(os.listdir(meta)) if os.path.isdir(meta) else []:
        if n not in ("sr.lock", "gc.lock", "journal", "vdi", "attached", "tasks",
                     "sr.json"):
            found.append(".vhdsm/" + n)
    return found


def sr_state(sr, with_views=True):
    """The SR as a comparable value: every file's path and size (locks
    aside), and every visible VDI's guest view."""
    files = {}
    for root, _, names in os.walk(sr):
        for n in names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, sr)
            if rel in (".vhdsm/sr.lock", ".vhdsm/gc.lock"):
                continue
            files[rel] = os.lstat(p).st_size
    views = {}
    if with_views:
        for u in visible(sr):
            views[u] = guest_view(os.path.join(sr, u + ".vhd"))
    return {"files": files, "views": views}


def object_view(conn, container, obj, workdir):
    """sha256 of the guest view of an uploaded vhd.gz image (libvhdi)."""
    import pyvhdi  # pylint: disable=import-outside-toplevel
    _, body = conn.get_object(container, obj)
    path = os.path.join(workdir, "object.vhd")
    with open(path, "wb") as f:
        f.write(gzip.decompress(body))
    h = pyvhdi.file()
    h.open(path)
    d = hashlib.sha256()
    off = 0
    while off < h.media_size:
        n = min(16 * MIB, h.media_size - off)
        d.update(h.read_buffer_at_offset(n, off))
        off += n
    h.close()
    os.unlink(path)
    return d.hexdigest()


class Results:
    """Counters of one part of the harness, saved as JSON in $VHDSM_REL_OUT
    (read by report.py): rows of the final table, and failures."""

    def __init__(self, part):
        self.part = part
        self.rows = {}
        self.failures = []
        self.notes = []
        self.skipped = None
        self.t0 = time.time()
        self.out = os.environ.get("VHDSM_REL_OUT")

    def row(self, name):
        return self.rows.setdefault(name, {"tried": 0, "killed": 0, "recovered": 0,
                                           "lost": 0, "detail": {}})

    def count(self, name, key, n=1):
        r = self.row(name)
        r[key] = r.get(key, 0) + n

    def fail(self, name, what, repro):
        """A lost or corrupted outcome: counted, and kept with what
        reproduces it."""
        self.count(name, "lost")
        self.failures.append({"row": name, "what": what, "repro": repro})
        print("FAIL [%s] %s\n     reproduce: %s" % (name, what, repro), flush=True)

    def note(self, text):
        self.notes.append(text)
        print("note: " + text, flush=True)

    def skip(self, why):
        self.skipped = why
        print("SKIP %s: %s" % (self.part, why), flush=True)

    def save(self):
        data = {"part": self.part, "rows": self.rows, "failures": self.failures,
                "notes": self.notes, "skipped": self.skipped,
                "seconds": round(time.time() - self.t0, 1)}
        if self.out:
            os.makedirs(self.out, exist_ok=True)
            with open(os.path.join(self.out, self.part + ".json"), "w") as f:
                json.dump(data, f, indent=1)
        return data

    def lost(self):
        return sum(r.get("lost", 0) for r in self.rows.values())


class Daemon:
    """vhdsmd on its own socket (and a loopback TCP port), with a state
    directory; optionally under a wrapper (strace, an LD_PRELOAD)."""

    def __init__(self, workdir, env=None, wrap=(), stderr_path=None, args=()):
        self.args = list(args)
        self.sock = os.path.join(workdir, "vhdsmd.sock")
        self.env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(workdir, "state"))
        if env:
            self.env.update(env)
        self.stderr_path = stderr_path or os.path.join(workdir, "vhdsmd.stderr")
        self.wrap = list(wrap)
        self.proc = None
        self.port = None

    def start(self, timeout=20):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        err = open(self.stderr_path, "ab")
        args = list(self.args)
        if "--config" not in args:
            # Calls come over TCP: SRs in the work directory lie inside
            # sr_roots.
            conf = self.sock + ".conf"
            with open(conf, "w") as f:
                f.write("[daemon]\nsr_roots = %s\n" % os.path.dirname(self.sock))
                # A short uploader backoff.
                f.write("[image]\nretry_delay_scale = 0.05\n")
            args += ["--config", conf]
        self.proc = subprocess.Popen(self.wrap + [VHDSMD, "--socket", self.sock,
                                                  "--tcp-port", "0", "--foreground"]
                                     + args,
                                     stdout=subprocess.PIPE, stderr=err, env=self.env,
                                     start_new_session=True)
        err.close()
        line = self.proc.stdout.readline().decode()
        if not line.startswith("tcp_port="):
            self.kill()
            raise RuntimeError("vhdsmd did not start: %r" % line)
        self.port = int(line.split("=")[1])
        deadline = time.time() + timeout
        while not os.path.exists(self.sock) and time.time() < deadline:
            time.sleep(0.01)
        return self

    def proxy(self, timeout=None):
        return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.port,
                                         allow_none=True)

    def unix_proxy(self):
        return xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                         transport=UnixTransport(self.sock))

    def target_pid(self):
        """The vhdsmd process (the wrapper's child when wrapped)."""
        if not self.wrap:
            return self.proc.pid
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def kill(self):
        """SIGKILL to the daemon's process group (a wrapper included)."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait()
            self.proc.stdout.close()

    def stop(self, timeout=60):
        """SIGTERM to vhdsmd itself (not to a wrapper, which would detach),
        and waits."""
        if self.proc and self.proc.poll() is None:
            pid = self.target_pid()
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return False
        if self.proc:
            self.proc.stdout.close()
        return True


class Swift:
    """The loopback Swift: the one scripts/reliability.sh started (its
    ST_AUTH/ST_USER/ST_KEY, SAIO_ROOT and SAIO_REPLICAS in the
    environment), else a private one (of `replicas`, default
    $SAIO_REPLICAS or 1)."""

    def __init__(self, replicas=None):
        self.root = None
        if os.environ.get("ST_AUTH") and os.environ.get("ST_KEY"):
            self.auth = os.environ["ST_AUTH"]
            self.user = os.environ["ST_USER"]
            self.key = os.environ["ST_KEY"]
            self.env = dict(os.environ)
            self.replicas = int(os.environ.get("SAIO_REPLICAS", "1"))
            return
        self.root = tempfile.mkdtemp(prefix="vhdsm-rel-saio-")
        self.env = dict(os.environ, SAIO_ROOT=os.path.join(self.root, "saio"),
                        SAIO_WATCH_PID=str(os.getpid()),
                        SAIO_SLO_RATE_LIMIT_AFTER="100000")
        if replicas:
            self.env["SAIO_REPLICAS"] = str(replicas)
        subprocess.run([SAIO, "start"], env=self.env, check=True, capture_output=True)
        out = subprocess.run([SAIO, "env"], env=self.env, check=True,
                             capture_output=True, text=True).stdout
        v = {}
        for line in out.splitlines():
            if line.startswith("export "):
                k, val = line[7:].split("=", 1)
                v[k] = val.strip("'\"")
        self.auth, self.user, self.key = v["ST_AUTH"], v["ST_USER"], v["ST_KEY"]
        self.replicas = int(v.get("SAIO_REPLICAS", "1"))

    def saio(self, *args):
        """scripts/saio.sh ARGS on this Swift (stop-daemon object2, ...)."""
        subprocess.run([SAIO] + list(args), env=self.env, check=True, capture_output=True)

    def conn(self):
        import swiftclient  # pylint: disable=import-outside-toplevel
        return swiftclient.Connection(authurl=self.auth, user=self.user, key=self.key,
                                      retries=2)

    def stop(self):
        if self.root:
            subprocess.run([SAIO, "stop"], env=self.env, capture_output=True, check=False)
            shutil.rmtree(self.root, ignore_errors=True)


def rng_for(*parts):
    """A random.Random seeded by the parts (repeatable per trial)."""
    return random.Random(hashlib.sha256(repr(parts).encode()).digest())


def part_arguments(doc, seed=True, workdir=True):
    """The command line every part shares: --short, and where the part has
    them --seed (default $VHDSM_REL_SEED, else 1) and --workdir (kept)."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true")
    if seed:
        ap.add_argument("--seed", type=int,
                        default=int(os.environ.get("VHDSM_REL_SEED", "1")))
    if workdir:
        ap.add_argument("--workdir")
    return ap


def run_part(name, harness, results, args, failed=None):
    """Runs harness.run() and exits. Its workdir is removed unless the
    caller named it (--workdir) or something failed; `results` (the
    harness's Results) are saved; the exit status is 1 when failed(results),
    by default when there is any failure."""
    try:
        harness.run()
    finally:
        if not args.workdir and not results.failures:
            shutil.rmtree(harness.workdir, ignore_errors=True)
    results.save()
    if results.failures:
        print("%s: %d failures; state kept in %s" % (name, len(results.failures),
                                                   harness.workdir))
    bad = failed(results) if failed else bool(results.failures)
    sys.exit(1 if bad else 0)
