#!/usr/bin/python3
"""The plugin's XenAPI callbacks (sm/xapi_toolstack.h) against the XenAPI
simulator (xapi_sim.py), through VHDSR as xapi runs it and through vhdsmd:

- the VDI lifecycle with a session_ref: after every step the simulator's
  database holds exactly the SR on disk (uuid, location, virtual size,
  sm_config vhd-parent, base copies managed=false and read-only, sizes after
  a scan, records forgotten after delete and GC) and guest views are right;
- sr_scan reconciles a stale database (introduce, forget, update, SR sizes);
- XenAPI failures, a wrong session and an unreachable socket are fault 153
  naming the call, without the session in the message;
- without a session, or without the socket, nothing is called;
- the simulator itself is as strict as xapi about argument types.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import xmlrpc.client

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from xapi_helpers import (MIB, UTIL, Model, UnixTransport, Vhdsmd, assert_db_matches_disk,
                          disk_vdis, guest_view, run_vhdsr, write, xapi_call)
from xapi_sim import NULL_REF, XapiSim

# vdi_create's args after size and name_label, as xapi sends them:
# name_description, metadata_of_pool, is_a_snapshot, snapshot_time,
# snapshot_of, read_only.
CREATE_TAIL = ["", "OpaqueRef:NULL", "false", "19700101T00:00:00Z", "", "false"]


class SimTestCase(unittest.TestCase):
    """A temporary SR directory and a simulator on a Unix socket."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-xapi-")
        self.sr = os.path.join(self.dir, "sr")
        os.mkdir(self.sr)
        self.sim = XapiSim(os.path.join(self.dir, "xapi")).start()
        self.env = dict(os.environ, VHDSM_GC="off", VHDSM_XAPI_SOCKET=self.sim.socket_path)
        self.dc = {"location": self.sr, "SRmaster": "true"}
        self.model = Model()

    def tearDown(self):
        self.sim.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, command, args=(), session=True, **members):
        """VHDSR with the members xapi sends for an SR-scoped call."""
        if session is True:
            members.setdefault("session_ref", self.sim.session)
        elif session:
            members["session_ref"] = session
        members.setdefault("sr_ref", self.sim.sr_ref)
        members.setdefault("sr_uuid", self.sim.sr_uuid)
        return run_vhdsr(xapi_call(command, self.dc, args, **members), self.env)

    def vdi(self, command, uuid, args=(), **members):
        members.setdefault("vdi_ref", self.sim.ref_of(uuid) or NULL_REF)
        return self.call(command, args, vdi_uuid=uuid, vdi_location=uuid, **members)

    def create(self, size, name="disk"):
        info = self.call("vdi_create", [str(size), name] + CREATE_TAIL,
                         vdi_type="user")
        self.assertIsInstance(info, dict, info)
        self.model.create(info["uuid"], size)
        return info["uuid"]

    def write(self, uuid, offset, data):
        write(os.path.join(self.sr, uuid + ".vhd"), offset, data)
        self.model.write(uuid, offset, data)

    def check_guests(self):
        for uuid in self.model.images:
            self.assertEqual(guest_view(os.path.join(self.sr, uuid + ".vhd")),
                             self.model.sha(uuid), uuid)

    def record(self, uuid):
        ref = self.sim.ref_of(uuid)
        self.assertIsNotNone(ref, "no record of " + uuid)
        return self.sim.vdis[ref]

    def assert_fault(self, result, code, *needles):
        self.assertIsInstance(result, xmlrpc.client.Fault, result)
        self.assertEqual(result.faultCode, code, result.faultString)
        for n in needles:
            self.assertIn(n, result.faultString)


