#!/usr/bin/python3
"""The fuzzing part of the reliability run.

  fuzz.py --short    replays every target's seed corpus and regression
                     inputs (tests/fuzz/corpus/<target>/,
                     tests/fuzz/regressions/<target>/) through the g++-built
                     $BUILD/fuzz/<target>_replay (sanitizers too in an ASan
                     build): no libFuzzer, seconds in all
  fuzz.py            `scripts/fuzz.sh` (clang, libFuzzer + ASan + UBSan) for
                     FUZZ_SECONDS per target (default 60 here), then the
                     replays as above

Per target: executions, and crashes (must be 0). A crash's reproducer is
left in build-fuzz/; add it to tests/fuzz/regressions/<target>/.
"""
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import BUILD, SRC, Results, part_arguments  # noqa: E402


def targets():
    return sorted(os.path.basename(p)[:-len("_fuzz.cc")]
                  for p in glob.glob(os.path.join(SRC, "tests", "fuzz", "*_fuzz.cc")))


def replay(res, target):
    exe = os.path.join(BUILD, "fuzz", target + "_replay")
    dirs = [d for d in (os.path.join(SRC, "tests", "fuzz", "corpus", target),
                        os.path.join(SRC, "tests", "fuzz", "regressions", target))
            if os.path.isdir(d)]
    row = res.row("fuzz " + target)
    if not os.path.exists(exe):
        res.fail(row_key(target), "%s is not built" % exe, "make all")
        return
    p = subprocess.run([exe] + dirs, capture_output=True, text=True, check=False,
                       timeout=600)
    n = 0
    for line in p.stdout.splitlines():
        if line.startswith("replayed "):
            n = int(line.split()[1])
    row["detail"]["replayed"] = n
    if p.returncode != 0 or n == 0:
        last = [l for l in p.stderr.splitlines() if l.startswith("replay ")][-1:]
        res.fail(row_key(target), "replay failed (exit %d) at %s: %s" % (
            p.returncode, last, p.stderr[-1500:]), "%s %s" % (exe, " ".join(dirs)))
    print("fuzz: %-16s replayed %d corpus and regression inputs%s" % (
        target, n, "" if p.returncode == 0 else " FAILED"), flush=True)


def row_key(target):
    return "fuzz " + target


def main():
    ap = part_arguments(__doc__, seed=False, workdir=False)
    ap.add_argument("--seconds", type=int,
                    default=int(os.environ.get("FUZZ_SECONDS", "60")))
    args = ap.parse_args()
    res = Results("fuzz")
    if not args.short:
        stats = tempfile.NamedTemporaryFile(prefix="fuzz-stats-", delete=False).name
        env = dict(os.environ, FUZZ_SECONDS=str(args.seconds), FUZZ_STATS=stats)
        p = subprocess.run([os.path.join(SRC, "scripts", "fuzz.sh")], env=env,
                           cwd=SRC, check=False)
        seen = set()
        with open(stats) as f:
            for line in f:
                tok = line.split()
                kv = dict(t.split("=", 1) for t in tok[1:])
                row = res.row(row_key(tok[0]))
                row["tried"] += int(kv["executions"])
                row["detail"]["libfuzzer_seconds"] = int(kv["seconds"])
                row["detail"]["crashes"] = int(kv["crashes"])
                seen.add(tok[0])
                if int(kv["crashes"]):
                    res.fail(row_key(tok[0]), "libFuzzer found %s crash(es); reproducers "
                             "in build-fuzz/%s_fuzz-*" % (kv["crashes"], tok[0]),
                             "build-fuzz/%s_fuzz build-fuzz/%s_fuzz-crash-*"
                             % (tok[0], tok[0]))
        os.unlink(stats)
        for t in targets():
            if t not in seen:
                res.fail(row_key(t), "scripts/fuzz.sh did not run it (exit %d)"
                         % p.returncode, "scripts/fuzz.sh")
    for t in targets():
        replay(res, t)
    res.save()
    sys.exit(1 if res.failures else 0)


if __name__ == "__main__":
    main()
