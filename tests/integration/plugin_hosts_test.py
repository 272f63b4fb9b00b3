#!/usr/bin/python3
"""Integration tests of the plugin's hosts, as their real clients use them.

- VHDSR, as xapi runs it: the compact <methodCall> as argv[1] (or stdin),
  exactly one <methodResponse> on stdout, exit 0 even for faults.
- vhdsmd with Python's xmlrpc.client over loopback TCP and its Unix socket
  (mode 0600), SIGHUP reload and SIGTERM shutdown, concurrent clients.
- libvhdsm.so from a C program through dlopen; only vhdsm_* exported.
After every step of the VDI lifecycle, every VDI's guest view is compared
with the expected raw image, read by an independent reader (libvhdi).
"""
import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest
import xmlrpc.client

import pyvhdi

from unix_xmlrpc import UnixTransport

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SRC = os.environ.get("VHDSM_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
VHDSR = os.path.join(BUILD, "bin", "VHDSR")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
UTIL = os.path.join(BUILD, "bin", "vhdsm-util")
MIB = 1 << 20


def xapi_call(command, device_config=None, args=(), **members):
    """A request exactly as xapi's Xml.to_string writes it."""
    def val(v):
        if isinstance(v, dict):
            if not v:
                return "<value><struct/></value>"
            return "<value><struct>" + "".join(
                "<member><name>%s</name>%s</member>" % (k, val(x))
                for k, x in v.items()) + "</struct></value>"
        v = xmlrpc.client.escape(str(v))
        return "<value/>" if v == "" else "<value>%s</value>" % v
    dc = device_config or {}
    s = ("<methodCall><methodName>%s</methodName><params><param><value><struct>"
         % command)
    s += "<member><name>host_ref</name><value>OpaqueRef:NULL</value></member>"
    s += "<member><name>command</name>%s</member>" % val(command)
    s += "<member><name>args</name><value><array>%s</array></value></member>" % (
        "<data/>" if not args else "<data>" + "".join(val(a) for a in args) + "</data>")
    s += "<member><name>device_config</name>%s</member>" % val(dc)
    for k, v in members.items():
        s += "<member><name>%s</name>%s</member>" % (k, val(v))
    return s + "</struct></value></param></params></methodCall>"


def run_vhdsr(request, stdin=False, env=None):
    """Runs VHDSR as xapi does (one request, one response); the result, or
    the Fault. The GC is off unless `env` says otherwise."""
    if env is None:
        env = dict(os.environ, VHDSM_GC="off")
    if stdin:
        p = subprocess.run([VHDSR], input=request.encode(), capture_output=True, env=env)
    else:
        p = subprocess.run([VHDSR, request], capture_output=True, env=env)
    assert p.returncode == 0, (p.returncode, p.stderr)
    out = p.stdout.decode()
    assert out.count("<methodResponse>") == 1, out
    try:
        (result,), _ = xmlrpc.client.loads(out)
        return result
    except xmlrpc.client.Fault as f:
        return f


def guest_view(path):
    """sha256 of a VDI's guest view, read by libvhdi through its chain."""
    chain = [path]
    while True:
        p = subprocess.run([UTIL, "query", "-p", "-n", chain[-1]],
                           capture_output=True, text=True)
        line = p.stdout.strip()
        if "has no parent" in line:
            break
        assert p.returncode == 0, p.stdout
        chain.append(line)
    files = []
    for f in reversed(chain):
        h = pyvhdi.file()
        h.open(f)
        if files:
            h.set_parent(files[-1])
        files.append(h)
    leaf = files[-1]
    # libvhdi asks a parent for sectors past its end when a grown child does
    # not hold them, and fails: beyond the smallest ancestor, the guest view
    # comes from our own export (where it must be zeros, which the model
    # checks).
    limit = min(f.media_size for f in files)
    d = hashlib.sha256()
    off = 0
    while off < limit:
        n = min(16 * MIB, limit - off)
        d.update(leaf.read_buffer_at_offset(n, off))
        off += n
    if leaf.media_size > limit:
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "view.raw")
            subprocess.run([UTIL, "export", "-n", path, "-o", raw], check=True)
            with open(raw, "rb") as f:
                f.seek(limit)
                d.update(f.read())
    return d.hexdigest()


