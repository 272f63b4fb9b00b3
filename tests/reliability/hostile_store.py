#!/usr/bin/python3
"""The hostile object store (tests/integration/hostile_store_test.py) as a
part of the harness: image tasks through vhdsmd against a store that
answers random statuses, bodies that are not UTF-8 or are cut inside a
character, truncated replies, wrong ETags, listings of the wrong types,
stalls and resets. A check passes when vhdsmd stayed up and every task
ended failed with an error code and a sanitized message; names that would
leave the account are refused before any request, and a task killed twice
is quarantined. Full mode repeats the suite with three seeds.

  hostile_store.py [--short]
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
# pylint: disable=wrong-import-position
from common import Results, part_arguments  # noqa: E402
import hostile_store_test  # noqa: E402


class Recorder(unittest.TestResult):
    """Each test (and each scenario of a test) as a row of the table."""

    def __init__(self, res, seed):
        super().__init__()
        self.res = res
        self.seed = seed
        self.failed_names = set()

    @staticmethod
    def name(test):
        params = getattr(test, "params", None) or {}
        base = test.id().rsplit(".", 1)[-1]
        if hasattr(test, "test_case"):  # a subtest
            base = test.test_case.id().rsplit(".", 1)[-1]
        return base + ("[%s]" % params["scenario"] if "scenario" in params else "")

    def record(self, test, err):
        name = self.name(test)
        row = self.res.row(name)
        row["tried"] += 1
        if err is None:
            row["recovered"] += 1
        else:
            self.failed_names.add(name)
            self.res.fail(name, self._exc_info_to_string(err, test)[-600:],
                          "VHDSM_REL_SEED=%d python3 tests/integration/"
                          "hostile_store_test.py" % self.seed)

    def addSuccess(self, test):
        self.record(test, None)

    def addFailure(self, test, err):
        self.record(test, err)

    def addError(self, test, err):
        self.record(test, err)

    def addSubTest(self, test, subtest, err):
        self.record(subtest, err)


def main():
    ap = part_arguments(__doc__, seed=False, workdir=False)
    args = ap.parse_args()
    res = Results("hostile_store")
    seed0 = int(os.environ.get("VHDSM_REL_SEED", "1"))
    for seed in range(seed0, seed0 + (1 if args.short else 3)):
        os.environ["VHDSM_REL_SEED"] = str(seed)
        suite = unittest.TestLoader().loadTestsFromTestCase(
            hostile_store_test.HostileStoreTest)
        suite.run(Recorder(res, seed))
    res.save()
    sys.exit(1 if res.failures else 0)


if __name__ == "__main__":
    main()
