#!/usr/bin/python3
"""A shared SR: two vhdsmd "hosts" (each its own socket and TCP port) on one
SR directory, as the hosts of a pool see an NFS SR.

- The master (device_config SRmaster=true) creates, snapshots, clones,
  resizes, deletes and garbage-collects; the other host is refused every
  metadata change with fault 202 "not the SR master", and nothing on disk
  changes, but it attaches, activates, detaches and reads.
- Both hosts take the same SR lock (an flock on <sr>/.vhdsm/sr.lock): while
  someone else holds it, calls from either host wait.
- Concurrent work from both hosts (snapshot/clone/delete loops and the
  master's background GC on one side, attach/read/detach and refused calls
  on the other) leaves every VDI valid (vhdsm-util check -p), no journal
  behind, and every guest view right (libvhdi).
"""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from xapi_helpers import MIB, UTIL, Model, Vhdsmd, disk_vdis, guest_view, write

SR_UUID = "7d0c9e1a-5b2f-4c3d-8e4f-5a6b7c8d9e0f"
NOT_MASTER = "not the SR master"


class SharedSrTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-shared-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        env = dict(os.environ, VHDSM_GC="thread")  # vhdsmd's own default
        env.pop("VHDSM_XAPI_SOCKET", None)
        self.hosts = {}
        self.hosts["master"] = Vhdsmd(os.path.join(self.dir, "master.sock"), env)
        self.hosts["slave"] = Vhdsmd(os.path.join(self.dir, "slave.sock"), env)
        self.model = Model()

    def tearDown(self):
        for h in self.hosts.values():
            h.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def params(self, host, command, args=(), uuid=None):
        p = {"command": command, "args": list(args), "sr_uuid": SR_UUID,
             "host_ref": "OpaqueRef:host-" + host,  # as xapi sends on every call
             "device_config": {"location": self.sr,
                               "SRmaster": "true" if host == "master" else "false"}}
        if uuid:
            p.update(vdi_uuid=uuid, vdi_location=uuid)
        return p

    def call(self, host, command, args=(), uuid=None, proxy=None):
        px = proxy or self.hosts[host].proxy()
        try:
            return getattr(px, command)(self.params(host, command, args, uuid))
        except xmlrpc.client.Fault as f:
            return f
        finally:
            if proxy is None:
                px("close")()

    def create(self, size, data_at=()):
        uuid = self.call("master", "vdi_create", [str(size), "d"])["uuid"]
        self.model.create(uuid, size)
        for off in data_at:
            data = os.urandom(MIB)
            write(os.path.join(self.sr, uuid + ".vhd"), off, data)
            self.model.write(uuid, off, data)
        return uuid

    def sr_state(self):
        """Every file of the SR with its size and mtime (what a refused call
        must not touch)."""
        state = {}
        for root, _, files in os.walk(self.sr):
            for f in files:
                p = os.path.join(root, f)
                if f == "sr.lock" or f == "gc.lock":
                    continue
                st = os.stat(p)
                state[os.path.relpath(p, self.sr)] = (st.st_size, st.st_mtime_ns)
        return state

    def assert_refused(self, result):
        self.assertIsInstance(result, xmlrpc.client.Fault, result)
        self.assertEqual(result.faultCode, 202, result.faultString)
        self.assertIn(NOT_MASTER, result.faultString)

    def assert_sr_sound(self):
        """Every VDI valid with its parents, no journal or temp file left,
        every guest view as the model says."""
        for uuid, v in disk_vdis(self.sr).items():
            p = subprocess.run([UTIL, "check", "-n", os.path.join(self.sr, uuid + ".vhd"),
                                "-p"], capture_output=True, text=True, check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(os.listdir(os.path.join(self.sr, ".vhdsm", "journal")), [])
        self.assertEqual([f for f in os.listdir(self.sr) if f.startswith(".")], [".vhdsm"])
        for uuid in self.model.images:
            self.assertEqual(guest_view(os.path.join(self.sr, uuid + ".vhd")),
                             self.model.sha(uuid), uuid)

    def test_only_the_master_changes_metadata(self):
        self.assertIsNone(self.call("master", "sr_create", ["0"]))
        self.assertIsNone(self.call("slave", "sr_attach"))
        a = self.create(16 * MIB, [0, 5 * MIB])
        snap = self.call("master", "vdi_snapshot", uuid=a)["uuid"]
        self.model.copy(a, snap)
        before = self.sr_state()
        refused = [("vdi_create", [str(8 * MIB)], None), ("vdi_snapshot", [], a),
                   ("vdi_clone", [], a), ("vdi_delete", [], snap),
                   ("vdi_resize", [str(32 * MIB)], a), ("vdi_coalesce", [], a),
                   ("vdi_compose", [snap], a), ("sr_scan", [], None), ("sr_gc", [], None),
                   ("sr_create", ["0"], None), ("sr_delete", [], None)]
        for command, args, uuid in refused:
            with self.subTest(command=command):
                self.assert_refused(self.call("slave", command, args, uuid))
        self.assertEqual(self.sr_state(), before)

        # What the other host may do: attach, activate, read, detach.
        info = self.call("slave", "vdi_attach", ["false"], a)
        self.assertEqual(info["params"], os.path.join(self.sr, a + ".vhd"))
        self.assertIsNone(self.call("slave", "vdi_activate", ["false"], a))
        self.assertEqual(guest_view(info["params"]), self.model.sha(a))
        self.assertIsNone(self.call("slave", "vdi_deactivate", uuid=a))
        self.assertIsNone(self.call("slave", "vdi_detach", uuid=a))
        listing = {v["uuid"]: v for v in self.call("slave", "sr_list")}
        self.assertEqual(listing[snap]["is_a_snapshot"], "true")
        self.assertIsNone(self.call("slave", "sr_detach"))

        # The master still can; the other host sees the result.
        clone = self.call("master", "vdi_clone", uuid=snap)["uuid"]
        self.model.copy(snap, clone)
        self.assertIn(clone, {v["uuid"] for v in self.call("slave", "sr_list")})
        self.assertIsNone(self.call("master", "vdi_delete", uuid=snap))
        del self.model.images[snap]
        self.assertIsNone(self.call("master", "sr_gc"))
        self.assert_sr_sound()

    def test_the_sr_lock_serializes_both_hosts(self):
        a = self.create(8 * MIB, [0])
        b = self.create(8 * MIB, [MIB])
        results = {}

        def run(name, host, command, args, uuid):
            results[name] = self.call(host, command, args, uuid)
        threads = [
            threading.Thread(target=run, args=("snap", "master", "vdi_snapshot", [], a)),
            threading.Thread(target=run, args=("attach", "slave", "vdi_attach", ["true"], b)),
        ]
        with open(os.path.join(self.sr, ".vhdsm", "sr.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # as a third host would
            files = sorted(os.listdir(self.sr))
            for t in threads:
                t.start()
            time.sleep(0.7)
            self.assertTrue(all(t.is_alive() for t in threads), results)
            self.assertEqual(sorted(os.listdir(self.sr)), files)
            self.assertEqual(results, {})
            fcntl.flock(lock, fcntl.LOCK_UN)
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(set(results["snap"]), {"uuid", "location"})
        self.assertEqual(results["attach"]["params"], os.path.join(self.sr, b + ".vhd"))
        self.model.copy(a, results["snap"]["uuid"])
        self.assertIsNone(self.call("slave", "vdi_detach", uuid=b))
        self.assert_sr_sound()

    def test_a_vdi_attached_on_another_host_is_not_leaf_coalesced(self):
        # Attach markers are per host (<sr>/.vhdsm/attached/<uuid>.<host>):
        # the master detaching a VDI leaves the other host's marker, so the
        # GC must not leaf-coalesce (rename away and unlink) the VDI under it.
        a = self.create(8 * MIB, [0])
        snap = self.call("master", "vdi_snapshot", uuid=a)["uuid"]
        self.assertEqual(self.call("slave", "vdi_attach", ["true"], a)["params"],
                         os.path.join(self.sr, a + ".vhd"))
        inode = os.stat(os.path.join(self.sr, a + ".vhd")).st_ino
        self.call("master", "vdi_attach", ["false"], a)
        self.assertIsNone(self.call("master", "vdi_detach", uuid=a))
        self.assertIsNone(self.call("master", "vdi_delete", uuid=snap))
        self.assertIsNone(self.call("master", "sr_gc"))
        self.assertEqual(os.stat(os.path.join(self.sr, a + ".vhd")).st_ino, inode)

    def test_concurrent_operations_from_both_hosts(self):
        a = self.create(16 * MIB, [0, 9 * MIB])
        b = self.create(8 * MIB, [2 * MIB])
        c = self.create(8 * MIB, [0, 4 * MIB])  # only ever read
        errors = []
        kept = {}

        def guarded(fn):
            def run():
                try:
                    fn()
                except Exception as e:  # pylint: disable=broad-except
                    errors.append(repr(e))
            return threading.Thread(target=run)

        def master_snapshots(uuid, rounds):
            def work():
                with self.hosts["master"].proxy() as px:
                    for i in range(rounds):
                        s = self.call("master", "vdi_snapshot", uuid=uuid, proxy=px)["uuid"]
                        if i == rounds - 1:
                            kept[uuid] = s  # keep the last one, check it later
                            continue
                        clone = self.call("master", "vdi_clone", uuid=s, proxy=px)["uuid"]
                        for v in (clone, s):
                            self.assertIsNone(self.call("master", "vdi_delete", uuid=v,
                                                        proxy=px))
            return work

        def slave_reads():
            with self.hosts["slave"].proxy() as px:
                for _ in range(12):
                    info = self.call("slave", "vdi_attach", ["false"], c, proxy=px)
                    self.assertIsNone(self.call("slave", "vdi_activate", ["false"], c,
                                                proxy=px))
                    self.assertEqual(guest_view(info["params"]), self.model.sha(c))
                    self.assertIsNone(self.call("slave", "vdi_deactivate", uuid=c, proxy=px))
                    self.assertIsNone(self.call("slave", "vdi_detach", uuid=c, proxy=px))
                    self.assertEqual(len(self.call("slave", "sr_list", proxy=px)) >= 3, True)

        def slave_refused():
            with self.hosts["slave"].proxy() as px:
                for uuid in [a, b] * 6:
                    self.assert_refused(self.call("slave", "vdi_snapshot", uuid=uuid,
                                                  proxy=px))
                    self.assert_refused(self.call("slave", "sr_gc", proxy=px))

        threads = [guarded(master_snapshots(a, 6)), guarded(master_snapshots(b, 6)),
                   guarded(slave_reads), guarded(slave_refused)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(errors, [])
        for uuid, snap in kept.items():
            self.model.copy(uuid, snap)
        self.assertIsNone(self.call("master", "sr_gc"))  # waits for the background GC
        self.assert_sr_sound()
        self.assertEqual(set(disk_vdis(self.sr)) & set(self.model.images),
                         set(self.model.images))


if __name__ == "__main__":
    unittest.main(verbosity=1)
