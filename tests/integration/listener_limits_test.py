#!/usr/bin/env python3
"""vhdsmd's listeners under attack, and SR locations by caller.

- Callers other than root (any TCP caller; uid 65534 on the Unix socket of a
  vhdsmd run as that user) may name only directories inside sr_roots: every
  other location is fault 47 and nothing is created. Root on the Unix socket
  may name any existing directory; nobody may name a symlink.
- Slow clients (a byte every half second) are closed by the request deadline;
  64 clients that each send an 8 MiB body get 503 past the body budget and
  the daemon's VmRSS stays bounded; the Unix socket answers throughout.

Needs root (to act as uid 65534); skips otherwise. Bounds are generous: the
machine may be loaded, and the binaries may be under ASan.
"""
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from listener_attack import (as_uid, post_head, slow_clients, trickle_once,  # noqa: E402
                             vm_rss)
from unix_xmlrpc import UnixTransport  # noqa: E402

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
SR_UUID = "5e1b7a4e-0000-4000-8000-00000000c0de"
NOBODY = 65534
MIB = 1 << 20


def params(command, location, args=()):
    return {"command": command, "args": list(args), "sr_uuid": SR_UUID,
            "device_config": {"location": location}}


def fault_code(call):
    try:
        call()
        return 0
    except xmlrpc.client.Fault as f:
        return f.faultCode


class Daemon:
    """vhdsmd with its own config, optionally run as another uid."""

    def __init__(self, workdir, conf_text, uid=None):
        self.sock = os.path.join(workdir, "vhdsmd.sock")
        conf = os.path.join(workdir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(workdir, "state"))
        wrap = []
        if uid is not None:
            for p in (workdir, conf):
                os.chown(p, uid, uid)
            wrap = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                    "--clear-groups"]
        self.proc = subprocess.Popen(wrap + [VHDSMD, "--config", conf, "--socket",
                                             self.sock, "--tcp-port", "0",
                                             "--foreground"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("tcp_port="):
            self.proc.kill()
            raise RuntimeError("vhdsmd did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.split("=")[1])
        deadline = time.time() + 20
        while not os.path.exists(self.sock) and time.time() < deadline:
            time.sleep(0.05)

    def tcp(self):
        return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.port, allow_none=True)

    def unix(self):
        return xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                         transport=UnixTransport(self.sock, timeout=30))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@unittest.skipUnless(os.geteuid() == 0, "needs root to act as uid 65534")
class LocationTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-loc-")
        os.chmod(self.dir, 0o755)
        self.roots = os.path.join(self.dir, "roots")
        self.inside = os.path.join(self.roots, "sr")
        self.outside = os.path.join(self.dir, "out")
        for d in (self.inside, self.outside):
            os.makedirs(d)
        self.link = os.path.join(self.dir, "link-to-sr")
        os.symlink(self.inside, self.link)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def hostile(self):
        return ["/root/x", "/root", self.outside, self.link,
                self.roots + "/../out", "/srv/../root", self.roots]

    def assert_nothing_created(self, before_root):
        self.assertEqual(os.listdir(self.outside), [])
        self.assertEqual(os.listdir(self.inside), [])
        self.assertFalse(os.path.exists("/root/x"))
        self.assertEqual(sorted(os.listdir("/root")), before_root)

    def test_tcp_callers_are_confined_to_sr_roots(self):
        self.daemon = Daemon(self.dir, "[daemon]\nsr_roots = %s\n" % self.roots)
        before_root = sorted(os.listdir("/root"))
        for loc in self.hostile():
            for cmd in ("sr_create", "sr_attach", "vdi_create"):
                args = ["0"] if cmd != "vdi_create" else [str(16 * MIB)]
                px = self.daemon.tcp()
                code = fault_code(lambda: getattr(px, cmd)(params(cmd, loc, args)))
                self.assertEqual(code, 47, (cmd, loc))
        # The message names the setting.
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            self.daemon.tcp().sr_create(params("sr_create", self.outside, ["0"]))
        self.assertIn("sr_roots", cm.exception.faultString)
        # ...also for uid 65534, who can reach the TCP port.
        out = as_uid(NOBODY, lambda: fault_code(
            lambda: self.daemon.tcp().sr_create(params("sr_create", "/root/x", ["0"]))))
        self.assertEqual(out, "47")
        self.assert_nothing_created(before_root)
        # Inside the roots, TCP callers are served.
        px = self.daemon.tcp()
        self.assertIsNone(px.sr_create(params("sr_create", self.inside, ["0"])))
        v = px.vdi_create(params("vdi_create", self.inside, [str(16 * MIB)]))
        self.assertTrue(os.path.exists(os.path.join(self.inside, v["uuid"] + ".vhd")))

    def test_root_on_the_unix_socket_may_name_any_directory(self):
        self.daemon = Daemon(self.dir, "[daemon]\nsr_roots = %s\n" % self.roots)
        px = self.daemon.unix()
        self.assertIsNone(px.sr_create(params("sr_create", self.outside, ["0"])))
        self.assertTrue(os.path.exists(os.path.join(self.outside, ".vhdsm")))
        # Never a symlink, nor a directory that does not exist.
        self.assertEqual(fault_code(lambda: px.sr_create(params("sr_create", self.link,
                                                                 ["0"]))), 47)
        self.assertEqual(fault_code(lambda: px.sr_create(
            params("sr_create", self.outside + "/none", ["0"]))), 47)
        self.assertFalse(os.path.exists(self.outside + "/none"))
        self.assertEqual(os.listdir(self.inside), [])

    def test_non_root_peers_on_the_unix_socket_are_confined(self):
        # A vhdsmd run as uid 65534: its own user may use its socket, and
        # is not root, so it is confined like a TCP caller.
        ddir = os.path.join(self.dir, "d")
        os.makedirs(ddir)
        for d in (self.inside, self.outside):
            os.chown(d, NOBODY, NOBODY)
        self.daemon = Daemon(ddir, "[daemon]\nsr_roots = %s\n" % self.roots, uid=NOBODY)
        before_root = sorted(os.listdir("/root"))
        sock = self.daemon.sock

        def call(loc):
            px = xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                           transport=UnixTransport(sock, timeout=30))
            return fault_code(lambda: px.sr_create(params("sr_create", loc, ["0"])))
        for loc in self.hostile():
            self.assertEqual(as_uid(NOBODY, lambda: call(loc)), "47", loc)
        self.assert_nothing_created(before_root)
        self.assertEqual(as_uid(NOBODY, lambda: call(self.inside)), "0")
        self.assertTrue(os.path.exists(os.path.join(self.inside, ".vhdsm", "sr.json")))


