"""Helpers of the tests that drive the plugin as xapi does, with callbacks
(xapi_callbacks_test.py) and on a shared SR (shared_sr_test.py).

- `xapi_call`, `run_vhdsr`: VHDSR with the compact XML xapi writes;
- `Vhdsmd`: one vhdsmd "host" (own Unix socket, loopback TCP port 0);
- `disk_vdis`: the SR as vhd-util scan sees it (the truth the toolstack's
  records are compared with);
- `assert_db_matches_disk`: the simulator's records against that truth.
Guest views (libvhdi), writes and the expected-image model come from
plugin_hosts_test.py.
"""
import os
import subprocess
import xmlrpc.client

from plugin_hosts_test import Model, guest_view, run_vhdsr as _run_vhdsr, write, xapi_call
from unix_xmlrpc import UnixTransport

__all__ = ["BUILD", "MIB", "UTIL", "VHDSMD", "VHDSR", "Model", "UnixTransport",
           "Vhdsmd", "assert_db_matches_disk", "disk_vdis", "guest_view",
           "run_vhdsr", "write", "xapi_call"]

BUILD = os.environ.get("VHDSM_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
VHDSR = os.path.join(BUILD, "bin", "VHDSR")
VHDSMD = os.path.join(BUILD, "bin", "vhdsmd")
UTIL = os.path.join(BUILD, "bin", "vhdsm-util")
MIB = 1 << 20


def run_vhdsr(request, env):
    return _run_vhdsr(request, env=env)


class Vhdsmd:
    """One vhdsmd "host" on its own socket, with a loopback TCP port."""

    def __init__(self, sock, env):
        # Calls come over TCP: SRs next to the socket lie inside sr_roots.
        conf = sock + ".conf"
        with open(conf, "w") as f:
            f.write("[daemon]\nsr_roots = %s\n" % os.path.dirname(os.path.abspath(sock)))
        self.proc = subprocess.Popen([VHDSMD, "--config", conf, "--socket", sock,
                                      "--tcp-port", "0", "--foreground"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("tcp_port="):
            self.proc.kill()
            err = self.proc.stderr.read()
            self.stop()
            raise RuntimeError("vhdsmd did not start: %r %s" % (line, err))
        self.port = int(line.split("=")[1])

    def proxy(self):
        return xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % self.port, allow_none=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def disk_vdis(sr):
    """uuid -> {capacity, size, hidden, parent, children} of every <uuid>.vhd
    in the SR, from `vhdsm-util scan -f` (vhd-util's listing)."""
    names = sorted(f for f in os.listdir(sr) if f.endswith(".vhd") and len(f) == 40)
    out = {}
    if not names:
        return out
    p = subprocess.run([UTIL, "scan", "-f"] + [os.path.join(sr, n) for n in names],
                       capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split())
        uuid = os.path.basename(fields["vhd"])[:-4]
        parent = fields["parent"]
        out[uuid] = {"capacity": int(fields["capacity"]), "size": int(fields["size"]),
                     "hidden": fields["hidden"] == "1",
                     "parent": None if parent == "none" else os.path.basename(parent)[:-4],
                     "children": []}
    for uuid, v in out.items():
        if v["parent"] in out:
            out[v["parent"]]["children"].append(uuid)
    return out


def assert_db_matches_disk(tc, sim, sr, utilisation=True):
    """Every VDI on disk but hidden leaves has exactly one record of the SR,
    with location, virtual size, sm_config vhd-parent, managed and read_only
    as the driver must write them (base copies: managed=false, read-only);
    no record is left for a VDI that is gone. `utilisation`: physical
    utilisation too (writes outside the driver change it without a call)."""
    disk = disk_vdis(sr)
    expected = {u: v for u, v in disk.items() if not (v["hidden"] and not v["children"])}
    records = sim.by_location()
    tc.assertEqual(sorted(records), sorted(expected), "records vs VDIs on disk")
    for uuid, v in expected.items():
        r = records[uuid]
        what = "record of %s" % uuid
        tc.assertEqual(r["uuid"], uuid, what)
        tc.assertEqual(r["SR"], sim.sr_ref, what)
        tc.assertEqual(r["virtual_size"], v["capacity"], what)
        tc.assertEqual(r["sm_config"].get("vhd-parent"), v["parent"], what)
        tc.assertEqual(r["managed"], not v["hidden"], what)
        tc.assertEqual(r["read_only"], v["hidden"] or bool(v["children"]), what)
        tc.assertFalse(r["sharable"], what)
        if utilisation:
            tc.assertEqual(r["physical_utilisation"], v["size"], what)
    tc.assertEqual(sim.protocol_errors, [])
    return disk
