#!/usr/bin/python3
"""The operator CLIs' hardening, run as an operator runs them.

  - sizes: `vhdsm vdi create DIR 16777217T` (it wrapped to 1 TiB) and every
    other malformed size is a usage error (exit 2) naming the size, and
    nothing is created; vhdsm-upload's --segment-size likewise;
  - a config that holds a store key and that group or others can read is
    refused by `vhdsm config check`, by vhdsm and by vhdsmd, each with the
    exact `chmod 600 FILE` to run; mode 0600, or no key at 0644, is fine;
  - `vhdsm --socket` given hostile replies (sizes that are not numbers, a
    struct where an array belongs, non-numeric progress) reports them and
    exits 1 instead of dying on an exception;
  - processes that hold credentials are not dumpable and have a core limit
    of 0: vhdsmd, the CLI that read a --key-file, and its task worker. Seen
    from outside, as the kernel shows it: run as `nobody`, a non-dumpable
    process's /proc/PID files belong to root; /proc/PID/limits gives the
    core limit.
Run by scripts/run-tests.sh with VHDSM_BUILD and VHDSM_SRC set.
"""
import os
import pwd
import shutil
import socket
import socketserver
import threading
import xmlrpc.server
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
VHDSM = os.path.join(BUILD, "bin", "vhdsm")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
UPLOAD = os.path.join(BUILD, "bin", "vhdsm-upload")


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-cli-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(self.dir, "state"))
        self.env.pop("VHDSM_CONFIG", None)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cli(self, *args, binary=VHDSM):
        return subprocess.run([binary, *args], capture_output=True, text=True,
                              env=self.env, timeout=60)

    def vhds(self):
        return [f for f in os.listdir(self.sr) if f.endswith(".vhd")]

    def test_sizes_that_do_not_fit_are_refused(self):
        for bad in ["16777217T", "16777216T", "18446744073709551616", "-1", "+1M",
                    " 1M", "1M ", "1 M", "1.5G", "1MB", "0x100000", "1e6", "",
                    "9" * 1000]:
            p = self.run_cli("vdi", "create", self.sr, bad)
            self.assertEqual(p.returncode, 2, (bad, p.stdout, p.stderr))
            self.assertIn("size '", p.stderr.splitlines()[0], bad)
            self.assertLess(len(p.stderr.splitlines()[0]), 200, bad)
        self.assertEqual(self.vhds(), [])
        # In range for the parser, too large for a VHD: fault 79, exit 1.
        p = self.run_cli("vdi", "create", self.sr, "16777215T")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("fault 79", p.stderr)
        self.assertEqual(self.vhds(), [])

    def test_suffixes_create_and_resize(self):
        p = self.run_cli("--json", "vdi", "create", self.sr, "4m")
        self.assertEqual(p.returncode, 0, p.stderr)
        (vhd,) = self.vhds()
        uuid = vhd[:-4]
        p = self.run_cli("vdi", "resize", self.sr, uuid, "16777217T")
        self.assertEqual(p.returncode, 2, p.stderr)
        p = self.run_cli("vdi", "resize", self.sr, uuid, "8M")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_cli("--json", "sr", "scan", self.sr)
        self.assertIn('"virtual_size": "%d"' % (8 << 20), p.stdout)

    def test_vhdsmd_port_is_checked(self):
        for bad in ["65536", "-1", "1x", "", "99999999999999999999"]:
            p = self.run_cli("--socket", os.path.join(self.dir, "d.sock"),
                             "--tcp-port", bad, binary=VHDSMD)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("usage: vhdsmd", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "d.sock")))

    def test_upload_segment_size_uses_the_same_parser(self):
        src = os.path.join(self.dir, "in.vhd")
        with open(src, "wb") as f:
            f.write(b"\0" * 512)
        for bad in ["16777217T", "1M ", "-1", "1MB"]:
            p = self.run_cli("--input", src, "--compress-only", os.devnull,
                             "--segment-size", bad, binary=UPLOAD)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn("bad --segment-size", p.stderr, bad)
        for bad in ["-3", "1x", "99999999999"]:
            p = self.run_cli("--input", src, "--compress-only", os.devnull,
                             "--level", bad, binary=UPLOAD)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn("bad --level", p.stderr, bad)

    def write_conf(self, text, mode):
        conf = os.path.join(self.dir, "my vhdsm.conf")
        with open(conf, "w") as f:
            f.write(text)
        os.chmod(conf, mode)
        return conf

    KEYED = ("[store s]\nauth_url = https://id.example/v3\nuser = u\n"
             "key = sekrit-123\n")

    def test_readable_config_with_a_key_is_refused_everywhere(self):
        for mode in (0o644, 0o640, 0o604):
            conf = self.write_conf(self.KEYED, mode)
            fix = "run `chmod 600 %s`" % conf
            for argv, binary in (
                    (["config", "check", conf], VHDSM),
                    (["--config", conf, "sr", "scan", self.sr], VHDSM),
                    (["--config", conf, "--socket",
                      os.path.join(self.dir, "d.sock")], VHDSMD)):
                p = self.run_cli(*argv, binary=binary)
                self.assertEqual(p.returncode, 1, (oct(mode), argv, p.stderr))
                self.assertIn("mode is 0%o" % mode, p.stderr, argv)
                self.assertIn(fix, p.stderr, argv)
                self.assertNotIn("sekrit", p.stdout + p.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "d.sock")))
        conf = self.write_conf(self.KEYED, 0o600)
        p = self.run_cli("config", "check", conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_cli("--config", conf, "sr", "scan", self.sr)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_config_without_keys_may_be_world_readable(self):
        conf = self.write_conf("[daemon]\nthreads = 2\n[store s]\n"
                               "auth_url = https://id.example/v3\nuser = u\n", 0o644)
        p = self.run_cli("config", "check", conf)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_cli("--config", conf, "sr", "scan", self.sr)
        self.assertEqual(p.returncode, 0, p.stderr)


def proc_owner(pid):
    return os.stat("/proc/%d/status" % pid).st_uid


def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def children(pid):
    """Every descendant's pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == pid:
            out.append(int(d))
            out.extend(children(int(d)))
    return out


@unittest.skipUnless(os.geteuid() == 0, "needs root to run processes as nobody")
class CredentialProcessTest(unittest.TestCase):
    """Run as nobody: the kernel then shows non-dumpable as root-owned /proc."""

    def setUp(self):
        self.nobody = pwd.getpwnam("nobody")
        self.dir = tempfile.mkdtemp(prefix="vhdsm-dump-")
        os.chmod(self.dir, 0o777)
        self.procs = []
        self.pids = []  # detached workers our children started

    def tearDown(self):
        pids = set(self.pids)
        for p in self.procs:
            pids.update(children(p.pid))
        for pid in pids:  # only processes this test started
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
        shutil.rmtree(self.dir, ignore_errors=True)

    def as_nobody(self, argv, env):
        p = subprocess.Popen(["setpriv", "--reuid=%d" % self.nobody.pw_uid,
                              "--regid=%d" % self.nobody.pw_gid, "--clear-groups",
                              "--"] + argv, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def wait_exec(self, p, exe):
        """Waits until setpriv has exec'd `exe` (same pid)."""
        for _ in range(200):
            try:
                if os.readlink("/proc/%d/exe" % p.pid) == os.path.realpath(exe):
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.fail("%s did not start: %s" % (exe, p.stderr.read() if p.poll() is not None
                                            else "still running"))

    def test_a_plain_process_is_dumpable_so_the_check_can_fail(self):
        p = self.as_nobody(["sleep", "30"], dict(os.environ))
        self.wait_exec(p, "/usr/bin/sleep")
        self.assertEqual(proc_owner(p.pid), self.nobody.pw_uid)

    def test_vhdsmd_is_not_dumpable(self):
        env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(self.dir, "state"))
        env.pop("VHDSM_CONFIG", None)
        p = self.as_nobody([VHDSMD, "--socket", os.path.join(self.dir, "d.sock")], env)
        for _ in range(200):
            if os.path.exists(os.path.join(self.dir, "d.sock")):
                break
            time.sleep(0.02)
        self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
        self.assertEqual(proc_owner(p.pid), 0)
        self.assertEqual(core_limit(p.pid), ["0", "0"])

    def test_cli_with_a_key_file_and_its_worker_are_not_dumpable(self):
        # A store that accepts connections and never answers: the task waits.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        self.addCleanup(srv.close)
        port = srv.getsockname()[1]
        sr = os.path.join(self.dir, "sr")
        os.mkdir(sr)
        os.chmod(sr, 0o777)
        env = dict(os.environ, VHDSM_STATE_DIR=os.path.join(self.dir, "state"))
        env.pop("VHDSM_CONFIG", None)
        env.pop("VHDSM_KEY", None)
        made = self.as_nobody([VHDSM, "vdi", "create", sr, "4M"], env)
        out, err = made.communicate(timeout=60)
        self.assertEqual(made.returncode, 0, err)
        uuid = out.split()[1]
        keyfile = os.path.join(self.dir, "key")
        with open(keyfile, "w") as f:
            f.write("sekrit")
        os.chown(keyfile, self.nobody.pw_uid, self.nobody.pw_gid)
        os.chmod(keyfile, 0o600)
        p = self.as_nobody([VHDSM, "image", "create", sr, uuid, "--container", "c",
                            "--object", "o", "--auth-url",
                            "http://127.0.0.1:%d/auth/v1.0" % port, "--user", "u",
                            "--key-file", keyfile, "--allow-insecure"], env)
        self.wait_exec(p, VHDSM)
        workers = []
        for _ in range(250):
            workers = [int(d) for d in os.listdir("/proc")
                       if d.isdigit() and self.is_worker(int(d))]
            if workers:
                break
            time.sleep(0.02)
        self.pids.extend(workers)
        self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
        self.assertEqual(proc_owner(p.pid), 0)
        self.assertEqual(core_limit(p.pid), ["0", "0"])
        self.assertTrue(workers, "no task worker seen")
        # A worker is dumpable from its exec until its task runs (it holds no
        # key before); then, blocked on the silent store, it must not be.
        for w in workers:
            for _ in range(250):
                if proc_owner(w) == 0:
                    break
                time.sleep(0.02)
            self.assertEqual(proc_owner(w), 0, w)
            self.assertEqual(core_limit(w), ["0", "0"])

    def is_worker(self, pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%d/environ" % pid, "rb") as f:
                envv = f.read()
        except OSError:
            return False
        return (argv[0] == VHDSM.encode()
                and (b"--run-task" in argv or b"--task" in argv)
                and os.path.join(self.dir, "state").encode() in envv)


class _UnixXmlRpc(socketserver.ThreadingMixIn, xmlrpc.server.SimpleXMLRPCServer):
    address_family = socket.AF_UNIX
    daemon_threads = True


class _Handler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    rpc_paths = ()  # any path
    disable_nagle_algorithm = False  # TCP_NODELAY: not on a Unix socket

    def log_message(self, *args):
        pass


class HostileDaemonTest(unittest.TestCase):
    """The CLI over --socket, against a daemon whose replies are wrong."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-hostile-")
        self.sock = os.path.join(self.dir, "d.sock")
        self.srv = _UnixXmlRpc(self.sock, _Handler, logRequests=False)
        self.replies = {}
        for name in ("sr_list", "task_status", "task_list", "task_resume"):
            self.srv.register_function(
                lambda p, name=name: self.replies[name], name)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def tearDown(self):
        self.srv.shutdown()
        self.srv.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args):
        return subprocess.run([VHDSM, "--socket", self.sock, *args], capture_output=True,
                              text=True, timeout=60)

    def test_sizes_that_are_not_numbers(self):
        self.replies["sr_list"] = [
            {"uuid": "a", "parent": "", "virtual_size": "lots",
             "physical_utilisation": "-5", "hidden": "false"},
            {"uuid": "b", "parent": "a", "virtual_size": "1" * 40,
             "physical_utilisation": "", "hidden": "true"},
            {"uuid": "c", "parent": "c", "virtual_size": "1", "hidden": "false"}]
        p = self.cli("sr", "scan", "/srv/x")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("3 VDIs", p.stdout)

    def test_shapes_that_are_wrong(self):
        self.replies["sr_list"] = {"not": "an array"}
        p = self.cli("sr", "scan", "/srv/x")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("vhdsm: unexpected reply", p.stderr)
        self.replies["task_list"] = ["t1", {"x": "y"}]
        self.replies["task_status"] = {"state": "running"}
        p = self.cli("task", "list")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("vhdsm: unexpected reply", p.stderr)

    def test_progress_that_is_not_a_number(self):
        self.replies["task_status"] = {
            "state": "failed", "progress": "nan", "phase_bytes_done": "x",
            "phase_bytes_total": "1e400", "rate_bytes_per_s": "inf", "eta_s": "",
            "error_code": "E", "error_message": "m"}
        self.replies["task_resume"] = "t1"
        p = self.cli("task", "resume", "t1")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("task t1 failed: E m", p.stderr)


if __name__ == "__main__":
    unittest.main()
