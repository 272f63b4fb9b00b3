#!/usr/bin/python3
"""The table that ends `make reliability`: what each part tried and what
came of it, from the parts' JSON results in $VHDSM_REL_OUT (or the
directory given). Exits non-zero when anything was lost or corrupted, any
check failed, or a part left no results (it crashed).

  report.py [DIR] [--mode full|short] [--seed N] [--replicas N] [--markdown]
"""
import argparse
import json
import os
import sys

PARTS = ["kills", "fulldisk", "stress", "replicas", "fuzz", "valgrind", "security", "hostile_store"]


def load(d, part):
    try:
        with open(os.path.join(d, part + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Table:
    def __init__(self, markdown):
        self.md = markdown
        self.lines = []

    def title(self, text):
        self.lines.append("")
        self.lines.append(("### " if self.md else "== ") + text)

    def rows(self, header, rows):
        if self.md:
            self.lines.append("| " + " | ".join(header) + " |")
            self.lines.append("|" + "|".join("---" for _ in header) + "|")
            for r in rows:
                self.lines.append("| " + " | ".join(str(c) for c in r) + " |")
            return
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        fmt = "  ".join("%%-%ds" % w if i == 0 else "%%%ds" % w
                        for i, w in enumerate(widths))
        self.lines.append(fmt % tuple(header))
        for r in rows:
            self.lines.append(fmt % tuple(str(c) for c in r))

    def text(self, t):
        self.lines.append(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", nargs="?", default=os.environ.get("VHDSM_REL_OUT"))
    ap.add_argument("--mode", default="full")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--replicas", default="1", help="the loopback Swift's replicas")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    data = {p: load(args.dir, p) for p in PARTS}
    t = Table(args.markdown)
    failures = 0
    lost = 0

    k = data["kills"]
    t.title("Real kills: SIGKILL at random moments (seeded) and at crash points; "
            "the next attach/scan/gc recovers")
    if k:
        rows = []
        tot = [0] * 6
        for name, r in k["rows"].items():
            d = r["detail"]
            row = [d.get("timed_tried", 0), d.get("point_tried", 0), r["killed"],
                   r["tried"] - r["killed"], r["recovered"], r["lost"]]
            tot = [a + b for a, b in zip(tot, row)]
            rows.append([name] + row)
        rows.append(["all"] + tot)
        t.rows(["operation", "timed kills", "crash points", "killed mid-op",
                "ran to the end", "recovered+checked", "lost/corrupt"], rows)
        lost += sum(r["lost"] for r in k["rows"].values())
    f = data["fulldisk"]
    t.title("Full disk: SR on a small tmpfs, free space swept from 0 up")
    if f and f.get("skipped"):
        t.text("SKIP: " + f["skipped"])
    elif f:
        rows = []
        for name, r in f["rows"].items():
            d = r["detail"]
            rows.append([name, r["tried"], d.get("no_space", 0), d.get("succeeded", 0),
                         d.get("succeeded_after_freeing", 0), r["lost"]])
        t.rows(["operation", "cases", "no space, nothing changed", "succeeded",
                "succeeded after freeing", "lost/corrupt"], rows)
        lost += sum(r["lost"] for r in f["rows"].values())
    s = data["stress"]
    t.title("Stress: concurrent clients x mixed SMAPIv1 operations on one SR through "
            "vhdsmd")
    if s:
        allops = s["rows"].get("all operations", {}).get("detail", {})
        final = s["rows"].get("final", {}).get("detail", {})
        t.text("%s clients x %s operations: %s done in %ss; %s VDIs checked at the end, "
               "%s uploaded images verified" % (
                   allops.get("clients"), allops.get("per_client"), allops.get("done"),
                   allops.get("seconds"), final.get("vdis"), final.get("images_verified")))
        rows = []
        for name, r in sorted(s["rows"].items()):
            if name in ("all operations", "final"):
                continue
            outcomes = ", ".join("%s %d" % (k_, v) for k_, v in sorted(r["detail"].items()))
            rows.append([name, outcomes, r["lost"]])
        unanswered = s["rows"].get("unanswered", {}).get("detail", {}).get("requests", 0)
        rows.append(["unanswered requests", str(unanswered), ""])
        t.rows(["operation", "outcomes", "failures"], rows)
        lost += len(s["failures"])
        for n in s.get("notes", []):
            t.text("note: " + n)
    st = data["replicas"]
    t.title("The store's own faults: an object server of the 3-replica Swift "
            "SIGKILLed during image_create, then restarted")
    if st and st.get("skipped"):
        t.text("skipped: " + st["skipped"])
    elif st:
        rows = []
        for name, r in st["rows"].items():
            d = r["detail"]
            rows.append([name, r["tried"], r["killed"], d.get("done", 0),
                         d.get("read back identical", 0),
                         d.get("served by the restarted server alone", 0), r["lost"]])
            lost += r["lost"]
        t.rows(["fault", "trials", "killed mid-upload", "task done", "read back identical",
                "restarted server alone serves it", "lost/corrupt"], rows)
        for n in st.get("notes", []):
            t.text("note: " + n)
    z = data["fuzz"]
    t.title("Fuzzing (libFuzzer + ASan + UBSan; corpora and regressions replayed)")
    if z:
        rows = []
        for name, r in sorted(z["rows"].items()):
            d = r["detail"]
            rows.append([name[5:], r["tried"] or "-", d.get("libfuzzer_seconds", "-"),
                         d.get("replayed", 0), d.get("crashes", 0) + r["lost"]])
        t.rows(["target", "executions", "seconds", "inputs replayed", "crashes/failures"],
               rows)
    v = data["valgrind"]
    t.title("Sanitizers and leaks")
    if v and v.get("skipped"):
        t.text("valgrind: SKIP: " + v["skipped"])
    elif v:
        r = v["rows"].get("valgrind memcheck (VHDSR)", {})
        t.text("valgrind memcheck over VHDSR: %d requests, %d clean (no error, no definite "
               "or indirect leak)" % (r.get("tried", 0), r.get("recovered", 0)))
    t.text("AddressSanitizer + UBSan: make check-asan (the whole suite, this harness's "
           "short run included)")
    sec = data["security"]
    t.title("Security")
    if sec:
        rows = []
        for name, r in sec["rows"].items():
            rows.append([name, r["tried"], r["recovered"], r["lost"]])
        t.rows(["check", "tried", "passed", "failed"], rows)
        for n in sec.get("notes", []):
            t.text("note: " + n)
    hs = data["hostile_store"]
    t.title("Hostile object store: image tasks through vhdsmd; the daemon stays up, "
            "every task ends failed with a code")
    if hs:
        rows = []
        for name, r in sorted(hs["rows"].items()):
            rows.append([name, r["tried"], r["recovered"], r["lost"]])
        t.rows(["check", "tried", "passed", "failed"], rows)
    t.title("Result")
    missing = [p for p in PARTS if data[p] is None]
    for p in PARTS:
        if data[p]:
            failures += len(data[p]["failures"])
    t.text("mode %s, seed %s, Swift of %s replicas; seconds per part: %s" % (
        args.mode, args.seed, args.replicas, ", ".join("%s %s" % (p, data[p]["seconds"])
                                        for p in PARTS if data[p])))
    if missing:
        t.text("parts without results (they crashed): %s" % ", ".join(missing))
    t.text("LOST OR CORRUPTED: %d    failed checks in all: %d" % (lost, failures))
    print("\n".join(t.lines))
    sys.exit(1 if lost or failures or missing else 0)


if __name__ == "__main__":
    main()