class VhdsrLifecycleTest(SimTestCase):
    def test_lifecycle_keeps_the_database_in_step_with_the_sr(self):
        self.assertIsNone(self.call("sr_create", ["0"]))
        self.assertIsNone(self.call("sr_attach"))
        a = self.create(32 * MIB, "system disk")
        rec = self.record(a)
        self.assertEqual((rec["name_label"], rec["type"], rec["location"]),
                         ("system disk", "user", a))
        self.assertFalse(rec["is_a_snapshot"])
        self.assertEqual(rec["snapshot_of"], NULL_REF)
        self.assertEqual(rec["metadata_of_pool"], NULL_REF)
        assert_db_matches_disk(self, self.sim, self.sr)
        self.write(a, 4096, os.urandom(3 * MIB))
        self.check_guests()

        # Snapshot: the new leaf, the base copy and the VDI's new parent.
        self.sim.clear_calls()
        snap = self.vdi("vdi_snapshot", a)["uuid"]
        self.model.copy(a, snap)
        self.assertEqual(self.sim.methods_called().count("VDI.db_introduce"), 2)
        disk = assert_db_matches_disk(self, self.sim, self.sr)
        base = disk[a]["parent"]
        self.assertEqual(disk[snap]["parent"], base)
        self.assertEqual(self.record(base)["name_label"], "base copy")
        s = self.record(snap)
        self.assertTrue(s["is_a_snapshot"])
        self.assertEqual(s["snapshot_of"], self.sim.ref_of(a))
        self.assertRegex(s["snapshot_time"], r"^\d{8}T\d\d:\d\d:\d\dZ$")
        self.assertNotEqual(s["snapshot_time"], "19700101T00:00:00Z")
        self.check_guests()

        # Clone after more writes: a second base copy under the first.
        self.write(a, 8 * MIB, os.urandom(MIB))
        clone = self.vdi("vdi_clone", a)["uuid"]
        self.model.copy(a, clone)
        disk = assert_db_matches_disk(self, self.sim, self.sr)
        self.assertEqual(disk[disk[a]["parent"]]["parent"], base)
        self.assertFalse(self.record(clone)["is_a_snapshot"])
        self.write(clone, 0, os.urandom(8192))
        self.check_guests()

        # Delete, then GC: records of what is gone are forgotten.
        self.assertIsNone(self.vdi("vdi_delete", snap))
        del self.model.images[snap]
        self.assertIsNone(self.sim.ref_of(snap))
        assert_db_matches_disk(self, self.sim, self.sr, utilisation=False)
        before = set(disk_vdis(self.sr))
        self.assertIsNone(self.call("sr_gc"))
        gone = before - set(disk_vdis(self.sr))
        self.assertTrue(gone, "the GC had work")
        for uuid in gone:
            self.assertIsNone(self.sim.ref_of(uuid), uuid)
        self.check_guests()

        # Scan: everything, sizes included, and the SR's figures.
        self.assertIsNone(self.call("sr_scan"))
        disk = assert_db_matches_disk(self, self.sim, self.sr)
        sr = self.sim.srs[self.sim.sr_ref]
        st = os.statvfs(self.sr)
        self.assertEqual(sr["physical_size"], st.f_blocks * st.f_frsize)
        self.assertEqual(sr["physical_utilisation"],
                         sum(v["size"] for v in disk.values()))
        self.assertEqual(sr["virtual_allocation"],
                         sum(v["capacity"] for v in disk.values() if not v["hidden"]))

        info = self.vdi("vdi_resize", a, [str(64 * MIB)])
        self.assertEqual(info["uuid"], a)
        self.model.images[a] += bytearray(32 * MIB)
        self.assertEqual(self.record(a)["virtual_size"], 64 * MIB)
        assert_db_matches_disk(self, self.sim, self.sr, utilisation=False)
        self.check_guests()

        self.assertIsNone(self.vdi("vdi_delete", clone))
        del self.model.images[clone]
        self.assertIsNone(self.call("sr_gc"))
        self.assertIsNone(self.call("sr_scan"))
        assert_db_matches_disk(self, self.sim, self.sr)
        self.assertEqual(list(self.sim.by_location()), [a])
        self.check_guests()

    def test_single_snapshot_introduces_a_read_only_base_copy(self):
        a = self.create(8 * MIB)
        self.sim.clear_calls()
        snap = self.vdi("vdi_snapshot", a, driver_params={"type": "single"})["uuid"]
        self.assertEqual(self.sim.methods_called().count("VDI.db_introduce"), 1)
        self.assertEqual(disk_vdis(self.sr)[a]["parent"], snap)
        r = self.record(snap)
        self.assertTrue(r["read_only"])
        self.assertFalse(r["managed"])
        assert_db_matches_disk(self, self.sim, self.sr)

    def test_vdi_introduce_registers_a_vdi_found_on_disk(self):
        a = self.create(8 * MIB)
        self.sim.vdis.pop(self.sim.ref_of(a))
        info = self.call("vdi_introduce", new_uuid=a, vdi_location=a, vdi_sm_config={})
        self.assertEqual(info["uuid"], a)
        assert_db_matches_disk(self, self.sim, self.sr)

    def test_gc_updates_the_parents_it_relinks(self):
        # A leaf the GC coalesced must lose sm_config vhd-parent (the removed
        # base copy) at once, not only at the next sr_scan.
        a = self.create(8 * MIB)
        snap = self.vdi("vdi_snapshot", a)["uuid"]
        self.assertIsNone(self.vdi("vdi_delete", snap))
        self.assertIsNone(self.call("sr_gc"))
        self.assertIsNone(disk_vdis(self.sr)[a]["parent"])
        self.assertNotIn("vhd-parent", self.record(a)["sm_config"])


