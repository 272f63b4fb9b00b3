#!/usr/bin/python3
"""The imaging pipeline end to end, on a real OpenStack Swift on 127.0.0.1.

A VDI chain with data in parent and child is imaged with image_create
through vhdsmd (and through VHDSR); the object is downloaded with
python-swiftclient, decompressed and read by libvhdi, and must equal the
VDI's guest view; the VDI's own view never changes and the task's snapshot
is released. Faults: a wrong key, a cancel, the object server stopped
mid-upload, the daemon killed mid-upload (resume sends only the missing
segments). Progress: states in order and bytes that never go back.

With SAIO_REPLICAS=3 in the environment the Swift stores three replicas on
three object servers (tests/integration/swift_replicas_test.sh runs a part
of this file so), and one more test runs: an object server SIGKILLed during
the upload and restarted.
"""
import gzip
import hashlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import xmlrpc.client

import swiftclient

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from plugin_hosts_test import guest_view, write  # pylint: disable=wrong-import-position

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SRC = os.environ.get("VHDSM_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
UTIL = os.path.join(BUILD, "bin", "vhdsm-util")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
VHDSM = os.path.join(BUILD, "bin", "vhdsm")
VHDSR = os.path.join(BUILD, "bin", "VHDSR")
SAIO = os.path.join(SRC, "scripts", "saio.sh")
MIB = 1 << 20
SR_UUID = "0a0b0c0d-0000-4000-8000-0000000000aa"


class Swift:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="vhdsm-saio-")
        env = dict(os.environ, SAIO_ROOT=os.path.join(self.root, "saio"),
                   SAIO_WATCH_PID=str(os.getpid()), SAIO_SLO_RATE_LIMIT_AFTER="100000")
        self.env = env
        subprocess.run([SAIO, "start"], env=env, check=True, capture_output=True)
        out = subprocess.run([SAIO, "env"], env=env, check=True, capture_output=True,
                             text=True).stdout
        self.vars = {}
        for line in out.splitlines():
            if line.startswith("export "):
                k, v = line[7:].split("=", 1)
                self.vars[k] = v.strip("'\"")
        self.auth, self.user, self.key = (self.vars["ST_AUTH"], self.vars["ST_USER"],
                                          self.vars["ST_KEY"])
        self.replicas = int(self.vars.get("SAIO_REPLICAS", "1"))

    def conn(self):
        return swiftclient.Connection(authurl=self.auth, user=self.user, key=self.key)

    def daemon(self, verb, name=None):
        subprocess.run([SAIO, verb] + ([name] if name else []), env=self.env, check=True,
                       capture_output=True)

    def data_files(self, node):
        """Object files (.data) on node `node`'s device."""
        n = 0
        for _, _, files in os.walk(os.path.join(self.env["SAIO_ROOT"], "srv", str(node))):
            n += sum(1 for f in files if f.endswith(".data"))
        return n

    def stop(self):
        subprocess.run([SAIO, "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


SWIFT = None


def setUpModule():
    global SWIFT
    SWIFT = Swift()


def tearDownModule():
    SWIFT.stop()


class ImageTaskTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-img-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.state = os.path.join(self.dir, "state")
        self.env = dict(os.environ, VHDSM_STATE_DIR=self.state)
        # Short backoff for the uploader: [image] retry_delay_scale.
        self.retry_delay_scale = "0.05"
        self.proc = None
        self.start_daemon()
        self.rng = random.Random(1)

    def tearDown(self):
        self.stop_daemon()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_daemon(self):
        self.sock = os.path.join(self.dir, "d.sock")
        # Calls come over TCP: the SR must lie inside sr_roots.
        conf = os.path.join(self.dir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nsr_roots = %s\n[image]\nretry_delay_scale = %s\n"
                    % (self.dir, self.retry_delay_scale))
        self.proc = subprocess.Popen([VHDSMD, "--config", conf, "--socket", self.sock,
                                      "--tcp-port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=self.env)
        line = self.proc.stdout.readline()
        self.assertTrue(line.startswith("tcp_port="), line)
        self.px = xmlrpc.client.ServerProxy(
            "http://127.0.0.1:%d/" % int(line.split("=")[1]), allow_none=True)

    def stop_daemon(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        self.proc = None

    def p(self, command, args=(), **m):
        d = {"command": command, "args": list(args), "sr_uuid": SR_UUID,
             "device_config": {"location": self.sr}}
        d.update(m)
        return d

    def make_chain(self, size_mb=64, data_mb=8):
        """A VDI whose chain holds data in the parent and in the child."""
        self.px.sr_create(self.p("sr_create", ["0"]))
        v = self.px.vdi_create(self.p("vdi_create", [str(size_mb * MIB)]))["uuid"]
        path = os.path.join(self.sr, v + ".vhd")
        write(path, 0, os.urandom(data_mb * MIB))
        self.px.vdi_snapshot(self.p("vdi_snapshot", vdi_uuid=v, vdi_location=v))
        write(path, (size_mb // 2) * MIB, os.urandom(data_mb * MIB))
        # 4 KiB-aligned: libvhdi misreads shorter bitmap runs (vhd.md).
        write(path, 4096, b"child-4k" * 512)
        return v, path

    def image(self, container, obj, key=None, **extra):
        # The loopback Swift speaks http: allowed explicitly.
        im = {"auth_url": SWIFT.auth, "user": SWIFT.user, "allow_insecure": "true",
              "key": SWIFT.key if key is None else key,
              "container": container, "object": obj}
        im.update({k: str(v) for k, v in extra.items()})
        return im

    def wait(self, task, timeout=120, on_status=None):
        seen = []
        last_bytes = -1
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.px.task_status({"command": "task_status", "args": [],
                                      "task_id": task})
            for k, v in st.items():
                self.assertIsInstance(v, str, k)  # strings only, as xapi wants
            if not seen or seen[-1] != st["state"]:
                seen.append(st["state"])
            if st["state"] == "uploading":
                done = int(st["phase_bytes_done"])
                self.assertGreaterEqual(done, last_bytes)
                last_bytes = done
            if on_status:
                on_status(st)
            if st["state"] in ("done", "failed", "cancelled"):
                return st, seen
            time.sleep(0.1)
        self.fail("task did not finish: %s" % seen)

    def download(self, container, obj):
        _, body = SWIFT.conn().get_object(container, obj)
        return body

    def segments(self, container):
        try:
            _, objs = SWIFT.conn().get_container(container + "_segments", full_listing=True)
            return objs
        except swiftclient.ClientException as e:
            if e.http_status == 404:
                return []
            raise

    def vdis(self):
        return self.px.sr_list(self.p("sr_list"))

    def test_vhd_slo_image_equals_the_vdi(self):
        v, path = self.make_chain()
        before = guest_view(path)
        n_vdis = len(self.vdis())
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c1", "disk.vhd.gz",
                                                         segment_size=2 * MIB)))
        st, seen = self.wait(t)
        self.assertEqual(st["state"], "done", st)
        self.assertEqual(seen[-1], "done")
        self.assertLessEqual(seen.index("uploading") if "uploading" in seen else 0,
                             seen.index("done"))
        self.assertEqual(st["progress"], "100")
        self.assertEqual(st["phase_bytes_done"], st["phase_bytes_total"])
        self.assertGreater(int(st["segments_total"]), 1)
        body = self.download("c1", "disk.vhd.gz")
        self.assertEqual(len(body), int(st["object_bytes"]))
        self.assertEqual(hashlib.md5(body).hexdigest(), st["object_md5"])
        img = os.path.join(self.dir, "img.vhd")
        with open(img, "wb") as f:
            f.write(gzip.decompress(body))
        self.assertEqual(os.path.getsize(img), int(st["image_bytes"]))
        self.assertEqual(guest_view(img), before)
        self.assertEqual(guest_view(path), before)
        ok = subprocess.run([UTIL, "check", "-n", img], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stdout)
        # The snapshot taken for the task is released.
        self.assertLessEqual(len([x for x in self.vdis() if x["hidden"] == "false"]),
                             n_vdis)
        self.assertIn(t, self.px.task_list({"command": "task_list", "args": []}))

    def test_cli_follows_the_task_with_progress_lines(self):
        """`vhdsm image create` (not on a terminal: one line per change)
        shows the phases in order, percentages that never go back, bytes
        done of total, and a segment count that is never negative."""
        v, _ = self.make_chain()
        keyfile = os.path.join(self.dir, "key")
        with open(keyfile, "w") as f:
            f.write(SWIFT.key)
        p = subprocess.run([VHDSM, "image", "create", self.sr, v, "--container", "cli",
                            "--object", "cli.vhd.gz", "--auth-url", SWIFT.auth,
                            "--allow-insecure",
                            "--user", SWIFT.user, "--key-file", keyfile,
                            "--segment-size", "1M"],
                           capture_output=True, text=True, env=self.env, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [ln for ln in p.stdout.splitlines() if "%" in ln]
        self.assertGreaterEqual(len(lines), 2, p.stdout)
        pcts = [float(ln.split("%")[0]) for ln in lines]
        self.assertEqual(pcts, sorted(pcts), p.stdout)
        self.assertTrue(lines[-1].startswith("100.0% done"), lines[-1])
        self.assertNotIn("/-", p.stdout)
        done, total = lines[-1].split("segments ")[1].split("/")
        self.assertEqual(done, total)
        self.assertGreater(int(total), 1)
        self.assertNotIn(SWIFT.key, p.stdout + p.stderr)

    def test_cli_config_reaches_the_task_worker(self):
        """`vhdsm --config X image create --store S`: the detached worker
        that runs the task reads X too (it said "no store 'S' is
        configured")."""
        v, path = self.make_chain(size_mb=16, data_mb=2)
        before = guest_view(path)
        conf = os.path.join(self.dir, "own.conf")
        with open(conf, "w") as f:
            f.write("[store mine]\nauth_url = %s\nuser = %s\nkey = %s\nallow_insecure = true\n"
                    % (SWIFT.auth, SWIFT.user, SWIFT.key))
        os.chmod(conf, 0o600)
        env = dict(self.env)
        env.pop("VHDSM_CONFIG", None)
        p = subprocess.run([VHDSM, "--config", conf, "image", "create", self.sr, v,
                            "--store", "mine", "--container", "cfg",
                            "--object", "cfg.vhd.gz", "--segment-size", "1M"],
                           capture_output=True, text=True, env=env, timeout=180)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("not configured", p.stdout + p.stderr)
        img = os.path.join(self.dir, "cfg.vhd")
        with open(img, "wb") as f:
            f.write(gzip.decompress(self.download("cfg", "cfg.vhd.gz")))
        self.assertEqual(guest_view(img), before)

    def test_tgz_dlo_holds_0_vhd(self):
        v, path = self.make_chain(size_mb=32, data_mb=4)
        before = guest_view(path)
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c2", "img.tgz", format="tgz",
                                                         manifest="dlo",
                                                         segment_size=MIB)))
        st, _ = self.wait(t)
        self.assertEqual(st["state"], "done", st)
        body = self.download("c2", "img.tgz")
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
            names = tar.getnames()
            self.assertEqual([n.lstrip("./") for n in names], ["0.vhd"])
            tar.extractall(self.dir)
        self.assertEqual(guest_view(os.path.join(self.dir, names[0])), before)

    def test_wrong_key_fails_cleanly(self):
        v, path = self.make_chain(size_mb=16, data_mb=2)
        before = guest_view(path)
        n = len(self.vdis())
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c3", "x", key="wrong")))
        st, _ = self.wait(t)
        self.assertEqual(st["state"], "failed")
        self.assertEqual(st["error_code"], "AUTH_FAILED", st)
        self.assertNotIn("wrong", st["error_message"])  # never the key
        self.assertEqual(self.segments("c3"), [])
        self.assertEqual(guest_view(path), before)
        self.assertEqual(len(self.vdis()), n)
        records = os.listdir(os.path.join(self.sr, ".vhdsm", "tasks"))
        for r in records:
            with open(os.path.join(self.sr, ".vhdsm", "tasks", r), "rb") as f:
                self.assertNotIn(SWIFT.key.encode(), f.read())

    def test_cancel_removes_segments(self):
        v, path = self.make_chain(size_mb=128, data_mb=48)
        before = guest_view(path)
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c4", "big.gz", segment_size=MIB,
                                                         parallel_segments=1)))
        cancelled = []

        def on(st):
            if st["state"] == "uploading" and int(st["segments_done"]) >= 2 and not cancelled:
                self.px.task_cancel({"command": "task_cancel", "args": [], "task_id": t})
                cancelled.append(True)
        st, _ = self.wait(t, on_status=on)
        self.assertEqual(st["state"], "cancelled", st)
        self.assertEqual(self.segments("c4"), [])
        self.assertEqual(guest_view(path), before)

    def test_object_server_down_then_back(self):
        # Backoff long enough (about 9 s in all) to outlast the outage.
        self.stop_daemon()
        self.retry_delay_scale = "0.3"
        self.start_daemon()
        v, path = self.make_chain(size_mb=64, data_mb=8)
        before = guest_view(path)
        # The object server is down when the upload starts and comes back a
        # second later: the segment PUTs get 503s, back off, and succeed.
        SWIFT.daemon("stop-daemon", "object")
        t0 = time.time()
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c5", "r.gz", segment_size=MIB,
                                                         parallel_segments=1)))
        restarted = []

        def on(st):
            if not restarted and time.time() - t0 > 1.0:
                SWIFT.daemon("start-daemon", "object")
                restarted.append(True)
        try:
            st, _ = self.wait(t, on_status=on)
        finally:
            if not restarted:
                SWIFT.daemon("start-daemon", "object")
        self.assertEqual(st["state"], "done", st)
        img = os.path.join(self.dir, "r.vhd")
        with open(img, "wb") as f:
            f.write(gzip.decompress(self.download("c5", "r.gz")))
        self.assertEqual(guest_view(img), before)

    def test_daemon_killed_mid_upload_resumes(self):
        v, path = self.make_chain(size_mb=128, data_mb=40)
        before = guest_view(path)
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c6", "k.gz", segment_size=MIB,
                                                         parallel_segments=1)))

        def on(st):
            if st["state"] == "uploading" and int(st["segments_done"]) >= 4:
                raise StopIteration
        try:
            self.wait(t, on_status=on)
        except StopIteration:
            pass
        self.stop_daemon(signal.SIGKILL)
        self.start_daemon()  # resumes unfinished tasks
        st, _ = self.wait(t)
        self.assertEqual(st["state"], "done", st)
        self.assertGreaterEqual(int(st["segments_skipped"]), 4, st)
        self.assertGreaterEqual(int(st["attempts"]), 2)
        img = os.path.join(self.dir, "k.vhd")
        with open(img, "wb") as f:
            f.write(gzip.decompress(self.download("c6", "k.gz")))
        self.assertEqual(guest_view(img), before)
        self.assertEqual(guest_view(path), before)

    def test_object_server_killed_mid_upload_quorum_keeps_the_image(self):
        """3 replicas: object2 is SIGKILLed after 2 segments and restarted 3
        segments later; the task ends done (Swift's write quorum, 2 of 3),
        swiftclient reads back the VDI, and after one replication pass
        object2 alone serves it."""
        if SWIFT.replicas != 3:
            self.skipTest("needs SAIO_REPLICAS=3 (swift_replicas_test.sh)")
        v, path = self.make_chain(size_mb=64, data_mb=8)
        before = guest_view(path)
        n1, n2 = SWIFT.data_files(1), SWIFT.data_files(2)
        # Each segment PUT is held 0.2 s by the proxy, so that the kill and
        # the restart land while segments remain to be sent.
        SWIFT.daemon("fault", '{"delay": 0.2, "methods": ["PUT"], '
                              '"path_contains": "_segments/"}')
        t = self.px.image_create(self.p("image_create", vdi_uuid=v, vdi_location=v,
                                        image=self.image("c8", "q.gz", segment_size=MIB,
                                                         parallel_segments=1)))
        events = {}

        def on(st):
            if st["state"] != "uploading":
                return
            done = int(st["segments_done"])
            if "killed" not in events and done >= 2:
                SWIFT.daemon("kill-daemon", "object2")
                events["killed"] = int(self.px.task_status(
                    {"command": "task_status", "args": [], "task_id": t})["segments_done"])
            elif "killed" in events and "restarted" not in events \
                    and done >= events["killed"] + 3:
                SWIFT.daemon("start-daemon", "object2")
                events["restarted"] = done
        try:
            st, _ = self.wait(t, on_status=on)
        finally:
            SWIFT.daemon("fault", "clear")
            SWIFT.daemon("start-daemon", "object")
        self.assertEqual(st["state"], "done", st)
        self.assertIn("restarted", events, "the upload ended before the restart")
        self.assertGreater(int(st["segments_total"]), events["restarted"])
        # object2 missed what was PUT while it was down.
        new1, new2 = SWIFT.data_files(1) - n1, SWIFT.data_files(2) - n2
        self.assertEqual(new1, int(st["segments_total"]) + 1)  # and the manifest
        self.assertLess(new2, new1 - 1)

        def read_back():
            img = os.path.join(self.dir, "q.vhd")
            with open(img, "wb") as f:
                f.write(gzip.decompress(self.download("c8", "q.gz")))
            return guest_view(img)
        self.assertEqual(read_back(), before)
        # One replication pass gives object2 the third replica: it then
        # serves the image alone.
        SWIFT.daemon("replicate")
        self.assertEqual(SWIFT.data_files(2), SWIFT.data_files(1))
        SWIFT.daemon("stop-daemon", "object1")
        SWIFT.daemon("stop-daemon", "object3")
        try:
            self.assertEqual(read_back(), before)
        finally:
            SWIFT.daemon("start-daemon", "object")

    def test_through_vhdsr_the_worker_outlives_the_call(self):
        v, path = self.make_chain(size_mb=32, data_mb=4)
        before = guest_view(path)
        self.stop_daemon()  # only VHDSR now

        def call(params):
            req = xmlrpc.client.dumps((params,), params["command"], allow_none=True)
            out = subprocess.run([VHDSR, req], capture_output=True, env=self.env, check=True)
            (r,), _ = xmlrpc.client.loads(out.stdout)
            return r
        t = call(self.p("image_create", vdi_uuid=v, vdi_location=v,
                        image=self.image("c7", "e.gz")))
        deadline = time.time() + 60
        while time.time() < deadline:
            st = call({"command": "task_status", "args": [], "task_id": t})
            if st["state"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.2)
        self.assertEqual(st["state"], "done", st)
        img = os.path.join(self.dir, "e.vhd")
        with open(img, "wb") as f:
            f.write(gzip.decompress(self.download("c7", "e.gz")))
        self.assertEqual(guest_view(img), before)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=1)