def write(path, offset, data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        subprocess.run([UTIL, "write", "-n", path, "-i", f.name, "-o", str(offset)],
                       check=True)


class Model:
    """Expected raw images of every VDI."""
    def __init__(self):
        self.images = {}

    def create(self, uuid, size):
        self.images[uuid] = bytearray(size)

    def write(self, uuid, offset, data):
        self.images[uuid][offset:offset + len(data)] = data

    def copy(self, src, dst):
        self.images[dst] = bytearray(self.images[src])

    def sha(self, uuid):
        return hashlib.sha256(bytes(self.images[uuid])).hexdigest()


class VhdsrTest(unittest.TestCase):
    def setUp(self):
        self.sr = tempfile.mkdtemp(prefix="vhdsm-sr-")
        self.dc = {"location": self.sr, "SRmaster": "true"}
        self.model = Model()
        self.rng = random.Random(5)

    def tearDown(self):
        shutil.rmtree(self.sr, ignore_errors=True)

    def call(self, command, args=(), **members):
        members.setdefault("sr_uuid", "5e1b7a4e-0000-4000-8000-00000000aaaa")
        members.setdefault("session_ref", "OpaqueRef:x")
        return run_vhdsr(xapi_call(command, self.dc, args, **members))

    def vdi(self, command, uuid, args=(), **members):
        return self.call(command, args, vdi_uuid=uuid, vdi_location=uuid, **members)

    def check_all(self):
        for uuid in self.model.images:
            self.assertEqual(guest_view(os.path.join(self.sr, uuid + ".vhd")),
                             self.model.sha(uuid), uuid)

    def data(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(64)) * (n // 64)

    def test_lifecycle(self):
        self.assertIsNone(self.call("sr_create", ["0"]))
        self.assertIsNone(self.call("sr_attach"))
        info = self.call("vdi_create", [str(32 * MIB), "disk", "", "", "false",
                                        "19700101T00:00:00Z", "", "false"],
                         vdi_type="user")
        self.assertEqual(set(info), {"uuid", "location"})
        a = info["uuid"]
        self.model.create(a, 32 * MIB)
        self.check_all()
        d = self.data(4 * MIB)
        write(os.path.join(self.sr, a + ".vhd"), 4096, d)
        self.model.write(a, 4096, d)
        self.check_all()
        snap = self.vdi("vdi_snapshot", a)["uuid"]
        self.model.copy(a, snap)
        self.check_all()
        d = self.data(MIB)
        write(os.path.join(self.sr, a + ".vhd"), 8 * MIB, d)
        self.model.write(a, 8 * MIB, d)
        self.check_all()
        clone = self.vdi("vdi_clone", a)["uuid"]
        self.model.copy(a, clone)
        d = self.data(8192)
        write(os.path.join(self.sr, clone + ".vhd"), 0, d)
        self.model.write(clone, 0, d)
        self.check_all()
        self.assertIsNone(self.vdi("vdi_delete", snap))
        del self.model.images[snap]
        self.check_all()
        self.assertIsNone(self.call("sr_gc"))
        self.check_all()
        self.assertIsNone(self.call("sr_scan"))
        info = self.vdi("vdi_resize", a, [str(64 * MIB)])
        self.assertEqual(info["uuid"], a)
        self.model.images[a] += bytearray(32 * MIB)
        self.check_all()
        self.assertIsNone(self.vdi("vdi_delete", clone))
        del self.model.images[clone]
        self.assertIsNone(self.call("sr_gc"))
        self.check_all()
        vhds = [f for f in os.listdir(self.sr) if f.endswith(".vhd")]
        self.assertEqual(vhds, [a + ".vhd"])  # everything else coalesced away

    def test_faults_exit_zero_and_stdin(self):
        f = self.call("vdi_nonsense")
        self.assertIsInstance(f, xmlrpc.client.Fault)
        self.assertEqual(f.faultCode, 38)
        f = self.vdi("vdi_attach", "b5a3e0a2-0000-4000-8000-000000000000", ["true"])
        self.assertEqual(f.faultCode, 144)
        r = run_vhdsr(xapi_call("sr_get_driver_info"), stdin=True)
        self.assertEqual(r["required_api_version"], "1.0")
        p = subprocess.run([VHDSR, "a", "b"], capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"<int>143</int>", p.stdout)
        p = subprocess.run([VHDSR, "<methodCall><methodName>x"], capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"<int>143</int>", p.stdout)

    def test_gc_is_spawned_after_delete(self):
        self.call("sr_create", ["0"])
        a = self.call("vdi_create", [str(8 * MIB)])["uuid"]
        write(os.path.join(self.sr, a + ".vhd"), 0, b"x" * 4096)
        snap = self.vdi("vdi_snapshot", a)["uuid"]
        env = dict(os.environ, VHDSM_GC="spawn")
        p = subprocess.run([VHDSR, xapi_call("vdi_delete", self.dc, (), vdi_uuid=snap,
                                             vdi_location=snap)],
                           capture_output=True, env=env)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"<nil/>", p.stdout)
        deadline = time.time() + 20
        while time.time() < deadline:
            if [f for f in os.listdir(self.sr) if f.endswith(".vhd")] == [a + ".vhd"]:
                break
            time.sleep(0.2)
        self.assertEqual([f for f in os.listdir(self.sr) if f.endswith(".vhd")],
                         [a + ".vhd"])


class VhdsmdTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsmd-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.sock = os.path.join(self.dir, "vhdsmd.sock")
        # Calls come over TCP: the SR must lie inside sr_roots.
        conf = os.path.join(self.dir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nsr_roots = %s\n" % self.dir)
        self.proc = subprocess.Popen([VHDSMD, "--config", conf, "--socket", self.sock,
                                      "--tcp-port", "0", "--foreground"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.assertTrue(line.startswith("tcp_port="), line)
        self.port = int(line.split("=")[1])
        self.dc = {"location": self.sr}

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def proxy(self):
        return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.port,
                                         allow_none=True)

    def params(self, command, args=(), **m):
        p = {"command": command, "args": list(args), "device_config": self.dc,
             "sr_uuid": "5e1b7a4e-0000-4000-8000-00000000bbbb"}
        p.update(m)
        return p

    def test_socket_mode_and_methods(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o600)
        unix = xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                         transport=UnixTransport(self.sock))
        info = unix.sr_get_driver_info(self.params("sr_get_driver_info"))
        self.assertEqual(info["name"], "vhdsm VHD")
        px = self.proxy()
        self.assertIsNone(px.sr_create(self.params("sr_create", ["0"])))
        v = px.vdi_create(self.params("vdi_create", [str(16 * MIB), "d"]))
        snap = px.vdi_snapshot(self.params("vdi_snapshot", vdi_uuid=v["uuid"],
                                           vdi_location=v["uuid"]))
        self.assertEqual(set(snap), {"uuid", "location"})
        listing = px.sr_list(self.params("sr_list"))
        self.assertEqual(len(listing), 3)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            px.vdi_snapshot(self.params("vdi_snapshot", vdi_uuid="nope",
                                        vdi_location="nope"))
        self.assertEqual(cm.exception.faultCode, 143)

    def test_concurrent_clients_serialize_safely(self):
        px = self.proxy()
        px.sr_create(self.params("sr_create", ["0"]))
        vdis = [px.vdi_create(self.params("vdi_create", [str(8 * MIB)]))["uuid"]
                for _ in range(4)]
        for i, v in enumerate(vdis):
            write(os.path.join(self.sr, v + ".vhd"), 0, bytes([i + 1]) * 8192)
        errors = []

        def worker(v):
            try:
                c = self.proxy()
                for _ in range(5):
                    s = c.vdi_snapshot(self.params("vdi_snapshot", vdi_uuid=v,
                                                   vdi_location=v))["uuid"]
                    c.sr_scan(self.params("sr_scan"))
                    c.vdi_delete(self.params("vdi_delete", vdi_uuid=s, vdi_location=s))
            except Exception as e:  # pylint: disable=broad-except
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(v,)) for v in vdis]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        px.sr_gc(self.params("sr_gc"))
        for i, v in enumerate(vdis):
            m = Model()
            m.create(v, 8 * MIB)
            m.write(v, 0, bytes([i + 1]) * 8192)
            self.assertEqual(guest_view(os.path.join(self.sr, v + ".vhd")), m.sha(v))
        p = subprocess.run([UTIL, "check", "-n", os.path.join(self.sr, vdis[0] + ".vhd"),
                            "-p"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_sighup_reloads_and_sigterm_stops(self):
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertEqual(self.proxy().sr_get_driver_info(
            self.params("sr_get_driver_info"))["name"], "vhdsm VHD")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=15), 0)
        self.assertFalse(os.path.exists(self.sock))