class VhdsrScanTest(SimTestCase):
    def test_scan_reconciles_a_stale_database(self):
        # VDIs made without a session: xapi has no records of them.
        a = self.create(8 * MIB)
        snap = self.vdi("vdi_snapshot", a, session=False)["uuid"]
        b = self.call("vdi_create", [str(4 * MIB)], session=False)["uuid"]
        # A hidden leaf: a deleted VDI the GC has not removed yet.
        c = self.call("vdi_create", [str(4 * MIB)], session=False)["uuid"]
        subprocess.run([UTIL, "set", "-n", os.path.join(self.sr, c + ".vhd"), "-f", "hidden",
                        "-v", "1"], check=True)
        disk = disk_vdis(self.sr)
        hidden_leaves = [u for u, v in disk.items() if v["hidden"] and not v["children"]]
        self.assertEqual(hidden_leaves, [c])
        # Stale records: one whose VDI is gone, one with wrong facts, one of
        # the hidden leaf, and one of another SR (never touched).
        gone = self.sim.add_vdi(location="0b7e8a52-3c1d-4c1e-9d55-2d0c6c5f0001")
        self.assertIsNone(self.sim.ref_of(b))
        stale_b = self.sim.add_vdi(uuid=b, location=b, virtual_size=1, physical_utilisation=2,
                                   read_only=True, sm_config={"vhd-parent": a, "other": "kept"})
        leaf_rec = self.sim.add_vdi(uuid=hidden_leaves[0], location=hidden_leaves[0])
        other_sr = self.sim.add_vdi(SR="OpaqueRef:another-sr", location=a)
        self.sim.clear_calls()

        self.assertIsNone(self.call("sr_scan"))
        self.assertNotIn(gone, self.sim.vdis)
        self.assertNotIn(leaf_rec, self.sim.vdis)
        self.assertIn(other_sr, self.sim.vdis)
        self.sim.vdis.pop(other_sr)
        disk = assert_db_matches_disk(self, self.sim, self.sr)
        self.assertEqual(self.sim.ref_of(b), stale_b)  # updated, not replaced
        self.assertEqual(self.sim.vdis[stale_b]["sm_config"], {"other": "kept"})
        self.assertEqual(self.record(disk[a]["parent"])["name_label"], "base copy")
        self.assertIn(snap, self.sim.by_location())
        calls = self.sim.methods_called()
        self.assertEqual(calls[0], "VDI.get_all_records_where")
        self.assertEqual(calls[-3:], ["SR.set_physical_size", "SR.set_physical_utilisation",
                                      "SR.set_virtual_allocation"])
        # In step: a second scan changes nothing.
        self.sim.clear_calls()
        self.assertIsNone(self.call("sr_scan"))
        self.assertEqual(self.sim.methods_called(), [
            "VDI.get_all_records_where", "SR.set_physical_size",
            "SR.set_physical_utilisation", "SR.set_virtual_allocation"])


