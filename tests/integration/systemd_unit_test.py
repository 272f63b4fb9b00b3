#!/usr/bin/python3
"""rpm/vhdsmd.service: sandboxed, and vhdsmd still works inside the sandbox.

  - `systemd-analyze security --offline=true` scores the unit's exposure
    under 5 (skipped, with a message, only where systemd-analyze is absent);
  - the settings the README promises are in the unit;
  - vhdsmd, traced with strace through SR and VDI calls, an image task
    against a local HTTP store (so the resolver, curl and sockets run), GC,
    SIGHUP and SIGTERM, makes only system calls the unit's SystemCallFilter
    allows (expanded by systemd-analyze itself), opens only socket families
    RestrictAddressFamilies allows, never maps memory writable and
    executable (MemoryDenyWriteExecute), and writes only under its SR, state
    and socket directories (ProtectSystem=strict). Skipped without strace.
Run by scripts/run-tests.sh with VHDSM_BUILD and VHDSM_SRC set.
"""
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

SRC = os.environ.get("VHDSM_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(SRC, "build")
UNIT = os.path.join(SRC, "rpm", "vhdsmd.service")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
ANALYZE = shutil.which("systemd-analyze")
STRACE = shutil.which("strace")
SR_UUID = "0a0b0c0d-0000-4000-8000-0000000000ab"


def unit_settings():
    """[Service] settings as name -> list of values (in order)."""
    out = {}
    section = None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def expand(group):
    """The system calls a filter group names, per systemd-analyze."""
    out = subprocess.run([ANALYZE, "syscall-filter", group], capture_output=True,
                         text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        calls |= expand(line) if line.startswith("@") else {line}
    return calls


@unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed: unit not scored")
class UnitTest(unittest.TestCase):
    def test_exposure_is_under_5(self):
        p = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager", UNIT],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for vhdsmd\.service: ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        score = float(m.group(1))
        print("\n" + m.group(0), file=sys.stderr)
        self.assertLess(score, 5.0, p.stdout)

    def test_promised_settings(self):
        s = unit_settings()
        for k, v in {"ProtectSystem": "strict", "NoNewPrivileges": "yes",
                     "PrivateTmp": "yes", "LimitCORE": "0", "ProtectHome": "yes",
                     "MemoryDenyWriteExecute": "yes", "UMask": "0077",
                     "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
                     "SystemCallArchitectures": "native"}.items():
            self.assertEqual(s.get(k), [v], k)
        rw = " ".join(s.get("ReadWritePaths", [])).split()
        self.assertIn("-/srv", rw)
        self.assertIn("-/run/sr-mount", rw)  # /var/run is a link to /run
        self.assertEqual(s.get("StateDirectory"), ["vhdsm"])
        self.assertEqual(s.get("RuntimeDirectory"), ["vhdsm"])
        caps = set(s["CapabilityBoundingSet"][0].split())
        self.assertIn("CAP_DAC_OVERRIDE", caps)
        self.assertNotIn("CAP_SYS_ADMIN", caps)


class _Store(http.server.BaseHTTPRequestHandler):
    """An object store that refuses every key: the task ends AUTH_FAILED."""

    def do_GET(self):
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed")
@unittest.skipIf(STRACE is None, "strace is not installed: vhdsmd not traced")
class WorksInTheSandboxTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-unit-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.store = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Store)
        threading.Thread(target=self.store.serve_forever, daemon=True).start()

    def tearDown(self):
        self.store.shutdown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, px, cmd, args=(), **m):
        d = {"command": cmd, "args": list(args), "sr_uuid": SR_UUID,
             "device_config": {"location": self.sr}}
        d.update(m)
        return getattr(px, cmd)(d)

    def trace_workload(self):
        trace = os.path.join(self.dir, "trace")
        env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(self.dir, "state"))
        env.pop("VHDSM_CONFIG", None)
        # Callers over TCP may name only SRs inside sr_roots.
        conf = os.path.join(self.dir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nsr_roots = %s\n[image]\nretry_delay_scale = 0.01\n"
                    % self.dir)
        os.chmod(conf, 0o600)
        p = subprocess.Popen([STRACE, "-f", "-qq", "-y", "-o", trace, VHDSMD, "--config", conf,
                              "--socket",
                              os.path.join(self.dir, "d.sock"), "--tcp-port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env)
        try:
            line = p.stdout.readline()
            self.assertTrue(line.startswith("tcp_port="), line)
            px = xmlrpc.client.ServerProxy(
                "http://127.0.0.1:%d/" % int(line.split("=")[1]))
            self.call(px, "sr_create")
            v = self.call(px, "vdi_create", [str(8 << 20)])["uuid"]
            self.call(px, "vdi_snapshot", vdi_uuid=v, vdi_location=v)
            self.call(px, "vdi_resize", [str(16 << 20)], vdi_uuid=v, vdi_location=v)
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v, image={
                "auth_url": "http://localhost:%d/auth/v1.0" % self.store.server_port,
                "user": "u", "key": "k", "container": "c", "object": "o",
                "allow_insecure": "true"})
            st = {}
            for _ in range(300):
                st = px.task_status({"command": "task_status", "args": [], "task_id": t})
                if st["state"] in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.1)
            self.assertEqual((st["state"], st["error_code"]), ("failed", "AUTH_FAILED"))
            for cmd in ("sr_scan", "sr_probe", "vdi_delete", "sr_gc"):
                self.call(px, cmd, vdi_uuid=v, vdi_location=v)
            daemon = self.child_of(p.pid)
            os.kill(daemon, signal.SIGHUP)
            time.sleep(0.5)
            os.kill(daemon, signal.SIGTERM)  # strace passes signals to it only
            self.assertEqual(p.wait(timeout=60), 0)
        finally:
            if p.poll() is None:
                for pid in [self.child_of(p.pid), p.pid]:
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                p.wait()
            p.stdout.close()
        with open(trace) as f:
            return f.read().splitlines()

    @staticmethod
    def child_of(pid):
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                            return int(d)
                except OSError:
                    pass
        return None

    def test_syscalls_families_and_writes_fit_the_unit(self):
        s = unit_settings()
        allowed = set()
        for f in s["SystemCallFilter"]:
            deny = f.startswith("~")
            groups = set()
            for g in f.lstrip("~").split():
                groups |= expand(g) if g.startswith("@") else {g}
            allowed = allowed - groups if deny else allowed | groups
        families = set(s["RestrictAddressFamilies"][0].split())
        lines = self.trace_workload()
        calls, used_families, wx, writes = set(), set(), [], []
        # SR files are reached relative to the SR's descriptor (openat2,
        # unlinkat, ...): strace -y names the directory behind a descriptor.
        write_calls = re.compile(
            r'\d+\s+(?:(?:openat2?)\((?:AT_FDCWD|\d+<([^>]+)>), "([^"]+)", '
            r'[^)]*(?:O_WRONLY|O_RDWR|O_CREAT)'
            r'|(?:mkdir|unlink|rmdir|rename|link|chmod|truncate)\("([^"]+)"'
            r'|(?:mkdirat|unlinkat|renameat2?|linkat)\((?:AT_FDCWD|\d+<([^>]+)>), "([^"]+)")')
        for ln in lines:
            m = re.match(r"\d+\s+([a-z0-9_]+)\(", ln)
            if m:
                calls.add(m.group(1))
            m = re.search(r"socket\((AF_[A-Z0-9]+)", ln)
            if m:
                used_families.add(m.group(1))
            if re.search(r"mprotect\(.*PROT_EXEC|mmap\(.*PROT_WRITE\|PROT_EXEC", ln):
                wx.append(ln)
            m = write_calls.match(ln)
            if m:
                base, name = ((m.group(1), m.group(2)) if m.group(2) else
                              (None, m.group(3)) if m.group(3) else
                              (m.group(4), m.group(5)))
                writes.append(name if base is None or name.startswith("/")
                              else base + "/" + name)
        self.assertGreater(len(calls), 30, "the trace is empty")
        self.assertIn("fdatasync", calls)  # the workload reached the disk
        self.assertEqual(sorted(calls - allowed), [])
        self.assertTrue(used_families, "no socket opened")
        self.assertEqual(sorted(used_families - families), [])
        self.assertEqual(wx, [])
        self.assertTrue([w for w in writes if w.startswith(self.sr + "/")],
                        "no write to the SR seen: the pattern is wrong")
        outside = [w for w in writes if not w.startswith(self.dir + "/")]
        self.assertEqual(outside, [], "written outside the SR, state and socket dirs")


if __name__ == "__main__":
    unittest.main()
