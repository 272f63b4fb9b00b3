#!/usr/bin/python3
"""Exec-mode timings for bench/plugin_bench.sh: VHDSR run as xapi runs it
(one process per call, the compact <methodCall> as argv[1]) against the
Python floor of issue 4 (/usr/bin/python3 -c that parses argv[1] with
xmlrpc.client.loads and prints a nil response), given the same request.
Calls alternate between the two sides; each call is timed from fork to
exit (subprocess.run), the same way for both.

  plugin_exec_bench.py driver-info VHDSR N
  plugin_exec_bench.py snapshot VHDSR N SR_DIR

driver-info: N sr_get_driver_info calls each.
snapshot: one 100 GiB VDI created once; N rounds of vdi_snapshot (timed),
then vdi_delete of the snapshot and sr_gc (not timed), which keep its chain
one base copy deep.
Prints three lines: ours, the anchor, the ratio (ms per call, mean).
"""
import os
import statistics
import subprocess
import sys
import time
import xmlrpc.client

PY = "/usr/bin/python3"
PY_FLOOR = ("import sys, xmlrpc.client\n"
            "xmlrpc.client.loads(sys.argv[1])\n"
            "sys.stdout.write(xmlrpc.client.dumps((None,), methodresponse=True, "
            "allow_none=True))")
SR_UUID = "5e1b7a4e-0000-4000-8000-0000000be4c4"
DRIVER_INFO = (
    "<methodCall><methodName>sr_get_driver_info</methodName><params><param><value>"
    "<struct><member><name>host_ref</name><value>OpaqueRef:NULL</value></member>"
    "<member><name>command</name><value>sr_get_driver_info</value></member>"
    "<member><name>args</name><value><array><data/></array></value></member>"
    "<member><name>device_config</name><value><struct/></value></member></struct>"
    "</value></param></params></methodCall>")


def xapi_call(command, sr, args=(), **members):
    """A request as xapi's Xml.to_string writes it (untyped strings)."""
    esc = xmlrpc.client.escape
    data = "".join("<value>%s</value>" % esc(a) for a in args)
    s = ("<methodCall><methodName>%s</methodName><params><param><value><struct>"
         "<member><name>host_ref</name><value>OpaqueRef:NULL</value></member>"
         "<member><name>command</name><value>%s</value></member>"
         "<member><name>args</name><value><array>%s</array></value></member>"
         "<member><name>device_config</name><value><struct><member><name>location"
         "</name><value>%s</value></member><member><name>SRmaster</name><value>true"
         "</value></member></struct></value></member>"
         "<member><name>sr_uuid</name><value>%s</value></member>") % (
             command, command, "<data>%s</data>" % data if data else "<data/>",
             esc(sr), SR_UUID)
    for k, v in members.items():
        s += "<member><name>%s</name><value>%s</value></member>" % (k, esc(v))
    return s + "</struct></value></param></params></methodCall>"


def run(argv, env):
    """(seconds, stdout) of one process, fork to exit."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       check=False)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("%s exited %d: %s" % (argv[0], p.returncode, p.stderr.decode()))
    return dt, p.stdout.decode()


def result(out):
    (value,), _ = xmlrpc.client.loads(out)  # raises Fault on a fault
    return value


def report(title, ours, anchor, what):
    mo, ma = statistics.mean(ours) * 1e3, statistics.mean(anchor) * 1e3
    print("%s: VHDSR %.2f ms/call (median %.2f, %d calls%s)"
          % (title, mo, statistics.median(ours) * 1e3, len(ours), what))
    print("%s: python floor %.2f ms/call (median %.2f, %d calls, same run)"
          % (title, ma, statistics.median(anchor) * 1e3, len(anchor)))
    print("%s: ratio %.1fx (python floor time / VHDSR time)" % (title, ma / mo))


def driver_info(vhdsr, n, env):
    floor = [PY, "-c", PY_FLOOR, DRIVER_INFO]
    assert result(run([vhdsr, DRIVER_INFO], env)[1])["name"] == "vhdsm VHD"
    assert result(run(floor, env)[1]) is None
    ours, anchor = [], []
    for _ in range(n):
        ours.append(run([vhdsr, DRIVER_INFO], env)[0])
        anchor.append(run(floor, env)[0])
    report("plugin exec sr_get_driver_info", ours, anchor, "")


def snapshot(vhdsr, n, sr, env):
    def call(command, args=(), **members):
        return result(run([vhdsr, xapi_call(command, sr, args, **members)], env)[1])
    vdi = call("vdi_create", [str(100 << 30), "bench"])["uuid"]
    request = xapi_call("vdi_snapshot", sr, vdi_uuid=vdi, vdi_location=vdi)
    floor = [PY, "-c", PY_FLOOR, request]
    ours, anchor = [], []
    for _ in range(n):
        dt, out = run([vhdsr, request], env)
        snap = result(out)["uuid"]
        ours.append(dt)
        anchor.append(run(floor, env)[0])
        call("vdi_delete", vdi_uuid=snap, vdi_location=snap)
        call("sr_gc")
    vhds = [f for f in os.listdir(sr) if f.endswith(".vhd")]
    if vhds != [vdi + ".vhd"]:
        raise SystemExit("the GC did not fold the chain back: %s" % vhds)
    report("plugin exec vdi_snapshot (100 GiB VDI)", ours, anchor,
           ", delete + sr_gc between calls untimed")


def main():
    mode, vhdsr, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    env = dict(os.environ, VHDSM_GC="off")
    env.pop("VHDSM_XAPI_SOCKET", None)
    if mode == "driver-info":
        driver_info(vhdsr, n, env)
    elif mode == "snapshot":
        snapshot(vhdsr, n, sys.argv[4], env)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