class VhdsrFailureTest(SimTestCase):
    def test_failing_db_introduce_is_fault_153(self):
        self.sim.fail("VDI.db_introduce", ["SR_BACKEND_FAILURE", "db full"])
        r = self.call("vdi_create", [str(8 * MIB)])
        self.assert_fault(r, 153, "VDI.db_introduce", "SR_BACKEND_FAILURE, db full")
        self.assertEqual(self.sim.vdis, {})

    def test_failing_snapshot_callback_is_fault_153(self):
        a = self.create(8 * MIB)
        self.sim.fail("VDI.add_to_sm_config", ["INTERNAL_ERROR", "boom"], times=1)
        r = self.vdi("vdi_snapshot", a)
        self.assert_fault(r, 153, "VDI.add_to_sm_config", "INTERNAL_ERROR, boom")

    def test_failing_forget_and_scan_calls_are_fault_153(self):
        a = self.create(8 * MIB)
        self.sim.fail("VDI.db_forget", ["HANDLE_INVALID", "VDI", "x"], times=1)
        self.assert_fault(self.vdi("vdi_delete", a), 153, "VDI.db_forget")
        self.sim.fail("SR.set_virtual_allocation", ["PERMISSION_DENIED"], times=1)
        self.assert_fault(self.call("sr_scan"), 153, "SR.set_virtual_allocation",
                          "PERMISSION_DENIED")

    def test_wrong_session_is_fault_153_without_the_session(self):
        wrong = "OpaqueRef:0d4f2a7e-secret-session"
        r = self.call("vdi_create", [str(8 * MIB)], session=wrong)
        self.assert_fault(r, 153, "VDI.db_introduce", "SESSION_INVALID")
        self.assertNotIn(wrong, r.faultString)
        self.assertNotIn("secret", r.faultString)

    def test_unreachable_socket_is_a_clear_fault(self):
        # A socket file nobody listens on: connection refused.
        dead = os.path.join(self.dir, "dead.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(dead)
        s.close()
        self.env["VHDSM_XAPI_SOCKET"] = dead
        r = self.call("vdi_create", [str(8 * MIB)])
        self.assert_fault(r, 153, "VDI.db_introduce", "cannot reach xapi", dead)

    def test_without_session_or_socket_nothing_is_called(self):
        a = self.create(8 * MIB)  # with a session: the simulator works
        self.sim.clear_calls()
        b = self.call("vdi_create", [str(8 * MIB)], session=False)["uuid"]
        snap = self.vdi("vdi_snapshot", b, session=False)["uuid"]
        self.assertIsNone(self.vdi("vdi_delete", snap, session=False))
        self.assertIsNone(self.call("sr_scan", session=False))
        self.assertIsNone(self.call("sr_gc", session=False))
        # A session but no xapi (its socket missing, or not a socket).
        for path in (os.path.join(self.dir, "missing"), os.path.join(self.sr, a + ".vhd")):
            self.env["VHDSM_XAPI_SOCKET"] = path
            c = self.call("vdi_create", [str(8 * MIB)])["uuid"]
            self.assertIsNone(self.call("sr_scan"))
            self.assertTrue(os.path.exists(os.path.join(self.sr, c + ".vhd")))
        self.assertEqual(self.sim.calls, [])
        self.assertTrue(os.path.exists(os.path.join(self.sr, b + ".vhd")))
        self.assertFalse(os.path.exists(os.path.join(self.sr, snap + ".vhd")))


class VhdsmdTest(SimTestCase):
    def setUp(self):
        super().setUp()
        self.host = Vhdsmd(os.path.join(self.dir, "vhdsmd.sock"), self.env)

    def tearDown(self):
        self.host.stop()
        super().tearDown()

    def params(self, command, args=(), uuid=None, **m):
        p = {"command": command, "args": list(args), "device_config": self.dc,
             "session_ref": self.sim.session, "sr_ref": self.sim.sr_ref,
             "sr_uuid": self.sim.sr_uuid}
        if uuid:
            p.update(vdi_uuid=uuid, vdi_location=uuid,
                     vdi_ref=self.sim.ref_of(uuid) or NULL_REF)
        p.update(m)
        return p

    def test_lifecycle_and_concurrent_calls(self):
        with self.host.proxy() as px:
            self.lifecycle_and_concurrent_calls(px)

    def lifecycle_and_concurrent_calls(self, px):
        self.assertIsNone(px.sr_create(self.params("sr_create", ["0"])))
        a = px.vdi_create(self.params("vdi_create", [str(16 * MIB), "d"]))["uuid"]
        self.model.create(a, 16 * MIB)
        self.write(a, 0, os.urandom(MIB))
        snap = px.vdi_snapshot(self.params("vdi_snapshot", uuid=a))["uuid"]
        self.model.copy(a, snap)
        assert_db_matches_disk(self, self.sim, self.sr)
        clone = px.vdi_clone(self.params("vdi_clone", uuid=snap))["uuid"]
        self.model.copy(snap, clone)
        assert_db_matches_disk(self, self.sim, self.sr)
        self.check_guests()

        # Four clients at once, each snapshotting and deleting: every call
        # its own XenAPI connection; the database ends in step after a scan.
        vdis = [a, clone] + [px.vdi_create(self.params("vdi_create", [str(4 * MIB)]))["uuid"]
                             for _ in range(2)]
        errors = []

        def worker(v):
            try:
                with self.host.proxy() as c:
                    for _ in range(4):
                        s = c.vdi_snapshot(self.params("vdi_snapshot", uuid=v))["uuid"]
                        c.vdi_delete(self.params("vdi_delete", uuid=s))
            except Exception as e:  # pylint: disable=broad-except
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(v,)) for v in vdis]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        # What the deletes left is forgotten already; base copies remain.
        assert_db_matches_disk(self, self.sim, self.sr, utilisation=False)
        self.assertIsNone(px.sr_gc(self.params("sr_gc")))
        self.assertIsNone(px.sr_scan(self.params("sr_scan")))
        assert_db_matches_disk(self, self.sim, self.sr)
        self.check_guests()

        self.sim.fail("VDI.db_introduce", ["SR_BACKEND_FAILURE", "x"], times=1)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            px.vdi_create(self.params("vdi_create", [str(4 * MIB)]))
        self.assertEqual(cm.exception.faultCode, 153)
        self.assertIn("VDI.db_introduce", cm.exception.faultString)


