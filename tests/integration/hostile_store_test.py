#!/usr/bin/python3
"""Image tasks through vhdsmd against a hostile object store.

A stdlib HTTP server on 127.0.0.1 plays Swift (v1.0 auth) and answers what
a broken or malicious store would: random statuses, bodies that are not
UTF-8 (a 403 whose body holds 0xFF), valid UTF-8 that a byte-wise cut at
512 bytes splits inside a character, truncated bodies, wrong ETags, listings
of the wrong JSON types, stalls, and connection resets, for auth and for
object requests. Through all of it vhdsmd stays up, and every task ends
`failed` with an error code and a sanitized error message.

Also: names that break Swift's rules are refused before any task exists and
before any request; a legal name with "./" and ".." inside its segments goes
out on the wire as it is; and a task whose worker is killed (SIGKILL) twice
ends failed/QUARANTINED instead of crash-looping the daemon.
Bounded in time: the store's section sets short timeouts and few retries.
"""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
VHDSM = os.path.join(BUILD, "bin", "vhdsm")
MIB = 1 << 20
SR_UUID = "0a0b0c0d-0000-4000-8000-0000000000bb"
CUT_BODY = ("\u4e2d" * 300).encode()  # 900 bytes; byte 512 is mid-character


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    # ---- plumbing
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", headers=(), length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def reset(self):
        # RST instead of FIN: SO_LINGER with a zero timeout.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True

    def stall(self):
        self.server.stop_event.wait(30)  # longer than stall_timeout
        self.close_connection = True

    # ---- behaviour
    def handle_any(self):
        srv = self.server
        with srv.lock:
            srv.requests.append((self.command, self.path))
        if self.headers.get("Expect", "").lower() == "100-continue":
            pass  # http.server answers 100 itself in handle_expect_100
        body = self.read_body() if self.command in ("PUT", "POST") else b""
        sc = srv.scenario
        if self.path.startswith("/auth/"):
            return self.auth(sc)
        return self.storage(sc, body)

    def auth(self, sc):
        if sc == "auth_403_ff":
            return self.reply(403, b"denied \xff\xfe\n\x1b[2J")
        if sc == "auth_stall":
            return self.stall()
        if sc == "auth_reset":
            return self.reset()
        if sc == "auth_truncated":
            return self.reply(200, b"0123456789", length=100)
        if sc == "auth_random":
            st = random.choice([200, 400, 404, 418, 500, 503])
            hdrs = [] if st != 200 else [("X-Auth-Token", "\xff")]
            return self.reply(st, os.urandom(64), hdrs)
        url = "http://127.0.0.1:%d/v1/AUTH_test" % self.server.server_address[1]
        if sc == "wire":
            # A dot segment in the storage URL shows whether libcurl
            # normalizes paths (it must not: CURLOPT_PATH_AS_IS).
            url += "/."
        return self.reply(200, b"", [("X-Auth-Token", "AUTH_tk0"),
                                     ("X-Storage-Url", url)])

    def storage(self, sc, body):
        method = self.command
        path = self.path.replace("/./", "/")  # the "wire" scenario's storage URL
        is_container = path.count("/") == 3 and "?" not in path.split("/")[-1] \
            or (method == "GET" and "format=json" in path)
        if self.path.endswith("/info") or self.path == "/info":
            if sc == "slo_wrong_types":  # heartbeat: the status is in the body
                return self.reply(200, b'{"slo": {"yield_frequency": 10}}')
            return self.reply(404)
        if sc == "put_403_ff" and method == "PUT":
            return self.reply(403, b"forbidden \xff\xfe body\n\x1b[31mred")
        if sc == "put_403_cut512" and method == "PUT":
            return self.reply(403, CUT_BODY)
        if sc == "random_status":
            st = random.choice([400, 404, 409, 412, 418, 500, 503, 507])
            return self.reply(st, os.urandom(random.randrange(0, 900)))
        if sc == "storage_stall" and method == "PUT":
            return self.stall()
        if sc == "storage_reset":
            return self.reset()
        if sc == "storage_truncated":
            return self.reply(200 if method != "PUT" else 201, b"abc", length=4096)
        if sc == "bad_listing" and method == "GET":
            # Valid JSON of the wrong types, and a name that would escape.
            return self.reply(200, b'[{"name": 5}, {"name": "a/../x", "hash": 5, "bytes":'
                              b' "no"}, 7, "x", {"bytes": []}, {"name": "zz", "hash": [],'
                              b' "bytes": -3}]', [("Content-Type", "application/json")])
        if sc == "bad_listing_utf8" and method == "GET":
            return self.reply(200, b'[{"name": "\xff"}]')
        if sc == "bad_listing" and method == "PUT" and not is_container:
            return self.reply(507, b"\xc0\xaf")
        if method == "GET":
            return self.reply(204)
        if method == "PUT" and is_container:
            return self.reply(201)
        # From here on: the segments and the manifest.
        if sc == "segment_random" and method == "PUT":
            st = random.choice([400, 404, 409, 412, 418, 500, 503, 507])
            return self.reply(st, os.urandom(random.randrange(0, 900)))
        if sc == "segment_reset" and method == "PUT":
            return self.reset()
        if sc == "segment_stall" and method == "PUT":
            return self.stall()
        if sc == "wrong_etag" and method == "PUT":
            return self.reply(201, b"", [("ETag", '"%s"' % ("ab" * 16))])
        if sc == "slo_bad_json" and method == "PUT":
            import hashlib
            if "multipart-manifest=put" in self.path:
                return self.reply(400, b'{"Errors": [["\xff", "\x1b"]]}')
            return self.reply(201, b"", [("ETag", hashlib.md5(body).hexdigest())])
        if sc == "slo_wrong_types" and method == "PUT":
            import hashlib
            if "multipart-manifest=put" in self.path:
                return self.reply(202, b'{"Response Status": 201, "Etag": [], "Errors": 5}')
            return self.reply(201, b"", [("ETag", hashlib.md5(body).hexdigest())])
        if sc == "wire" and method == "PUT":
            return self.reply(403, b"no")
        return self.reply(500, b"unexpected")

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Hostile)
        self.lock = threading.Lock()
        self.requests = []
        self.scenario = "ok"
        self.stop_event = threading.Event()


class HostileStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_event.set()
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-hostile-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.state = os.path.join(self.dir, "state")
        self.conf = os.path.join(self.dir, "vhdsm.conf")
        port = self.server.server_address[1]
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            # Callers over TCP may name only SRs inside sr_roots.
            f.write("[daemon]\nsr_roots = %s\n\n" % self.dir)
            for name, stall in (("hostile", 2), ("patient", 60)):
                f.write("[store %s]\nauth_url = http://127.0.0.1:%d/auth/v1.0\n"
                        "user = test:tester\nkey = testing\nallow_insecure = true\n"
                        "connect_timeout = 2\nstall_timeout = %d\nretries = 2\n\n"
                        % (name, port, stall))
        self.env = dict(os.environ, VHDSM_STATE_DIR=self.state)
        self.proc = None
        self.start_daemon()
        self.px.sr_create(self.p("sr_create", ["0"]))
        self.vdi = self.px.vdi_create(self.p("vdi_create", [str(8 * MIB)]))["uuid"]
        self.server.scenario = "ok"
        with self.server.lock:
            self.server.requests.clear()

    def tearDown(self):
        self.stop_daemon()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_daemon(self):
        self.sock = os.path.join(self.dir, "d.sock")
        self.proc = subprocess.Popen(
            [VHDSMD, "--config", self.conf, "--socket", self.sock, "--tcp-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.env)
        line = self.proc.stdout.readline()
        self.assertTrue(line.startswith("tcp_port="), line)
        self.px = xmlrpc.client.ServerProxy(
            "http://127.0.0.1:%d/" % int(line.split("=")[1]), allow_none=True)

    def stop_daemon(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        if self.proc:
            self.proc.stdout.close()
        self.proc = None

    def p(self, command, args=(), **m):
        d = {"command": command, "args": list(args), "sr_uuid": SR_UUID,
             "device_config": {"location": self.sr}}
        d.update(m)
        return d

    def create(self, obj="img.vhd.gz", store="hostile", container="c"):
        return self.px.image_create(self.p(
            "image_create", vdi_uuid=self.vdi, vdi_location=self.vdi,
            image={"store": store, "container": container, "object": obj,
                   "segment_size": "1M"}))

    def wait_end(self, task, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.assertIsNone(self.proc.poll(), "vhdsmd died")
            st = self.px.task_status({"task_id": task})
            if st["state"] in ("done", "failed", "cancelled"):
                return st
            time.sleep(0.2)
        self.fail("task %s did not end in %d s" % (task, timeout))

    def assert_failed_cleanly(self, st, codes=None):
        self.assertEqual(st["state"], "failed", st)
        self.assertTrue(st["error_code"], st)
        if codes:
            self.assertIn(st["error_code"], codes, st)
        msg = st["error_message"]
        self.assertFalse(any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in msg), repr(msg))
        # The record on disk is JSON that any parser reads.
        rec = os.path.join(self.sr, ".vhdsm", "tasks", st.get("task_id", "") + ".json")
        for name in os.listdir(os.path.join(self.sr, ".vhdsm", "tasks")):
            if name.endswith(".json"):
                with open(os.path.join(self.sr, ".vhdsm", "tasks", name), "rb") as f:
                    json.loads(f.read().decode("utf-8"))
        del rec
        # The VDI is still there, visible.
        self.assertIn(self.vdi, [v["uuid"] for v in self.px.sr_list(self.p("sr_list"))
                                 if v.get("hidden") in (False, "false", "0", 0)])

    def run_scenario(self, scenario, codes=None):
        self.server.scenario = scenario
        task = self.create()
        st = self.wait_end(task)
        self.assert_failed_cleanly(st, codes)
        self.assertIsNone(self.proc.poll(), "vhdsmd died")
        return st

    # ---- the defect-2 bodies
    def test_403_body_with_0xff(self):
        st = self.run_scenario("put_403_ff", ["REJECTED"])
        self.assertIn("\ufffd", st["error_message"])
        self.assertIn("\\x1B[31m", st["error_message"])

    def test_403_body_cut_at_512_inside_a_character(self):
        st = self.run_scenario("put_403_cut512", ["REJECTED"])
        self.assertIn("\u4e2d" * 100, st["error_message"])
        self.assertNotIn("\ufffd", st["error_message"])  # cut on a boundary

    def test_daemon_restart_does_not_crash_loop_on_the_record(self):
        self.run_scenario("put_403_ff", ["REJECTED"])
        self.stop_daemon()
        self.start_daemon()
        time.sleep(1)
        self.assertIsNone(self.proc.poll())
        self.assertEqual(len(self.px.task_list(self.p("task_list"))), 1)

    # ---- auth faults
    def test_auth_faults(self):
        for scenario, codes in (("auth_403_ff", ["AUTH_FAILED"]),
                                ("auth_stall", ["RETRIES_EXHAUSTED"]),
                                ("auth_reset", ["RETRIES_EXHAUSTED"]),
                                ("auth_truncated", None),
                                ("auth_random", None)):
            with self.subTest(scenario=scenario):
                t0 = time.time()
                self.run_scenario(scenario, codes)
                self.assertLess(time.time() - t0, 60)

    # ---- storage faults
    def test_storage_faults(self):
        random.seed(int(os.environ.get("VHDSM_REL_SEED", "7")))
        for scenario, codes in (("random_status", None),
                                ("storage_stall", ["RETRIES_EXHAUSTED"]),
                                ("storage_reset", ["RETRIES_EXHAUSTED"]),
                                ("storage_truncated", None),
                                ("wrong_etag", ["CHECKSUM_MISMATCH"]),
                                ("bad_listing", None),
                                ("bad_listing_utf8", ["REJECTED"]),
                                ("segment_random", None),
                                ("segment_reset", ["RETRIES_EXHAUSTED"]),
                                ("segment_stall", ["RETRIES_EXHAUSTED"]),
                                ("slo_bad_json", ["REJECTED"]),
                                ("slo_wrong_types", ["REJECTED"])):
            with self.subTest(scenario=scenario):
                self.run_scenario(scenario, codes)

    # ---- names (defect 5)
    def test_escaping_object_name_is_refused_before_any_task(self):
        bad = "a/../../../AUTH_other/c2/obj"
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            self.create(obj=bad)
        self.assertEqual(cm.exception.faultCode, 143)
        self.assertIn("'..'", cm.exception.faultString)
        with self.assertRaises(xmlrpc.client.Fault):
            self.create(container="a/b")
        p = subprocess.run([VHDSM, "--socket", self.sock, "image", "create", self.sr,
                            self.vdi, "--container", "c", "--object", bad, "--store",
                            "hostile"], capture_output=True, text=True, env=self.env,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("'..'", p.stderr + p.stdout)
        self.assertEqual(self.px.task_list(self.p("task_list")), [])
        self.assertEqual(self.server.requests, [])

    def test_legal_name_with_dots_goes_out_as_is(self):
        self.server.scenario = "wire"
        st = self.wait_end(self.create(obj="x./y../.z/a.."))
        self.assert_failed_cleanly(st, ["REJECTED"])
        puts = [path for m, path in self.server.requests if m == "PUT"]
        self.assertTrue(any(path.startswith("/v1/AUTH_test/./c_segments/x./y../.z/a../")
                            for path in puts), puts)

    # ---- quarantine
    def test_worker_killed_twice_is_quarantined(self):
        self.server.scenario = "storage_stall"
        task = self.create(store="patient")
        for _ in range(2):
            deadline = time.time() + 60
            while not any(m == "PUT" for m, _ in self.server.requests):
                self.assertLess(time.time(), deadline, "the task never reached the store")
                time.sleep(0.1)
            self.stop_daemon(signal.SIGKILL)
            with self.server.lock:
                self.server.requests.clear()
            self.start_daemon()  # resumes the task
        st = self.wait_end(task, timeout=30)
        self.assertEqual(st["state"], "failed", st)
        self.assertEqual(st["error_code"], "QUARANTINED", st)
        time.sleep(1)
        self.assertFalse(any(m == "PUT" for m, _ in self.server.requests))


if __name__ == "__main__":
    unittest.main(verbosity=2)
