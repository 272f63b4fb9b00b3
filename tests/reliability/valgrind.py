#!/usr/bin/python3
"""Valgrind memcheck over the exec-mode driver: VHDSR on a sample of
requests (each a process, as xapi runs it: SR and VDI lifecycle, faults,
malformed XML, an image task, the detached GC and task entry points).

A request passes when VHDSR still prints exactly one <methodResponse> (or,
for --gc/--task, exits 0) and memcheck reports no error and no definite or
indirect leak (--error-exitcode). Reachable memory at exit (libraries'
globals) is not a leak. Skipped, visibly, on an AddressSanitizer build
(valgrind cannot run those).

  valgrind.py [--short] [--workdir DIR]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, VHDSR, Results, Swift, is_asan_build,  # noqa: E402
                    make_data, rng_for, sm, write, xapi_call, part_arguments)

VALGRIND = ["valgrind", "--tool=memcheck", "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
            "--child-silent-after-fork=yes", "--num-callers=30"]


def main():
    ap = part_arguments(__doc__, seed=False)
    args = ap.parse_args()
    res = Results("valgrind")
    row = res.row("valgrind memcheck (VHDSR)")
    if is_asan_build():
        res.skip("the build carries AddressSanitizer; valgrind cannot run it")
        res.save()
        return
    if shutil.which("valgrind") is None:
        res.fail("valgrind memcheck (VHDSR)", "valgrind is not installed (make deps)",
                 "make deps")
        res.save()
        sys.exit(1)
    workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-valgrind-")
    sr = os.path.join(workdir, "sr")
    os.makedirs(sr)
    state = os.path.join(workdir, "state")
    env = dict(os.environ, VHDSM_GC="off", VHDSM_STATE_DIR=state)
    swift = None
    try:
        # An SR with a chain, made without valgrind.
        assert sm(sr, "sr_create", ["0"]) is None
        a = sm(sr, "vdi_create", [str(8 * MIB), "a"])["uuid"]
        write(os.path.join(sr, a + ".vhd"), 0, make_data(rng_for("vg"), 2 * MIB))
        snap = sm(sr, "vdi_snapshot", vdi_uuid=a, vdi_location=a)["uuid"]
        write(os.path.join(sr, a + ".vhd"), 4 * MIB, make_data(rng_for("vg2"), MIB))
        dc = {"location": sr}

        def req(cmd, args=(), **m):
            m.setdefault("sr_uuid", SR_UUID)
            return xapi_call(cmd, dc, args, **m)
        sample = [
            ("sr_get_driver_info", req("sr_get_driver_info")),
            ("sr_scan", req("sr_scan")),
            ("sr_list", req("sr_list")),
            ("vdi_snapshot", req("vdi_snapshot", vdi_uuid=a, vdi_location=a)),
            ("vdi_resize", req("vdi_resize", [str(12 * MIB)], vdi_uuid=a, vdi_location=a)),
            ("malformed XML", "<methodCall><methodName>sr_scan</methodName><params>"),
            ("VDI missing (144)", req("vdi_attach", ["true"],
                                      vdi_uuid="00000000-0000-4000-8000-000000000001",
                                      vdi_location="00000000-0000-4000-8000-000000000001")),
            ("sr_gc", req("sr_gc")),
        ]
        if not args.short:
            sample[4:4] = [
                ("sr_probe", req("sr_probe")),
                ("sr_attach", req("sr_attach")),
                ("vdi_create", req("vdi_create", [str(4 * MIB), "v"])),
                ("vdi_clone", req("vdi_clone", vdi_uuid=a, vdi_location=a)),
                ("vdi_attach", req("vdi_attach", ["true"], vdi_uuid=a, vdi_location=a)),
                ("vdi_detach", req("vdi_detach", vdi_uuid=a, vdi_location=a)),
                ("vdi_generate_config", req("vdi_generate_config", vdi_uuid=a,
                                            vdi_location=a)),
                ("vdi_delete", req("vdi_delete", vdi_uuid=snap, vdi_location=snap)),
                ("unknown command (38)", req("vdi_nonsense")),
                ("not a uuid (143)", req("vdi_snapshot", vdi_uuid="../x",
                                         vdi_location="../x")),
                ("deep XML", "<methodCall><methodName>x</methodName><params><param>"
                 + "<value><array><data>" * 200 + "</data></array></value>" * 200
                 + "</param></params></methodCall>"),
                ("vdi_coalesce", req("vdi_coalesce", vdi_uuid=a, vdi_location=a)),
            ]
        # An image task whose detached worker does nothing (the helper is
        # /bin/true): valgrind runs it inline instead (VHDSR --task), a real
        # upload to the loopback Swift.
        swift = Swift()
        conf = os.path.join(workdir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write("[gc]\nhelper = /bin/true\n[image]\nretry_delay_scale = 0.02\n")
        env["VHDSM_CONFIG"] = conf
        task = sm(sr, "image_create", vdi_uuid=a, vdi_location=a,
                  env={"VHDSM_STATE_DIR": state, "VHDSM_CONFIG": conf},
                  image={"auth_url": swift.auth, "user": swift.user, "key": swift.key,
                         "allow_insecure": "true",
                         "container": "vg", "object": "vg.gz", "segment_size": str(MIB)})
        if not isinstance(task, str):
            raise RuntimeError("image_create: %r" % task)
        runs = [(name, [VHDSR, r], True) for name, r in sample]
        runs.append(("VHDSR --gc", [VHDSR, "--gc", sr], False))
        runs.append(("VHDSR --task (image upload)", [VHDSR, "--task", task], False))
        runs.append(("task_status", [VHDSR, req("task_status", task_id=task)], True))
        for i, (name, argv, one_response) in enumerate(runs):
            log = os.path.join(workdir, "vg-%02d.log" % i)
            t0 = time.time()
            p = subprocess.run(VALGRIND + ["--log-file=" + log] + argv, capture_output=True,
                               env=env, timeout=600, check=False)
            row["tried"] += 1
            problems = []
            if p.returncode == 99:
                with open(log, errors="replace") as f:
                    problems.append("memcheck: " + f.read()[-3000:])
            elif p.returncode != 0:
                problems.append("exit %d: %s" % (p.returncode, p.stderr[-500:]))
            if one_response and p.stdout.decode(errors="replace").count(
                    "<methodResponse>") != 1:
                problems.append("not one methodResponse: %r" % p.stdout[-300:])
            if problems:
                res.fail("valgrind memcheck (VHDSR)", "%s: %s" % (name, "; ".join(problems)),
                         "valgrind %s" % " ".join(argv)[:200])
            else:
                row["recovered"] += 1
            print("valgrind: %-28s %s %.1fs" % (name, "clean" if not problems else "FAIL",
                                                 time.time() - t0), flush=True)
        row["detail"]["requests"] = len(runs)
        st = sm(sr, "task_status", task_id=task,
                env={"VHDSM_STATE_DIR": state, "VHDSM_CONFIG": conf})
        if not isinstance(st, dict) or st.get("state") != "done":
            res.fail("valgrind memcheck (VHDSR)", "the image task run under valgrind "
                     "did not finish: %r" % st, "valgrind VHDSR --task %s" % task)
        # The flags must catch a leak: a program that leaks, as a control.
        leak = os.path.join(workdir, "leak")
        subprocess.run(["cc", "-O0", "-x", "c", "-o", leak, "-"], check=True,
                       input=b"#include <stdlib.h>\n#include <string.h>\n"
                       b"int main(void){char*p=malloc(64);memset(p,1,64);"
                       b"p=0;return p!=0;}\n")
        p = subprocess.run(VALGRIND + ["-q", leak], capture_output=True, check=False)
        if p.returncode != 99:
            res.fail("valgrind memcheck (VHDSR)", "memcheck missed the control's leak "
                     "(exit %d)" % p.returncode, "valgrind %s" % leak)
    finally:
        if swift:
            swift.stop()
        if not args.workdir and not res.failures:
            shutil.rmtree(workdir, ignore_errors=True)
    res.save()
    sys.exit(1 if res.failures else 0)


if __name__ == "__main__":
    main()