class SimulatorStrictnessTest(unittest.TestCase):
    """The simulator refuses what xapi refuses (else the tests above could
    pass with a client xapi would reject)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vhdsm-xapisim-")
        self.sim = XapiSim(os.path.join(self.dir, "xapi")).start()
        self.api = xmlrpc.client.ServerProxy("http://localhost/", allow_none=False,
                                             transport=UnixTransport(self.sim.socket_path))

    def tearDown(self):
        self.api("close")()
        self.sim.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def introduce_args(self, **over):
        a = {"uuid": "8f4c4a0e-7b53-4bb8-9a8e-0c7d3c000001", "name_label": "n",
             "name_description": "", "SR": self.sim.sr_ref, "type": "user",
             "sharable": False, "read_only": False, "other_config": {},
             "location": "8f4c4a0e-7b53-4bb8-9a8e-0c7d3c000001", "xenstore_data": {},
             "sm_config": {}, "managed": True, "virtual_size": "8388608",
             "physical_utilisation": "3584", "metadata_of_pool": NULL_REF,
             "is_a_snapshot": False,
             "snapshot_time": xmlrpc.client.DateTime("19700101T00:00:00Z"),
             "snapshot_of": NULL_REF}
        a.update(over)
        return list(a.values())

    def introduce(self, **over):
        return self.api.VDI.db_introduce(self.sim.session, *self.introduce_args(**over))

    def test_good_call_succeeds_and_is_recorded(self):
        r = self.introduce()
        self.assertEqual(r["Status"], "Success")
        self.assertTrue(r["Value"].startswith("OpaqueRef:"))
        self.assertEqual(self.sim.vdis[r["Value"]]["virtual_size"], 8 * MIB)
        self.assertEqual(self.sim.methods_called(), ["VDI.db_introduce"])
        again = self.introduce()
        self.assertEqual(again["ErrorDescription"][0], "UUID_ALREADY_EXISTS")

    def test_wrong_types_are_refused(self):
        cases = [
            ({"virtual_size": 8388608}, ["FIELD_TYPE_ERROR", "virtual_size"]),
            ({"physical_utilisation": "12k"}, ["FIELD_TYPE_ERROR", "physical_utilisation"]),
            ({"SR": "sr-1"}, ["FIELD_TYPE_ERROR", "SR"]),
            ({"SR": "OpaqueRef:nope"}, ["HANDLE_INVALID", "SR", "OpaqueRef:nope"]),
            ({"read_only": "false"}, ["FIELD_TYPE_ERROR", "read_only"]),
            ({"sm_config": {"vhd-parent": 1}}, ["FIELD_TYPE_ERROR", "sm_config"]),
            ({"snapshot_time": "yesterday"}, ["FIELD_TYPE_ERROR", "snapshot_time"]),
            ({"snapshot_of": ""}, ["FIELD_TYPE_ERROR", "snapshot_of"]),
            ({"type": "disk"}, ["FIELD_TYPE_ERROR", "type"]),
        ]
        for over, error in cases:
            r = self.introduce(**over)
            self.assertEqual(r, {"Status": "Failure", "ErrorDescription": error}, over)
        self.assertEqual(self.sim.vdis, {})

    def test_session_count_and_method_are_checked(self):
        r = self.api.VDI.db_introduce("OpaqueRef:other", *self.introduce_args())
        self.assertEqual(r["ErrorDescription"], ["SESSION_INVALID", "OpaqueRef:other"])
        r = self.api.VDI.db_forget(self.sim.session)
        self.assertEqual(r["ErrorDescription"][0], "MESSAGE_PARAMETER_COUNT_MISMATCH")
        r = self.api.VDI.get_by_uuid(self.sim.session, "8f4c4a0e-7b53-4bb8-9a8e-0c7d3c000001")
        self.assertEqual(r["ErrorDescription"][0], "UUID_INVALID")
        r = self.api.VDI.destroy(self.sim.session, NULL_REF)
        self.assertEqual(r["ErrorDescription"], ["MESSAGE_METHOD_UNKNOWN", "VDI.destroy"])

    def test_sm_config_keys_and_injected_failures(self):
        ref = self.introduce()["Value"]
        ok = self.api.VDI.add_to_sm_config(self.sim.session, ref, "vhd-parent", "p")
        self.assertEqual(ok, {"Status": "Success", "Value": ""})
        dup = self.api.VDI.add_to_sm_config(self.sim.session, ref, "vhd-parent", "q")
        self.assertEqual(dup["ErrorDescription"][0], "MAP_DUPLICATE_KEY")
        self.sim.fail("VDI.get_by_uuid", ["INTERNAL_ERROR", "x"], times=1)
        uuid = self.sim.vdis[ref]["uuid"]
        self.assertEqual(self.api.VDI.get_by_uuid(self.sim.session, uuid)["Status"], "Failure")
        self.assertEqual(self.api.VDI.get_by_uuid(self.sim.session, uuid)["Value"], ref)


if __name__ == "__main__":
    unittest.main(verbosity=1)