def trickle(fds, stop, closed):
    """Sends one byte on each open fd every half second until `stop`;
    records in `closed` the ones the server closed."""
    while not stop.is_set() and len(closed) < len(fds):
        trickle_once(fds, closed)
        stop.wait(0.5)


def big_body(port, results, i, hold):
    """Announces and sends an 8 MiB body but its last byte; records whether
    the server answered 503 (and stopped reading) or took it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(post_head(8 * MIB))
        # A refusal comes from the headers: read it before sending the body
        # (sending into a closed connection would reset it).
        if select.select([s], [], [], 0.5)[0]:
            results[i] = "503" if s.recv(64).startswith(b"HTTP/1.1 503") else "other"
            hold.wait(120)
            return
        chunk = b"x" * (64 << 10)
        sent = 0
        try:
            while sent < 8 * MIB - len(chunk):
                s.sendall(chunk)
                sent += len(chunk)
            s.sendall(chunk[:-1])
            results[i] = "held"
        except OSError:
            results[i] = "cut"
        s.settimeout(2)
        try:
            head = s.recv(64)
        except OSError:
            head = b""
        if head.startswith(b"HTTP/1.1 503"):
            results[i] = "503"
        hold.wait(120)
    finally:
        s.close()


class AttackTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-attack-")
        self.sr = os.path.join(self.dir, "sr")
        os.makedirs(self.sr)
        self.daemon = Daemon(self.dir, "[daemon]\nsr_roots = %s\nrequest_timeout = 5\n"
                             "body_memory = 16M\n" % self.dir)

    def tearDown(self):
        self.daemon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def unix_answers(self):
        info = self.daemon.unix().sr_get_driver_info(params("sr_get_driver_info", self.sr))
        return info["name"] == "vhdsm VHD"

    def test_slow_clients_are_closed_and_the_socket_answers(self):
        fds = slow_clients(self.daemon.port)  # half trickle the body, half the headers
        stop, closed = threading.Event(), set()
        t = threading.Thread(target=trickle, args=(fds, stop, closed))
        t.start()
        try:
            self.assertTrue(self.unix_answers())
            deadline = time.time() + 60  # request_timeout is 5 s
            while len(closed) < len(fds) and time.time() < deadline:
                time.sleep(0.5)
        finally:
            stop.set()
            t.join()
            for s in fds:
                s.close()
        self.assertEqual(len(closed), len(fds))
        self.assertIsNone(self.daemon.tcp().sr_create(params("sr_create", self.sr, ["0"])))

    def test_big_bodies_get_503_and_memory_stays_bounded(self):
        pid = self.daemon.proc.pid
        self.assertTrue(self.unix_answers())
        before = vm_rss(pid)
        results, hold = {}, threading.Event()
        threads = [threading.Thread(target=big_body,
                                    args=(self.daemon.port, results, i, hold))
                   for i in range(64)]
        for t in threads:
            t.start()
        peak = before
        try:
            deadline = time.time() + 120
            while len(results) < 64 and time.time() < deadline:
                peak = max(peak, vm_rss(pid))
                time.sleep(0.1)
            peak = max(peak, vm_rss(pid))
            self.assertTrue(self.unix_answers())
        finally:
            hold.set()
            for t in threads:
                t.join()
        refused = sum(1 for r in results.values() if r in ("503", "cut"))
        self.assertEqual(len(results), 64)
        # 16 MiB holds two 8 MiB bodies: the other 62 are refused at once.
        self.assertGreaterEqual(refused, 62, results)
        self.assertGreaterEqual(sum(1 for r in results.values() if r == "503"), 32, results)
        # Unbounded, 64 x 8 MiB was 512 MiB more; the budget is 16 MiB.
        self.assertLess(peak - before, 96 * MIB, (before, peak))
        self.assertTrue(self.unix_answers())
        self.assertIsNone(self.daemon.tcp().sr_create(params("sr_create", self.sr, ["0"])))


if __name__ == "__main__":
    # Proxies left to the collector are fine here; keep the output readable.
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=1, warnings="ignore")
