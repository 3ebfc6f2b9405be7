#!/usr/bin/env python3
"""Checks the verdict of scripts/autobahn.py on synthetic reports.

Each test writes an Autobahn `index.json` into a temporary directory and
runs the script's own `analyse` on it, as `autobahn.py check` does after a
run.  Run by scripts/test.sh:

    python3 scripts/test_autobahn.py
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import tempfile
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "autobahn.py"
spec = importlib.util.spec_from_file_location("autobahn", SCRIPT)
autobahn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(autobahn)

# A small selection like the real one: a few OK cases and the three the
# suite reports as INFORMATIONAL.
SELECTED = ["1.1.1", "5.1", "7.1.5", "7.1.6", "7.13.1", "7.13.2", "9.1.1"]


def healthy() -> dict[str, tuple[str, str]]:
    """Every case as plainws's runs report it today."""
    results = {case: ("OK", "OK") for case in SELECTED}
    for case in ("7.1.6", "7.13.1", "7.13.2"):
        results[case] = ("INFORMATIONAL", "INFORMATIONAL")
    return results


class Verdict(unittest.TestCase):
    def analyse(self, results: dict[str, tuple[str, str]],
                expected: list[str] | None = SELECTED) -> tuple[int, int, str]:
        """Writes `results` as a report and returns (passed, failed, output)."""
        with tempfile.TemporaryDirectory() as tmp:
            report_dir = Path(tmp)
            index = {"plainws": {
                case: {"behavior": b, "behaviorClose": c, "duration": 1,
                       "remoteCloseCode": 1000, "reportfile": f"case_{case}.json"}
                for case, (b, c) in results.items()
            }}
            (report_dir / "index.json").write_text(json.dumps(index))
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                passed, failed = autobahn.analyse(report_dir, expected, "self-test")
            return passed, failed, out.getvalue()

    def summary_row(self, output: str, row: str) -> int:
        for line in output.splitlines():
            if line.startswith(row) and line[len(row):len(row) + 1] == " ":
                return int(line[26:].split()[0])
        self.fail(f"no summary row {row!r} in:\n{output}")

    def test_the_expected_informational_cases_pass(self):
        passed, failed, out = self.analyse(healthy())
        self.assertEqual((passed, failed), (len(SELECTED), 0))
        self.assertEqual(self.summary_row(out, "OK"), 4)
        self.assertEqual(self.summary_row(out, "INFORMATIONAL (expected)"), 3)
        self.assertEqual(self.summary_row(out, "UNEXPECTED INFORMATIONAL"), 0)

    def test_the_expected_list_is_the_documented_one(self):
        self.assertEqual(autobahn.EXPECTED_INFORMATIONAL, {"7.1.6", "7.13.1", "7.13.2"})

    def test_informational_elsewhere_fails(self):
        for results in (("INFORMATIONAL", "OK"), ("OK", "INFORMATIONAL"),
                        ("INFORMATIONAL", "INFORMATIONAL")):
            report = healthy()
            report["7.1.5"] = results
            passed, failed, out = self.analyse(report)
            self.assertEqual((passed, failed), (len(SELECTED) - 1, 1), results)
            self.assertEqual(self.summary_row(out, "UNEXPECTED INFORMATIONAL"), 1)
            self.assertIn("7.1.5    UNEXPECTED INFORMATIONAL", out)

    def test_an_expected_case_that_becomes_ok_passes(self):
        report = healthy()
        report["7.13.1"] = ("OK", "OK")
        passed, failed, out = self.analyse(report)
        self.assertEqual((passed, failed), (len(SELECTED), 0))
        self.assertEqual(self.summary_row(out, "INFORMATIONAL (expected)"), 2)

    def test_every_other_result_fails(self):
        for bad, row in (("NON-STRICT", "NON-STRICT"), ("FAILED", "FAILED"),
                         ("UNIMPLEMENTED", "UNIMPLEMENTED"), ("WRONG CODE", "OTHER"),
                         ("UNCLEAN", "OTHER")):
            for where in ("behavior", "behaviorClose"):
                report = healthy()
                report["5.1"] = (bad, "OK") if where == "behavior" else ("OK", bad)
                passed, failed, out = self.analyse(report)
                self.assertEqual(failed, 1, (bad, where))
                self.assertEqual(self.summary_row(out, row), 1, (bad, where))

    def test_an_expected_informational_case_may_still_fail(self):
        report = healthy()
        report["7.1.6"] = ("INFORMATIONAL", "FAILED")
        passed, failed, _ = self.analyse(report)
        self.assertEqual(failed, 1)

    def test_unimplemented_fails_in_the_compression_groups_too(self):
        report = healthy()
        report["12.1.1"] = ("UNIMPLEMENTED", "OK")
        passed, failed, _ = self.analyse(report, expected=SELECTED + ["12.1.1"])
        self.assertEqual(failed, 1)

    def test_a_missing_case_fails(self):
        report = healthy()
        del report["9.1.1"]
        passed, failed, out = self.analyse(report)
        self.assertEqual((passed, failed), (len(SELECTED) - 1, 1))
        self.assertEqual(self.summary_row(out, "MISSING"), 1)
        self.assertIn("9.1.1    MISSING", out)

    def test_no_report_or_an_empty_one_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(autobahn.HarnessError):
                autobahn.analyse(Path(tmp), SELECTED, "self-test")
            (Path(tmp) / "index.json").write_text(json.dumps({"plainws": {}}))
            with self.assertRaises(autobahn.HarnessError), \
                    contextlib.redirect_stdout(io.StringIO()):
                autobahn.analyse(Path(tmp), SELECTED, "self-test")


if __name__ == "__main__":
    unittest.main()
