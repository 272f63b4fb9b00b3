#!/usr/bin/python3
"""The operator CLIs' hardening, run as an operator runs them.

  - sizes: `vhdsm vdi create DIR 16777217T` (it wrapped to 1 TiB) and every
    other malformed size is a usage error (exit 2) naming the size, and
    nothing is created; vhdsm-upload's --segment-size likewise;
  - a config that holds a store key and that group or others can read is
    refused by `vhdsm config check`, by vhdsm and by vhdsmd, each with the
    exact `chmod 600 FILE` to run; mode 0600, or no key at 0644, is fine.
Run by scripts/run-tests.sh with VHDSM_BUILD and VHDSM_SRC set.
"""
import os
import shutil
import subprocess
import sys
import tempfile
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


if __name__ == "__main__":
    unittest.main()