class CAbiTest(unittest.TestCase):
    def test_c_program_dlopens_the_plugin(self):
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, "client")
            lib = os.path.join(BUILD, "lib", "libvhdsm.so")
            # An ASan plugin (make check-asan) needs its runtime loaded first:
            # the host program is then built with the sanitizers too.
            with open(lib, "rb") as f:
                san = ["-fsanitize=address,undefined"] if b"__asan_init" in f.read() else []
            subprocess.run(["cc", "-std=c99", "-Wall", "-Werror"] + san + [
                            "-I", os.path.join(SRC, "host", "include"),
                            os.path.join(SRC, "tests", "integration", "c_abi_client.c"),
                            "-ldl", "-o", exe], check=True)
            p = subprocess.run([exe, lib],
                               input=xapi_call("sr_get_driver_info").encode(),
                               capture_output=True, env=dict(os.environ, VHDSM_GC="off"))
            self.assertEqual(p.returncode, 0, p.stderr)
            (info,), _ = xmlrpc.client.loads(p.stdout)
            self.assertEqual(info["name"], "vhdsm VHD")

    def test_only_the_c_abi_is_exported(self):
        p = subprocess.run(["nm", "-D", "--defined-only",
                            os.path.join(BUILD, "lib", "libvhdsm.so")],
                           capture_output=True, text=True, check=True)
        names = [l.split()[-1].split("@")[0] for l in p.stdout.splitlines() if l.split()]
        names = [n for n in names if n != "VHDSM_1"]
        self.assertEqual(sorted(names), ["vhdsm_abi_version", "vhdsm_close", "vhdsm_free",
                                         "vhdsm_handle", "vhdsm_handle_peer", "vhdsm_open",
                                         "vhdsm_run_task", "vhdsm_set_event_callback"])


if __name__ == "__main__":
    unittest.main(verbosity=1)
